"""The test stage: the toolchain's test runner once per target, results read as JUnit XML.

Python runs pytest under coverage.py; Rust runs `cargo test` and its libtest
output is written as JUnit XML. Either way the stage reads the XML file.
"""

from __future__ import annotations

import dataclasses
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from shipyard import matrix
from shipyard.config import Config
from shipyard.report import Finding, Severity, StageResult, Status
from shipyard.stages import toolchains
from shipyard.stages.toolchains.interface import Cell, Toolchain
from shipyard.stages.toolchains.python import TEST_REQUIREMENTS, coverage_data_dir, test_extras
from shipyard.tools import ToolEnv

__all__ = ["REQUIREMENTS", "coverage_data_dir", "run_tests", "test_extras"]

#: What the test session installs for a Python project besides the project and its extras.
REQUIREMENTS = TEST_REQUIREMENTS


def _case_name(case: ET.Element) -> str:
    return f"{case.get('classname', '')}::{case.get('name', '')}".strip(":")


def _flaky(root: ET.Element) -> list[Finding]:
    """Tests that passed only on rerun.

    pytest-rerunfailures leaves one `<testcase>` per attempt in the JUnit XML,
    and only the last attempt carries the outcome: a test listed more than once
    whose last entry has no failure or error passed on its rerun.
    """
    last: dict[str, ET.Element] = {}
    seen: dict[str, int] = {}
    for case in root.iter("testcase"):
        name = _case_name(case)
        last[name] = case
        seen[name] = seen.get(name, 0) + 1
    flaky = []
    for name, case in last.items():
        failed = case.find("failure") is not None or case.find("error") is not None
        if seen[name] == 1 or failed:
            continue
        line = case.get("line")
        flaky.append(
            Finding(
                rule="flaky",
                message=f"{name}: failed, then passed on rerun",
                severity=Severity.LOW,
                path=case.get("file"),
                line=int(line) + 1 if line else None,
                tool="pytest-rerunfailures",
            )
        )
    return flaky


def _read_junit(path: Path) -> tuple[dict[str, int], list[Finding]]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "flaky": 0}
    findings: list[Finding] = []
    if not path.is_file():
        return counts, findings
    root = ET.parse(path).getroot()  # noqa: S314 - pytest wrote this file a moment ago
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    for suite in suites:
        for key in ("tests", "failures", "errors", "skipped"):
            counts[key] += int(suite.get(key, 0))
    flaky = _flaky(root)
    counts["flaky"] = len(flaky)
    findings += flaky
    for case in root.iter("testcase"):
        for kind in ("failure", "error"):
            node = case.find(kind)
            if node is None:
                continue
            name = _case_name(case)
            line = case.get("line")
            findings.append(
                Finding(
                    rule=f"test-{kind}",
                    message=f"{name}: {(node.get('message') or kind).splitlines()[0][:300]}",
                    severity=Severity.HIGH,
                    path=case.get("file"),
                    line=int(line) + 1 if line else None,
                    tool="pytest",
                )
            )
    return counts, findings


def _cell(config: Config, toolchain: Toolchain, target: str) -> Cell:
    for cell in toolchain.cells(config):
        if cell.id == target:
            return cell
    os_name, arch = matrix.host()
    return Cell(id=target, os=os_name, arch=arch, runner="")


def run_tests(
    config: Config,
    tools: ToolEnv,
    *,
    target: str,
    extra_args: tuple[str, ...] = (),
    toolchain: Toolchain | None = None,
) -> StageResult:
    """Run the suite once for `target` (like `cp311-linux_x86_64` or a Rust triple)."""
    start = time.perf_counter()
    stage = f"test-{target}"
    toolchain = toolchain or toolchains.for_config(config)[0]
    junit = config.reports / f"junit-{target}.xml"
    junit.parent.mkdir(parents=True, exist_ok=True)
    junit.unlink(missing_ok=True)

    run = toolchain.test(
        config, tools, cell=_cell(config, toolchain, target), junit=junit, extra_args=extra_args
    )
    if run.failure and run.returncode < 0:
        return StageResult(stage=stage, status=Status.FAILED, reason=run.failure)
    counts, findings = _read_junit(junit)
    findings = [f if f.rule == "flaky" else dataclasses.replace(f, tool=run.tool) for f in findings]
    metrics = {f"test.{k}": v for k, v in counts.items()}
    paths = (junit, *run.artifacts)
    artifacts = tuple(str(p.relative_to(config.root)) for p in paths if p.exists())
    if run.failure:
        status, reason = Status.FAILED, run.failure
    elif run.returncode != 0:
        failed = counts["failures"] + counts["errors"]
        status = Status.FAILED
        reason = (
            f"{failed} of {counts['tests']} test(s) failed"
            if failed
            else f"{run.tool} exited with code {run.returncode}"
        )
    elif counts["flaky"]:
        status = Status.WARNED
        names = ", ".join(f.message.split(": ")[0] for f in findings if f.rule == "flaky")
        reason = (
            f"{counts['tests']} passed, {counts['flaky']} flaky (passed only on rerun): {names}"
        )
    else:
        status = Status.PASSED
        reason = f"{counts['tests']} passed, {counts['skipped']} skipped"
    return StageResult(
        stage=stage,
        status=status,
        reason=reason,
        duration=time.perf_counter() - start,
        findings=(*run.findings, *findings),
        metrics=metrics,
        artifacts=artifacts,
    )

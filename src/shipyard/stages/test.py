"""The test stage: pytest once per target, with coverage collected in the same run."""

from __future__ import annotations

import time
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

from packaging.version import Version

from shipyard.config import Config
from shipyard.report import Finding, Severity, StageResult, Status
from shipyard.tools import ToolEnv

__all__ = ["REQUIREMENTS", "coverage_data_dir", "run_tests", "test_extras"]

#: What the test session installs besides the project and its test extras.
REQUIREMENTS = ("pytest", "coverage[toml]>=7.6")

_NO_TESTS = 5  # pytest's exit code when it collected nothing


def coverage_data_dir(config: Config) -> Path:
    return config.reports / "coverage"


def test_extras(config: Config) -> tuple[str, ...]:
    """The project's extras that hold test requirements: configured, or `test`/`tests`."""
    if config.test.extras is not None:
        return config.test.extras
    defined = config.project.optional_dependencies if config.project else {}
    return tuple(name for name in ("test", "tests") if name in defined)


def _has_coverage_source(config: Config) -> bool:
    if (config.root / ".coveragerc").is_file():
        return True
    data = tomllib.loads(config.pyproject.read_text(encoding="utf-8"))
    run = data.get("tool", {}).get("coverage", {}).get("run", {})
    return bool(run.get("source") or run.get("include"))


def _coverage_core(python_version: str | None) -> dict[str, str]:
    # sys.monitoring makes coverage nearly free on 3.12+; 3.11 keeps the C tracer.
    if python_version and Version(python_version.rstrip("t")) >= Version("3.12"):
        return {"COVERAGE_CORE": "sysmon"}
    return {}


def _read_junit(path: Path) -> tuple[dict[str, int], list[Finding]]:
    counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    findings: list[Finding] = []
    if not path.is_file():
        return counts, findings
    root = ET.parse(path).getroot()  # noqa: S314 - pytest wrote this file a moment ago
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    for suite in suites:
        for key in counts:
            counts[key] += int(suite.get(key, 0))
    for case in root.iter("testcase"):
        for kind in ("failure", "error"):
            node = case.find(kind)
            if node is None:
                continue
            name = f"{case.get('classname', '')}::{case.get('name', '')}".strip(":")
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


def run_tests(
    config: Config,
    tools: ToolEnv,
    *,
    target: str,
    extra_args: tuple[str, ...] = (),
) -> StageResult:
    """Run the suite once for `target` (like `cp311-linux_x86_64`), measuring coverage."""
    start = time.perf_counter()
    stage = f"test-{target}"
    if config.tests is None:
        msg = "no tests found: no tests/ or test/ directory; set tool.shipyard.tests"
        return StageResult(stage=stage, status=Status.FAILED, reason=msg)

    # One coverage data file and one JUnit file per target, combined later.
    data_dir = coverage_data_dir(config)
    data_dir.mkdir(parents=True, exist_ok=True)
    data_file = data_dir / f".coverage.{target}"
    data_file.unlink(missing_ok=True)
    junit = config.reports / f"junit-{target}.xml"
    argv = ["python", "-m", "coverage", "run", f"--data-file={data_file}"]
    if not _has_coverage_source(config):
        argv += [f"--source={p.as_posix()}" for p in config.source_paths()]
    argv += ["-m", "pytest", config.tests.as_posix(), f"--junitxml={junit}"]
    argv += [*config.test.pytest_args, *extra_args]

    done = tools.run(argv, cwd=config.root, env=_coverage_core(tools.python_version), stream=True)
    counts, findings = _read_junit(junit)
    metrics = {f"test.{k}": v for k, v in counts.items()}
    artifacts = tuple(str(p.relative_to(config.root)) for p in (junit, data_file) if p.exists())
    duration = time.perf_counter() - start
    if done.returncode == _NO_TESTS:
        status, reason = Status.FAILED, f"no tests collected in {config.tests.as_posix()}/"
    elif done.returncode != 0:
        failed = counts["failures"] + counts["errors"]
        status = Status.FAILED
        reason = (
            f"{failed} of {counts['tests']} test(s) failed"
            if failed
            else (f"pytest exited with code {done.returncode}")
        )
    else:
        status = Status.PASSED
        reason = f"{counts['tests']} passed, {counts['skipped']} skipped"
    return StageResult(
        stage=stage,
        status=status,
        reason=reason,
        duration=duration,
        findings=tuple(findings),
        metrics=metrics,
        artifacts=artifacts,
    )

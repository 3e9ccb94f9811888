"""The lint stage: each toolchain's formatters and linters in check mode, one gate over all.

Python runs ruff format, ruff check and (when the project chose it) mypy; Rust runs
cargo fmt, clippy and rustdoc. Every complaint is a finding; `gates.lint-warnings`
says how many are allowed.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from shipyard.config import Config
from shipyard.report import Finding, StageResult, Status
from shipyard.stages import toolchains
from shipyard.stages.toolchains.interface import Toolchain
from shipyard.stages.toolchains.python import LINT_REQUIREMENTS, mypy_configured
from shipyard.tools import ToolEnv

__all__ = ["REQUIREMENTS", "mypy_configured", "run_lint"]

#: What the lint session installs for a Python project besides the project.
REQUIREMENTS = LINT_REQUIREMENTS


def run_lint(
    config: Config, tools: ToolEnv, *, chain: Sequence[Toolchain] | None = None
) -> StageResult:
    """Run every toolchain's linters with the project's own configuration; apply the gate."""
    start = time.perf_counter()
    chain = toolchains.for_config(config) if chain is None else chain

    findings: list[Finding] = []
    notes: list[str] = []
    for toolchain in chain:
        report = toolchain.lint(config, tools)
        findings += report.findings
        prefix = f"{toolchain.name}: " if len(chain) > 1 else ""
        notes += [prefix + note for note in report.notes]

    allowed = config.gates.lint_warnings
    if len(findings) > allowed:
        status = Status.FAILED
        notes.insert(0, f"{len(findings)} finding(s), more than gates.lint-warnings = {allowed}")
    elif findings:
        status = Status.WARNED
        notes.insert(0, f"{len(findings)} finding(s), within gates.lint-warnings = {allowed}")
    else:
        status = Status.PASSED
    return StageResult(
        stage="lint",
        status=status,
        reason="; ".join(notes),
        duration=time.perf_counter() - start,
        findings=tuple(findings),
        metrics={"lint.findings": len(findings)},
    )

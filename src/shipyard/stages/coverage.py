"""The coverage stage: each toolchain's coverage, written as reports, held to one floor.

Python combines the test runs' coverage.py data; Rust measures with cargo-llvm-cov
or cargo-tarpaulin. The floor (`gates.coverage`) is compared on the exact fraction.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

from shipyard.config import Config
from shipyard.report import StageResult, Status, worst_status
from shipyard.stages import toolchains
from shipyard.stages.toolchains.interface import CoverageRun, Toolchain
from shipyard.stages.toolchains.python import COVERAGE_REQUIREMENTS, covered_fraction
from shipyard.tools import ToolEnv

__all__ = ["REQUIREMENTS", "covered_fraction", "run_coverage"]

REQUIREMENTS = COVERAGE_REQUIREMENTS


def _fmt(value: Fraction | Decimal) -> str:
    return f"{float(value):.2f}"


def _judge(run: CoverageRun, floor: Decimal) -> tuple[Status, str, Fraction | None]:
    """One toolchain's status, reason and percentage."""
    if run.skipped:
        return Status.SKIPPED, run.skipped, None
    if run.failure:
        return Status.FAILED, run.failure, None
    if run.fraction is None:
        return Status.FAILED, "no code was measured", None
    percent = run.fraction * 100
    if percent < Fraction(floor):
        reason = f"coverage {_fmt(percent)} % is below the floor gates.coverage = {floor} %"
        return Status.FAILED, reason, percent
    return Status.PASSED, f"coverage {_fmt(percent)} % (floor {floor} %)", percent


def run_coverage(
    config: Config, tools: ToolEnv, *, chain: Sequence[Toolchain] | None = None
) -> StageResult:
    start = time.perf_counter()
    chain = toolchains.for_config(config) if chain is None else chain
    floor = config.gates.coverage

    # Each toolchain measures its own code; the one floor applies to each of them.
    statuses, reasons, artifacts = [], [], []
    metrics: dict[str, float | int | str] = {}
    percents = []
    for toolchain in chain:
        run = toolchain.coverage(config, tools)
        status, reason, percent = _judge(run, floor)
        statuses.append(status)
        reasons.append(f"{toolchain.name}: {reason}" if len(chain) > 1 else reason)
        artifacts += [p.as_posix() for p in run.artifacts]
        if percent is not None:
            percents.append(percent)
            if len(chain) > 1:
                metrics[f"coverage.{toolchain.name}.percent"] = float(percent)
    if percents:
        metrics["coverage.percent"] = float(min(percents))
        metrics["coverage.floor"] = float(floor)

    measured = [s for s in statuses if s is not Status.SKIPPED]
    return StageResult(
        stage="coverage",
        status=worst_status(measured) if measured else Status.SKIPPED,
        reason="; ".join(reasons),
        duration=time.perf_counter() - start,
        metrics=metrics,
        artifacts=tuple(artifacts),
    )

"""The coverage stage: combine the test runs' data, write reports, apply the floor."""

from __future__ import annotations

import json
import time
from decimal import Decimal
from fractions import Fraction

from shipyard.config import Config
from shipyard.errors import ToolMissing
from shipyard.report import StageResult, Status
from shipyard.stages.test import coverage_data_dir
from shipyard.tools import ToolEnv

__all__ = ["REQUIREMENTS", "covered_fraction", "run_coverage"]

REQUIREMENTS = ("coverage[toml]>=7.6",)


def covered_fraction(totals: dict[str, int]) -> Fraction | None:
    """Exactly what coverage.py's percentage approximates: covered over measured, as a fraction."""
    covered = totals.get("covered_lines", 0) + totals.get("covered_branches", 0)
    measured = totals.get("num_statements", 0) + totals.get("num_branches", 0)
    return Fraction(covered, measured) if measured else None


def _fmt(value: Fraction | Decimal) -> str:
    return f"{float(value):.2f}"


def run_coverage(config: Config, tools: ToolEnv) -> StageResult:
    start = time.perf_counter()
    data_dir = coverage_data_dir(config)
    parts = sorted(data_dir.glob(".coverage.*")) if data_dir.is_dir() else []
    if not parts:
        msg = f"no coverage data in {data_dir}: run the test session first"
        return StageResult(stage="coverage", status=Status.FAILED, reason=msg)

    # Combine every target's data (paths from other OSes are remapped by [paths]).
    combined = data_dir / ".coverage"
    combined.unlink(missing_ok=True)
    cov = ["python", "-m", "coverage"]
    steps = [
        [*cov, "combine", "--keep", "--quiet", f"--data-file={combined}", *map(str, parts)],
        [*cov, "json", f"--data-file={combined}", "-o", str(data_dir / "coverage.json")],
        [*cov, "xml", f"--data-file={combined}", "-o", str(data_dir / "coverage.xml")],
    ]
    if config.coverage.html:
        html = ["html", f"--data-file={combined}", "-d", str(data_dir / "htmlcov")]
        steps.append([*cov, *html])
    for argv in steps:
        done = tools.run(argv, cwd=config.root)
        if done.returncode != 0:
            if "No module named coverage" in done.stderr:
                msg = "coverage.py is not installed in the tool environment"
                raise ToolMissing(msg)
            msg = f"`coverage {argv[3]}` failed: {(done.stderr or done.stdout).strip()}"
            return StageResult(stage="coverage", status=Status.FAILED, reason=msg)
    tools.run([*cov, "report", f"--data-file={combined}"], cwd=config.root, stream=True)

    # The gate compares the exact fraction, never a rounded percentage.
    totals = json.loads((data_dir / "coverage.json").read_text(encoding="utf-8"))["totals"]
    fraction = covered_fraction(totals)
    floor = config.gates.coverage
    artifacts = ["coverage.json", "coverage.xml"] + (["htmlcov"] if config.coverage.html else [])

    def result(status: Status, reason: str, metrics: dict[str, float]) -> StageResult:
        return StageResult(
            stage="coverage",
            status=status,
            reason=reason,
            metrics=metrics,
            duration=time.perf_counter() - start,
            artifacts=tuple(str(config.reports_dir / "coverage" / a) for a in artifacts),
        )

    if fraction is None:
        return result(Status.FAILED, "no code was measured", {})
    percent = fraction * 100
    metrics = {"coverage.percent": float(percent), "coverage.floor": float(floor)}
    if percent < Fraction(floor):
        reason = f"coverage {_fmt(percent)} % is below the floor gates.coverage = {floor} %"
        return result(Status.FAILED, reason, metrics)
    return result(Status.PASSED, f"coverage {_fmt(percent)} % (floor {floor} %)", metrics)

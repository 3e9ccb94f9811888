"""The performance part: steps in the bench history not seen by the last monitor run.

The history is the bench stage's (`[tool.shipyard.bench] history`) for this
machine's kind; steps come from `shipyard.stages.bench.trend.detect_steps`. A
new step that slows a benchmark by `[tool.shipyard.gates] bench-fail` percent
or more fails the part (it needs a person); one past `bench-warn` warns.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path

from shipyard.config import Config
from shipyard.errors import ShipyardError
from shipyard.monitor.alerts import state_path
from shipyard.report import Finding, Severity, StageResult, Status, write_atomic
from shipyard.stages import bench
from shipyard.stages.bench import history, trend

__all__ = ["STAGE", "known_steps", "new_steps", "remember_steps"]

STAGE = "performance"


def _memory(config: Config) -> Path:
    alerts = state_path(config.root)
    return alerts.with_name(alerts.name.replace("alerts-", "last-run-", 1))


def known_steps(config: Config) -> frozenset[str] | None:
    """The steps the last monitor run on this machine saw; None before the first run."""
    try:
        data = json.loads(_memory(config).read_text(encoding="utf-8"))
        return frozenset(str(k) for k in data["steps"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember_steps(config: Config, keys: Sequence[str]) -> None:
    data = {"finished_at": time.time(), "steps": sorted(keys)}
    write_atomic(_memory(config), json.dumps(data, indent=2) + "\n")


def _key(step: trend.Step) -> str:
    # A step is known by the benchmark and the first commit after it: a step is found
    # only a few runs after it happened, so its time says nothing about when it was seen.
    return f"{step.benchmark}|{step.commit or step.time}"


def _skipped(reason: str, started: float) -> StageResult:
    return StageResult(
        stage=STAGE, status=Status.SKIPPED, reason=reason, duration=time.monotonic() - started
    )


def _severity(change: float, config: Config) -> Severity:
    if change >= config.gates.bench_fail:
        return Severity.HIGH
    if change >= config.gates.bench_warn:
        return Severity.MEDIUM
    return Severity.INFO


def _finding(step: trend.Step, config: Config) -> Finding:
    commit = (step.commit or "?")[:12]
    message = (
        f"{step.benchmark}: {step.change:+.1f} % at {commit} "
        f"({step.before * 1e3:.3g} ms -> {step.after * 1e3:.3g} ms)"
    )
    return Finding(
        rule="performance.step",
        message=message,
        severity=_severity(step.change, config),
        tool="shipyard",
        extra={**step.to_json(), "fingerprint": f"{step.benchmark}|{step.commit}|{step.index}"},
    )


def new_steps(config: Config, *, known: frozenset[str] | None) -> tuple[StageResult, list[str]]:
    """Steps not in `known` (every step when None: the first run), and every step's key."""
    started = time.monotonic()
    try:
        store = bench.store_for(config)
        if store is None:
            return _skipped("bench history is off ([tool.shipyard.bench] history)", started), []
        past = store.read(history.fingerprint())
        if not past.records:
            reason = f"no bench history yet for this machine ({past.source})"
            return _skipped(reason, started), []
        steps = trend.detect_steps(past.records, min_step=config.bench.trend_min_step)
    except ShipyardError as exc:
        return _skipped(str(exc), started), []

    fresh = [s for s in steps if known is None or _key(s) not in known]
    findings = [_finding(s, config) for s in fresh]
    status = _status(findings)
    window = "since the last monitor run" if known is not None else "in the whole history"
    reason = f"{len(fresh)} new step(s) {window}, {len(steps)} in {len(past.records)} run(s)"
    result = StageResult(
        stage=STAGE,
        status=status,
        reason=reason,
        duration=time.monotonic() - started,
        findings=findings,
        metrics={"performance.steps": len(steps), "performance.new": len(fresh)},
    )
    return result, [_key(s) for s in steps]


def _status(findings: Sequence[Finding]) -> Status:
    severities = {f.severity for f in findings}
    if Severity.HIGH in severities:
        return Status.FAILED
    return Status.WARNED if Severity.MEDIUM in severities else Status.PASSED

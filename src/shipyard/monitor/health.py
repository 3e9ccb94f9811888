"""Repository health: repo-review with sp-repo-review's checks and shipyard's own.

The score is the share of checks that passed among those that ran (skipped
ones do not count). Health fails below `[tool.shipyard.monitor] health-floor`,
or when GitHub lists open security alerts; any other failed check warns.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from shipyard.config import Config
from shipyard.errors import ToolMissing
from shipyard.monitor.facts import HealthFacts
from shipyard.report import Finding, Severity, StageResult, Status, write_atomic

__all__ = ["STAGE", "render_checks", "run_health", "score"]

STAGE = "health"
#: Checks whose failure needs a person whatever the score.
URGENT = frozenset({"SY041"})


def _review(root: Path, facts: HealthFacts) -> tuple[list[Any], Mapping[str, Any]]:
    """Run repo-review on `root` with the `shipyard` fixture bound to `facts`."""
    try:
        from repo_review.checks import collect_checks  # noqa: PLC0415
        from repo_review.families import Family, collect_families  # noqa: PLC0415
        from repo_review.fixtures import collect_fixtures, compute_fixtures  # noqa: PLC0415
        from repo_review.processor import CollectionReturn, process  # noqa: PLC0415
    except ImportError:
        msg = "repo-review is not installed; reinstall shipyard (`pip install shipyard`)."
        raise ToolMissing(msg) from None

    def bound() -> HealthFacts:
        return facts

    functions: dict[str, Callable[..., Any]] = dict(collect_fixtures())
    functions["shipyard"] = bound
    fixtures = compute_fixtures(root, root, functions)
    checks = collect_checks(fixtures)
    families = collect_families(fixtures)
    for check in checks.values():
        families.setdefault(check.family, Family())
    collected = CollectionReturn(fixtures, checks, families)
    _, results = process(root, collected=collected)
    return results, checks


def score(results: Sequence[Any]) -> Decimal:
    """Percent of checks that passed among those that ran; 100 when none ran."""
    ran = [r for r in results if r.result is not None]
    if not ran:
        return Decimal(100)
    passed = sum(1 for r in ran if r.result)
    return (Decimal(passed) * 100 / len(ran)).quantize(Decimal("0.1"))


def _skip_reason(result: Any, checks: Mapping[str, Any], facts: HealthFacts) -> str:
    if result.skip_reason:
        return str(result.skip_reason)
    explain = getattr(checks.get(result.name), "skip_reason", None)
    reason = explain(facts) if callable(explain) else ""
    if reason:
        return str(reason)
    requires = sorted(getattr(checks.get(result.name), "requires", ()))
    return f"requires {', '.join(requires)}" if requires else "not applicable"


def _finding(result: Any) -> Finding:
    details = str(result.err_msg).strip()
    first = details.splitlines()[0] if details else ""
    urgent = result.name in URGENT
    own = result.family == "shipyard"
    severity = Severity.HIGH if urgent else Severity.MEDIUM if own else Severity.LOW
    return Finding(
        rule=result.name,
        message=f"{result.description}: {first}" if first else str(result.description),
        severity=severity,
        tool="repo-review",
        extra={
            "family": result.family,
            "url": result.url,
            "details": details,
            # Alerts compare fingerprints: which checks fail, not their changing numbers.
            "fingerprint": result.name,
        },
    )


def _table(results: Sequence[Any], checks: Mapping[str, Any], facts: HealthFacts) -> list[Any]:
    return [
        {
            "name": r.name,
            "family": r.family,
            "description": r.description,
            "result": {True: "passed", False: "failed", None: "skipped"}[r.result],
            "details": r.err_msg.strip(),
            "skip_reason": _skip_reason(r, checks, facts) if r.result is None else "",
            "url": r.url,
        }
        for r in results
    ]


def run_health(config: Config, *, facts: HealthFacts) -> StageResult:
    """Run every installed repo-review check on the project and score the result."""
    started = time.monotonic()
    results, checks = _review(config.root.resolve(), facts)
    value = score(results)
    failed = [r for r in results if r.result is False]
    floor = config.monitor.health_floor
    urgent = [r.name for r in failed if r.name in URGENT]

    if value < floor or urgent:
        status = Status.FAILED
    else:
        status = Status.WARNED if failed else Status.PASSED
    reason = f"score {value}% ({len(failed)} of {sum(r.result is not None for r in results)} "
    reason += "checks failed)"
    if value < floor:
        reason += f", below the floor of {floor}%"
    if urgent:
        reason += f"; {', '.join(urgent)} needs a person"

    report = config.reports / "health-checks.json"
    table = {"score": float(value), "checks": _table(results, checks, facts)}
    write_atomic(report, json.dumps(table, indent=2) + "\n")
    counts = {
        k: sum(r.result is v for r in results) for k, v in (("passed", True), ("failed", False))
    }
    return StageResult(
        stage=STAGE,
        status=status,
        reason=reason,
        duration=time.monotonic() - started,
        findings=[_finding(r) for r in failed],
        metrics={
            "health.score": float(value),
            "health.passed": counts["passed"],
            "health.failed": counts["failed"],
            "health.skipped": sum(r.result is None for r in results),
        },
        artifacts=[_relative(report, config.root)],
    )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def render_checks(rows: Sequence[Mapping[str, Any]]) -> Table:
    """The checks as a terminal table: failed first, then skipped, then passed."""
    order = {"failed": 0, "skipped": 1, "passed": 2}
    style = {"failed": "red", "skipped": "dim", "passed": "green"}
    table = Table(title="shipyard health", title_justify="left")
    for column in ("check", "result", "description", "details"):
        table.add_column(column, overflow="fold")
    for row in sorted(rows, key=lambda r: (order[r["result"]], r["name"])):
        details = row["details"].splitlines()[0] if row["details"] else row["skip_reason"]
        result = f"[{style[row['result']]}]{row['result']}[/]"
        table.add_row(escape(row["name"]), result, escape(row["description"]), escape(details))
    return table

"""`invoke monitor`: every monitor part, one report, and an exit code for people.

Parts, in order: health, freshness, performance, security, then (with
`--apply`) updates, and finally alerts about the parts. The report is written
as `<reports>/monitor.json`, `<reports>/monitor.md` and to
`$GITHUB_STEP_SUMMARY`; each part is also written as `<reports>/<part>.json`.

Exit codes (see docs/monitor.md):

- 0 (`ExitCode.OK`): nothing needs a person.
- 1 (`ExitCode.GATE_FAILED`): a part failed: it needs a person (alerts were raised).
- 6 (`ExitCode.UNREACHABLE`): the package index could not be reached; every part
  is "skipped: unreachable" and nothing was checked.
- 2 and 3 as everywhere: a bad configuration, a missing tool.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from shipyard.config import Config
from shipyard.errors import ExitCode, Unreachable
from shipyard.monitor import (
    alerts,
    crates,
    facts,
    freshness,
    github,
    health,
    performance,
    update,
)
from shipyard.monitor.index import PackageIndex
from shipyard.report import (
    SCHEMA_VERSION,
    StageResult,
    Status,
    append_step_summary,
    read_result,
    render_markdown,
    write_atomic,
    write_result,
)

__all__ = ["PARTS", "MonitorReport", "check_health", "run_monitor", "security_from_audit"]

#: The parts every run reports on, in order.
PARTS = ("health", "freshness", "performance", "security")


@dataclasses.dataclass(frozen=True, kw_only=True)
class MonitorReport:
    parts: Sequence[StageResult]
    exit_code: ExitCode
    json_path: Path
    markdown_path: Path

    @property
    def needs_person(self) -> bool:
        return self.exit_code is not ExitCode.OK


def security_from_audit(config: Config, *, since: float, exit_code: int) -> StageResult:
    """The security part: the audit result that `nox -s audit` wrote after `since`."""
    path = config.reports / "audit.json"
    try:
        audit = read_result(path)
    except (OSError, ValueError, KeyError) as exc:
        reason = f"`nox -s audit` exited {exit_code} without a readable {path.name} ({exc})"
        return StageResult(stage="security", status=Status.SKIPPED, reason=reason)
    if audit.finished_at < since:
        reason = f"`nox -s audit` exited {exit_code} and wrote no new {path.name}"
        return StageResult(stage="security", status=Status.SKIPPED, reason=reason)
    reason = f"audit: {audit.reason}" if audit.reason else "audit"
    return dataclasses.replace(audit, stage="security", reason=reason)


def _security(audit: Callable[[], StageResult] | None) -> StageResult:
    if audit is None:
        reason = "the audit runs only from `invoke monitor` (it needs the audit session)"
        return StageResult(stage="security", status=Status.SKIPPED, reason=reason)
    return audit()


def _freshness(
    config: Config, client: httpx.Client, now: dt.datetime | None
) -> tuple[StageResult, list[freshness.Freshness]]:
    result, items = freshness.check_freshness(config, client=client, now=now)
    details = config.reports / "freshness-dependencies.json"
    rows = [item.to_json() for item in items]
    write_atomic(details, json.dumps(rows, indent=2) + "\n")
    artifact = details.relative_to(config.root).as_posix()
    # `--apply` rewrites Python's declarations; crates are reported, not rewritten.
    python = [item for item in items if isinstance(item, freshness.Freshness)]
    return dataclasses.replace(result, artifacts=[artifact]), python


def _unreachable(reason: str, *, apply: bool) -> list[StageResult]:
    names = [*PARTS, *(["updates"] if apply else []), "alerts"]
    return [
        StageResult(stage=name, status=Status.SKIPPED, reason=f"unreachable: {reason}")
        for name in names
    ]


def _exit_code(parts: Sequence[StageResult], *, unreachable: bool) -> ExitCode:
    if unreachable:
        return ExitCode.UNREACHABLE
    if any(p.status is Status.FAILED for p in parts if p.stage != "alerts"):
        return ExitCode.GATE_FAILED
    return ExitCode.OK


def _parts(
    config: Config,
    client: httpx.Client,
    *,
    apply: bool,
    env: Mapping[str, str],
    now: dt.datetime | None,
    audit: Callable[[], StageResult] | None,
) -> list[StageResult]:
    # The audit goes first: health's SY031 reads the result it writes.
    security = _security(audit)
    hub, hub_reason = github.connect(config.root, config.monitor, client=client, env=env)
    known = facts.gather(
        config.root, config=config, github=hub, github_note=hub_reason or "", now=now
    )
    parts = [health.run_health(config, facts=known)]
    fresh, items = _freshness(config, client, now)
    trend, steps = performance.new_steps(config, known=performance.known_steps(config))
    parts += [fresh, trend, security]
    if apply:
        parts.append(update.apply_updates(config, items, github=hub, github_reason=hub_reason))
    parts.append(
        alerts.deliver(
            config, parts, client=client, github=hub, github_reason=hub_reason, env=env, now=now
        )
    )
    if trend.status is not Status.SKIPPED:
        performance.remember_steps(config, steps)
    return parts


def check_health(config: Config, *, env: Mapping[str, str] | None = None) -> StageResult:
    """The health part alone (`shipyard health`), GitHub included when a token is set."""
    env = os.environ if env is None else env
    with httpx.Client(timeout=config.monitor.timeout) as client:
        hub, hub_reason = github.connect(config.root, config.monitor, client=client, env=env)
        known = facts.gather(config.root, config=config, github=hub, github_note=hub_reason)
        result = health.run_health(config, facts=known)
    write_result(result, config.reports)
    return result


def run_monitor(
    config: Config,
    *,
    apply: bool = False,
    env: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
    audit: Callable[[], StageResult] | None = None,
) -> MonitorReport:
    """Run every part, write the report, and say whether anything needs a person.

    `audit` runs the audit (the flow passes one that runs `nox -s audit`) and returns
    the security part; it is called only when the network is reachable.
    """
    started = time.monotonic()
    env = os.environ if env is None else env
    settings = config.monitor
    with httpx.Client(timeout=settings.timeout) as client:
        index = PackageIndex(settings.index_url, api=settings.index_api, client=client)
        try:
            index.probe()
            if (config.root / crates.MANIFEST).is_file():
                crates.SparseIndex(settings.crates_index_url, client=client).probe()
        except Unreachable as exc:
            parts, unreachable = _unreachable(str(exc), apply=apply), True
        else:
            parts = _parts(config, client, apply=apply, env=env, now=now, audit=audit)
            unreachable = False
    return _write(config, parts, unreachable=unreachable, duration=time.monotonic() - started)


def _write(
    config: Config, parts: Sequence[StageResult], *, unreachable: bool, duration: float
) -> MonitorReport:
    code = _exit_code(parts, unreachable=unreachable)
    for part in parts:
        write_result(part, config.reports)
    markdown = render_markdown(parts, title="shipyard monitor")
    markdown += f"\n{_verdict(code)}\n"
    data: dict[str, Any] = {
        "schema": SCHEMA_VERSION,
        "exit_code": int(code),
        "needs_person": code is not ExitCode.OK,
        "verdict": _verdict(code),
        "duration": round(duration, 3),
        "parts": [p.to_json() for p in parts],
    }
    json_path = config.reports / "monitor.json"
    md_path = config.reports / "monitor.md"
    write_atomic(json_path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    write_atomic(md_path, markdown)
    append_step_summary(markdown)
    return MonitorReport(parts=parts, exit_code=code, json_path=json_path, markdown_path=md_path)


def _verdict(code: ExitCode) -> str:
    return {
        ExitCode.OK: "Nothing needs a person.",
        ExitCode.GATE_FAILED: "Something needs a person: see the failed parts above.",
        ExitCode.UNREACHABLE: "The network was unreachable: nothing was checked.",
    }.get(code, f"Exit code {int(code)}.")

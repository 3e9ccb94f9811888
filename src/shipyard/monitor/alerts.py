"""Alerts: a Slack-compatible webhook and one GitHub issue per alert kind, deduplicated.

An alert kind is a monitor part (health, freshness, performance, security).
It is raised when the part's status reaches `alert-on`, and cleared when the
part passes again (a skipped part changes nothing; performance reports new
bench steps, events that a later run does not clear). A webhook message is sent
when an alert is raised, when its content changes, and when it clears. The
issue of a kind is opened once, commented when the alert comes back with
different content (or reopened after it was closed), and closed when it
clears. What was last sent is kept under `paths.state_dir()`; on GitHub the
issue itself carries the fingerprint, so a runner without that state does not
repeat itself either.

The webhook URL and the token come from the environment and never appear in
any output: failures name the channel and the HTTP status only.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx

from shipyard import paths
from shipyard.config import Config
from shipyard.monitor.github import GitHub, GitHubError
from shipyard.report import Finding, Severity, StageResult, Status, write_atomic

__all__ = ["Alert", "deliver", "raised_and_cleared", "state_path"]

STAGE = "alerts"
_MARK = re.compile(r"<!-- shipyard-monitor:kind=(?P<kind>[\w-]+) fingerprint=(?P<fp>\w+) -->")
_MAX_ROWS = 50
#: Kinds that report events (a new bench step) rather than a state: the next run not
#: seeing a new event does not mean the problem went away, so a person closes the issue.
EVENT_KINDS = frozenset({"performance"})
_SECTION_MAX = 3000


@dataclasses.dataclass(frozen=True, kw_only=True)
class Alert:
    kind: str
    status: Status
    reason: str
    findings: Sequence[Finding]
    fingerprint: str

    @property
    def title(self) -> str:
        return f"[shipyard monitor] {self.kind} needs attention"

    def marker(self) -> str:
        return f"<!-- shipyard-monitor:kind={self.kind} fingerprint={self.fingerprint} -->"

    def markdown(self) -> str:
        lines = [self.marker(), "", f"**{self.kind}**: {self.status.value}: {self.reason}", ""]
        if self.findings:
            lines += ["| severity | rule | message |", "| --- | --- | --- |"]
            lines += [
                f"| {f.severity.value} | {f.rule} | {f.message.replace('|', '/')} |"
                for f in self.findings[:_MAX_ROWS]
            ]
            if len(self.findings) > _MAX_ROWS:
                lines.append(f"| | | and {len(self.findings) - _MAX_ROWS} more |")
        return "\n".join(lines) + "\n"


def _fingerprint(result: StageResult) -> str:
    """Stable across runs while the same things are wrong (ages and timings left out)."""
    keys = sorted(
        str(f.extra.get("fingerprint") or f"{f.rule}|{f.location}|{f.message}")
        for f in result.findings
    )
    text = "\n".join([result.status.value, *keys])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def raised_and_cleared(
    results: Sequence[StageResult], *, alert_on: str
) -> tuple[list[Alert], list[str]]:
    """The alerts the parts raise, and the kinds that are clear now."""
    raising = {Status.FAILED} | ({Status.WARNED} if alert_on == "warned" else set())
    alerts, cleared = [], []
    for result in results:
        if result.status in raising:
            alerts.append(
                Alert(
                    kind=result.stage,
                    status=result.status,
                    reason=result.reason,
                    findings=result.findings,
                    fingerprint=_fingerprint(result),
                )
            )
        elif result.status is not Status.SKIPPED and result.stage not in EVENT_KINDS:
            cleared.append(result.stage)
    return alerts, cleared


# -- memory ------------------------------------------------------------------------------


def state_path(root: Path) -> Path:
    """Per-project alert memory: one file per project root."""
    key = hashlib.sha256(str(root.resolve()).encode()).hexdigest()[:12]
    return paths.state_dir() / "monitor" / f"alerts-{root.resolve().name}-{key}.json"


def _load(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


# -- webhook -----------------------------------------------------------------------------


def _slack_body(text: str) -> dict[str, Any]:
    # Slack caps a section's text at 3000 characters.
    short = text if len(text) <= _SECTION_MAX else text[: _SECTION_MAX - 1] + "…"
    section = {"type": "section", "text": {"type": "mrkdwn", "text": short}}
    return {"text": text, "blocks": [section]}


def _alert_text(alert: Alert, project: str) -> str:
    top = "\n".join(f"• {f.rule}: {f.message}" for f in alert.findings[:10])
    more = f"\n…and {len(alert.findings) - 10} more" if len(alert.findings) > 10 else ""  # noqa: PLR2004
    head = f":rotating_light: *{project}*: {alert.kind} {alert.status.value}: {alert.reason}"
    return f"{head}\n{top}{more}"


@contextlib.contextmanager
def _quiet_http() -> Iterator[None]:
    """Keep httpx from logging the request line: the webhook URL is the secret."""
    loggers = [logging.getLogger(name) for name in ("httpx", "httpcore")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.WARNING)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


def _post(client: httpx.Client, url: str, body: Mapping[str, Any]) -> str:
    """POST `body`; an error message naming only the status, or ''."""
    try:
        with _quiet_http():
            response = client.post(url, json=body)
    except httpx.TransportError as exc:
        return f"webhook unreachable ({type(exc).__name__})"
    if response.status_code >= httpx.codes.BAD_REQUEST:
        return f"webhook answered HTTP {response.status_code}"
    return ""


# -- issues ------------------------------------------------------------------------------


def _issues(github: GitHub, label: str, state: str) -> dict[str, dict[str, Any]]:
    """The monitor's issues in `state`, newest first per kind."""
    found = github.request(
        "GET", "issues", params={"state": state, "labels": label, "per_page": 100}
    )
    by_kind: dict[str, dict[str, Any]] = {}
    for issue in found or ():
        mark = _MARK.search(issue.get("body") or "")
        if mark and "pull_request" not in issue:
            by_kind.setdefault(mark["kind"], issue)
    return by_kind


def _last_fingerprint(github: GitHub, issue: Mapping[str, Any]) -> str:
    comments = github.request("GET", f"issues/{issue['number']}/comments", params={"per_page": 100})
    for text in [c.get("body") or "" for c in reversed(comments or [])] + [issue.get("body") or ""]:
        mark = _MARK.search(text)
        if mark:
            return mark["fp"]
    return ""


def _raise_issue(github: GitHub, alert: Alert, label: str, open_: Mapping[str, Any]) -> str:
    issue = open_.get(alert.kind)
    if issue is not None:
        if _last_fingerprint(github, issue) == alert.fingerprint:
            return "unchanged"
        github.request(
            "POST", f"issues/{issue['number']}/comments", json={"body": alert.markdown()}
        )
        return "commented"
    closed = _issues(github, label, "closed").get(alert.kind)
    if closed is not None:
        number = closed["number"]
        github.request("PATCH", f"issues/{number}", json={"state": "open"})
        github.request("POST", f"issues/{number}/comments", json={"body": alert.markdown()})
        return "reopened"
    payload = {"title": alert.title, "body": alert.markdown(), "labels": [label]}
    github.request("POST", "issues", json=payload)
    return "opened"


def _clear_issue(github: GitHub, kind: str, open_: Mapping[str, Any]) -> str:
    issue = open_.get(kind)
    if issue is None:
        return ""
    body = f"<!-- shipyard-monitor:kind={kind} fingerprint=cleared -->\n\n{kind} is clear again."
    github.request("POST", f"issues/{issue['number']}/comments", json={"body": body})
    github.request(
        "PATCH", f"issues/{issue['number']}", json={"state": "closed", "state_reason": "completed"}
    )
    return "closed"


# -- delivering --------------------------------------------------------------------------


@dataclasses.dataclass
class _Run:
    sent: list[str] = dataclasses.field(default_factory=list)
    errors: list[str] = dataclasses.field(default_factory=list)


def _webhook(
    client: httpx.Client,
    url: str,
    *,
    alerts: Sequence[Alert],
    cleared: Sequence[str],
    memory: Mapping[str, Any],
    project: str,
    run: _Run,
) -> None:
    for alert in alerts:
        if memory.get(alert.kind, {}).get("webhook") == alert.fingerprint:
            continue
        error = _post(client, url, _slack_body(_alert_text(alert, project)))
        run.errors += [f"{alert.kind}: {error}"] if error else []
        run.sent += [] if error else [f"webhook: {alert.kind} raised"]
    for kind in cleared:
        if not memory.get(kind, {}).get("webhook"):
            continue
        error = _post(
            client, url, _slack_body(f":white_check_mark: *{project}*: {kind} is clear again")
        )
        run.errors += [f"{kind}: {error}"] if error else []
        run.sent += [] if error else [f"webhook: {kind} cleared"]


def _github_issues(
    github: GitHub, label: str, alerts: Sequence[Alert], cleared: Sequence[str], run: _Run
) -> None:
    try:
        open_ = _issues(github, label, "open")
        for alert in alerts:
            action = _raise_issue(github, alert, label, open_)
            run.sent += [] if action == "unchanged" else [f"issue: {alert.kind} {action}"]
        for kind in cleared:
            action = _clear_issue(github, kind, open_)
            run.sent += [f"issue: {kind} {action}"] if action else []
    except GitHubError as exc:
        run.errors.append(f"GitHub issues: {exc}")


def deliver(
    config: Config,
    results: Sequence[StageResult],
    *,
    client: httpx.Client,
    github: GitHub | None,
    github_reason: str = "",
    env: Mapping[str, str] | None = None,
    now: dt.datetime | None = None,
) -> StageResult:
    """Raise, update and clear alerts for `results` on every configured channel."""
    started = time.monotonic()
    env = os.environ if env is None else env
    settings = config.monitor
    alerts, cleared = raised_and_cleared(results, alert_on=settings.alert_on)
    url = env.get(settings.alert_webhook_env, "")
    use_issues = github is not None and settings.alert_issues
    if not url and not use_issues:
        reason = f"no channel: ${settings.alert_webhook_env} is empty and "
        reason += github_reason if settings.alert_issues else "alert-issues is off"
        return _result(Status.SKIPPED, reason, alerts, _Run(), started)

    memory_file = state_path(config.root)
    memory = _load(memory_file)
    run = _Run()
    project = config.project.name if config.project else config.root.resolve().name
    if url:
        _webhook(
            client, url, alerts=alerts, cleared=cleared, memory=memory, project=project, run=run
        )
    if use_issues and github is not None:
        _github_issues(github, settings.alert_label, alerts, cleared, run)
    _remember(
        memory_file,
        memory,
        alerts=alerts,
        cleared=cleared,
        run=run,
        now=now or dt.datetime.now(dt.UTC),
        url=bool(url),
    )
    status = Status.WARNED if run.errors else Status.PASSED
    reason = "; ".join(run.errors) if run.errors else f"{len(alerts)} active, {len(run.sent)} sent"
    return _result(status, reason, alerts, run, started)


def _remember(
    path: Path,
    memory: dict[str, Any],
    *,
    alerts: Sequence[Alert],
    cleared: Sequence[str],
    run: _Run,
    now: dt.datetime,
    url: bool,
) -> None:
    failed = {e.split(":", 1)[0] for e in run.errors}
    for alert in alerts:
        entry = memory.setdefault(alert.kind, {"since": now.isoformat()})
        entry["fingerprint"] = alert.fingerprint
        entry["last_seen"] = now.isoformat()
        if url and alert.kind not in failed:
            entry["webhook"] = alert.fingerprint
    for kind in cleared:
        if kind in memory and kind not in failed:
            del memory[kind]
    write_atomic(path, json.dumps(memory, indent=2, sort_keys=True) + "\n")


def _result(
    status: Status, reason: str, alerts: Sequence[Alert], run: _Run, started: float
) -> StageResult:
    findings = [
        Finding(rule="alerts.delivery", message=e, severity=Severity.MEDIUM, tool="shipyard")
        for e in run.errors
    ]
    findings += [
        Finding(rule="alerts.sent", message=s, severity=Severity.INFO, tool="shipyard")
        for s in run.sent
    ]
    return StageResult(
        stage=STAGE,
        status=status,
        reason=reason,
        duration=time.monotonic() - started,
        findings=findings,
        metrics={"alerts.active": len(alerts), "alerts.sent": len(run.sent)},
    )

"""Stage results: what every stage returns, and how results are written and shown.

A stage returns one `StageResult`. It is written as versioned JSON to
`<reports>/<stage>.json`, folded with the others into the `ci` summary, and
rendered as a terminal table, as markdown and into `$GITHUB_STEP_SUMMARY`.
"""

from __future__ import annotations

import dataclasses
import enum
import json
import os
import tempfile
import time
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

__all__ = [
    "SCHEMA_VERSION",
    "Finding",
    "Severity",
    "StageResult",
    "Status",
    "append_step_summary",
    "collect",
    "console",
    "failed_gates",
    "fresh_results",
    "read_result",
    "render_markdown",
    "render_table",
    "summarize",
    "worst_status",
    "write_atomic",
    "write_result",
]

#: Bumped whenever a field of the JSON shape changes meaning or goes away.
SCHEMA_VERSION = 1


class Status(enum.StrEnum):
    PASSED = "passed"
    WARNED = "warned"
    FAILED = "failed"
    SKIPPED = "skipped"

    @property
    def mark(self) -> str:
        return {"passed": "✓", "warned": "!", "failed": "✕", "skipped": "-"}[self.value]

    @property
    def style(self) -> str:
        return {"passed": "green", "warned": "yellow", "failed": "red", "skipped": "dim"}[
            self.value
        ]


_STATUS_RANK = {Status.SKIPPED: 0, Status.PASSED: 1, Status.WARNED: 2, Status.FAILED: 3}


def worst_status(statuses: Iterable[Status]) -> Status:
    """The most severe of `statuses` (failed > warned > passed > skipped)."""
    return max(statuses, key=_STATUS_RANK.__getitem__, default=Status.SKIPPED)


class Severity(enum.StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"
    UNKNOWN = "unknown"

    @property
    def rank(self) -> int:
        order = ("info", "low", "medium", "high", "critical")
        # An unknown severity ranks as high unless a gate says otherwise.
        return order.index(self.value) if self.value in order else order.index("high")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Finding:
    """One thing a tool found: a lint error, a vulnerability, a leaked secret..."""

    rule: str
    message: str
    severity: Severity = Severity.MEDIUM
    path: str | None = None
    line: int | None = None
    tool: str | None = None
    #: Tool-specific details that are safe to show (never a secret's value).
    extra: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def location(self) -> str:
        if self.path is None:
            return ""
        return f"{self.path}:{self.line}" if self.line is not None else self.path

    def to_json(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["severity"] = self.severity.value
        data["extra"] = dict(self.extra)
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Finding:
        return cls(
            rule=data["rule"],
            message=data["message"],
            severity=Severity(data.get("severity", "medium")),
            path=data.get("path"),
            line=data.get("line"),
            tool=data.get("tool"),
            extra=data.get("extra") or {},
        )


@dataclasses.dataclass(frozen=True, kw_only=True)
class StageResult:
    """What one stage (or one target of a stage, like `test-cp311-linux_x86_64`) produced."""

    stage: str
    status: Status
    #: Why the stage was skipped, warned or failed; one sentence, shown in the summary.
    reason: str = ""
    duration: float = 0.0
    findings: Sequence[Finding] = ()
    #: Numbers other stages and gates read, such as `coverage.percent`.
    metrics: Mapping[str, float | int | str] = dataclasses.field(default_factory=dict)
    #: Files the stage wrote (reports, SBOMs, images...), relative to the project root.
    artifacts: Sequence[str] = ()
    finished_at: float = dataclasses.field(default_factory=time.time)

    @property
    def ok(self) -> bool:
        return self.status is not Status.FAILED

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA_VERSION,
            "stage": self.stage,
            "status": self.status.value,
            "reason": self.reason,
            "duration": round(self.duration, 3),
            "findings": [f.to_json() for f in self.findings],
            "metrics": dict(self.metrics),
            "artifacts": list(self.artifacts),
            "finished_at": self.finished_at,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StageResult:
        schema = data.get("schema")
        if schema != SCHEMA_VERSION:
            msg = f"stage result has schema {schema!r}, this shipyard reads {SCHEMA_VERSION}"
            raise ValueError(msg)
        return cls(
            stage=data["stage"],
            status=Status(data["status"]),
            reason=data.get("reason", ""),
            duration=float(data.get("duration", 0.0)),
            findings=tuple(Finding.from_json(f) for f in data.get("findings", ())),
            metrics=data.get("metrics") or {},
            artifacts=tuple(data.get("artifacts", ())),
            finished_at=float(data.get("finished_at", 0.0)),
        )


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that readers see the old file or the new one, never half.

    The file keeps its mode when it exists, else gets the usual one (0666 less the umask).
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        mode = path.stat().st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        Path(tmp).chmod(mode)
        Path(tmp).replace(path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_result(result: StageResult, reports_dir: Path) -> Path:
    """Write `<reports>/<stage>.json`; top-level JSON files of the reports dir are results only."""
    path = reports_dir / f"{result.stage}.json"
    write_atomic(path, json.dumps(result.to_json(), indent=2, sort_keys=True) + "\n")
    return path


def read_result(path: Path) -> StageResult:
    return StageResult.from_json(json.loads(path.read_text(encoding="utf-8")))


def console(*, stderr: bool = True) -> Console:
    """A rich console that honours NO_COLOR / FORCE_COLOR and plain output when not a tty."""
    return Console(stderr=stderr, highlight=False, soft_wrap=False)


def _summary_line(result: StageResult) -> str:
    if result.reason:
        return result.reason
    if result.findings:
        return f"{len(result.findings)} finding(s)"
    return ""


def render_table(results: Sequence[StageResult], *, title: str = "shipyard") -> Table:
    table = Table(title=title, title_justify="left")
    table.add_column("stage")
    table.add_column("status")
    table.add_column("time", justify="right")
    table.add_column("details", overflow="fold")
    for result in results:
        status = f"[{result.status.style}]{result.status.mark} {result.status.value}[/]"
        # Reasons quote config keys and tool output: "[tool.shipyard.x]" is text, not markup.
        details = escape(_summary_line(result))
        table.add_row(escape(result.stage), status, f"{result.duration:.1f}s", details)
    return table


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_markdown(results: Sequence[StageResult], *, title: str = "shipyard") -> str:
    lines = [f"## {title}", "", "| stage | status | time | details |", "| --- | --- | --- | --- |"]
    lines += [
        f"| {_md_cell(r.stage)} | {r.status.mark} {r.status.value} "
        f"| {r.duration:.1f}s | {_md_cell(_summary_line(r))} |"
        for r in results
    ]
    for result in results:
        if not result.findings:
            continue
        lines += ["", f"### {result.stage}: findings", ""]
        lines += ["| severity | rule | where | message |", "| --- | --- | --- | --- |"]
        lines += [
            f"| {f.severity.value} | {_md_cell(f.rule)} | {_md_cell(f.location)} "
            f"| {_md_cell(f.message)} |"
            for f in result.findings
        ]
    return "\n".join(lines) + "\n"


def append_step_summary(markdown: str) -> Path | None:
    """Append to `$GITHUB_STEP_SUMMARY` when it is set; return the file written."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return None
    path = Path(target)
    with path.open("a", encoding="utf-8") as fh:
        fh.write(markdown)
    return path


# -- the ci summary ------------------------------------------------------------------------

#: The reason shown for a stage of the pipeline that wrote no result.
DID_NOT_RUN = "did not run (interpreter or tool missing; see the log above)"


def fresh_results(reports: Path, since: float) -> list[StageResult]:
    """The stage results in `reports` written at or after `since`, oldest first."""
    results = []
    for path in reports.glob("*.json"):
        try:
            result = read_result(path)
        except (ValueError, KeyError, json.JSONDecodeError):
            continue
        if result.finished_at >= since:
            results.append(result)
    return sorted(results, key=lambda r: r.finished_at)


def collect(
    names: Sequence[str],
    reports: Path,
    since: float,
    *,
    known: Mapping[str, StageResult] | None = None,
    optional: Collection[str] = (),
) -> list[StageResult]:
    """One result per name of `names`, in that order, then any other fresh result.

    A name's result is `known[name]` when given, else its fresh result file, else
    a skipped row saying it did not run; for an `optional` name, no row when other
    fresh results start with `<name>-`. `nox -s ci` and `invoke ci` both use this.
    """
    fresh = {r.stage: r for r in fresh_results(reports, since)}
    known = known or {}
    rows = []
    for name in names:
        row = known.get(name) or fresh.get(name)
        if row is None and name in optional and any(s.startswith(f"{name}-") for s in fresh):
            continue
        rows.append(row or StageResult(stage=name, status=Status.SKIPPED, reason=DID_NOT_RUN))
    return rows + [r for r in fresh.values() if r.stage not in names]


def failed_gates(results: Sequence[StageResult]) -> str | None:
    """The closing line of a failed pipeline run, naming each failed stage and why."""
    failed = [r for r in results if r.status is Status.FAILED]
    if not failed:
        return None
    return "gate failed: " + "; ".join(f"{r.stage}: {r.reason}" for r in failed)


def summarize(results: Sequence[StageResult], reports: Path) -> Path:
    """Show every result as one table, write it as markdown, and add it to the step summary."""
    console().print(render_table(results, title="shipyard ci"))
    markdown = render_markdown(results, title="shipyard ci")
    path = reports / "summary.md"
    write_atomic(path, markdown)
    append_step_summary(markdown)
    return path

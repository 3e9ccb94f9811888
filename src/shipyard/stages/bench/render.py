"""The bench report as markdown: sorted by severity, with current, baseline, change, interval."""

from __future__ import annotations

from collections.abc import Sequence

from shipyard.stages.bench.compare import Comparison, format_percent, format_time

__all__ = ["render_markdown"]

_MARK = {
    "critical": "✕ critical",
    "warning": "! warning",
    "unconfirmed": "? unconfirmed",
    "improvement": "✓ improvement",
}


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _interval(comp: Comparison) -> str:
    if comp.interval is None:
        return "-"
    low, high = comp.interval
    return f"{low:+.2f} … {high:+.2f} %"


def render_markdown(
    comparisons: Sequence[Comparison], *, baseline: str | None, notes: Sequence[str] = ()
) -> str:
    lines = ["## bench", ""]
    if baseline:
        lines += [f"Baseline: {baseline}.", ""]
    lines += [f"- {_cell(note)}" for note in notes]
    if notes:
        lines.append("")
    if not comparisons:
        return "\n".join(lines) + "\n"
    statistic = comparisons[0].statistic
    lines += [
        (
            f"| verdict | benchmark | current | baseline | median | min | {statistic} | "
            "interval | note |"
        ),
        "| --- | --- | ---: | ---: | ---: | ---: | ---: | --- | --- |",
    ]
    for comp in comparisons:
        verdict = _MARK.get(comp.verdict.value, comp.verdict.value)
        lines.append(
            f"| {verdict} | {_cell(comp.name)} | {format_time(comp.current)} "
            f"| {format_time(comp.baseline)} | {format_percent(comp.change)} "
            f"| {format_percent(comp.min_change)} | {format_percent(comp.decided_on)} "
            f"| {_interval(comp)} | {_cell(comp.note)} |"
        )
    lines += [
        "",
        (
            f"Lines: warn over +{comparisons[0].thresholds.warn} %, fail over "
            f"+{comparisons[0].thresholds.fail} % (unless a glob sets others); the verdict "
            f"compares the {statistic} and needs its interval above zero."
        ),
    ]
    return "\n".join(lines) + "\n"

"""Charts of the history: a self-contained HTML page (inline SVG) and a summary PNG.

matplotlib draws through its object API (no pyplot, no global state): one
chart per benchmark with each run's median, the spread of its rounds, and
the detected steps marked with their size.
"""

from __future__ import annotations

import html
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from shipyard.errors import ToolMissing
from shipyard.report import write_atomic
from shipyard.stages.bench.history import Record, series
from shipyard.stages.bench.trend import Step

__all__ = ["write_html", "write_png"]

_SCALES = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))
_PNG_CHARTS = 6


def _figure_class() -> Any:
    try:
        from matplotlib.figure import Figure  # noqa: PLC0415
    except ImportError:
        msg = "the bench charts need matplotlib; install it with `pip install 'shipyard[bench]'`."
        raise ToolMissing(msg) from None
    return Figure


def _unit(values: Sequence[float]) -> tuple[float, str]:
    top = max(values) if values else 1.0
    for factor, unit in _SCALES:
        if top >= factor:
            return factor, unit
    return _SCALES[-1]


def _draw(ax: Any, name: str, runs: Sequence[tuple[Record, Any]], steps: Sequence[Step]) -> None:
    medians = [float(bench.median_exact()) for _, bench in runs]
    factor, unit = _unit(medians)
    xs = list(range(len(runs)))
    lows = [min(bench.seconds()) / factor for _, bench in runs]
    highs = [max(bench.seconds()) / factor for _, bench in runs]
    ax.fill_between(xs, lows, highs, color="#9ecae1", alpha=0.5, linewidth=0, label="min-max")
    ax.plot(xs, [m / factor for m in medians], marker="o", markersize=3, color="#08519c")
    for step in steps:
        ax.axvline(step.index - 0.5, color="#cb181d", linestyle="--", linewidth=1)
        label = f"{step.change:+.1f} %"
        ax.annotate(label, (step.index - 0.5, max(highs)), color="#cb181d", fontsize=8)
    labels = [(record.commit or "?")[:7] for record, _ in runs]
    stride = max(1, len(xs) // 10)
    ax.set_xticks(xs[::stride], labels[::stride], rotation=45, fontsize=7, ha="right")
    ax.set_ylabel(f"median ({unit})")
    ax.set_title(name, fontsize=9, loc="left")
    ax.set_ylim(bottom=0)


def _svg(name: str, runs: Sequence[tuple[Record, Any]], steps: Sequence[Step]) -> str:
    fig = _figure_class()(figsize=(8, 3), layout="constrained")
    _draw(fig.add_subplot(), name, runs, steps)
    out = io.StringIO()
    fig.savefig(out, format="svg")
    text = out.getvalue()
    return text[text.index("<svg") :]  # drop the XML prolog and doctype for inlining


def write_html(records: Sequence[Record], steps: Sequence[Step], path: Path, *, title: str) -> Path:
    """One page, no external resources: a table of steps, then one chart per benchmark."""
    by_name: dict[str, list[Step]] = {}
    for step in steps:
        by_name.setdefault(step.benchmark, []).append(step)
    rows = "".join(
        f"<tr><td>{html.escape(s.benchmark)}</td><td>{s.change:+.1f} %</td>"
        f"<td><code>{html.escape((s.commit or '?')[:12])}</code></td></tr>"
        for s in steps
    )
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'>",
        f"<title>{html.escape(title)}</title>",
        (
            "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
            "td,th{border:1px solid #ccc;padding:.2em .6em}</style></head><body>"
        ),
        f"<h1>{html.escape(title)}</h1>",
        f"<p>{len(records)} run(s); {len(steps)} step(s) detected.</p>",
        "<table><tr><th>benchmark</th><th>step</th><th>first commit after</th></tr>",
        rows or "<tr><td colspan='3'>no steps</td></tr>",
        "</table>",
    ]
    for name, runs in series(records):
        parts += [f"<h2>{html.escape(name)}</h2>", _svg(name, runs, by_name.get(name, []))]
    parts.append("</body></html>")
    write_atomic(path, "\n".join(parts) + "\n")
    return path


def write_png(records: Sequence[Record], steps: Sequence[Step], path: Path) -> Path | None:
    """A PNG of the benchmarks with steps (or the first few), for a step summary."""
    everything = list(series(records))
    stepped = {s.benchmark for s in steps}
    chosen = [item for item in everything if item[0] in stepped] or everything
    chosen = chosen[:_PNG_CHARTS]
    if not chosen:
        return None
    fig = _figure_class()(figsize=(8, 2.4 * len(chosen)), layout="constrained")
    axes = fig.subplots(len(chosen), 1, squeeze=False)
    for ax, (name, runs) in zip(axes[:, 0], chosen, strict=True):
        _draw(ax, name, runs, [s for s in steps if s.benchmark == name])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=90)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(buffer.getvalue())
    tmp.replace(path)
    return path

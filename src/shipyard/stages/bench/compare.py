"""Compare a run with its baseline, benchmark by benchmark, and give each a verdict.

The change is the relative change of the median, computed in decimal from the
timings as written in the files, so `+10.0 %` against a 10 % line is exactly
on the line, not over it. The interval is a bootstrap confidence interval of
that change from the raw samples (scipy). A slowdown counts only when the
interval lies above zero:

- critical: significant and the change is over `fail`;
- warning: significant and the change, or the interval's upper end, is over
  `warn` (the slowdown is real and may well be over the line);
- unconfirmed: the change is over `warn` but the interval reaches zero;
- improvement: the mirror of a warning; unchanged: everything else.

Benchmarks given as single values (libtest, Criterion estimates) have no
samples to resample: the reported ranges stand in for the interval, or the
threshold alone decides when there is no range.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import fnmatch
import warnings
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Literal

from shipyard.errors import ToolMissing
from shipyard.stages.bench.formats import Benchmark, BenchRun

__all__ = [
    "MIN_SAMPLES",
    "Comparison",
    "Thresholds",
    "Verdict",
    "compare_one",
    "compare_runs",
    "format_percent",
    "format_time",
    "thresholds_for",
]

#: A side with fewer samples than this is not resampled but taken at its median.
MIN_SAMPLES = 5
_RESAMPLES = 2000
_QUANTUM = Decimal("1e-9")  # interval ends, in percent: far below their own uncertainty
_HUNDRED = Decimal(100)

#: What the verdict compares: the median of the rounds, or their 10th percentile (the
#: time the code takes when the machine leaves it alone; robust on shared runners).
Statistic = Literal["median", "p10"]
_P10 = 0.1


class Verdict(enum.StrEnum):
    CRITICAL = "critical"
    WARNING = "warning"
    UNCONFIRMED = "unconfirmed"
    IMPROVEMENT = "improvement"
    NEW = "new"
    REMOVED = "removed"
    UNCHANGED = "unchanged"

    @property
    def rank(self) -> int:
        """Sort key: most severe first."""
        return list(Verdict).index(self)

    @property
    def flagged(self) -> bool:
        return self in (Verdict.CRITICAL, Verdict.WARNING)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Thresholds:
    """Percent lines: a slowdown over `warn` warns, over `fail` is critical."""

    warn: Decimal
    fail: Decimal


@dataclasses.dataclass(frozen=True, kw_only=True)
class Comparison:
    name: str
    verdict: Verdict
    thresholds: Thresholds
    #: Medians in seconds.
    current: Decimal | None = None
    baseline: Decimal | None = None
    #: Relative changes in percent: of the median, of the minimum.
    change: Decimal | None = None
    min_change: Decimal | None = None
    #: Confidence interval of `change`, in percent.
    interval: tuple[Decimal, Decimal] | None = None
    samples: tuple[int, int] = (0, 0)
    #: The statistic the verdict compared, its change in percent and `interval` is of.
    statistic: Statistic = "median"
    decided_on: Decimal | None = None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        def num(value: Decimal | None) -> float | None:
            return None if value is None else float(value)

        return {
            "name": self.name,
            "verdict": self.verdict.value,
            "current": num(self.current),
            "baseline": num(self.baseline),
            "change": num(self.change),
            "min_change": num(self.min_change),
            "interval": None if self.interval is None else [float(v) for v in self.interval],
            "warn": float(self.thresholds.warn),
            "fail": float(self.thresholds.fail),
            "samples": list(self.samples),
            "statistic": self.statistic,
            "decided_on": num(self.decided_on),
            "note": self.note,
        }


def thresholds_for(
    name: str, default: Thresholds, overrides: Mapping[str, tuple[Decimal | None, Decimal | None]]
) -> Thresholds:
    """The lines for benchmark `name`: the first glob of `overrides` that matches, else default."""
    for pattern, (warn, fail) in overrides.items():
        if fnmatch.fnmatchcase(name, pattern):
            return Thresholds(
                warn=default.warn if warn is None else warn,
                fail=default.fail if fail is None else fail,
            )
    return default


# -- the interval ------------------------------------------------------------------------


def _stats() -> tuple[Any, Any]:
    try:
        import numpy as np  # noqa: PLC0415
        from scipy import stats  # noqa: PLC0415
    except ImportError:
        msg = (
            "the bench stage needs numpy and scipy for its confidence intervals; "
            "install them with `pip install 'shipyard[bench]'`."
        )
        raise ToolMissing(msg) from None
    return np, stats


def _quantize(value: float) -> Decimal:
    return Decimal(repr(value)).quantize(_QUANTUM)


def _bootstrap(
    current: Benchmark, baseline: Benchmark, confidence: Decimal, statistic: Statistic
) -> tuple[float, float]:
    """Percentile bootstrap interval of the change in percent; small sides held fixed."""
    np, stats = _stats()
    cur = np.asarray(current.seconds())
    base = np.asarray(baseline.seconds())
    resampled = [a for a in (cur, base) if len(a) >= MIN_SAMPLES]

    def measure(values: Any, axis: int = -1) -> Any:
        if statistic == "median":
            return np.median(values, axis=axis)
        return np.quantile(values, _P10, axis=axis, method="inverted_cdf")

    fixed_cur, fixed_base = float(measure(cur)), float(measure(base))

    def change(*arrays: Any, axis: int = -1) -> Any:
        values = iter(arrays)
        c = measure(next(values), axis=axis) if len(cur) >= MIN_SAMPLES else fixed_cur
        b = measure(next(values), axis=axis) if len(base) >= MIN_SAMPLES else fixed_base
        return (c / b - 1.0) * 100.0

    point = float(change(*resampled))
    if all(np.ptp(a) == 0 for a in resampled):
        return point, point
    with warnings.catch_warnings():
        # Few distinct values make scipy warn about degenerate resamples; the interval stands.
        warnings.simplefilter("ignore")
        result = stats.bootstrap(
            tuple(resampled),
            change,
            n_resamples=_RESAMPLES,
            confidence_level=float(confidence) / 100,
            method="percentile",
            vectorized=True,
            rng=np.random.default_rng(0),
        )
    low, high = result.confidence_interval
    return (point if np.isnan(low) else float(low), point if np.isnan(high) else float(high))


def _interval(
    current: Benchmark, baseline: Benchmark, confidence: Decimal, statistic: Statistic
) -> tuple[Decimal, Decimal] | None:
    if max(len(current.samples), len(baseline.samples)) >= MIN_SAMPLES:
        low, high = _bootstrap(current, baseline, confidence, statistic)
        return _quantize(low), _quantize(high)
    if current.spread is not None and baseline.spread is not None:
        cur, base = float(current.median_exact()), float(baseline.median_exact())
        c_spread = current.spread * float(current.scale)
        b_spread = baseline.spread * float(baseline.scale)
        if base - b_spread <= 0:
            return None
        low = ((cur - c_spread) / (base + b_spread) - 1) * 100
        high = ((cur + c_spread) / (base - b_spread) - 1) * 100
        return _quantize(low), _quantize(high)
    return None


# -- verdicts ----------------------------------------------------------------------------


def _verdict(
    change: Decimal, interval: tuple[Decimal, Decimal] | None, lines: Thresholds
) -> Verdict:
    low, high = interval if interval is not None else (change, change)
    slower, faster = low > 0, high < 0
    if slower and change > lines.fail:
        return Verdict.CRITICAL
    if slower and (change > lines.warn or high > lines.warn):
        return Verdict.WARNING
    if change > lines.warn:
        return Verdict.UNCONFIRMED
    if faster and (change < -lines.warn or low < -lines.warn):
        return Verdict.IMPROVEMENT
    return Verdict.UNCHANGED


def compare_one(
    name: str,
    current: Benchmark | None,
    baseline: Benchmark | None,
    lines: Thresholds,
    *,
    confidence: Decimal = Decimal(99),
    statistic: Statistic = "median",
) -> Comparison:
    """Compare one benchmark; either side may be missing (new or removed)."""
    if current is None or baseline is None:
        verdict = Verdict.NEW if baseline is None else Verdict.REMOVED
        there = current or baseline
        assert there is not None  # noqa: S101 (one side is always given)
        median = there.median_exact()
        return Comparison(
            name=name,
            verdict=verdict,
            thresholds=lines,
            current=median if current else None,
            baseline=median if baseline else None,
        )

    cur, base = current.median_exact(), baseline.median_exact()
    change = (cur / base - 1) * _HUNDRED
    min_change = (current.min_exact() / baseline.min_exact() - 1) * _HUNDRED
    decided_on = change
    if statistic == "p10":
        p10 = current.quantile_exact(_P10), baseline.quantile_exact(_P10)
        decided_on = (p10[0] / p10[1] - 1) * _HUNDRED
    interval = _interval(current, baseline, confidence, statistic)
    note = "" if interval is not None else "single values, no interval: the line alone decides"
    return Comparison(
        name=name,
        verdict=_verdict(decided_on, interval, lines),
        statistic=statistic,
        decided_on=decided_on,
        thresholds=lines,
        current=cur,
        baseline=base,
        change=change,
        min_change=min_change,
        interval=interval,
        samples=(len(current.samples), len(baseline.samples)),
        note=note,
    )


def _rename_hints(comparisons: list[Comparison]) -> list[Comparison]:
    removed = [c.name for c in comparisons if c.verdict is Verdict.REMOVED]
    out = []
    for comp in comparisons:
        close = difflib.get_close_matches(comp.name, removed, n=1, cutoff=0.6)
        if comp.verdict is Verdict.NEW and close:
            note = (
                f"renamed from '{close[0]}'? Map the old name in "
                "[tool.shipyard.bench] renames to keep comparing."
            )
            out.append(dataclasses.replace(comp, note=note))
        else:
            out.append(comp)
    return out


def compare_runs(
    current: BenchRun,
    baseline: BenchRun,
    *,
    lines: Callable[[str], Thresholds],
    confidence: Decimal = Decimal(99),
    statistic: Statistic = "median",
) -> list[Comparison]:
    """Every benchmark of either run, most severe verdict first."""
    names = list(current.benchmarks) + [
        n for n in baseline.benchmarks if n not in current.benchmarks
    ]
    comparisons = [
        compare_one(
            name,
            current.benchmarks.get(name),
            baseline.benchmarks.get(name),
            lines(name),
            confidence=confidence,
            statistic=statistic,
        )
        for name in names
    ]
    return sort(_rename_hints(comparisons))


def sort(comparisons: Sequence[Comparison]) -> list[Comparison]:
    def key(comp: Comparison) -> tuple[int, Decimal, str]:
        return (comp.verdict.rank, -(comp.change or Decimal(0)), comp.name)

    return sorted(comparisons, key=key)


# -- showing -----------------------------------------------------------------------------


def format_time(seconds: Decimal | None) -> str:
    if seconds is None:
        return "-"
    for unit, factor in (("s", 1), ("ms", Decimal("1e3")), ("µs", Decimal("1e6"))):
        value = seconds * factor
        if value >= 1:
            return f"{value:.4g} {unit}"
    return f"{seconds * Decimal('1e9'):.4g} ns"


def format_percent(value: Decimal | None) -> str:
    if value is None:
        return "-"
    text = f"{value:+.2f}"
    return f"{text} %"

"""Steps in a benchmark's history: change-point detection with ruptures (PELT).

Each benchmark's series is the log of its per-run median, scaled by a robust
estimate of the run-to-run noise (the MAD of successive differences), so one
penalty fits every benchmark. A step is reported when PELT places a change
point there and the levels on either side differ by at least `min_step`
percent; it names the first commit after the step.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from shipyard.errors import ToolMissing
from shipyard.stages.bench.history import Record, series

__all__ = ["Step", "detect_steps"]

#: Runs needed on each side of a step.
MIN_SEGMENT = 3
#: PELT's penalty per change point, in units of the scaled noise variance (about 3 log n).
_PENALTY_FACTOR = 3.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class Step:
    """A lasting change of one benchmark's level between two runs."""

    benchmark: str
    #: Index in the benchmark's series of the first run after the step.
    index: int
    #: The first commit after the step, and when that run was recorded.
    commit: str | None
    time: float
    #: Median seconds of the runs before and after (up to the neighbouring steps).
    before: float
    after: float

    @property
    def change(self) -> float:
        """Size of the step in percent (positive: slower)."""
        return (self.after / self.before - 1) * 100

    def to_json(self) -> dict[str, Any]:
        return {
            "benchmark": self.benchmark,
            "index": self.index,
            "commit": self.commit,
            "time": self.time,
            "before": self.before,
            "after": self.after,
            "change": round(self.change, 3),
        }


def _ruptures() -> Any:
    try:
        import ruptures  # noqa: PLC0415
    except ImportError:
        msg = "trend detection needs ruptures; install it with `pip install 'shipyard[bench]'`."
        raise ToolMissing(msg) from None
    return ruptures


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2


def _noise(logs: Sequence[float]) -> float:
    diffs = [b - a for a, b in itertools.pairwise(logs)]
    mad = _median([abs(d - _median(diffs)) for d in diffs]) if diffs else 0.0
    # MAD -> sigma for a normal law, and differences carry the noise twice.
    sigma = 1.4826 * mad / math.sqrt(2)
    return max(sigma, 1e-4)  # a perfectly quiet series still needs a scale


def change_points(values: Sequence[float]) -> list[int]:
    """Indices where a new level starts in `values` (positive timings)."""
    if len(values) < 2 * MIN_SEGMENT:
        return []
    import numpy as np  # noqa: PLC0415  (a dependency of ruptures)

    logs = [math.log(v) for v in values]
    signal = np.asarray(logs).reshape(-1, 1) / _noise(logs)
    penalty = _PENALTY_FACTOR * math.log(len(values))
    algo = _ruptures().Pelt(model="l2", min_size=MIN_SEGMENT, jump=1).fit(signal)
    ends = algo.predict(pen=penalty)
    return [int(e) for e in ends[:-1]]  # the last "end" is the series' length


def _steps_of(name: str, runs: Sequence[tuple[Record, float]], min_step: Decimal) -> list[Step]:
    values = [value for _, value in runs]
    points = change_points(values)
    bounds = [0, *points, len(values)]
    steps = []
    for k, point in enumerate(points):
        before = _median(values[bounds[k] : point])
        after = _median(values[point : bounds[k + 2]])
        if abs(after / before - 1) * 100 < min_step:
            continue
        record = runs[point][0]
        steps.append(
            Step(
                benchmark=name,
                index=point,
                commit=record.commit,
                time=record.time,
                before=before,
                after=after,
            )
        )
    return steps


def detect_steps(
    history_records: Sequence[Record], *, min_step: Decimal = Decimal(5)
) -> list[Step]:
    """Every step of at least `min_step` percent in each benchmark's series of medians."""
    steps: list[Step] = []
    for name, runs in series(history_records):
        medians = [(record, float(bench.median_exact())) for record, bench in runs]
        steps += _steps_of(name, medians, min_step)
    return steps

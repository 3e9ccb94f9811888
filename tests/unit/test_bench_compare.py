from __future__ import annotations

import random
from decimal import Decimal

import pytest

from shipyard.stages.bench.compare import (
    Thresholds,
    Verdict,
    compare_one,
    compare_runs,
    thresholds_for,
)
from shipyard.stages.bench.formats import Benchmark, BenchRun

LINES = Thresholds(warn=Decimal(10), fail=Decimal(20))


def bench(samples: list[float] | tuple[float, ...], unit: str = "s", name: str = "b") -> Benchmark:
    return Benchmark(name=name, unit=unit, samples=tuple(samples))


def noisy(level: float, n: int = 60, seed: int = 0) -> Benchmark:
    rng = random.Random(seed)  # noqa: S311 (test data)
    return bench([level * (1 + abs(rng.gauss(0, 0.01))) for _ in range(n)])


@pytest.mark.parametrize("statistic", ["median", "p10"])
def test_exactly_ten_percent_is_not_over_a_ten_percent_line(statistic: str) -> None:
    result = compare_one(
        "b",
        bench([1.1] * 20),
        bench([1.0] * 20),
        LINES,
        statistic=statistic,  # type: ignore[arg-type]
    )
    assert result.change == Decimal(10)
    assert result.verdict is Verdict.UNCHANGED


def test_exactly_on_the_line_with_single_values_and_mixed_units() -> None:
    result = compare_one("b", bench([1.1], unit="ms"), bench([1000], unit="us"), LINES)
    assert result.change == Decimal(10)
    assert result.interval is None
    assert result.verdict is Verdict.UNCHANGED


def test_just_over_the_line_warns() -> None:
    result = compare_one("b", bench([1.1000001] * 20), bench([1.0] * 20), LINES)
    assert result.verdict is Verdict.WARNING


def test_verdicts_from_noisy_samples() -> None:
    base = noisy(1.0, seed=1)
    assert compare_one("b", noisy(1.0, seed=2), base, LINES).verdict is Verdict.UNCHANGED
    assert compare_one("b", noisy(1.15, seed=3), base, LINES).verdict is Verdict.WARNING
    critical = compare_one("b", noisy(1.3, seed=4), base, LINES)
    assert critical.verdict is Verdict.CRITICAL
    assert critical.interval is not None
    assert Decimal(20) < critical.interval[0] < critical.change < critical.interval[1]
    assert compare_one("b", noisy(0.8, seed=5), base, LINES).verdict is Verdict.IMPROVEMENT


def test_over_the_line_but_not_significant_is_unconfirmed() -> None:
    rng = random.Random(7)  # noqa: S311 (test data)
    base = bench([rng.uniform(0.5, 2.0) for _ in range(8)])
    current = bench([s * 1.15 for s in base.samples])
    result = compare_one("b", current, base, LINES)
    assert result.change is not None
    assert result.change > 10
    assert result.verdict is Verdict.UNCONFIRMED


def test_spreads_stand_in_for_an_interval() -> None:
    wide = Benchmark(name="b", unit="ns", samples=(130.0,), spread=40.0)
    base = Benchmark(name="b", unit="ns", samples=(100.0,), spread=40.0)
    assert compare_one("b", wide, base, LINES).verdict is Verdict.UNCONFIRMED
    tight = Benchmark(name="b", unit="ns", samples=(130.0,), spread=1.0)
    tight_base = Benchmark(name="b", unit="ns", samples=(100.0,), spread=1.0)
    assert compare_one("b", tight, tight_base, LINES).verdict is Verdict.CRITICAL


def test_globs_pick_thresholds_first_match_wins() -> None:
    overrides = {"*slow*": (Decimal(25), None), "*": (Decimal(1), Decimal(2))}
    assert thresholds_for("io_slow", LINES, overrides) == Thresholds(
        warn=Decimal(25), fail=Decimal(20)
    )
    assert thresholds_for("fast", LINES, overrides).fail == Decimal(2)
    assert thresholds_for("x", LINES, {}) is LINES


def test_new_removed_and_rename_hint() -> None:
    current = BenchRun(
        benchmarks={"parse_big_file": bench([1.0], name="parse_big_file")}, format="g"
    )
    baseline = BenchRun(benchmarks={"parse_big": bench([1.0], name="parse_big")}, format="g")
    results = compare_runs(current, baseline, lines=lambda _: LINES)
    verdicts = {r.name: r.verdict for r in results}
    assert verdicts == {"parse_big_file": Verdict.NEW, "parse_big": Verdict.REMOVED}
    new = next(r for r in results if r.verdict is Verdict.NEW)
    assert "renamed from 'parse_big'" in new.note
    renamed = baseline.renamed({"parse_big": "parse_big_file"})
    again = compare_runs(current, renamed, lines=lambda _: LINES)
    assert [r.verdict for r in again] == [Verdict.UNCHANGED]


def test_sorted_by_severity() -> None:
    base = BenchRun(benchmarks={n: noisy(1.0, seed=i) for i, n in enumerate("abc")}, format="g")
    cur = BenchRun(
        benchmarks={"a": noisy(1.0, seed=9), "b": noisy(1.5, seed=8), "c": noisy(1.13, seed=7)},
        format="g",
    )
    results = compare_runs(cur, base, lines=lambda _: LINES)
    assert [r.name for r in results] == ["b", "c", "a"]

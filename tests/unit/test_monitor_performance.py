"""The performance part over a real bench history (the bench stage's store and trend)."""

from __future__ import annotations

import random

import pytest

from shipyard import config as config_mod
from shipyard.monitor import alerts, performance
from shipyard.report import Severity, StageResult, Status
from shipyard.stages.bench import history
from shipyard.stages.bench.formats import Benchmark, BenchRun

TOOL = """
[tool.shipyard.bench]
history = "repo"
"""


def record_runs(config: config_mod.Config, medians_ms: list[float], *, first: int = 0) -> None:
    store = history.DirStore(config.root / config.bench.history_path)
    noise = random.Random(7)  # noqa: S311 - jitter for timings, not secrets
    for i, median in enumerate(medians_ms, start=first):
        samples = tuple(median * (1 + noise.uniform(-0.01, 0.01)) for _ in range(9))
        bench = Benchmark(name="test_parse", unit="ms", samples=samples)
        run = BenchRun(
            benchmarks={"test_parse": bench},
            format="pytest-benchmark",
            machine=history.fingerprint(),
            commit=f"{i:02d}" + "c" * 38,
        )
        store.append(history.Record(run=run, time=1_700_000_000 + i * 3600))


@pytest.mark.slow  # ruptures and numpy load in about 2 s
def test_a_new_slowdown_fails_once_and_is_known_on_the_next_run(sample_project) -> None:
    config = config_mod.load(sample_project(tool=TOOL))
    record_runs(config, [1.0] * 6 + [1.5] * 6)

    first, keys = performance.new_steps(config, known=performance.known_steps(config))
    assert first.status is Status.FAILED  # +50 % is past the 20 % bench-fail line
    assert [f.severity for f in first.findings] == [Severity.HIGH]
    assert first.findings[0].message.startswith("test_parse: +50.")
    assert " at 06cccccccccc " in first.findings[0].message  # the first commit after the step
    assert first.reason == "1 new step(s) in the whole history, 1 in 12 run(s)"
    performance.remember_steps(config, keys)

    again, _ = performance.new_steps(config, known=performance.known_steps(config))
    assert again.status is Status.PASSED
    assert again.findings == []
    assert again.reason.startswith("0 new step(s) since the last monitor run")

    record_runs(config, [1.0] * 6, first=12)  # and back: a speed-up
    later, _ = performance.new_steps(config, known=performance.known_steps(config))
    assert later.status is Status.PASSED
    assert [round(f.extra["change"]) for f in later.findings] == [-33]


def test_without_history_the_part_is_skipped_with_the_reason(sample_project) -> None:
    config = config_mod.load(sample_project(tool=TOOL))
    result, keys = performance.new_steps(config, known=None)
    assert (result.status, keys) == (Status.SKIPPED, [])
    assert result.reason.startswith("no bench history yet for this machine")

    off = config_mod.load(
        sample_project(name="off", tool='[tool.shipyard.bench]\nhistory = "off"\n')
    )
    assert "bench history is off" in performance.new_steps(off, known=None)[0].reason


def test_a_performance_alert_is_not_cleared_by_a_quiet_run() -> None:
    quiet = [StageResult(stage="performance", status=Status.PASSED)]
    active, cleared = alerts.raised_and_cleared(quiet, alert_on="failed")
    assert (active, cleared) == ([], [])
    noisy = [StageResult(stage="performance", status=Status.FAILED)]
    assert [a.kind for a in alerts.raised_and_cleared(noisy, alert_on="failed")[0]] == [
        "performance"
    ]

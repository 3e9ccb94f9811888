"""The bench stage on Cargo projects, with real cargo: libtest `#[bench]` and a std harness.

The regression test uses a `harness = false` benchmark written with std only: it
prints shipyard's generic JSON with 300 short samples, whose 10th percentile is
stable on a busy machine. libtest's `#[bench]` prints one median per run (its
`+/-` is often as large as the median here), so its test checks the plumbing:
one sample per `cargo bench` run, read by the bench stage's libtest parser.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from helpers.rust import (
    apply_cargo_env,
    benched_files,
    cargo_toml,
    commit_all,
    libtest_files,
    needs_cargo,
    needs_nightly,
    slow_down,
    write_crate,
)
from shipyard import config
from shipyard.report import Status
from shipyard.stages.bench import run_bench
from shipyard.stages.bench.measure import measure
from shipyard.tools import ToolEnv

pytestmark = [pytest.mark.slow, needs_cargo]


@pytest.fixture(autouse=True)
def _isolated(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    apply_cargo_env(monkeypatch, tmp_path_factory.getbasetemp() / "cargo-target")
    monkeypatch.setenv("SHIPYARD_STATE_DIR", str(tmp_path / "state"))
    for name in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME"):
        monkeypatch.delenv(name, raising=False)


def test_a_25_percent_slower_benchmark_fails_the_gate_against_its_baseline(tmp_path: Path) -> None:
    root = write_crate(tmp_path / "benched", benched_files())
    commit_all(root)

    # The first run has no baseline: it passes and records this commit's run.
    first = run_bench(config.load(root), ToolEnv.current())
    assert first.status is Status.PASSED, first.reason
    assert first.reason.startswith("no baseline yet")
    assert "1 benchmark(s); recorded in" in first.reason

    # 25 % more steps per call, not committed: the merge-base's run is the baseline.
    slow_down(root, by_percent=25)
    second = run_bench(config.load(root), ToolEnv.current())

    assert second.status is Status.FAILED, second.reason
    assert second.reason.startswith("critical regression against history run of merge-base")
    (finding,) = second.findings
    assert finding.rule == "bench-critical"
    change = Decimal(str(finding.extra["decided_on"]))
    assert Decimal(20) < change < Decimal(40), change
    assert finding.extra["samples"] == [300, 300]
    assert (root / ".shipyard/reports/bench/bench.md").is_file()


@needs_nightly
def test_libtest_benches_run_on_nightly_once_per_sample(tmp_path: Path) -> None:
    files = {
        **libtest_files(),
        "Cargo.toml": cargo_toml(extra="[package.metadata.shipyard.rust]\nbench-runs = 3\n"),
    }
    root = write_crate(tmp_path / "libtest", files)

    run = measure(config.load(root), ToolEnv.current())

    assert run.format == "libtest"
    (bench,) = run.benchmarks.values()
    assert bench.name == "benches::bench_work"
    assert (bench.unit, len(bench.samples)) == ("ns", 3)
    assert all(sample > 0 for sample in bench.samples)
    outputs = sorted(p.name for p in (root / ".shipyard/reports/bench/rust").glob("*.txt"))
    assert outputs == ["libtest-bench-1.txt", "libtest-bench-2.txt", "libtest-bench-3.txt"]


def test_a_crate_without_benchmarks_has_none_to_run(tmp_path: Path) -> None:
    root = write_crate(tmp_path / "plain")
    from shipyard.stages.toolchains import rust  # noqa: PLC0415

    assert not rust.TOOLCHAIN.has_benchmarks(config.load(root))
    assert rust.TOOLCHAIN.has_benchmarks(config.load(write_crate(tmp_path / "b", benched_files())))

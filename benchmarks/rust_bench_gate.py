"""Does the bench gate see a 25 % slower Rust benchmark, and only that?

Builds the tests' sample crate (tests/helpers/rust.py) in a temp dir and, for
TRIALS rounds, measures it through the Rust toolchain and the bench stage's
parser: the baseline, the same code again, and `work` with 25 % more steps.
Each pair goes through the gate's comparison (p10, 99 % bootstrap interval,
fail line 20 %). Printed: the change read for +25 % (min / median / max), how
often it was critical, and how often the unchanged code was flagged at all.

Two benchmark kinds: the std-only `harness = false` bench writing generic JSON
(300 samples), and, with --libtest (needs a nightly toolchain), libtest's
`#[bench]` run `rust.bench-runs` times (one median per run).

    python benchmarks/rust_bench_gate.py [--trials 5] [--libtest]
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from helpers.rust import benched_files, libtest_files, write_crate
from shipyard import config
from shipyard.stages.bench.compare import Comparison, Thresholds, Verdict, compare_one
from shipyard.stages.bench.formats import Benchmark
from shipyard.stages.bench.measure import measure
from shipyard.tools import ToolEnv

LINES = Thresholds(warn=Decimal(10), fail=Decimal(20))


def _sample(root: Path, rounds: int, bench_runs: int) -> tuple[float, ...]:
    lib = root / "src/lib.rs"
    text = lib.read_text(encoding="utf-8")
    start = text.index("ROUNDS: u64 = ") + len("ROUNDS: u64 = ")
    end = text.index(";", start)
    lib.write_text(text[:start] + str(rounds) + text[end:], encoding="utf-8")
    cfg = config.load(root)
    cfg = dataclasses.replace(cfg, rust=dataclasses.replace(cfg.rust, bench_runs=bench_runs))
    (bench,) = measure(cfg, ToolEnv.current()).benchmarks.values()
    return bench.samples


def trial(root: Path, bench_runs: int) -> tuple[Comparison, Comparison]:
    """(unchanged vs baseline, 25 % slower vs baseline)."""
    base = _sample(root, 4000, bench_runs)
    same = _sample(root, 4000, bench_runs)
    slow = _sample(root, 5000, bench_runs)

    def compare(current: tuple[float, ...]) -> Comparison:
        def as_bench(samples: tuple[float, ...]) -> Benchmark:
            return Benchmark(name="work", unit="ns", samples=samples)

        return compare_one("work", as_bench(current), as_bench(base), LINES, statistic="p10")

    return compare(same), compare(slow)


def run(kind: str, files: dict[str, str], trials: int, bench_runs: int) -> None:
    with tempfile.TemporaryDirectory(prefix="shipyard-rust-gate-") as tmp:
        root = write_crate(Path(tmp) / kind, files)
        results = [trial(root, bench_runs) for _ in range(trials)]
    changes = [float(slow.decided_on or 0) for _, slow in results]
    critical = sum(slow.verdict is Verdict.CRITICAL for _, slow in results)
    flagged = sum(same.verdict is not Verdict.UNCHANGED for same, _ in results)
    print(
        f"{kind}: +25 % read as {min(changes):+.1f} / {statistics.median(changes):+.1f} / "
        f"{max(changes):+.1f} % (min / median / max); critical {critical}/{trials}; "
        f"unchanged code flagged {flagged}/{trials}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--libtest", action="store_true", help="also libtest #[bench] (nightly)")
    args = parser.parse_args()
    os.environ.setdefault("CARGO_NET_OFFLINE", "true")
    with tempfile.TemporaryDirectory(prefix="shipyard-cargo-target-") as target:
        os.environ.setdefault("CARGO_TARGET_DIR", target)
        run("harness", benched_files(), args.trials, bench_runs=1)
        if args.libtest:
            run("libtest", libtest_files(), args.trials, bench_runs=5)


if __name__ == "__main__":
    main()

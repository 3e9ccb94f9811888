"""How often does a regression gate flag a real slowdown, and how often cry wolf?

Method. A real CPU-bound workload (a pure-Python loop of string, dict and
integer work, about 2 ms a call) is timed on this machine. The slowdown is
injected into the workload itself: the slowed variants do 10 % and 20 % more
loop iterations, so the measured change carries the machine's real noise and
the workload's real fixed costs.

Timings are collected once, as a pool: `--blocks` fresh Python processes
(new hash seed, memory layout and scheduling each, like separate CI runs),
each timing `--rounds` calls of every variant, the variants in a shuffled
order. A trial then pairs two different blocks, as a CI comparison pairs a
baseline run with a later run: the baseline is block i's unchanged timings,
the current run is block j's timings of the variant under test. `--trials`
pairs are drawn per variant. When shipyard's gate says "unconfirmed" it
reruns once: the trial pools a third block's timings of the same variant,
as the stage does. Pairs share blocks, so trials are not independent; the
rates are estimates of what a run-to-run comparison on this machine does.

Rules compared, each on the same trials:

- shipyard: `compare_one` with warn 10 %, fail 20 %, 99 % bootstrap interval;
  flagged = warning or critical (critical = blocks the merge).
- single ratio (github-action-benchmark style): ratio of the two means over
  the alert threshold, at its default 200 % and at 110 %.
- pytest-benchmark `--benchmark-compare-fail=median:10%`:
  `current / baseline * 100 - 100 > 10` in floats, on the medians.

Run: `python benchmarks/gate_accuracy.py` (about 1-3 minutes on 2 busy cores).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from pathlib import Path

VARIANTS = (1.0, 1.1, 1.2)
BASE_LOOPS = 4000
Block = dict[str, list[float]]


def workload(scale: float) -> int:
    """Real work: build keys, count them, fold them into a checksum."""
    loops = int(BASE_LOOPS * scale)
    counts: dict[str, int] = {}
    total = 0
    for i in range(loops):
        key = f"k{i % 97}:{i % 13}"
        counts[key] = counts.get(key, 0) + 1
        total = (total * 31 + len(key) + counts[key]) % 1_000_003
    return total


def collect_block(rounds: int, seed: int) -> Block:
    """Time `rounds` calls of each variant, round-robin in a shuffled order, after a warm-up."""
    for _ in range(5):
        workload(1.0)
    rng = random.Random(seed)
    block: Block = {str(scale): [] for scale in VARIANTS}
    order = list(VARIANTS)
    for _ in range(rounds):
        rng.shuffle(order)
        for scale in order:
            start = time.perf_counter()
            workload(scale)
            block[str(scale)].append(time.perf_counter() - start)
    return block


def collect_pool(blocks: int, rounds: int) -> list[Block]:
    pool = []
    for index in range(blocks):
        argv = [sys.executable, __file__, "--collect-block", str(rounds), "--seed", str(index)]
        out = subprocess.run(argv, check=True, capture_output=True, text=True).stdout
        pool.append(json.loads(out))
        print(f"\rcollected block {index + 1}/{blocks}", end="", file=sys.stderr, flush=True)
    print(file=sys.stderr)
    return pool


# -- the rules ---------------------------------------------------------------------------


def shipyard_rule(
    statistic: str,
) -> Callable[[list[float], list[float], list[float]], tuple[bool, bool]]:
    """shipyard's gate, with its one rerun of an unconfirmed benchmark."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    from shipyard.stages.bench.compare import Thresholds, Verdict, compare_one  # noqa: PLC0415
    from shipyard.stages.bench.formats import Benchmark  # noqa: PLC0415

    lines = Thresholds(warn=Decimal(10), fail=Decimal(20))

    def rule(base: list[float], cur: list[float], rerun: list[float]) -> tuple[bool, bool]:
        baseline = Benchmark(name="w", unit="s", samples=tuple(base))
        current = Benchmark(name="w", unit="s", samples=tuple(cur))
        result = compare_one("w", current, baseline, lines, statistic=statistic)  # type: ignore[arg-type]
        if result.verdict is Verdict.UNCONFIRMED:
            pooled = Benchmark(name="w", unit="s", samples=tuple(cur + rerun))
            result = compare_one("w", pooled, baseline, lines, statistic=statistic)  # type: ignore[arg-type]
        return result.verdict.flagged, result.verdict is Verdict.CRITICAL

    return rule


def ratio_rule(threshold: float) -> Callable[[list[float], list[float]], bool]:
    def rule(base: list[float], cur: list[float]) -> bool:
        return statistics.fmean(cur) / statistics.fmean(base) > threshold

    return rule


def pytest_benchmark_rule(base: list[float], cur: list[float]) -> bool:
    return statistics.median(cur) / statistics.median(base) * 100 - 100 > 10


# -- trials ------------------------------------------------------------------------------

Trial = tuple[list[float], list[float], list[float]]  # baseline, current, rerun
RULES = (
    "shipyard, statistic p10: flagged (warning or critical)",
    "shipyard, statistic p10: critical (blocks the merge)",
    "shipyard, statistic median: flagged",
    "shipyard, statistic median: critical",
    "single ratio of means > 200 % (github-action-benchmark default)",
    "single ratio of means > 110 %",
    "pytest-benchmark compare-fail median:10%",
)


def pooled_trials(pool: Sequence[Block], scale: float, rounds: int, rng: random.Random) -> Trial:
    """Draw each side's rounds independently from every block's timings of its variant."""
    unchanged = [t for block in pool for t in block["1.0"]]
    changed = [t for block in pool for t in block[str(scale)]]
    return rng.sample(unchanged, rounds), rng.sample(changed, rounds), rng.sample(changed, rounds)


def run_to_run_trials(pool: Sequence[Block], scale: float, rng: random.Random) -> Trial:
    """Whole blocks: the baseline from one process, the current run from another."""
    i, j, k = rng.sample(range(len(pool)), 3)
    return pool[i]["1.0"], pool[j][str(scale)], pool[k][str(scale)]


def run_trials(trials: Callable[[float], Trial], count: int) -> dict[str, dict[float, float]]:
    shipyards = (shipyard_rule("p10"), shipyard_rule("median"))
    simple = dict(
        zip(RULES[4:], (ratio_rule(2.0), ratio_rule(1.1), pytest_benchmark_rule), strict=True)
    )
    hits = {name: dict.fromkeys(VARIANTS, 0) for name in RULES}
    for scale in VARIANTS:
        for _ in range(count):
            base, cur, rerun = trials(scale)
            for index, shipyard in enumerate(shipyards):
                flagged, critical = shipyard(base, cur, rerun)
                hits[RULES[2 * index]][scale] += flagged
                hits[RULES[2 * index + 1]][scale] += critical
            for name, rule in simple.items():
                hits[name][scale] += rule(base, cur)
    return {name: {s: n / count for s, n in row.items()} for name, row in hits.items()}


def true_slowdowns(pool: Sequence[Block]) -> dict[float, float]:
    """The slowdown each variant really has here: pooled medians against the unchanged one."""
    base = statistics.median(t for block in pool for t in block["1.0"])
    return {
        s: (statistics.median(t for block in pool for t in block[str(s)]) / base - 1) * 100
        for s in VARIANTS
    }


def print_table(title: str, rates: dict[str, dict[float, float]]) -> None:
    print(f"\n{title}\n")
    print("| rule | false alarms (unchanged) | 10 % slowdown flagged | 20 % slowdown flagged |")
    print("| --- | ---: | ---: | ---: |")
    for name, row in rates.items():
        cells = " | ".join(f"{row[s] * 100:.1f} %" for s in VARIANTS)
        print(f"| {name} | {cells} |")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=30, help="processes timed (pool size)")
    parser.add_argument("--rounds", type=int, default=100, help="calls per variant per block")
    parser.add_argument("--trial-rounds", type=int, default=200, help="rounds per side, pooled")
    parser.add_argument("--trials", type=int, default=400, help="trials per variant, pooled")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--collect-block", type=int, metavar="ROUNDS", help=argparse.SUPPRESS)
    parser.add_argument("--pool", type=Path, help="reuse (or save) the timing pool as JSON")
    args = parser.parse_args(argv)

    if args.collect_block:
        print(json.dumps(collect_block(args.collect_block, args.seed)))
        return 0

    started = time.perf_counter()
    if args.pool and args.pool.is_file():
        pool = json.loads(args.pool.read_text(encoding="utf-8"))
    else:
        pool = collect_pool(args.blocks, args.rounds)
        if args.pool:
            args.pool.write_text(json.dumps(pool), encoding="utf-8")
    collected = time.perf_counter() - started
    rng = random.Random(args.seed)
    measured = true_slowdowns(pool)
    print(
        f"workload: {statistics.median(t for b in pool for t in b['1.0']) * 1e3:.2f} ms a call; "
        f"measured slowdowns of the variants: +{measured[1.1]:.1f} % and +{measured[1.2]:.1f} %"
    )
    pooled = run_trials(lambda s: pooled_trials(pool, s, args.trial_rounds, rng), args.trials)
    print_table(
        f"Pooled resampling: {args.trials} trials per variant, {args.trial_rounds} rounds a side",
        pooled,
    )
    blocks = run_trials(lambda s: run_to_run_trials(pool, s, rng), args.trials // 2)
    print_table(
        f"Run to run: {args.trials // 2} pairs of whole processes per variant, "
        f"{args.rounds} rounds a side",
        blocks,
    )
    total = time.perf_counter() - started
    print(f"\n{len(pool)} blocks; collected in {collected:.0f} s, {total:.0f} s in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

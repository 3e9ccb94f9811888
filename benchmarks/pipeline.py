"""`invoke ci -j N` against `nox -s ci`: wall times, and the sum and critical path of the stages.

    python benchmarks/pipeline.py                  # a sample project with every kind of stage
    python benchmarks/pipeline.py --project .      # this repository (its whole test suite)

Both doors run on warm virtualenvs (one untimed run of each first). The stage
durations are the wall times of each stage's own `nox -s` process, taken from
an `invoke ci -j 1` run (one process at a time, so none slows another); their
sum is the work, their longest chain through the graph the critical path.

On a machine shared with other work two CPU-bound stages may not get two
cores; each round first measures how many of the N cores are free (two
spinning processes side by side against one alone) and the figures include
the lower bound that leaves: max(critical path, sum / free cores).
`--sleep` makes the sample's tests and timing run wait instead of compute,
which takes the machine's load out of the comparison.

The sample project is shaped like the pipeline of the design: lint (ruff and
mypy strict), one test target (pytest with coverage, CPU-bound tests),
coverage, and three custom stages in the places of audit, bench and docker
with their needs: `security` (bandit, independent), `perf` (a timing script,
needs lint) and `package` (a wheel build, needs test and security).
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Sequence
from pathlib import Path

from shipyard import pipeline
from shipyard.graph import Graph
from shipyard.scheduler import timings_path

SAMPLE_TOOL = """
[tool.mypy]
strict = true

[tool.shipyard.stages.security]
commands = ["bandit -q -r src"]
requirements = ["bandit"]
description = "SAST, in the place of audit"

[tool.shipyard.stages.perf]
commands = ["python perf.py"]
needs = ["lint"]
requirements = []
install-project = true
description = "A timing run, in the place of bench"

[tool.shipyard.stages.package]
commands = ["python -m build --no-isolation --wheel --outdir dist"]
needs = ["test", "security"]
requirements = ["build", "hatchling"]
description = "Build the wheel, in the place of docker"
"""

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "sample"
version = "0.1.0"
requires-python = ">=3.11,<3.12"

[project.optional-dependencies]
test = ["pytest"]
"""

MODULE = '''
"""Arithmetic the tests and the timing run exercise."""


def primes_below(limit: int) -> list[int]:
    sieve = bytearray([1]) * limit
    sieve[:2] = b"\\x00\\x00"
    for n in range(2, int(limit**0.5) + 1):
        if sieve[n]:
            sieve[n * n :: n] = bytearray(len(range(n * n, limit, n)))
    return [n for n in range(limit) if sieve[n]]


def collatz_steps(n: int) -> int:
    steps = 0
    while n != 1:
        n = n // 2 if n % 2 == 0 else 3 * n + 1
        steps += 1
    return steps


def longest_collatz(limit: int) -> int:
    return max(range(1, limit), key=collatz_steps)
'''

TESTS = """
import time

import pytest

from sample.core import collatz_steps, longest_collatz, primes_below


@pytest.mark.parametrize("limit", [10**k for k in range(1, 6)])
def test_primes(limit: int) -> None:
    primes = primes_below(limit)
    assert all(p > 1 for p in primes)


@pytest.mark.parametrize("block", range({blocks}))
def test_collatz_block(block: int) -> None:
    if {sleep}:
        time.sleep(1.0)  # waiting on a service, not computing
        return
    start = 1 + block * 20000
    assert all(collatz_steps(n) >= 0 for n in range(start, start + 20000))


def test_longest() -> None:
    assert longest_collatz(10**4) == 6171
"""

PERF = """
import time

from sample.core import longest_collatz

for _ in range({rounds}):
    start = time.perf_counter()
    if {sleep}:
        time.sleep(1.0)
    else:
        longest_collatz(10**5)
    print(f"longest_collatz(10**5): {{time.perf_counter() - start:.3f}} s")
"""


def make_sample(root: Path, *, blocks: int, rounds: int, sleep: bool) -> Path:
    files = {
        "pyproject.toml": PYPROJECT + SAMPLE_TOOL,
        "src/sample/__init__.py": '"""A sample."""\n',
        "src/sample/core.py": MODULE,
        "tests/test_core.py": TESTS.format(blocks=blocks, sleep=sleep),
        "perf.py": PERF.format(rounds=rounds, sleep=sleep),
        "noxfile.py": "from shipyard import sessions  # noqa: F401\n",
        "tasks.py": "from shipyard.flows import ns  # noqa: F401\n",
    }
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def timed(root: Path, *argv: str) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", *argv],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "NO_COLOR": "1"},
    )
    took = time.perf_counter() - start
    if done.returncode != 0:
        sys.stderr.write(done.stderr[-4000:])
        msg = f"`{' '.join(argv)}` failed with exit code {done.returncode}"
        raise SystemExit(msg)
    return took


def stage_times(root: Path) -> dict[str, float]:
    prepared = pipeline.prepare(root)
    data = json.loads(timings_path(prepared.config.reports).read_text())
    return {name: t["ended"] - t["started"] for name, t in data["stages"].items()}


_SPIN = "import time; end = time.process_time() + 2.0\nwhile time.process_time() < end: pass"


def free_cores(jobs: int) -> float:
    """How many of `jobs` cores this process really gets now: 2 s of CPU each, alone vs at once.

    On a machine shared with other work, two CPU-bound stages side by side may
    run no faster than one after the other; this says how far that is so.
    """
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", _SPIN], check=True)
    alone = time.perf_counter() - start
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", _SPIN]) for _ in range(jobs)]
    for proc in procs:
        proc.wait()
    together = time.perf_counter() - start
    return min(jobs, jobs * alone / together)


def measure(root: Path, *, jobs: int, repeat: int, cpu_bound: bool = True) -> None:
    print(f"project: {root}", flush=True)
    print("warming up: nox -s ci, invoke ci (untimed)", flush=True)
    timed(root, "nox", "-s", "ci")
    timed(root, "invoke", "ci", "-j", str(jobs))

    nox_ci, sequential, parallel, durations, cores = [], [], [], [], []
    for round_ in range(1, repeat + 1):
        cores.append(free_cores(jobs))
        nox_ci.append(timed(root, "nox", "-s", "ci"))
        sequential.append(timed(root, "invoke", "ci", "-j", "1"))
        durations.append(stage_times(root))
        parallel.append(timed(root, "invoke", "ci", "-j", str(jobs)))
        print(
            f"round {round_}: {cores[-1]:.2f} of {jobs} cores free; nox -s ci {nox_ci[-1]:.1f} s, "
            f"invoke ci -j 1 {sequential[-1]:.1f} s, invoke ci -j {jobs} {parallel[-1]:.1f} s",
            flush=True,
        )
    free = statistics.median(cores) if cpu_bound else float(jobs)
    report(root, jobs=jobs, nox_ci=nox_ci, parallel=parallel, durations=durations, free=free)


def makespan(graph: Graph, durations: dict[str, float], order: Sequence[str], jobs: int) -> float:
    """The length of the list schedule that starts ready stages in `order`, `jobs` at a time."""
    rank = {name: i for i, name in enumerate(order)}
    done: dict[str, float] = {}
    running: list[tuple[float, str]] = []
    now = 0.0
    waiting = set(graph.names)
    while waiting or running:
        ready = sorted(
            (n for n in waiting if all(d in done for d in graph[n].needs)), key=rank.__getitem__
        )
        while ready and len(running) < jobs:
            name = ready.pop(0)
            waiting.discard(name)
            heapq.heappush(running, (now + durations[name], name))
        now, name = heapq.heappop(running)
        done[name] = now
    return now


def best_schedule(graph: Graph, durations: dict[str, float], jobs: int) -> float | None:
    """The shortest list schedule over every priority order (None past 9 stages)."""
    if len(graph.names) > 9:
        return None
    return min(
        makespan(graph, durations, order, jobs) for order in itertools.permutations(graph.names)
    )


def report(
    root: Path,
    *,
    jobs: int,
    nox_ci: list[float],
    parallel: list[float],
    durations: list[dict[str, float]],
    free: float,
) -> None:
    # The least disturbed figure of each: other work on the machine only ever adds time.
    graph = pipeline.prepare(root).selected
    each = {name: min(d[name] for d in durations) for name in graph.names}
    total = sum(each.values())
    path_time, path = graph.critical_path(each)
    nox_s, par_s = min(nox_ci), min(parallel)
    bound = max(path_time, total / free)
    levels = graph.bottom_levels(each)

    print("\nstage durations (each `nox -s` process alone, least disturbed of the rounds):")
    for name in graph.names:
        print(f"  {name:<28} {each[name]:6.1f} s   needs: {', '.join(graph[name].needs) or '-'}")
    print(f"\ncores free for the stages  {free:6.2f} of {jobs} (median of the rounds)")
    print(f"nox -s ci                 {nox_s:6.1f} s")
    print(
        f"invoke ci -j {jobs}            {par_s:6.1f} s   "
        f"= {par_s / nox_s:.2f} x nox -s ci (target <= 0.60)"
    )
    med_nox, med_par = statistics.median(nox_ci), statistics.median(parallel)
    print(
        f"  medians: nox -s ci {med_nox:.1f} s, invoke ci -j {jobs} {med_par:.1f} s "
        f"= {med_par / med_nox:.2f} x; "
        f"{100 * (med_par / path_time - 1):+.1f} % of the critical path"
    )
    print(f"sum of stage durations    {total:6.1f} s")
    print(
        f"critical path             {path_time:6.1f} s   ({' -> '.join(path)}); "
        f"invoke ci -j {jobs} is {100 * (par_s / path_time - 1):+.1f} % of it (target <= +15 %)"
    )
    print(
        f"lower bound with the free cores  {bound:6.1f} s   max(critical path, sum / free cores); "
        f"invoke ci -j {jobs} is {100 * (par_s / bound - 1):+.1f} % of it"
    )
    best = best_schedule(graph, each, jobs)
    if best is not None:
        ours = makespan(graph, each, sorted(graph.names, key=lambda n: -levels[n]), jobs)
        print(
            f"best {jobs}-at-a-time schedule  {best:6.1f} s   (any priority order; shipyard's "
            f"order gives {ours:.1f} s); invoke ci -j {jobs} is {100 * (par_s / best - 1):+.1f} % "
            "of it"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="measure this project instead of a sample")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--blocks", type=int, default=12, help="sample: test workload")
    parser.add_argument("--rounds", type=int, default=12, help="sample: perf workload")
    parser.add_argument(
        "--sleep",
        action="store_true",
        help="sample: tests and perf wait (like on a service) instead of computing",
    )
    args = parser.parse_args()
    if args.project:
        measure(args.project.resolve(), jobs=args.jobs, repeat=args.repeat)
        return
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        sample = make_sample(
            Path(tmp) / "sample", blocks=args.blocks, rounds=args.rounds, sleep=args.sleep
        )
        measure(sample, jobs=args.jobs, repeat=args.repeat, cpu_bound=not args.sleep)


if __name__ == "__main__":
    main()

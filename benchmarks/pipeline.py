"""`invoke ci -j N` against `nox -s ci`: wall times, and the sum and critical path of the stages.

    python benchmarks/pipeline.py                  # a sample project with every kind of stage
    python benchmarks/pipeline.py --project .      # this repository (its whole test suite)

Both doors run on warm virtualenvs (one untimed run of each first). The stage
durations are the wall times of each stage's own `nox -s` process, taken from
an `invoke ci -j 1` run (one process at a time, so none slows another); their
sum is the work, their longest chain through the graph the critical path.

The sample project is shaped like the pipeline of the design: lint (ruff and
mypy strict), one test target (pytest with coverage, CPU-bound tests),
coverage, and three custom stages in the places of audit, bench and docker
with their needs: `security` (bandit, independent), `perf` (a timing script,
needs lint) and `package` (a wheel build, needs test and security).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from shipyard import pipeline
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
import pytest

from sample.core import collatz_steps, longest_collatz, primes_below


@pytest.mark.parametrize("limit", [10**k for k in range(1, 6)])
def test_primes(limit: int) -> None:
    primes = primes_below(limit)
    assert all(p > 1 for p in primes)


@pytest.mark.parametrize("block", range({blocks}))
def test_collatz_block(block: int) -> None:
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
    longest_collatz(10**5)
    print(f"longest_collatz(10**5): {{time.perf_counter() - start:.3f}} s")
"""


def make_sample(root: Path, *, blocks: int, rounds: int) -> Path:
    files = {
        "pyproject.toml": PYPROJECT + SAMPLE_TOOL,
        "src/sample/__init__.py": '"""A sample."""\n',
        "src/sample/core.py": MODULE,
        "tests/test_core.py": TESTS.format(blocks=blocks),
        "perf.py": PERF.format(rounds=rounds),
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


def measure(root: Path, *, jobs: int, repeat: int) -> None:
    print(f"project: {root}", flush=True)
    print("warming up: nox -s ci, invoke ci (untimed)", flush=True)
    timed(root, "nox", "-s", "ci")
    timed(root, "invoke", "ci", "-j", str(jobs))

    nox_ci, sequential, parallel, durations = [], [], [], []
    for round_ in range(1, repeat + 1):
        nox_ci.append(timed(root, "nox", "-s", "ci"))
        sequential.append(timed(root, "invoke", "ci", "-j", "1"))
        durations.append(stage_times(root))
        parallel.append(timed(root, "invoke", "ci", "-j", str(jobs)))
        print(
            f"round {round_}: nox -s ci {nox_ci[-1]:.1f} s, invoke ci -j 1 {sequential[-1]:.1f} s, "
            f"invoke ci -j {jobs} {parallel[-1]:.1f} s",
            flush=True,
        )

    graph = pipeline.prepare(root).selected
    each = {name: statistics.median(d[name] for d in durations) for name in graph.names}
    total = sum(each.values())
    path_time, path = graph.critical_path(each)
    nox_s, par_s = statistics.median(nox_ci), statistics.median(parallel)

    print("\nstage durations (each `nox -s` process alone, median):")
    for name in graph.names:
        print(f"  {name:<28} {each[name]:6.1f} s   needs: {', '.join(graph[name].needs) or '-'}")
    print(f"\nnox -s ci                 {nox_s:6.1f} s")
    print(f"invoke ci -j 1            {statistics.median(sequential):6.1f} s")
    print(
        f"invoke ci -j {jobs}            {par_s:6.1f} s   "
        f"= {par_s / nox_s:.2f} x nox -s ci (target <= 0.60)"
    )
    print(f"sum of stage durations    {total:6.1f} s")
    print(
        f"critical path             {path_time:6.1f} s   ({' -> '.join(path)}); "
        f"invoke ci -j {jobs} is {100 * (par_s / path_time - 1):+.1f} % of it (target <= +15 %)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--project", type=Path, help="measure this project instead of a sample")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--blocks", type=int, default=12, help="sample: test workload")
    parser.add_argument("--rounds", type=int, default=8, help="sample: perf workload")
    args = parser.parse_args()
    if args.project:
        measure(args.project.resolve(), jobs=args.jobs, repeat=args.repeat)
        return
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        root = make_sample(Path(tmp) / "sample", blocks=args.blocks, rounds=args.rounds)
        measure(root, jobs=args.jobs, repeat=args.repeat)


if __name__ == "__main__":
    main()

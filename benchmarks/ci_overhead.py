"""How much does `nox -s ci` cost over running the same tools by hand?

Builds a sample project (20 modules, 180 tests, mypy strict; `--modules N`) in a temp dir,
then times, with every environment already prepared:

- shipyard: `nox -s ci` (lint + test + coverage + summary: the sample's
  `pipeline` setting leaves out audit, bench and docker, which have no
  hand-run counterpart here), venvs reused;
- direct: ruff format --check, ruff check, mypy, coverage run -m pytest and
  the coverage combine/json/xml/html/report steps, in one prepared venv.

Each is run ROUNDS times, alternating, after one warm-up; the medians and
their ratio are printed. Target: ratio <= 1.10.

    python benchmarks/ci_overhead.py [--rounds 5] [--modules 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

MODULE = '''
"""Module {i}."""


def scale_{i}(values: list[float], factor: float) -> list[float]:
    return [v * factor for v in values]


def clamp_{i}(value: int, low: int, high: int) -> int:
    if value < low:
        return low
    if value > high:
        return high
    return value


class Counter{i}:
    def __init__(self) -> None:
        self.count = 0

    def add(self, n: int = 1) -> int:
        self.count += n
        return self.count
'''

TESTS = """
import pytest

from sample.mod{i} import Counter{i}, clamp_{i}, scale_{i}


@pytest.mark.parametrize("n", range(7))
def test_scale(n: int) -> None:
    assert scale_{i}([1.0, float(n)], 2.0) == [2.0, 2.0 * n]


def test_clamp() -> None:
    assert clamp_{i}(-1, 0, 5) == 0
    assert clamp_{i}(9, 0, 5) == 5


def test_counter() -> None:
    assert Counter{i}().add(3) == 3
"""


def make_project(root: Path, modules: int = 20) -> None:
    pkg = root / "src" / "sample"
    (root / "tests").mkdir(parents=True)
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text('"""Sample."""\n')
    for i in range(modules):
        (pkg / f"mod{i}.py").write_text(MODULE.format(i=i).lstrip())
        (root / "tests" / f"test_mod{i}.py").write_text(TESTS.format(i=i).lstrip())
    (root / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "sample"
            version = "0.1.0"
            requires-python = ">=3.11,<3.12"

            [project.optional-dependencies]
            test = ["pytest"]

            [tool.shipyard]
            # The stages timed: the direct side runs the same tools by hand.
            pipeline = ["lint", "test", "coverage"]

            [tool.mypy]
            strict = true
            files = ["src"]

            [tool.ruff.lint.per-file-ignores]
            "tests/*" = ["S101"]
            """
        ).lstrip()
    )
    (root / "noxfile.py").write_text("from shipyard import sessions  # noqa: F401\n")


def run(argv: list[str], cwd: Path, env: dict[str, str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        sys.exit(f"{' '.join(argv)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return elapsed


def direct(root: Path, venv: Path, env: dict[str, str]) -> float:
    bin_dir = venv / "bin"
    data = root / ".direct" / ".coverage"
    steps = [
        [bin_dir / "ruff", "format", "--check", "--output-format=json", "."],
        [bin_dir / "ruff", "check", "--output-format=json", "--no-fix", "."],
        [bin_dir / "mypy", "--no-error-summary", "--show-error-codes"],
        [
            bin_dir / "python",
            "-m",
            "coverage",
            "run",
            f"--data-file={data}.x",
            "--source=src",
            "-m",
            "pytest",
            "tests",
            f"--junitxml={root}/.direct/junit.xml",
        ],
        [
            bin_dir / "python",
            "-m",
            "coverage",
            "combine",
            "--keep",
            "--quiet",
            f"--data-file={data}",
            f"{data}.x",
        ],
        [
            bin_dir / "python",
            "-m",
            "coverage",
            "json",
            f"--data-file={data}",
            "-o",
            f"{root}/.direct/c.json",
        ],
        [
            bin_dir / "python",
            "-m",
            "coverage",
            "xml",
            f"--data-file={data}",
            "-o",
            f"{root}/.direct/c.xml",
        ],
        [
            bin_dir / "python",
            "-m",
            "coverage",
            "html",
            f"--data-file={data}",
            "-d",
            f"{root}/.direct/html",
        ],
        [bin_dir / "python", "-m", "coverage", "report", f"--data-file={data}"],
    ]
    (root / ".direct").mkdir(exist_ok=True)
    return sum(run([str(a) for a in argv], root, env) for argv in steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--modules", type=int, default=20, help="sample size: modules, each with 9 tests"
    )
    args = parser.parse_args()

    env = {k: v for k, v in os.environ.items() if k not in ("CI", "GITHUB_ACTIONS")}
    env["NO_COLOR"] = "1"
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        root = Path(tmp) / "sample"
        make_project(root, args.modules)

        # Prepare both sides once: nox's session venvs, and one hand-made venv.
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        subprocess.run(
            [
                venv / "bin/pip",
                "install",
                "-q",
                "-e",
                f"{root}[test]",
                "ruff",
                "mypy",
                "coverage[toml]",
            ],
            check=True,
        )
        nox = [sys.executable, "-m", "nox", "-s", "ci"]
        run(nox, root, env)
        direct(root, venv, env)

        shipyard_times, direct_times = [], []
        for _ in range(args.rounds):
            shipyard_times.append(run(nox, root, env))
            direct_times.append(direct(root, venv, env))
        shutil.rmtree(root / ".direct", ignore_errors=True)

    s, d = statistics.median(shipyard_times), statistics.median(direct_times)
    print(f"rounds: {args.rounds}, sample: {args.modules} modules, {9 * args.modules} tests")
    for label, median, times in (
        ("nox -s ci (warm)", s, shipyard_times),
        ("tools run directly", d, direct_times),
    ):
        print(f"{label:20}  median {median:6.2f} s   all: {', '.join(f'{t:.2f}' for t in times)}")
    print(f"overhead: {s - d:+.2f} s a run")
    print(f"ratio: {s / d:.3f} (target <= 1.10)")


if __name__ == "__main__":
    main()

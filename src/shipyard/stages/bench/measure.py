"""Running a benchmark suite: a configured command, a toolchain's, or pytest-benchmark.

In that order: `bench.command` / `bench.results` when configured; else, when the
pytest-benchmark suite (`bench.path`) does not exist, the benchmarks of the
project's other toolchains (`cargo bench` for Rust); else pytest-benchmark.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import subprocess
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from shipyard.config import Config
from shipyard.errors import ConfigError, GateFailed, ToolMissing
from shipyard.stages import toolchains
from shipyard.stages.bench import formats
from shipyard.stages.bench.history import fingerprint
from shipyard.stages.toolchains.interface import Toolchain
from shipyard.tools import ToolEnv

__all__ = ["REQUIREMENTS", "git", "measure", "missing_suite", "worktree"]

#: What the bench session installs besides the project.
REQUIREMENTS = ("pytest", "pytest-benchmark>=4")
_NO_TESTS = 5


def git(root: Path, *args: str) -> str | None:
    """`git args` in `root`; its stripped output, or None when git fails or is missing."""
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=120
        )
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def current_branch(root: Path) -> str | None:
    for var in ("GITHUB_HEAD_REF", "GITHUB_REF_NAME"):
        if os.environ.get(var):
            return os.environ[var]
    branch = git(root, "rev-parse", "--abbrev-ref", "HEAD")
    return None if branch in (None, "HEAD") else branch


def _pytest_argv(config: Config, raw: Path, selectors: Sequence[str]) -> list[str]:
    argv = ["python", "-m", "pytest", "-p", "no:cacheprovider", "-q"]
    argv += [f"--benchmark-json={raw}", "--benchmark-save-data", "--benchmark-only"]
    argv += [*config.bench.pytest_args]
    argv += list(selectors) or [config.bench.path.as_posix()]
    return argv


def missing_suite(config: Config, chain: Sequence[Toolchain]) -> str | None:
    """Why the bench stage has nothing to run, or None when the project has benchmarks.

    `chain` is the project's toolchains. The bench session skips with this
    reason, and the workflow generator writes no bench job for it.
    """
    bench = config.bench
    others = [t for t in chain if t.name != "python"]
    if bench.command or bench.results or (config.root / bench.path).exists():
        return None
    if any(t.has_benchmarks(config) for t in others):
        return None
    why = f"no benchmark suite: '{bench.path.as_posix()}' does not exist (docs/bench.md)"
    return why + "".join(f"; no {t.name} benchmarks" for t in others)


def measure(
    config: Config,
    tools: ToolEnv,
    *,
    root: Path | None = None,
    selectors: Sequence[str] = (),
    env: dict[str, str] | None = None,
) -> formats.BenchRun:
    """Run the suite in `root` (default: the project) and read its results.

    `selectors` (pytest node ids) limit a pytest-benchmark run to some benchmarks.
    """
    root = root or config.root
    bench = config.bench
    if bench.command or bench.results is not None:
        run = _run_command(config, tools, root, env)
    elif (toolchain := _bench_toolchain(config, root)) is not None:
        run = _run_toolchain(dataclasses.replace(config, root=root), tools, toolchain, env)
    else:
        run = _run_pytest(config, tools, root, selectors, env)
    machine = fingerprint(python=tools.python_version)
    commit = git(root, "rev-parse", "HEAD")
    return dataclasses.replace(run, machine=machine, commit=commit).renamed(bench.renames)


def _bench_toolchain(config: Config, root: Path) -> Toolchain | None:
    """The toolchain whose benchmarks run: not Python's, and only without a pytest suite."""
    if (root / config.bench.path).exists():
        return None
    chain = toolchains.present(config, root)
    here = dataclasses.replace(config, root=root)
    return next((t for t in chain if t.name != "python" and t.has_benchmarks(here)), None)


def _run_toolchain(
    config: Config, tools: ToolEnv, toolchain: Toolchain, env: dict[str, str] | None
) -> formats.BenchRun:
    out_dir = config.reports / "bench" / toolchain.name
    out_dir.mkdir(parents=True, exist_ok=True)
    tools = dataclasses.replace(tools, env={**tools.env, **(env or {})}) if env else tools
    paths = toolchain.bench(config, tools, out_dir=out_dir)
    return formats.merged([formats.load(path) for path in paths])


def _run_command(
    config: Config, tools: ToolEnv, root: Path, env: dict[str, str] | None
) -> formats.BenchRun:
    bench = config.bench
    if bench.results is None:
        msg = "a bench command needs `results`: the file it writes."
        raise ConfigError(msg, path=config.pyproject, key="tool.shipyard.bench.results")
    if bench.command:
        done = tools.run(list(bench.command), cwd=root, env=env, stream=True)
        if done.returncode != 0:
            msg = f"the bench command {' '.join(bench.command)!r} exited {done.returncode}."
            raise GateFailed(msg)
    return formats.load(root / bench.results)


def _run_pytest(
    config: Config,
    tools: ToolEnv,
    root: Path,
    selectors: Sequence[str],
    env: dict[str, str] | None,
) -> formats.BenchRun:
    if not selectors and not (root / config.bench.path).exists():
        msg = f"'{config.bench.path}' does not exist under {root}; expected the benchmark suite."
        raise ConfigError(msg, path=config.pyproject, key="tool.shipyard.bench.path")
    with tempfile.TemporaryDirectory(prefix="shipyard-bench-") as tmp:
        raw = Path(tmp) / "pytest-benchmark.json"
        done = tools.run(_pytest_argv(config, raw, selectors), cwd=root, env=env, stream=True)
        if done.returncode == _NO_TESTS:
            msg = f"no benchmarks collected in {config.bench.path}; write pytest-benchmark tests."
            raise ConfigError(msg, path=config.pyproject, key="tool.shipyard.bench.path")
        if done.returncode != 0 or not raw.is_file():
            if tools.which("pytest") is None and not raw.is_file():
                raise ToolMissing("pytest and pytest-benchmark are needed; run `nox -s bench`.")
            msg = f"the benchmark suite failed (pytest exited {done.returncode}); see its output."
            raise GateFailed(msg)
        return formats.load(raw)


@contextlib.contextmanager
def worktree(root: Path, ref: str) -> Iterator[tuple[Path, str]]:
    """A temporary detached git worktree of `ref`, and the commit it resolved to."""
    sha = git(root, "rev-parse", "--verify", f"{ref}^{{commit}}")
    if sha is None:
        msg = f"'{ref}' is not a commit of the repository at {root}."
        raise ConfigError(msg)
    with tempfile.TemporaryDirectory(prefix="shipyard-baseline-") as tmp:
        path = Path(tmp) / "tree"
        if git(root, "worktree", "add", "--detach", str(path), sha) is None:
            msg = f"could not create a git worktree of {ref} under {tmp}."
            raise ConfigError(msg)
        try:
            yield path, sha
        finally:
            git(root, "worktree", "remove", "--force", str(path))
            git(root, "worktree", "prune")

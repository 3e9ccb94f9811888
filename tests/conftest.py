"""Shared fixtures: sample projects made in temp dirs, and a clean environment for tools."""

from __future__ import annotations

import subprocess
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from helpers.docker import cleanup, engine_problem, unavailable
from helpers.env import ON_CI  # noqa: F401  (read before _clean_env runs)
from helpers.projects import PYPROJECT, write_files

SampleFactory = Callable[..., Path]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory) -> None:
    # Tests decide for themselves whether they run "on CI"; shipyard's state goes to a temp dir.
    for name in ("CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "FORCE_COLOR"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("SHIPYARD_STATE_DIR", str(tmp_path_factory.mktemp("state")))
    monkeypatch.setenv("SHIPYARD_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture
def sample_project(tmp_path: Path) -> SampleFactory:
    """Make a small project: `layout` is "src" or "flat"; `files` override or add files."""

    def make(
        *,
        layout: str = "src",
        name: str = "sample",
        tool: str = "",
        files: dict[str, str] | None = None,
    ) -> Path:
        root = tmp_path / name
        pkg = f"src/{name}" if layout == "src" else name
        base = {
            "pyproject.toml": PYPROJECT.format(name=name) + textwrap.dedent(tool),
            f"{pkg}/__init__.py": '"""A sample."""\n',
            f"{pkg}/core.py": """
                def add(a: int, b: int) -> int:
                    return a + b
            """,
            "tests/test_core.py": f"""
                from {name}.core import add


                def test_add() -> None:
                    assert add(1, 2) == 3
            """,
            "noxfile.py": "from shipyard import sessions  # noqa: F401\n",
        }
        write_files(root, {**base, **(files or {})})
        return root

    return make


@pytest.fixture
def git_repo(tmp_path: Path) -> Path:
    """An empty git repository with an identity set."""
    root = tmp_path / "repo"
    root.mkdir()
    for argv in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "config", "user.email", "test@example.invalid"],
        ["git", "config", "user.name", "Test"],
        ["git", "config", "commit.gpgsign", "false"],
    ):
        subprocess.run(argv, cwd=root, check=True)
    return root


@pytest.fixture(scope="module")
def docker() -> Iterator[DockerClient]:
    """The engine of `.ci/docker-up.sh`: skipped locally without it, an error on CI.

    What a module's tests labelled is removed after them.
    """
    problem = engine_problem()
    if problem:
        unavailable(problem)
    client = DockerClient()
    yield client
    cleanup(client)

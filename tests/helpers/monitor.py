"""A sample project for the monitor tests: a git repository with a bare remote, and the
packages its dependencies name, uploaded to a real pypiserver."""

from __future__ import annotations

import datetime as dt
import subprocess
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from helpers.servers import PyPIServer, SimpleIndex, build_wheel

NOW = dt.datetime.now(dt.UTC)

#: (project, version, days since upload, yanked)
PACKAGES = [
    ("foo", "1.2.0", 400, False),
    ("foo", "1.4.0", 200, False),
    ("foo", "2.0.0rc1", 60, False),
    ("foo", "2.0.0", 30, False),
    ("foo", "2.1.0", 2, False),
    ("bar", "1.0.0", 100, False),
    ("bar", "1.0.3", 20, False),
    ("bar", "1.1.0", 15, True),
    ("baz", "3.0.0", 50, False),
    ("broken", "1.0.0", 50, False),
]

PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "widget"
version = "0.1.0"
dependencies = [
  "foo>=1.2,<2",  # the issue's example
  "baz>=3",
]

[project.optional-dependencies]
test = [
  "bar==1.0.0",
]

[tool.shipyard.monitor]
index-url = "{index}"
repository = "acme/widget"
health-floor = 0
"""


def publish(pypi: PyPIServer, index: SimpleIndex, dist: Path) -> None:
    """Build and upload every test package; record its upload time and yank state."""
    for name, version, days, yanked in PACKAGES:
        wheel = build_wheel(name, version, dist)
        pypi.upload(wheel)
        index.uploaded[wheel.name] = NOW - dt.timedelta(days=days)
        if yanked:
            index.yanked[wheel.name] = "broken build"


def git(cwd: Path, *args: str, env: Mapping[str, str] | None = None, strip: bool = True) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, env=env, timeout=60
    )
    return done.stdout.strip() if strip else done.stdout


@dataclass
class Project:
    root: Path
    remote: Path

    def write(self, name: str, text: str) -> None:
        path = self.root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")

    def commit(self, message: str = "change") -> None:
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)
        git(self.root, "push", "-q", "origin", "HEAD")

    def remote_file(self, branch: str, name: str) -> str:
        return git(self.remote, "show", f"{branch}:{name}", strip=False)

    def remote_branches(self) -> list[str]:
        out = git(self.remote, "for-each-ref", "--format=%(refname:short)", "refs/heads")
        return sorted(out.splitlines())


def make_project(tmp: Path, index_url: str, *, extra: str = "") -> Project:
    root, remote = tmp / "widget", tmp / "remote.git"
    root.mkdir()
    git(tmp, "init", "-q", "--bare", "-b", "main", str(remote))
    for args in (
        ("init", "-q", "-b", "main"),
        ("config", "user.email", "test@example.invalid"),
        ("config", "user.name", "Test"),
        ("config", "commit.gpgsign", "false"),
        ("remote", "add", "origin", str(remote)),
    ):
        git(root, *args)
    project = Project(root=root, remote=remote)
    project.write("pyproject.toml", PYPROJECT.format(index=index_url) + textwrap.dedent(extra))
    project.write("README.md", "# widget\n")
    project.write("LICENSE", "MIT\n")
    project.write("src/widget/__init__.py", '"""Widget."""\n')
    project.write(".gitignore", ".shipyard/\n")
    project.commit("initial")
    return project


def every_text(*folders: Path) -> Iterator[tuple[Path, str]]:
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file():
                yield path, path.read_text(encoding="utf-8", errors="replace")

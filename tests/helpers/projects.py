"""Building sample projects and running the real nox on them."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path


def write_files(root: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")


PYPROJECT = """
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "{name}"
version = "0.1.0"
requires-python = ">=3.11,<3.12"

[project.optional-dependencies]
test = ["pytest"]
"""


def run_nox(
    root: Path, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real nox, with shipyard importable, in `root`."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "nox", *args],
        cwd=root,
        env=full_env,
        text=True,
        capture_output=True,
        timeout=900,
        check=False,
    )

"""actionlint and zizmor, run for real on workflow files; each returns its findings."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

_BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = shutil.which(name, path=f"{_BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    if found is None:
        pytest.fail(f"{name} is not installed; it comes with shipyard's test extra")
    return found


def actionlint(files: list[Path]) -> list[dict[str, Any]]:
    """actionlint's findings, with shellcheck checking every `run:` script."""
    argv = [_tool("actionlint"), "-no-color", "-format", "{{json .}}"]
    argv += ["-shellcheck", _tool("shellcheck"), *map(str, files)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode in (0, 1), done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout or "[]") or []
    return found


def zizmor(directory: Path) -> list[dict[str, Any]]:
    """zizmor's findings in offline mode with its most demanding persona."""
    argv = [_tool("zizmor"), "--offline", "--no-progress", "--persona=pedantic"]
    argv += ["--format=json", str(directory)]
    env = {**os.environ, "NO_COLOR": "1"}
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False, env=env)
    assert done.stdout.strip(), done.stderr
    found: list[dict[str, Any]] = json.loads(done.stdout)
    return found

"""Real inputs for the audit tests: hand-built wheels, a tool venv, projects and git repos."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import sys
import textwrap
import zipfile
from collections.abc import Sequence
from pathlib import Path

import pytest

from shipyard import config
from shipyard.stages.audit import REQUIREMENTS
from shipyard.tools import ToolEnv

#: A real old release with real advisories (CVE-2019-11324 among them), pure Python.
OLD_PACKAGE = "urllib3"
OLD_VERSION = "1.24.1"
FIXED_VERSION = "1.24.2"
PROJECT = "demo-app"

#: Runtime dependencies of the demo project, as (name, METADATA lines).
LICENSED = {
    "gpl-thing": ["License-Expression: GPL-3.0-only"],
    "dual-thing": ["License-Expression: MIT OR GPL-3.0-only"],
    "llvm-thing": ["License-Expression: Apache-2.0 WITH LLVM-exception"],
    "classic-thing": ["Classifier: License :: OSI Approved :: MIT License"],
    "bare-thing": [],
}


def _record_line(name: str, data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"{name},sha256={digest},{len(data)}"


def build_wheel(
    dest: Path,
    name: str,
    version: str,
    *,
    metadata: Sequence[str] = (),
    requires: Sequence[str] = (),
) -> Path:
    """A minimal, valid pure-Python wheel written with zipfile."""
    module = name.replace("-", "_")
    info = f"{module}-{version}.dist-info"
    lines = ["Metadata-Version: 2.4", f"Name: {name}", f"Version: {version}", *metadata]
    lines += [f"Requires-Dist: {r}" for r in requires]
    files = {
        f"{module}/__init__.py": b'"""Test package."""\n',
        f"{info}/METADATA": ("\n".join(lines) + "\n").encode(),
        f"{info}/WHEEL": b"Wheel-Version: 1.0\nGenerator: shipyard-tests\n"
        b"Root-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = [_record_line(k, v) for k, v in files.items()] + [f"{info}/RECORD,,"]
    files[f"{info}/RECORD"] = ("\n".join(record) + "\n").encode()
    dest.mkdir(parents=True, exist_ok=True)
    path = dest / f"{module}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as archive:
        for arcname, data in files.items():
            archive.writestr(arcname, data)
    return path


def installer(python: Path) -> list[str]:
    uv = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if uv:
        return [uv, "pip", "install", "--quiet", "--python", str(python)]
    return [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]


def make_tool_venv(where: Path) -> Path:
    """A venv with the audit tools, an old urllib3 and the demo project; returns its bin dir."""
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    wheels = where / "wheels"
    built = [build_wheel(wheels, n, "1.0", metadata=m) for n, m in LICENSED.items()]
    deps = [*LICENSED, f"{OLD_PACKAGE}=={OLD_VERSION}", 'never-installed; python_version < "3"']
    built.append(build_wheel(wheels, PROJECT, "0.1.0", metadata=["License: MIT"], requires=deps))
    argv = [*installer(python), *REQUIREMENTS, f"{OLD_PACKAGE}=={OLD_VERSION}"]
    subprocess.run([*argv, *map(str, built)], check=True)
    return bin_dir


def tool_env(bin_dir: Path) -> ToolEnv:
    return ToolEnv(bin_dir=bin_dir)


PYPROJECT = """
[project]
name = "{name}"
version = "0.1.0"
dependencies = {deps}

[tool.shipyard]
sources = ["src"]
"""


def make_project(root: Path, *, audit: str = "", files: dict[str, str] | None = None) -> Path:
    """A project directory named like the demo project, with `audit` appended to pyproject."""
    root.mkdir(parents=True, exist_ok=True)
    deps = [*LICENSED, f"{OLD_PACKAGE}=={OLD_VERSION}"]
    text = PYPROJECT.format(name=PROJECT, deps=str(deps).replace("'", '"'))
    (root / "pyproject.toml").write_text(text + textwrap.dedent(audit), encoding="utf-8")
    (root / "src" / "demo_app").mkdir(parents=True, exist_ok=True)
    (root / "src" / "demo_app" / "__init__.py").write_text('"""Demo."""\n', encoding="utf-8")
    for name, content in (files or {}).items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(content).lstrip("\n"), encoding="utf-8")
    return root


def load(root: Path) -> config.Config:
    return config.load(root)


def git(root: Path, *args: str) -> str:
    proc = subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True)
    return proc.stdout.strip()


def init_repo(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    git(root, "config", "user.email", "test@example.invalid")
    git(root, "config", "user.name", "Test")
    git(root, "config", "commit.gpgsign", "false")
    return root


def commit_all(root: Path, message: str) -> str:
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", message)
    return git(root, "rev-parse", "HEAD")


_SHARED: dict[Path, Path] = {}


def shared_tool_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One venv for every audit test module: the tools, urllib3 1.24.1 and the demo project."""
    base = tmp_path_factory.getbasetemp()
    if base not in _SHARED:
        _SHARED[base] = make_tool_venv(tmp_path_factory.mktemp("audit-env"))
    return _SHARED[base]

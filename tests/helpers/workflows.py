"""Inputs for the workflow generator, shaped like what nox, invoke and the matrix give it."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML

from shipyard.workflows.generate import Inputs

RUNNERS = {
    ("linux", "x86_64"): "ubuntu-24.04",
    ("linux", "aarch64"): "ubuntu-24.04-arm",
    ("macos", "arm64"): "macos-15",
    ("macos", "x86_64"): "macos-15-intel",
    ("windows", "amd64"): "windows-2025",
}


def target(python: str, os: str = "linux", arch: str = "x86_64") -> dict[str, str]:
    """One entry of `matrix.github_include(plan)`: id, python, os, arch, runner."""
    tag = "cp" + python.replace(".", "")
    return {
        "id": f"{tag}-{os}_{arch}",
        "python": python,
        "os": os,
        "arch": arch,
        "runner": RUNNERS[os, arch],
    }


def session(name: str, python: str | None = None) -> dict[str, Any]:
    """One entry of `nox --list --json`."""
    return {
        "session": f"{name}-{python}" if python else name,
        "name": name,
        "description": "",
        "python": python,
        "tags": [],
        "call_spec": {},
    }


def inputs(
    names: tuple[str, ...] = ("lint", "test", "coverage", "ci"),
    *,
    pythons: tuple[str, ...] = ("3.12", "3.13"),
    targets: tuple[dict[str, str], ...] | None = None,
    flows: tuple[str, ...] = ("ci",),
) -> Inputs:
    listing = []
    for name in names:
        if name == "test":
            listing += [session("test", p) for p in pythons]
        else:
            listing.append(session(name))
    include = targets if targets is not None else tuple(target(p) for p in pythons)
    return Inputs(sessions=tuple(listing), flows=flows, include=include)


def load_yaml(text: str, *, version: tuple[int, int] = (1, 2)) -> Any:
    """`text` read back by ruamel.yaml as plain data, as YAML 1.2 (or 1.1) says."""
    yaml = YAML(typ="safe", pure=True)
    yaml.version = version
    return yaml.load(io.StringIO(text))


def write_project(root: Path, *, tool: str = "", name: str = "sample") -> Path:
    """A minimal project for `config.load`: pyproject, a package, tests."""
    (root / "src" / name).mkdir(parents=True)
    (root / "src" / name / "__init__.py").write_text('"""A sample."""\n')
    (root / "tests").mkdir()
    (root / "pyproject.toml").write_text(
        f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n\n'
        f"[tool.shipyard]\n{tool}"
    )
    return root

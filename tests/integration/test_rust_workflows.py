"""The generated workflows of a Cargo project, linted for real by actionlint and zizmor."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from helpers.linters import actionlint, zizmor
from helpers.projects import write_files
from helpers.workflows import load_yaml
from shipyard import config
from shipyard.workflows import check, generate

pytestmark = pytest.mark.slow


NOXFILE = """
from shipyard.sessions import *  # noqa: F403
import nox

@nox.session
def audit(session): ...

@nox.session
def bench(session): ...
"""
TASKS = """
from shipyard.flows import *  # noqa: F403
from invoke.tasks import task

@task
def release(c, ci=False, step=""): ...

@task
def monitor(c): ...

ns.add_task(release)
ns.add_task(monitor)
"""
CARGO = """
[package]
name = "tool"
version = "0.3.0"
edition = "2021"
license = "MIT"

[package.metadata.shipyard.rust]
toolchain = "1.95.0"
"""


def generate_crate(root: Path, files: dict[str, str]) -> tuple[config.Config, dict[str, str]]:
    write_files(root, {k: textwrap.dedent(v) for k, v in files.items()})
    cfg = config.load(root)
    rendered = generate.render(cfg, generate.gather(cfg))
    check.apply(check.plan(cfg, rendered))
    return cfg, rendered


def uses_of(job: dict[str, object]) -> list[str]:
    steps = job["steps"]
    assert isinstance(steps, list)
    return [str(step["uses"]) for step in steps if "uses" in step]


def test_a_cargo_project_s_workflows_are_lint_clean(tmp_path: Path) -> None:
    files = {
        "Cargo.toml": CARGO,
        "src/main.rs": "fn main() {}\n",
        # Cargo benchmarks give the bench stage work; no Dockerfile, no docker job.
        "benches/speed.rs": "fn main() {}\n",
        "noxfile.py": NOXFILE,
        "tasks.py": TASKS,
    }
    cfg, rendered = generate_crate(tmp_path / "tool", files)
    assert sorted(rendered) == ["ci.yml", "monitor.yml", "release.yml", "security.yml"]
    workflows = cfg.root / ".github/workflows"
    assert actionlint(sorted(workflows.glob("*.yml"))) == []
    assert zizmor(workflows) == []

    ci = load_yaml(rendered["ci.yml"])
    assert list(ci["jobs"]) == ["lint", "audit", "test", "coverage", "bench"]
    test_job = ci["jobs"]["test"]
    targets = [entry["target"] for entry in test_job["strategy"]["matrix"]["include"]]
    assert targets == [
        "x86_64-unknown-linux-gnu",
        "aarch64-unknown-linux-gnu",
        "x86_64-apple-darwin",
        "aarch64-apple-darwin",
        "x86_64-pc-windows-msvc",
    ]
    assert test_job["steps"][-1] == {"run": "nox -s test"}
    # Rust is set up by rustup inside the sessions: every step is shipyard's.
    for job in (*ci["jobs"].values(), *load_yaml(rendered["release.yml"])["jobs"].values()):
        assert all("rust" not in s for s in uses_of(job))
    # Coverage measures by itself: no artifacts to wait for.
    assert "needs" not in ci["jobs"]["coverage"]

    security = load_yaml(rendered["security.yml"])
    init = security["jobs"]["codeql"]["steps"][1]
    assert init["with"]["languages"] == "rust"
    release = load_yaml(rendered["release.yml"])
    # No PyPI for a crate, and no images without a Dockerfile.
    assert list(release["jobs"]) == ["build", "github-release"]


def test_a_python_package_with_a_rust_core_gets_both(tmp_path: Path) -> None:
    files = {
        "pyproject.toml": """
            [build-system]
            requires = ["maturin>=1.5"]
            build-backend = "maturin"

            [project]
            name = "fast"
            version = "1.0"
            requires-python = ">=3.12,<3.13"

            [tool.shipyard.matrix]
            platforms = ["linux_x86_64", "macos_arm64"]
        """,
        "Cargo.toml": CARGO.replace('name = "tool"', 'name = "fast"'),
        "src/lib.rs": "",
        "fast/__init__.py": "",
        "noxfile.py": NOXFILE,
    }
    cfg, rendered = generate_crate(tmp_path / "fast", files)
    workflows = cfg.root / ".github/workflows"
    assert actionlint(sorted(workflows.glob("*.yml"))) == []
    assert zizmor(workflows) == []
    ci = load_yaml(rendered["ci.yml"])
    include = ci["jobs"]["test"]["strategy"]["matrix"]["include"]
    assert [entry["id"] for entry in include] == ["cp312-linux_x86_64", "cp312-macos_arm64"]
    assert ci["jobs"]["coverage"]["needs"] == ["test"]
    security = load_yaml(rendered["security.yml"])
    assert security["jobs"]["codeql"]["steps"][1]["with"]["languages"] == "python, rust"

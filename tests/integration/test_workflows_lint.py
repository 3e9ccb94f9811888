"""The generated workflows of this repository and of four sample projects, linted for real."""

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

REPO = Path(__file__).resolve().parents[2]

# Stand-ins for sessions and flows other issues add, so every job kind gets linted.
MORE_SESSIONS = """
import nox

@nox.session
def audit(session): ...

@nox.session
def bench(session): ...

@nox.session
def docker(session): ...

@nox.session
def docs(session): ...
"""
MORE_FLOWS = """
from invoke.tasks import task

@task
def release(c, ci=False, step=""): ...

@task
def monitor(c): ...

ns.add_task(release)
ns.add_task(monitor)
"""

SAMPLES = {
    # A flat package for one Python on Linux, no tasks.py: ci and security only. No
    # benchmarks and no Dockerfile: no bench and no docker job.
    "flat": {
        "pyproject.toml": """
            [project]
            name = "flat"
            version = "1.0"
            requires-python = ">=3.11,<3.12"

            [tool.shipyard.matrix]
            platforms = ["linux_x86_64"]
        """,
        "flat/__init__.py": "",
        "tests/test_flat.py": "def test_it(): pass\n",
        "noxfile.py": "from shipyard.sessions import *  # noqa: F403\n",
    },
    # Every platform and three Pythons, the project's own docs session, custom branches.
    "wide": {
        "pyproject.toml": """
            [project]
            name = "wide"
            version = "1.0"
            requires-python = ">=3.11"

            [tool.shipyard.matrix]
            python = ["3.11", "3.12", "3.13"]
            platforms = ["linux_x86_64", "linux_aarch64", "macos_arm64", "windows_amd64"]

            [tool.shipyard.workflows]
            sessions = ["lint", "test", "coverage", "docs"]
            branches = ["trunk", "release/*"]
            pull-request-branches = ["trunk"]
            default-branch = "trunk"
            python = "3.13"
            install = "shipyard[docker]==0.1.0"
            timeouts = {test = 60, docs = 5}
        """,
        "src/wide/__init__.py": "",
        "tests/test_wide.py": "def test_it(): pass\n",
        "noxfile.py": "from shipyard.sessions import *  # noqa: F403\n" + MORE_SESSIONS,
    },
    # Every stage session and the release and monitor flows: all four workflows, every job.
    "full": {
        "pyproject.toml": """
            [project]
            name = "full-app"
            version = "2.0"
            requires-python = ">=3.12"

            [tool.shipyard]
            reports-dir = "build/reports"

            [tool.shipyard.matrix]
            platforms = ["linux_x86_64", "macos_x86_64"]
            skip = ["cp314-*"]

            [tool.shipyard.stages.migrations]
            commands = ["alembic check"]
            needs = ["test", "audit"]
        """,
        "src/full_app/__init__.py": "",
        "tests/test_full.py": "def test_it(): pass\n",
        "benchmarks/test_speed.py": "def test_speed(benchmark): benchmark(sum, [1, 2])\n",
        "docker/Dockerfile.cpu": "FROM python:3.12-slim\n",
        "noxfile.py": "from shipyard.sessions import *  # noqa: F403\n" + MORE_SESSIONS,
        "tasks.py": "from shipyard.flows import *  # noqa: F403\n" + MORE_FLOWS,
    },
    # A Rust extension built with maturin: a wheel per target, by cibuildwheel jobs.
    "compiled": {
        "pyproject.toml": """
            [build-system]
            requires = ["maturin>=1.5"]
            build-backend = "maturin"

            [project]
            name = "fastthing"
            version = "0.4.0"
            requires-python = ">=3.12"

            [tool.shipyard.matrix]
            python = ["3.12", "3.13"]
            platforms = ["linux_x86_64", "linux_aarch64", "macos_arm64", "windows_amd64"]
        """,
        "python/fastthing/__init__.py": "",
        "tests/test_fast.py": "def test_it(): pass\n",
        "noxfile.py": "from shipyard.sessions import *  # noqa: F403\n",
        "tasks.py": "from shipyard.flows import *  # noqa: F403\n" + MORE_FLOWS,
    },
}


def generate_sample(tmp_path: Path, name: str) -> tuple[config.Config, dict[str, str]]:
    root = tmp_path / name
    write_files(root, {k: textwrap.dedent(v) for k, v in SAMPLES[name].items()})
    cfg = config.load(root)
    rendered = generate.render(cfg, generate.gather(cfg))
    check.apply(check.plan(cfg, rendered))
    return cfg, rendered


def assert_lint_clean(directory: Path) -> None:
    files = sorted(directory.glob("*.yml"))
    assert files
    assert actionlint(files) == []
    assert zizmor(directory) == []


def test_this_repositorys_workflows_are_current_and_lint_clean() -> None:
    cfg = config.load(REPO)
    changes = check.plan(cfg, generate.render(cfg, generate.gather(cfg)))
    assert check.unified_diff(changes, REPO) == ""
    assert_lint_clean(REPO / ".github/workflows")


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_projects_workflows_are_lint_clean(tmp_path: Path, name: str) -> None:
    cfg, rendered = generate_sample(tmp_path, name)
    assert_lint_clean(cfg.root / ".github/workflows")
    for text in rendered.values():
        assert load_yaml(text)["permissions"] == {}


def test_samples_get_the_jobs_their_sessions_and_flows_call_for(tmp_path: Path) -> None:
    _, flat = generate_sample(tmp_path, "flat")
    assert sorted(flat) == ["ci.yml", "security.yml"]
    ci = load_yaml(flat["ci.yml"])
    assert list(ci["jobs"]) == ["lint", "audit", "test", "coverage"]
    assert ci["jobs"]["test"]["strategy"]["matrix"]["include"] == [
        {
            "id": "cp311-linux_x86_64",
            "python": "3.11",
            "os": "linux",
            "arch": "x86_64",
            "runner": "ubuntu-24.04",
        }
    ]

    _, wide = generate_sample(tmp_path, "wide")
    ci = load_yaml(wide["ci.yml"])
    assert list(ci["jobs"]) == ["lint", "test", "coverage", "docs"]
    assert len(ci["jobs"]["test"]["strategy"]["matrix"]["include"]) == 12
    assert ci["on"]["push"]["branches"] == ["trunk", "release/*"]

    _, full = generate_sample(tmp_path, "full")
    assert sorted(full) == ["ci.yml", "monitor.yml", "release.yml", "security.yml"]
    ci = load_yaml(full["ci.yml"])
    jobs = ["lint", "audit", "test", "coverage", "bench", "docker", "migrations"]
    assert list(ci["jobs"]) == jobs
    assert ci["jobs"]["migrations"]["needs"] == ["test", "audit"]
    assert "path: build/reports/coverage/\n" in full["ci.yml"]
    release = load_yaml(full["release.yml"])
    assert list(release["jobs"]) == ["build", "github-release", "publish", "images"]
    assert "wheels" not in full["release.yml"]  # a pure wheel: the build job makes it

    _, compiled = generate_sample(tmp_path, "compiled")
    release = load_yaml(compiled["release.yml"])
    assert list(release["jobs"]) == ["wheels", "build", "github-release", "publish"]
    wheels = release["jobs"]["wheels"]
    # The same targets as the test jobs, from the one matrix model.
    ci = load_yaml(compiled["ci.yml"])
    test_include = ci["jobs"]["test"]["strategy"]["matrix"]["include"]
    assert wheels["strategy"]["matrix"]["include"] == test_include
    assert len(test_include) == 8
    assert wheels["runs-on"] == "${{ matrix.runner }}"
    step = next(s for s in wheels["steps"] if "run" in s and "invoke" in s["run"])
    assert step == {
        "run": 'invoke release --ci --step wheels --target "$TARGET"',
        "env": {"TARGET": "${{ matrix.id }}"},
    }
    build = release["jobs"]["build"]
    assert build["needs"] == ["wheels"]
    gather = next(s for s in build["steps"] if s.get("with", {}).get("pattern"))
    assert gather["with"] == {"pattern": "wheels-*", "merge-multiple": True, "path": "dist/"}


def test_the_linters_do_find_problems(tmp_path: Path) -> None:
    # Proof that a clean result means something: a classic unsafe workflow is flagged.
    workflows = tmp_path / ".github/workflows"
    workflows.mkdir(parents=True)
    (workflows / "bad.yml").write_text(
        textwrap.dedent(
            """\
            on: issues
            jobs:
              x:
                runs-on: ubuntu-24.04
                steps:
                  - uses: actions/checkout@v4
                  - run: echo "${{ github.event.issue.title }}" $UNQUOTED
                    timeout: 3
            """
        )
    )
    lint_errors = {e["kind"] for e in actionlint([workflows / "bad.yml"])}
    assert "syntax-check" in lint_errors
    audits = {f["ident"] for f in zizmor(workflows)}
    assert {"template-injection", "unpinned-uses", "artipacked"} <= audits

"""Sample projects for `shipyard init`, one per layout and backend, and ways to run tools on them.

Each sample says what `shipyard init` should add to [tool.shipyard] and which
verdict each stage should reach once adopted.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from helpers.projects import write_files

CORE = """
def add(a: int, b: int) -> int:
    return a + b
"""

UNCOVERED = """
def add(a: int, b: int) -> int:
    return a + b


def sign(x: int) -> int:
    if x > 0:
        return 1
    if x < 0:
        return -1
    return 0
"""


def _test_for(package: str) -> str:
    return f"""
from {package}.core import add


def test_add() -> None:
    assert add(1, 2) == 3
"""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Sample:
    name: str
    files: Mapping[str, str]
    #: The keys `shipyard init` adds to [tool.shipyard].
    added: Mapping[str, Any]
    #: Stage (lint, test, coverage) -> expected status.
    verdicts: Mapping[str, str]
    layout: str
    backend: str
    packages: tuple[str, ...]
    tests: str

    def make(self, parent: Path) -> Path:
        root = parent / self.name
        write_files(root, dict(self.files))
        return root


HATCH_SRC = Sample(
    name="hatch_src",
    layout="src",
    backend="hatchling",
    packages=("hatchpkg",),
    tests="tests",
    files={
        "pyproject.toml": """
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"

            [project]
            name = "hatchpkg"
            version = "0.1.0"
            requires-python = ">=3.11"

            [project.optional-dependencies]
            test = ["pytest"]

            [tool.mypy]
            strict = true
        """,
        "src/hatchpkg/__init__.py": '"""A sample."""\n',
        "src/hatchpkg/core.py": CORE,
        "tests/test_core.py": _test_for("hatchpkg"),
        ".gitignore": "__pycache__/\n",
    },
    added={},
    verdicts={"lint": "passed", "test": "passed", "coverage": "passed"},
)

SETUPTOOLS_CFG = Sample(
    name="setuptools_cfg",
    layout="flat",
    backend="setuptools",
    packages=("cfgpkg",),
    tests="test",
    files={
        "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"
        """,
        "setup.cfg": """
            [metadata]
            name = cfgpkg
            version = 0.1.0

            [options]
            packages = find:
            python_requires = >=3.11

            [options.packages.find]
            exclude = test*

            [options.extras_require]
            testing = pytest
        """,
        "cfgpkg/__init__.py": '"""A sample."""\n',
        "cfgpkg/core.py": CORE,
        "test/test_core.py": _test_for("cfgpkg"),
        ".gitignore": "__pycache__/\n*.egg-info/\nbuild/\n",
    },
    added={"test": {"extras": ["testing"]}, "matrix": {"python": ["3.11", "3.12", "3.13", "3.14"]}},
    verdicts={"lint": "passed", "test": "passed", "coverage": "passed"},
)

FLIT_NO_TOOLS = Sample(
    name="flit_notools",
    layout="flat",
    backend="flit",
    packages=("flitpkg",),
    tests="flitpkg/tests",
    files={
        "pyproject.toml": """
            [build-system]
            requires = ["flit_core>=3.4,<4"]
            build-backend = "flit_core.buildapi"

            [project]
            name = "flitpkg"
            version = "0.1.0"
            description = "A sample."
            requires-python = ">=3.11"
        """,
        "flitpkg/__init__.py": '"""A sample."""\n',
        "flitpkg/core.py": CORE,
        "flitpkg/tests/__init__.py": "",
        "flitpkg/tests/test_core.py": _test_for("flitpkg"),
    },
    added={"tests": "flitpkg/tests"},
    verdicts={"lint": "passed", "test": "passed", "coverage": "passed"},
)

POETRY_SRC = Sample(
    name="poetry_src",
    layout="src",
    backend="poetry-core",
    packages=("poetpkg",),
    tests="tests",
    files={
        "pyproject.toml": """
            [tool.poetry]
            name = "poetpkg"
            version = "0.1.0"
            description = "A sample."
            authors = ["Sample <sample@example.invalid>"]
            packages = [{ include = "poetpkg", from = "src" }]

            [tool.poetry.dependencies]
            python = "^3.11"

            [tool.poetry.group.test.dependencies]
            pytest = ">=7"

            [build-system]
            requires = ["poetry-core>=1.0"]
            build-backend = "poetry.core.masonry.api"
        """,
        "src/poetpkg/__init__.py": '"""A sample."""\n',
        "src/poetpkg/core.py": CORE,
        "tests/test_core.py": _test_for("poetpkg"),
        ".gitignore": "__pycache__/\n",
    },
    added={
        "test": {"requirements": ["pytest>=7"]},
        "matrix": {"python": ["3.11", "3.12", "3.13", "3.14"]},
    },
    verdicts={"lint": "passed", "test": "passed", "coverage": "passed"},
)

# Hand-formatted: aligned values, comments everywhere, odd spacing, a gate set by hand.
MESSY_PYPROJECT = """\
#  Messy, but ours.
[build-system]
requires      = [ "hatchling" ]      # the backend
build-backend = "hatchling.build"

[project]
name            = "messy-pkg"
version         = "0.1.0"   # bumped by hand
requires-python = ">= 3.11"
dependencies    = [
    # nothing yet
]

[project.optional-dependencies]
testing = [ "pytest>=7" , ]

[tool.ruff]          # lint settings
line-length = 100

[tool.shipyard.gates]
coverage = 95   # we aim high

[tool.pytest.ini_options]
addopts = "-q"
# the end
"""

MESSY = Sample(
    name="messy",
    layout="src",
    backend="hatchling",
    packages=("messy_pkg",),
    tests="src/messy_pkg/tests",
    files={
        "pyproject.toml": MESSY_PYPROJECT,
        "src/messy_pkg/__init__.py": '"""A sample."""\n',
        "src/messy_pkg/core.py": UNCOVERED,
        "src/messy_pkg/tests/__init__.py": "",
        "src/messy_pkg/tests/test_core.py": _test_for("messy_pkg"),
        ".gitignore": "__pycache__/\n",
    },
    added={"tests": "src/messy_pkg/tests", "test": {"extras": ["testing"]}},
    verdicts={"lint": "passed", "test": "passed", "coverage": "failed"},
)

SETUPTOOLS_LIB = Sample(
    name="setuptools_lib",
    layout="lib/",
    backend="setuptools",
    packages=("libpkg",),
    tests="tests",
    files={
        "pyproject.toml": """
            [build-system]
            requires = ["setuptools>=61"]
            build-backend = "setuptools.build_meta"

            [project]
            name = "libpkg"
            version = "0.1.0"
            requires-python = ">=3.11"

            [project.optional-dependencies]
            tests = ["pytest"]

            [tool.setuptools.packages.find]
            where = ["lib"]
        """,
        "lib/libpkg/__init__.py": '"""A sample."""\n',
        "lib/libpkg/core.py": "import os\n" + CORE,
        "tests/test_core.py": _test_for("libpkg"),
        ".gitignore": "__pycache__/\n*.egg-info/\nbuild/\n",
    },
    added={"sources": ["lib"]},
    verdicts={"lint": "failed", "test": "passed", "coverage": "passed"},
)

SAMPLES = (HATCH_SRC, SETUPTOOLS_CFG, FLIT_NO_TOOLS, POETRY_SRC, MESSY, SETUPTOOLS_LIB)


# -- running things ------------------------------------------------------------------------


def clean_env(state: Path) -> dict[str, str]:
    """The environment of a developer's machine: not CI, shipyard's state in `state`."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CI", "GITHUB_ACTIONS", "GITHUB_STEP_SUMMARY", "FORCE_COLOR")
        and not k.startswith("COVERAGE_")
    }
    env.update(
        NO_COLOR="1",
        SHIPYARD_STATE_DIR=str(state / "state"),
        SHIPYARD_CACHE_DIR=str(state / "cache"),
    )
    return env


def run(
    argv: list[str], root: Path, env: Mapping[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=root, env=dict(env), text=True, capture_output=True, timeout=timeout, check=False
    )


def shipyard(root: Path, env: Mapping[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return run([sys.executable, "-m", "shipyard", *args], root, env, timeout=300)


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        [
            "git",
            "-c",
            "user.email=test@example.invalid",
            "-c",
            "user.name=Test",
            "-c",
            "commit.gpgsign=false",
            *args,
        ],
        cwd=root,
        text=True,
        capture_output=True,
        check=True,
        timeout=60,
    )
    return done.stdout


def git_init(root: Path) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "The project as it was")

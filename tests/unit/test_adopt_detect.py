"""What `shipyard init` detects, and the [tool.shipyard] keys it proposes, per sample project."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from helpers.adopt import SAMPLES, Sample, git_init
from helpers.projects import write_files
from shipyard.adopt import poetry
from shipyard.adopt.detect import detect
from shipyard.adopt.table import desired, known_key


def _detect(root: Path):
    data = tomllib.loads((root / "pyproject.toml").read_text())
    return detect(root, data), data


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_each_sample_is_detected_and_gets_only_what_differs(sample: Sample, tmp_path: Path) -> None:
    root = sample.make(tmp_path)
    found, data = _detect(root)
    assert found.layout == sample.layout
    assert found.backend == sample.backend
    assert found.packages == sample.packages
    assert found.tests == Path(sample.tests)
    assert not found.git
    table, notes = desired(root, data, found)
    assert table == sample.added
    assert notes == []


def test_git_repository_is_seen(tmp_path: Path) -> None:
    root = SAMPLES[0].make(tmp_path)
    git_init(root)
    assert _detect(root)[0].git


def test_pdm_with_a_package_dir_and_dependency_groups(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": """
                [build-system]
                requires = ["pdm-backend"]
                build-backend = "pdm.backend"

                [project]
                name = "pdmpkg"
                version = "1"

                [tool.pdm.build]
                package-dir = "source"

                [dependency-groups]
                lint = ["ruff"]
                test = ["pytest>=8", {include-group = "lint"}]
            """,
            "source/pdmpkg/__init__.py": "",
            "tests/test_x.py": "",
        },
    )
    found, data = _detect(tmp_path)
    assert found.backend == "pdm"
    assert found.layout == "source/"
    assert found.packages == ("pdmpkg",)
    table, _ = desired(tmp_path, data, found)
    assert table == {"sources": ["source"], "test": {"requirements": ["pytest>=8", "ruff"]}}


def test_maturin_python_source_and_benchmarks_and_dockerfiles(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": """
                [build-system]
                requires = ["maturin>=1,<2"]
                build-backend = "maturin"

                [project]
                name = "rusty"
                requires-python = ">=3.12"

                [tool.maturin]
                python-source = "python"
                module-name = "rusty._core"
            """,
            "python/rusty/__init__.py": "",
            "tests/test_speed.py": "def test_speed(benchmark):\n    benchmark(sum, [1])\n",
            "benchmarks/bench_x.py": "",
            "Dockerfile": "FROM python:3.12-slim\n",
            "docker/Dockerfile.gpu": "FROM python:3.12\n",
        },
    )
    found, data = _detect(tmp_path)
    assert found.backend == "maturin"
    assert found.packages == ("rusty",)
    assert found.benchmarks == ("benchmarks/", "pytest-benchmark tests in tests/")
    assert found.dockerfiles == (Path("Dockerfile"), Path("docker/Dockerfile.gpu"))
    table, _ = desired(tmp_path, data, found)
    assert table["sources"] == ["python/rusty"]
    # docker/Dockerfile.gpu is where the docker stage looks already: no variants written.
    assert "docker" not in table


def test_a_lone_dockerfile_becomes_a_variant_when_the_docker_stage_exists(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "img"\nversion = "1"\n',
            "img/__init__.py": "",
            "tests/test_x.py": "",
            "Dockerfile": "FROM python:3.12-slim\n",
        },
    )
    found, data = _detect(tmp_path)
    table, _ = desired(tmp_path, data, found)
    if known_key("docker", "variants", "main", "dockerfile"):
        assert table["docker"] == {"variants": {"main": {"dockerfile": "Dockerfile"}}}
    else:
        assert "docker" not in table


def test_flit_module_named_apart_from_the_project(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": """
                [build-system]
                requires = ["flit_core>=3.4"]
                build-backend = "flit_core.buildapi"

                [project]
                name = "some-tool"
                version = "1"
                description = "x"

                [tool.flit.module]
                name = "sometool"
            """,
            "sometool.py": '"""x."""\n',
            "tests/test_x.py": "",
        },
    )
    found, data = _detect(tmp_path)
    assert found.packages == ("sometool",)
    assert desired(tmp_path, data, found)[0] == {"sources": ["sometool.py"]}


def test_nothing_found_is_said(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": '[project]\nname = "empty"\nversion = "1"\n'})
    found, _ = _detect(tmp_path)
    assert found.backend == "none"
    assert found.tests is None
    assert "no package or module found in ./" in found.warnings
    assert any(w.startswith("no tests found") for w in found.warnings)


def test_tests_in_several_packages_use_their_common_parent(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "two"\nversion = "1"\n',
            "src/a/__init__.py": "",
            "src/a/tests/test_a.py": "",
            "src/b/__init__.py": "",
            "src/b/tests/test_b.py": "",
        },
    )
    found, _ = _detect(tmp_path)
    assert found.tests == Path("src")
    assert any("tests in several places" in w for w in found.warnings)


def test_requires_python_that_allows_nothing_is_a_note(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[build-system]\nrequires = ["setuptools"]\n'
            'build-backend = "setuptools.build_meta"\n',
            "setup.cfg": "[metadata]\nname = old\n\n[options]\npython_requires = <3.0\n",
            "old/__init__.py": "",
        },
    )
    found, data = _detect(tmp_path)
    assert found.requires_python_from == "setup.cfg [options] python_requires"
    table, notes = desired(tmp_path, data, found)
    assert "matrix" not in table
    assert notes == [
        "setup.cfg [options] python_requires allows none of " + "3.9, 3.10, 3.11, 3.12, 3.13, 3.14"
    ]


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^3.9", ">=3.9,<4"),
        ("^0.3.1", ">=0.3.1,<0.4"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("~1.2.3", ">=1.2.3,<1.3"),
        ("~1", ">=1,<2"),
        ("1.2.*", "==1.2.*"),
        ("1.2", "==1.2"),
        (">=3.8,<4.0", ">=3.8,<4.0"),
        ("*", ""),
        ("^3.8 || ^4.0", ">=3.8"),
    ],
)
def test_poetry_constraints_as_pep440(constraint: str, expected: str) -> None:
    assert poetry.specifier(constraint) == expected


def test_poetry_dependencies_as_requirements() -> None:
    found, skipped = poetry.requirements(
        {
            "python": "^3.11",
            "pytest": "^8.1",
            "hypothesis": {"version": ">=6", "extras": ["numpy"]},
            "local": {"path": "../local"},
        }
    )
    assert found == ("pytest>=8.1,<9", "hypothesis[numpy]>=6")
    assert skipped == ["local"]

"""`shipyard matrix` and the matrix-driven test session, run as real child processes."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest

from helpers.matrix import matrix_config
from helpers.projects import run_nox
from shipyard import matrix

if TYPE_CHECKING:
    from pathlib import Path

EXAMPLE = """
python = ["3.11", "3.12", "3.13"]
build = "cp3{11,12}-*"
skip = "*-windows_*"
"""


def shipyard(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shipyard", "--root", str(root), *args],
        text=True,
        capture_output=True,
        timeout=120,
        check=False,
    )


def host_id(python: str) -> str:
    os_name, arch = matrix.host()
    return f"cp{python.replace('.', '')}-{os_name}_{arch}"


def other_platform() -> str:
    return "windows_arm64" if matrix.host() != ("windows", "arm64") else "linux_x86_64"


def test_table_lists_every_target_with_its_runner(tmp_path: Path) -> None:
    matrix_config(tmp_path, EXAMPLE)
    done = shipyard(tmp_path, "matrix")
    assert done.returncode == 0, done.stderr
    assert "build matrix: 8 target(s)" in done.stdout
    assert "cp312-macos_arm64" in done.stdout
    assert "macos-15-intel" in done.stdout
    assert "windows" not in done.stdout
    assert done.stderr == ""


def test_json_is_the_include_list_on_one_line(tmp_path: Path) -> None:
    cfg = matrix_config(tmp_path, EXAMPLE)
    done = shipyard(tmp_path, "matrix", "--json")
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("\n") == 1  # fits `echo "include=..." >> $GITHUB_OUTPUT`
    include = json.loads(done.stdout)
    assert include == matrix.github_include(matrix.plan(cfg))
    assert len(include) == 8
    assert include[0] == {
        "id": "cp311-linux_x86_64",
        "python": "3.11",
        "os": "linux",
        "arch": "x86_64",
        "runner": "ubuntu-24.04",
    }


def test_print_identifiers_one_a_line(tmp_path: Path) -> None:
    matrix_config(tmp_path, EXAMPLE)
    done = shipyard(tmp_path, "matrix", "--print-identifiers")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "cp311-linux_x86_64",
        "cp312-linux_x86_64",
        "cp311-linux_aarch64",
        "cp312-linux_aarch64",
        "cp311-macos_x86_64",
        "cp312-macos_x86_64",
        "cp311-macos_arm64",
        "cp312-macos_arm64",
    ]


def test_warnings_go_to_stderr_and_leave_stdout_parseable(tmp_path: Path) -> None:
    matrix_config(tmp_path, 'python = ["3.12"]\nbuild = ["cp312-*", "cp27-*"]\n')
    done = shipyard(tmp_path, "matrix", "--json")
    assert done.returncode == 0
    assert len(json.loads(done.stdout)) == 5
    assert "shipyard: warning: build selector 'cp27-*' matches no target." in done.stderr


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ('python = ["3.12"]\nbuild = "cp313-*"\n', 4, "build = ['cp313-*']"),
        ('platforms = ["linux_arm"]\n', 2, "Did you mean 'aarch64'?"),
        ('python = ["3.x"]\n', 2, "'3.x' is not one"),
    ],
)
def test_bad_configurations_exit_with_their_code(
    tmp_path: Path, body: str, code: int, words: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "d"\n[tool.shipyard.matrix]\n{body}', encoding="utf-8"
    )
    done = shipyard(tmp_path, "matrix")
    assert done.returncode == code
    assert words in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_modes_are_exclusive(tmp_path: Path) -> None:
    matrix_config(tmp_path, EXAMPLE)
    done = shipyard(tmp_path, "matrix", "--json", "--print-identifiers")
    assert done.returncode == 2
    assert "not allowed with argument" in done.stderr


# -- --only: reproducing one CI cell -------------------------------------------------------


def test_only_prints_the_nox_command_read_from_the_noxfile(sample_project) -> None:
    root = sample_project()  # requires-python >=3.11,<3.12
    done = shipyard(root, "matrix", "--only", host_id("3.11"))
    assert done.returncode == 0, done.stderr
    assert done.stdout == "nox -s test-3.11\n"


def test_only_a_target_this_machine_cannot_run_names_the_needed_os_and_arch(
    sample_project,
) -> None:
    root = sample_project(tool=f'[tool.shipyard.matrix]\nplatforms = ["{other_platform()}"]\n')
    os_name, arch = matrix.parse_platform(other_platform())
    done = shipyard(root, "matrix", "--only", f"cp311-{os_name}_{arch}")
    assert done.returncode == 3
    assert f"needs a {os_name}/{arch} machine" in done.stderr
    assert "this one is {}/{}".format(*matrix.host()) in done.stderr


def test_only_an_unknown_id_suggests_one(sample_project) -> None:
    root = sample_project()
    wrong = host_id("3.11").replace("cp311", "cp3111")
    done = shipyard(root, "matrix", "--only", wrong)
    assert done.returncode == 2
    assert f"Did you mean '{host_id('3.11')}'?" in done.stderr


def test_only_without_a_matching_session_says_what_the_noxfile_lacks(sample_project) -> None:
    noxfile = "import nox\n\n@nox.session(python=['3.12'])\ndef test(session):\n    pass\n"
    root = sample_project(files={"noxfile.py": noxfile})
    done = shipyard(root, "matrix", "--only", host_id("3.11"))
    assert done.returncode == 3
    assert "the noxfile's 'test' session has no Python 3.11 (it has 3.12)" in done.stderr


# -- the test session follows the matrix ---------------------------------------------------


def sessions(root: Path) -> list[dict[str, object]]:
    done = run_nox(root, "--list", "--json")
    assert done.returncode == 0, done.stderr
    return [s for s in json.loads(done.stdout) if s["name"] == "test"]


def test_nox_test_sessions_are_the_targets_runnable_here(sample_project) -> None:
    here = "{}_{}".format(*matrix.host())
    tool = f"""
        [tool.shipyard.matrix]
        python = ["3.11", "3.12", "3.13t"]
        platforms = ["{here}", "{other_platform()}"]
        skip = "cp312-{here}"
    """
    root = sample_project(tool=tool)
    assert [s["session"] for s in sessions(root)] == ["test-3.11", "test-3.13t"]


def test_nothing_runnable_here_leaves_one_test_session_that_skips(sample_project) -> None:
    root = sample_project(tool=f'[tool.shipyard.matrix]\nplatforms = ["{other_platform()}"]\n')
    assert [(s["session"], s["python"]) for s in sessions(root)] == [("test", None)]
    done = run_nox(root, "-s", "test")
    assert done.returncode == 0, done.stderr[-2000:]
    assert "no target of the build matrix runs on {}/{}".format(*matrix.host()) in done.stderr
    assert "left out 1 target(s)" in done.stderr


@pytest.mark.slow
def test_the_test_session_applies_overrides_and_says_what_it_left_out(sample_project) -> None:
    here = "{}_{}".format(*matrix.host())
    tool = f"""
        [tool.shipyard.matrix]
        platforms = ["{here}", "{other_platform()}"]

        [tool.shipyard.matrix.overrides."cp311-*"]
        env = {{ SAMPLE_MODE = "from-override" }}
        requirements = ["six"]
    """
    check = """
        import importlib.util
        import os


        def test_override_reached_the_run() -> None:
            assert os.environ["SAMPLE_MODE"] == "from-override"
            assert importlib.util.find_spec("six") is not None
    """
    root = sample_project(tool=tool, files={"tests/test_env.py": check})
    done = run_nox(root, "-s", "test")
    assert done.returncode == 0, done.stderr[-3000:]
    os_name, arch = matrix.parse_platform(other_platform())
    here_os, here_arch = matrix.host()
    left_out = f"left out 1 target(s) that need another OS/arch than {here_os}/{here_arch}: "
    assert f"{left_out}cp311-{os_name}_{arch}" in done.stderr
    result = json.loads((root / f".shipyard/reports/test-{host_id('3.11')}.json").read_text())
    assert result["status"] == "passed"
    assert result["metrics"]["test.tests"] == 2

"""The release's wheels step on real git repositories, and the real cibuildwheel's answers.

A wheel build itself needs cibuildwheel's manylinux images (Linux) or a macOS or
Windows runner, none of which this machine has: the successful build is left to
the release workflow's wheels jobs. What runs here is everything around it:
cibuildwheel taking shipyard's identifiers, the step's choices, its refusal of an
unknown target, finding a wheel made before, and a failed build leaving dist/
as it was.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from helpers.release import Project, invoke_release, make_project
from shipyard.matrix import Target
from shipyard.release.wheels import cibuildwheel_argv, cibuildwheel_id

pytestmark = pytest.mark.slow

TASKS = {"tasks.py": "from shipyard.flows import ns  # noqa: F401\n"}
LOCAL = "preflight,version,changelog,commit,tag"
COMPILED = 'wheels = "cibuildwheel"\n'
TARGET = "cp311-linux_x86_64"


def _released(tmp_path: Path, release: str = COMPILED) -> Project:
    project = make_project(tmp_path, release=release, files=TASKS)
    project.commit("feat: first feature")
    done = invoke_release(project, "--step", LOCAL)
    assert done.returncode == 0, done.stderr
    return project


def _wheels(project: Project, *args: str, env: dict[str, str] | None = None):
    return invoke_release(project, "--ci", "--step", "wheels", *args, env=env)


@pytest.mark.parametrize("python", ["3.11", "3.12", "3.13", "3.14", "3.14t"])
def test_cibuildwheel_takes_every_identifier_shipyard_gives_it(tmp_path: Path, python: str) -> None:
    # No requires-python: cibuildwheel would leave out the Pythons it excludes.
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "1"\n')
    platforms = [
        ("linux", "x86_64"),
        ("linux", "aarch64"),
        ("macos", "x86_64"),
        ("macos", "arm64"),
        ("windows", "amd64"),
        ("windows", "arm64"),
    ]
    for os_name, arch in platforms:
        identifier = cibuildwheel_id(Target(python=python, os=os_name, arch=arch, runner="r"))
        done = subprocess.run(
            cibuildwheel_argv("--print-build-identifiers", "--only", identifier),
            cwd=tmp_path,
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert done.returncode == 0, (identifier, done.stderr[-500:])
        # It lists this build, or none where it cannot tell from here (no other build).
        assert done.stdout.split() in ([identifier], []), identifier


def test_a_pure_project_leaves_its_wheel_to_the_build_step(tmp_path: Path) -> None:
    project = _released(tmp_path, release="")

    done = _wheels(project, "--target", TARGET)

    assert done.returncode == 0, done.stderr
    assert "wheels: the build does not compile: the build step makes the one wheel" in done.stderr


def test_without_a_target_the_step_says_where_wheels_are_made(tmp_path: Path) -> None:
    project = _released(tmp_path)

    done = _wheels(project)

    assert done.returncode == 0, done.stderr
    assert "one job per target in the release workflow (--target ID)" in done.stderr


def test_a_target_outside_the_matrix_is_a_usage_error_naming_the_targets(tmp_path: Path) -> None:
    project = _released(tmp_path)

    done = _wheels(project, "--target", "cp39-linux_x86_64")

    assert done.returncode == 2
    assert "--target cp39-linux_x86_64 is not in the build matrix; its targets: " in done.stderr
    assert TARGET in done.stderr
    assert "Traceback" not in done.stderr


def test_a_wheel_made_before_is_found_and_not_made_again(tmp_path: Path) -> None:
    project = _released(tmp_path)
    made = project.root / "dist/demo-0.1.0-cp311-cp311-manylinux_2_17_x86_64.whl"
    made.parent.mkdir()
    made.write_bytes(b"a wheel from an earlier try")

    dry = invoke_release(project, "--dry-run", "--step", "wheels", "--target", TARGET)
    done = _wheels(project, "--target", TARGET)

    assert done.returncode == 0, done.stderr
    assert f"wheels: found {made.name} for {TARGET}" in done.stderr
    assert f"- wheels     found {made.name} for {TARGET}" in dry.stdout
    assert made.read_bytes() == b"a wheel from an earlier try"


def test_a_failed_cibuildwheel_run_stops_the_release_and_leaves_dist_as_it_was(
    tmp_path: Path,
) -> None:
    project = _released(tmp_path)
    dist = project.root / "dist"
    dist.mkdir()
    (dist / "demo-0.1.0.tar.gz").write_bytes(b"sdist")

    dry = invoke_release(project, "--dry-run", "--step", "wheels", "--target", TARGET)
    # A container engine that is not installed: cibuildwheel fails at once, for real.
    done = _wheels(project, "--target", TARGET, env={"CIBW_CONTAINER_ENGINE": "podman"})

    assert "would cibuildwheel --only cp311-manylinux_x86_64" in dry.stdout
    assert done.returncode == 1
    assert "cibuildwheel --only cp311-manylinux_x86_64 failed (exit 1):" in done.stderr
    assert "podman" in done.stderr
    assert sorted(p.name for p in dist.iterdir()) == ["demo-0.1.0.tar.gz"]


def test_a_target_cibuildwheel_does_not_build_fails_in_readable_lines(tmp_path: Path) -> None:
    matrix = '\n[tool.shipyard.matrix]\npython = ["3.11", "3.13t"]\n'
    project = _released(tmp_path, release=COMPILED + matrix)

    done = _wheels(project, "--target", "cp313t-linux_x86_64")

    assert done.returncode == 1
    assert "cibuildwheel --only cp313t-manylinux_x86_64 failed (exit 2):" in done.stderr
    # cibuildwheel answers with every identifier it knows, on one line: cut short.
    assert "invalid choice" in done.stderr
    assert max(len(line) for line in done.stderr.splitlines()) < 400
    assert not (project.root / "dist").exists() or not any((project.root / "dist").iterdir())

"""Who makes a release's wheels, cibuildwheel's identifiers, and which wheel fits a target."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard import config
from shipyard.matrix import Target
from shipyard.release.wheels import builder, cibuildwheel_id, wheel_for

BUILD_SYSTEM = '[build-system]\nrequires = ["x"]\nbuild-backend = "{backend}"\n\n'
PROJECT = '[project]\nname = "thing"\nversion = "1.0"\nrequires-python = ">=3.11"\n'


def load(root: Path, *, backend: str = "hatchling.build", tool: str = "") -> config.Config:
    root.mkdir(parents=True, exist_ok=True)
    (root / "tests").mkdir(exist_ok=True)
    (root / "thing").mkdir(exist_ok=True)
    text = BUILD_SYSTEM.format(backend=backend) + PROJECT + tool
    (root / "pyproject.toml").write_text(text)
    return config.load(root)


@pytest.mark.parametrize(
    ("backend", "expected"),
    [
        ("hatchling.build", "build"),
        ("setuptools.build_meta", "build"),
        ("flit_core.buildapi", "build"),
        ("maturin", "cibuildwheel"),
        ("scikit_build_core.build", "cibuildwheel"),
        ("mesonpy", "cibuildwheel"),
    ],
)
def test_the_build_backend_says_whether_the_build_compiles(
    tmp_path: Path, backend: str, expected: str
) -> None:
    assert builder(load(tmp_path, backend=backend)) == expected


@pytest.mark.parametrize(
    ("setup_py", "expected"),
    [
        ("from setuptools import setup\nsetup()\n", "build"),
        (
            "setup(ext_modules=[Extension('m', ['m.c'])])\n",
            "cibuildwheel",
        ),
        (
            "from Cython.Build import cythonize\nsetup(ext_modules=cythonize('m.pyx'))\n",
            "cibuildwheel",
        ),
    ],
)
def test_setuptools_compiles_when_setup_py_has_extension_modules(
    tmp_path: Path, setup_py: str, expected: str
) -> None:
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "setup.py").write_text(setup_py)
    assert builder(load(tmp_path, backend="setuptools.build_meta")) == expected


def test_the_setting_wins_over_what_is_found(tmp_path: Path) -> None:
    forced = '[tool.shipyard.release]\nwheels = "build"\n'
    assert builder(load(tmp_path / "a", backend="maturin", tool=forced)) == "build"
    forced = '[tool.shipyard.release]\nwheels = "cibuildwheel"\n'
    assert builder(load(tmp_path / "b", tool=forced)) == "cibuildwheel"


def test_a_wrong_setting_names_the_key_and_the_choices(tmp_path: Path) -> None:
    with pytest.raises(config.ConfigError) as info:
        load(tmp_path, tool='[tool.shipyard.release]\nwheels = "cibw"\n')
    text = str(info.value)
    assert "tool.shipyard.release.wheels" in text
    assert "cibuildwheel" in text


def t(python: str, os: str, arch: str) -> Target:
    return Target(python=python, os=os, arch=arch, runner="r")


@pytest.mark.parametrize(
    ("target", "identifier"),
    [
        (t("3.12", "linux", "x86_64"), "cp312-manylinux_x86_64"),
        (t("3.11", "linux", "aarch64"), "cp311-manylinux_aarch64"),
        (t("3.13", "macos", "arm64"), "cp313-macosx_arm64"),
        (t("3.13", "macos", "x86_64"), "cp313-macosx_x86_64"),
        (t("3.12", "windows", "amd64"), "cp312-win_amd64"),
        (t("3.14", "windows", "arm64"), "cp314-win_arm64"),
        (t("3.14t", "linux", "x86_64"), "cp314t-manylinux_x86_64"),
    ],
)
def test_cibuildwheel_identifiers(target: Target, identifier: str) -> None:
    assert cibuildwheel_id(target) == identifier


WHEELS = (
    "thing-1.0-cp312-cp312-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
    "thing-1.0-cp312-cp312-musllinux_1_2_aarch64.whl",
    "thing-1.0-cp313-cp313-macosx_10_13_universal2.whl",
    "thing-1.0-cp312-cp312-win_amd64.whl",
    "thing-1.0-cp311-abi3-macosx_11_0_arm64.whl",
    "thing-1.0-cp314-cp314t-manylinux_2_28_x86_64.whl",
    "thing-0.9-cp313-cp313-win_amd64.whl",
    "other-1.0-cp313-cp313-win_amd64.whl",
    "not a wheel.whl",
)


@pytest.mark.parametrize(
    ("target", "found"),
    [
        (t("3.12", "linux", "x86_64"), WHEELS[0]),
        (t("3.12", "linux", "aarch64"), WHEELS[1]),
        (t("3.13", "macos", "arm64"), WHEELS[2]),
        (t("3.13", "macos", "x86_64"), WHEELS[2]),
        (t("3.12", "windows", "amd64"), WHEELS[3]),
        (t("3.11", "macos", "arm64"), WHEELS[4]),
        (t("3.14t", "linux", "x86_64"), WHEELS[5]),
        (t("3.14", "linux", "x86_64"), None),  # only the free-threaded build is there
        (t("3.13", "windows", "amd64"), None),  # another version, another project
        (t("3.12", "windows", "arm64"), None),
        (t("3.11", "linux", "x86_64"), None),
    ],
)
def test_which_wheel_installs_on_a_target(
    tmp_path: Path, target: Target, found: str | None
) -> None:
    for name in WHEELS:
        (tmp_path / name).write_bytes(b"")
    made = wheel_for(tmp_path, "thing", "1.0", target)
    assert (made.name if made else None) == found


def test_no_dist_dir_holds_no_wheel(tmp_path: Path) -> None:
    assert wheel_for(tmp_path / "missing", "thing", "1.0", t("3.12", "linux", "x86_64")) is None

"""Wheels of a compiled project: cibuildwheel on each build-matrix target, one CI job each.

A pure project's one wheel comes from the build step (`python -m build`). A project
whose build compiles (maturin, scikit-build-core, meson-python, setuptools with
extension modules) needs a wheel per Python, OS and arch: the release workflow
runs `invoke release --ci --step wheels --target ID` on each matrix target's
runner, and the build job gathers those wheels and adds the sdist.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import Version

from shipyard.errors import GateFailed
from shipyard.release.secrets import redact

if TYPE_CHECKING:
    from shipyard.config import Config
    from shipyard.matrix import Target

__all__ = [
    "CIBUILDWHEEL",
    "COMPILING_BACKENDS",
    "builder",
    "cibuildwheel_argv",
    "cibuildwheel_id",
    "make_wheels",
    "wheel_for",
]

Builder = Literal["build", "cibuildwheel"]

#: build-backend prefixes whose builds compile.
COMPILING_BACKENDS = ("maturin", "scikit_build_core", "mesonpy", "py_build_cmake", "enscons")
#: What in a setup.py says setuptools compiles extension modules.
_EXTENSIONS = re.compile(r"\bext_modules\b|\bExtension\(|\bcythonize\(")
#: cibuildwheel's spelling of each OS in an identifier.
_CIBW_OS = {"linux": "manylinux", "macos": "macosx", "windows": "win"}
_TAIL_LINES = 25
_LINE = 300
#: Run in an environment of its own by `uv tool run`, never installed beside shipyard:
#: cibuildwheel needs bashlex, which is GPL-3.0-or-later.
CIBUILDWHEEL = "cibuildwheel>=3"


def cibuildwheel_argv(*args: str) -> list[str]:
    """The command that runs cibuildwheel with `args` (uv comes with shipyard, via nox[uv])."""
    return [
        sys.executable,
        "-m",
        "uv",
        "tool",
        "run",
        "--from",
        CIBUILDWHEEL,
        "cibuildwheel",
        *args,
    ]


def _backend(root: Path) -> str:
    try:
        data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return ""
    return str(data.get("build-system", {}).get("build-backend") or "")


def builder(config: Config) -> Builder:
    """Who makes the release's wheels: `release.wheels`, or found from the build backend."""
    chosen = config.release.wheels
    if chosen != "auto":
        return chosen
    if _backend(config.root).startswith(COMPILING_BACKENDS):
        return "cibuildwheel"
    setup_py = config.root / "setup.py"
    if setup_py.is_file():
        text = setup_py.read_text(encoding="utf-8", errors="replace")
        if _EXTENSIONS.search(text):
            return "cibuildwheel"
    return "build"


def cibuildwheel_id(target: Target) -> str:
    """cibuildwheel's identifier of a target: cp312-linux_x86_64 -> cp312-manylinux_x86_64."""
    return f"cp{target.python.replace('.', '')}-{_CIBW_OS[target.os]}_{target.arch}"


def _platform_matches(target: Target, platform: str) -> bool:
    if target.os == "linux":
        return platform.startswith(("manylinux", "musllinux", "linux")) and platform.endswith(
            f"_{target.arch}"
        )
    if target.os == "macos":
        return platform.startswith("macosx_") and platform.endswith(
            (f"_{target.arch}", "_universal2")
        )
    return platform == f"win_{target.arch}"


def wheel_for(dist_dir: Path, name: str, version: str, target: Target) -> Path | None:
    """A wheel of `name` `version` in `dist_dir` that installs on `target`, if there is one."""
    if not dist_dir.is_dir():
        return None
    python = target.python.rstrip("t").replace(".", "")
    abi = f"cp{python}{'t' if target.free_threaded else ''}"
    for path in sorted(dist_dir.glob("*.whl")):
        try:
            project, found, _, tags = parse_wheel_filename(path.name)
        except InvalidWheelFilename:
            continue
        if canonicalize_name(project) != canonicalize_name(name) or found != Version(version):
            continue
        for tag in tags:
            cpython = tag.interpreter == f"cp{python}" and tag.abi in (abi, "abi3")
            if cpython and _platform_matches(target, tag.platform):
                return path
    return None


def make_wheels(root: Path, dist_dir: Path, target: Target) -> list[Path]:
    """Run cibuildwheel for `target` and move its wheels into `dist_dir`, all or none.

    cibuildwheel writes into a scratch folder first: a failed or interrupted run
    leaves `dist_dir` as it was.
    """
    identifier = cibuildwheel_id(target)
    env = {**os.environ, **target.env}
    dist_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".wheels-", dir=dist_dir) as scratch:
        argv = cibuildwheel_argv("--only", identifier, "--output-dir", scratch, str(root))
        done = subprocess.run(
            argv,
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        made = sorted(Path(scratch).glob("*.whl"))
        if done.returncode != 0 or not made:
            lines = (done.stdout + done.stderr).strip().splitlines()[-_TAIL_LINES:]
            # cibuildwheel's "invalid choice" line lists every identifier it knows: cut.
            output = "\n".join(t if len(t) <= _LINE else t[:_LINE] + " ..." for t in lines)
            why = f"exit {done.returncode}" if done.returncode else "it made no wheel"
            # As the build step's errors: no token from the environment reaches the output.
            msg = f"cibuildwheel --only {identifier} failed ({why}):\n{redact(output)}"
            raise GateFailed(msg)
        moved = []
        for wheel in made:
            target_path = dist_dir / wheel.name
            shutil.move(wheel, target_path)
            moved.append(target_path)
    return moved

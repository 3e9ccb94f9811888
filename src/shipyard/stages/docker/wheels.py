"""The wheels an image installs, built on the host: one resolution for every variant.

All variants' requirements are built into one shared wheelhouse with one
`pip wheel`; each variant then gets the closure of its own requirements,
picked offline (`pip install --dry-run --no-index`), plus pip's own wheel and
a requirements.txt pinning every wheel. When the shared resolution fails
(variants with conflicting pins), each variant is built on its own.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import tomllib
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import unquote, urlparse

from packaging.utils import canonicalize_name

from shipyard.report import write_atomic
from shipyard.stages.docker.meta import Variant
from shipyard.stages.docker.steps import StepFailed, run_step

__all__ = [
    "WHEELS_DIR",
    "build_shared",
    "foreign_wheel_argv",
    "pinned_requirements",
    "variant_wheels",
]

#: Where host-built wheels go, inside the build context; Dockerfiles get it as the WHEELS arg.
WHEELS_DIR = Path(".shipyard/docker/wheels")
_SHARED = "_all"
_PIP_ARCH = {"amd64": "x86_64", "arm64": "aarch64", "arm/v7": "armv7l"}
# manylinux tags a glibc 2.36 image (Debian 12) can load, newest first.
_GLIBC_MINORS = range(36, 16, -1)
_LOCAL = re.compile(r"^(?P<path>[.~/][^\[]*)(?P<extras>\[.*\])?$")


def foreign_wheel_argv(
    python: str, wheels: Path, *, platform: str, python_version: str
) -> list[str]:
    """`pip download` of the wheelhouse's closure for another platform (binary wheels only)."""
    arch = platform.split("/", 1)[1]
    pip_arch = _PIP_ARCH.get(arch, arch)
    tags = [f"manylinux_2_{minor}_{pip_arch}" for minor in _GLIBC_MINORS]
    tags.append(f"manylinux2014_{pip_arch}")
    requirements = []
    for wheel in sorted(wheels.glob("*.whl")):
        name, version = wheel.name.split("-")[:2]
        # Pure wheels serve every platform; binary ones are fetched again by exact version.
        pure = wheel.name.endswith("-none-any.whl")
        requirements.append(str(wheel) if pure else f"{name}=={version}")
    argv = [python, "-m", "pip", "download", "--quiet", "--only-binary=:all:", "--dest"]
    argv += [str(wheels), "--python-version", python_version, "--implementation", "cp"]
    for tag in tags:
        argv += ["--platform", tag]
    return argv + requirements


def _pip(python: str, *args: str) -> list[str]:
    return [python, "-m", "pip", *args, "--quiet", "--disable-pip-version-check"]


def build_shared(variants: Sequence[Variant], *, root: Path, python: str) -> Path | None:
    """One `pip wheel` for the requirements of every variant; None when none has any."""
    requirements = list(dict.fromkeys(r for v in variants for r in v.settings.wheels))
    if not requirements:
        return None
    shared = root / WHEELS_DIR / _SHARED
    shutil.rmtree(shared, ignore_errors=True)
    shared.mkdir(parents=True)
    argv = _pip(python, "wheel", "--wheel-dir", str(shared))
    run_step([*argv, *requirements, "pip"], cwd=root, what="pip wheel")
    return shared


def _project_name(path: Path) -> str | None:
    try:
        data = tomllib.loads((path / "pyproject.toml").read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return None
    name = data.get("project", {}).get("name")
    return str(name) if name else None


def _from_shared(requirement: str, shared: Path, root: Path) -> str:
    """A local requirement ('.', '.[extra]', './lib') as its wheel in `shared`."""
    match = _LOCAL.match(requirement)
    if match is None:
        return requirement
    name = _project_name((root / match["path"]).expanduser())
    stem = canonicalize_name(name or "").replace("-", "_")
    found = sorted(shared.glob(f"{stem}-*.whl")) if stem else []
    if not found:
        msg = f"no wheel in the shared wheelhouse for the local requirement {requirement!r}"
        raise StepFailed(msg)
    return f"{found[-1]}{match['extras'] or ''}"


def _closure(requirements: Sequence[str], shared: Path, *, root: Path, python: str) -> list[Path]:
    """The wheels in `shared` that installing `requirements` takes, chosen offline."""
    wanted = [_from_shared(r, shared, root) for r in requirements]
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        argv = _pip(python, "install", "--dry-run", "--ignore-installed", "--no-index")
        argv += ["--find-links", str(shared), "--report", str(report)]
        run_step([*argv, *wanted], cwd=root, what="pip install --dry-run")
        data = json.loads(report.read_text(encoding="utf-8"))
    return [Path(unquote(urlparse(item["download_info"]["url"]).path)) for item in data["install"]]


def _place(wheels: Sequence[Path], dest: Path) -> None:
    for wheel in wheels:
        try:
            os.link(wheel, dest / wheel.name)
        except OSError:
            shutil.copy2(wheel, dest / wheel.name)


def variant_wheels(
    variant: Variant,
    *,
    root: Path,
    python: str,
    python_version: str,
    shared: Path | None,
    foreign_platforms: Sequence[str] = (),
) -> Path | None:
    """The variant's wheels (plus pip's own) in its context, pinned in requirements.txt.

    With a shared wheelhouse they are picked from it; without one, built here.
    """
    requirements = variant.settings.wheels
    if not requirements:
        return None
    wheels = variant.context / WHEELS_DIR / variant.name
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    if shared is not None:
        _place(_closure(requirements, shared, root=root, python=python), wheels)
        _place(sorted(shared.glob("pip-*.whl"))[-1:], wheels)
    else:
        argv = _pip(python, "wheel", "--wheel-dir", str(wheels))
        run_step([*argv, *requirements, "pip"], cwd=root, what="pip wheel")
    for platform in foreign_platforms:
        download = foreign_wheel_argv(
            python, wheels, platform=platform, python_version=python_version
        )
        run_step(download, cwd=root, what=f"pip download for {platform}")
    write_atomic(wheels / "requirements.txt", pinned_requirements(wheels))
    return wheels


def pinned_requirements(wheels: Path) -> str:
    """`name==version` for every wheel in `wheels` but pip: what the image installs."""
    pins = set()
    for wheel in wheels.glob("*.whl"):
        name, version = wheel.name.split("-")[:2]
        if canonicalize_name(name) != "pip":
            pins.add(f"{canonicalize_name(name)}=={version}")
    return "".join(f"{pin}\n" for pin in sorted(pins))

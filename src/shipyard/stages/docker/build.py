"""Building one variant: wheels on the host, the optional prepare step, then the image."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

from packaging.utils import canonicalize_name
from python_on_whales import Image
from python_on_whales.exceptions import DockerException

from shipyard.report import write_atomic
from shipyard.stages.docker.engine import Engine
from shipyard.stages.docker.meta import Variant

__all__ = [
    "WHEELS_DIR",
    "StepFailed",
    "build_image",
    "build_wheels",
    "foreign_wheel_argv",
    "pinned_requirements",
    "run_prepare",
]

#: Where host-built wheels go, inside the build context; Dockerfiles get it as the WHEELS arg.
WHEELS_DIR = Path(".shipyard/docker/wheels")
#: How much of a failing tool's output a finding keeps.
TAIL_LINES = 25

_PIP_ARCH = {"amd64": "x86_64", "arm64": "aarch64", "arm/v7": "armv7l"}
# manylinux tags a glibc 2.36 image (Debian 12) can load, newest first.
_GLIBC_MINORS = range(36, 16, -1)


class StepFailed(Exception):
    """A build step failed; `output` is the tail of what the tool said."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.output = output


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def _run(
    argv: Sequence[str], *, cwd: Path, what: str, env: Mapping[str, str] | None = None
) -> None:
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    except FileNotFoundError:
        msg = f"{what}: '{argv[0]}' was not found"
        raise StepFailed(msg) from None
    except subprocess.TimeoutExpired:
        msg = f"{what}: did not finish within 30 minutes"
        raise StepFailed(msg) from None
    if done.returncode != 0:
        msg = f"{what}: `{' '.join(argv[:4])} ...` exited with {done.returncode}"
        raise StepFailed(msg, tail(done.stderr or done.stdout))


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


def build_wheels(
    variant: Variant,
    *,
    root: Path,
    python: str,
    python_version: str,
    foreign_platforms: Sequence[str] = (),
) -> Path | None:
    """Build the variant's requirements into wheels (plus pip's own) inside its context.

    The directory also gets a requirements.txt pinning every wheel in it, for
    `pip install --no-index --find-links WHEELS -r WHEELS/requirements.txt`.
    """
    requirements = variant.settings.wheels
    if not requirements:
        return None
    wheels = variant.context / WHEELS_DIR / variant.name
    shutil.rmtree(wheels, ignore_errors=True)
    wheels.mkdir(parents=True)
    argv = [python, "-m", "pip", "wheel", "--quiet", "--wheel-dir", str(wheels)]
    _run([*argv, *requirements, "pip"], cwd=root, what="pip wheel")
    for platform in foreign_platforms:
        download = foreign_wheel_argv(
            python, wheels, platform=platform, python_version=python_version
        )
        _run(download, cwd=root, what=f"pip download for {platform}")
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


def run_prepare(variant: Variant, *, root: Path, wheels: Path | None, platform: str) -> None:
    """The variant's `prepare` command, on the host, in the project root."""
    argv = variant.settings.prepare
    if not argv:
        return
    env = {
        "SHIPYARD_DOCKER_VARIANT": variant.name,
        "SHIPYARD_DOCKER_CONTEXT": str(variant.context),
        "SHIPYARD_DOCKER_WHEELS": str(wheels or ""),
        "SHIPYARD_DOCKER_PLATFORM": platform,
    }
    _run(argv, cwd=root, what="prepare", env=env)


def _cache_spec(spec: str) -> dict[str, str]:
    pairs = (item.partition("=") for item in spec.split(",") if item)
    return {key: value for key, _, value in pairs}


def build_image(
    engine: Engine,
    variant: Variant,
    *,
    refs: Sequence[str],
    platform: str | None,
    build_args: Mapping[str, str],
    labels: Mapping[str, str],
    network: str,
    cache_from: Sequence[str] = (),
    cache_to: str | None = None,
) -> Image:
    """Build and load one image (one platform), tagged with `refs`."""
    settings = variant.settings
    try:
        if engine.builder == "buildx":
            image = engine.client.buildx.build(
                variant.context,
                file=variant.dockerfile,
                target=settings.target,
                build_args=dict(build_args),
                labels=dict(labels),
                tags=list(refs),
                platforms=[platform] if platform else None,
                network=network,
                load=True,
                progress=False,
                cache_from=[_cache_spec(s) for s in cache_from] or None,
                cache_to=_cache_spec(cache_to) if cache_to else None,
            )
        else:
            image = engine.legacy.legacy_build(
                variant.context,
                file=variant.dockerfile,
                target=settings.target,
                build_args=dict(build_args),
                labels=dict(labels),
                tags=list(refs),
                network=network,
            )
    except DockerException as exc:
        msg = f"docker build exited with {exc.return_code}"
        raise StepFailed(msg, tail(exc.stderr or exc.stdout or "")) from None
    if not isinstance(image, Image):  # pragma: no cover - load=True always gives an image
        msg = "the build did not load an image"
        raise StepFailed(msg)
    return image

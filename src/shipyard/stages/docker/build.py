"""Building one variant's image on the engine, after its optional prepare step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

from python_on_whales import Image
from python_on_whales.exceptions import DockerException

from shipyard.stages.docker.engine import Engine
from shipyard.stages.docker.meta import Variant
from shipyard.stages.docker.steps import StepFailed, run_step, tail

__all__ = ["build_image", "run_prepare"]


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
    run_step(argv, cwd=root, what="prepare", env=env)


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

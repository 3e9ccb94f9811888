"""The `[tool.shipyard]` table `shipyard init` proposes: only what differs from the defaults."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from shipyard import config, matrix
from shipyard.adopt.detect import Detected
from shipyard.errors import ConfigError

__all__ = ["desired", "known_key"]


def known_key(*path: str) -> bool:
    """Whether `[tool.shipyard]` of this shipyard has the key `path` (a table may stand in)."""
    node: Mapping[str, Any] = config.schema()
    for part in path:
        properties = node.get("properties")
        if isinstance(properties, Mapping) and part in properties:
            node = properties[part]
        elif isinstance(node.get("additionalProperties"), Mapping):
            node = node["additionalProperties"]
        else:
            return False
    return True


def _meta(data: Mapping[str, Any], detected: Detected, requires: str | None) -> config.ProjectMeta:
    project = data.get("project") or {}
    optional = project.get("optional-dependencies") or {}
    return config.ProjectMeta(
        name=detected.name,
        version=project.get("version"),
        requires_python=requires,
        dependencies=tuple(project.get("dependencies") or ()),
        optional_dependencies={k: tuple(v) for k, v in optional.items()},
    )


def _sources(root: Path, data: Mapping[str, Any], detected: Detected) -> list[str] | None:
    default = config.detect_sources(root, _meta(data, detected, None))
    if detected.explicit_sources:
        wanted = detected.explicit_sources
    elif detected.source_dir not in (Path(), Path("src")):
        wanted = (detected.source_dir,)
    else:
        return None
    covered = default == (Path("src"),) and all(p.parts[0] == "src" for p in wanted)
    if covered or set(wanted) == set(default):
        return None
    return [p.as_posix() for p in wanted]


def _pythons(data: Mapping[str, Any], detected: Detected) -> tuple[list[str] | None, list[str]]:
    """matrix.python, when requires-python is kept somewhere shipyard's default does not read."""
    if (
        detected.requires_python is None
        or detected.requires_python_from == "project.requires-python"
    ):
        return None, []
    probe = config.Config(project=_meta(data, detected, detected.requires_python))
    try:
        pythons = matrix.python_versions(probe)
    except ConfigError:
        msg = f"{detected.requires_python_from} {detected.requires_python!r} is not a version range"
        return None, [msg]
    if not pythons:
        msg = (
            f"{detected.requires_python_from} allows none of {', '.join(matrix.SUPPORTED_PYTHONS)}"
        )
        return None, [msg]
    if pythons == matrix.SUPPORTED_PYTHONS:
        return None, []
    return list(pythons), []


def _variant(path: Path) -> str:
    name = path.name.lower()
    if name == "dockerfile":
        return path.parent.name if path.parent.name not in ("", "docker", ".docker") else "main"
    stem = name.removeprefix("dockerfile.").removesuffix(".dockerfile")
    return re.sub(r"[^a-z0-9_-]+", "-", stem) or "main"


def _docker(detected: Detected) -> dict[str, Any] | None:
    """Variants for Dockerfiles that are not where the docker stage looks by default."""
    usual = {Path("docker") / f"Dockerfile.{v}" for v in ("cpu", "gpu", "minimal")}
    if not detected.dockerfiles or usual & set(detected.dockerfiles):
        return None
    if not known_key("docker", "variants", "main", "dockerfile"):
        return None
    variants = {_variant(p): {"dockerfile": p.as_posix()} for p in detected.dockerfiles}
    return {"variants": variants}


def desired(
    root: Path, data: Mapping[str, Any], detected: Detected
) -> tuple[dict[str, Any], list[str]]:
    """The keys to write, nested as in TOML; and notes on what could not be expressed."""
    table: dict[str, Any] = {}
    notes: list[str] = []
    sources = _sources(root, data, detected)
    if sources:
        table["sources"] = sources
    if detected.tests is not None and detected.tests != config.detect_tests(root):
        table["tests"] = detected.tests.as_posix()

    test: dict[str, Any] = {}
    if detected.test_extras:
        test["extras"] = list(detected.test_extras)
    if detected.test_requirements:
        test["requirements"] = list(detected.test_requirements)
    if test:
        table["test"] = test

    pythons, more = _pythons(data, detected)
    notes += more
    if pythons:
        table["matrix"] = {"python": pythons}
    docker = _docker(detected)
    if docker:
        table["docker"] = docker
    return table, notes

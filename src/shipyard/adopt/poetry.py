"""Poetry's own notation, read for `shipyard init`: package locations and version constraints."""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["requirements", "sources", "specifier"]

_VERSION = re.compile(r"^(?P<op>\^|~(?!=)|)\s*(?P<version>\d+(?:\.\d+)*)(?P<star>\.\*)?$")


def _bump(parts: list[int], index: int) -> str:
    upper = [*parts[:index], parts[index] + 1]
    return ".".join(map(str, upper))


def _one(constraint: str) -> str:
    """One poetry constraint (`^1.2`, `~1.2`, `1.2.*`, `>=1,<2`, `1.2`) as a PEP 440 specifier."""
    text = constraint.strip()
    if text in ("", "*"):
        return ""
    match = _VERSION.match(text)
    if match is None:
        return text  # already PEP 440: >=1,<2 or ==1.2
    version = match["version"]
    parts = [int(p) for p in version.split(".")]
    if match["star"]:
        return f"=={version}.*"
    if match["op"] == "^":
        # The first non-zero part may not change: ^1.2 -> <2, ^0.3 -> <0.4, ^0.0.3 -> <0.0.4.
        index = next((i for i, p in enumerate(parts) if p != 0), len(parts) - 1)
        return f">={version},<{_bump(parts, index)}"
    if match["op"] == "~":
        index = 1 if len(parts) > 1 else 0
        return f">={version},<{_bump(parts, index)}"
    return f"=={version}"


def specifier(constraint: str) -> str:
    """A poetry constraint (with `||` alternatives taken as the widest) as a PEP 440 specifier."""
    alternatives = [_one(part) for part in constraint.split("||")]
    # PEP 440 has no "or": a union of ranges is widened to its lowest lower bound.
    if len(alternatives) > 1:
        lowest = sorted(a for a in alternatives if a.startswith(">="))
        return lowest[0].split(",")[0] if lowest else ""
    return ",".join(part.strip() for part in alternatives[0].split(",") if part.strip())


def requirements(deps: Mapping[str, Any]) -> tuple[tuple[str, ...], list[str]]:
    """A poetry dependency table as PEP 508 requirements, and the names that have no such form."""
    found: list[str] = []
    skipped: list[str] = []
    for name, spec in deps.items():
        if name == "python":
            continue
        if isinstance(spec, str):
            found.append(f"{name}{specifier(spec)}")
        elif isinstance(spec, Mapping) and "version" in spec:
            extras = spec.get("extras") or []
            suffix = f"[{','.join(extras)}]" if extras else ""
            found.append(f"{name}{suffix}{specifier(str(spec['version']))}")
        else:  # path, git or url dependencies, or several constraints by marker
            skipped.append(name)
    return tuple(found), skipped


def sources(packages: Any) -> tuple[Path | None, tuple[Path, ...] | None]:
    """(the common `from` directory, the package paths) of `[tool.poetry] packages`."""
    if not isinstance(packages, list) or not packages:
        return None, None
    paths = []
    for entry in packages:
        if isinstance(entry, Mapping) and isinstance(entry.get("include"), str):
            include = entry["include"].split("/")[0]
            if "*" not in include:
                paths.append(Path(str(entry.get("from") or ".")) / include)
    froms = {p.parent for p in paths}
    source_dir = next(iter(froms)) if len(froms) == 1 else None
    return (source_dir if source_dir != Path() else None), (tuple(paths) or None)

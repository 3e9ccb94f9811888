"""The dependencies a project declares: pyproject.toml, requirement files and lock files.

Each one keeps where it was found (the file and the TOML key or line), so
reports can name it and `monitor --apply` can write the new specifier back in
the same place.
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

__all__ = ["Declared", "Dependency", "Problem", "collect", "default_requirement_files"]

#: A key path inside pyproject.toml, such as ("project", "optional-dependencies", "test", 0).
TomlKey = tuple[str | int, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Dependency:
    name: str
    requirement: Requirement
    #: The declaration as written, kept so an update changes only the specifier's text.
    text: str
    #: The file it was declared in, relative to the project root.
    path: Path
    #: Where in the file: a TOML key path (pyproject.toml) or None for a line-based file.
    key: TomlKey | None = None
    line: int | None = None
    #: The exact version a lock file resolved it to.
    locked: Version | None = None

    @property
    def where(self) -> str:
        if self.key is not None:
            return f"{self.path}: " + ".".join(str(k) for k in self.key)
        return f"{self.path}:{self.line}" if self.line is not None else str(self.path)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Problem:
    """A declaration that could not be read; reported, never fatal."""

    where: str
    message: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Declared:
    dependencies: Sequence[Dependency]
    problems: Sequence[Problem]


# -- pyproject.toml ----------------------------------------------------------------------


def _pyproject_entries(data: Mapping[str, Any]) -> Iterator[tuple[TomlKey, Any]]:
    project = data.get("project") or {}
    for i, text in enumerate(project.get("dependencies") or ()):
        yield ("project", "dependencies", i), text
    for extra, items in (project.get("optional-dependencies") or {}).items():
        for i, text in enumerate(items or ()):
            yield ("project", "optional-dependencies", extra, i), text
    for group, items in (data.get("dependency-groups") or {}).items():
        for i, item in enumerate(items or ()):
            # PEP 735: a group may include another with {include-group = "name"}.
            if not isinstance(item, dict):
                yield ("dependency-groups", group, i), item


def _from_pyproject(root: Path) -> Iterator[Dependency | Problem]:
    path = Path("pyproject.toml")
    try:
        data = tomllib.loads((root / path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        yield Problem(where=str(path), message=f"cannot be read: {exc}")
        return
    for key, text in _pyproject_entries(data):
        where = f"{path}: " + ".".join(str(k) for k in key)
        if not isinstance(text, str):
            yield Problem(where=where, message=f"expected a requirement string, found {text!r}")
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement as exc:
            yield Problem(where=where, message=f"{text!r} is not a valid requirement: {exc}")
            continue
        yield Dependency(
            name=canonicalize_name(requirement.name),
            requirement=requirement,
            text=text,
            path=path,
            key=key,
        )


# -- requirement files -------------------------------------------------------------------


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines with continuations joined and comments removed, numbered from 1."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not pending:
            start = number
        line = raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        whole = pending + line
        pending = ""
        # pip: a comment starts at '#' at the line start or after whitespace.
        if whole.lstrip().startswith("#"):
            continue
        whole = whole.split(" #", 1)[0].split("\t#", 1)[0].strip()
        if whole:
            yield start, whole
    if pending.strip():
        yield start, pending.strip()


def _from_requirements(root: Path, path: Path) -> Iterator[Dependency | Problem]:
    text = (root / path).read_text(encoding="utf-8")
    for number, line in _logical_lines(text):
        where = f"{path}:{number}"
        if line.startswith("-"):
            continue  # an option line: -r, -c, -e, --index-url...
        # Per-requirement options (--hash=..., --config-settings) follow the requirement.
        spec = line.split(" --", 1)[0].strip()
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as exc:
            yield Problem(
                where=where, message=f"{spec!r} is not a requirement pip can parse: {exc}"
            )
            continue
        if requirement.url:
            continue  # a direct reference has no index to compare with
        locked = _exact_pin(requirement)
        yield Dependency(
            name=canonicalize_name(requirement.name),
            requirement=requirement,
            text=spec,
            path=path,
            line=number,
            locked=locked,
        )


def _exact_pin(requirement: Requirement) -> Version | None:
    specs = list(requirement.specifier)
    if len(specs) == 1 and specs[0].operator in ("==", "===") and "*" not in specs[0].version:
        try:
            return Version(specs[0].version)
        except InvalidVersion:
            return None
    return None


# -- lock files --------------------------------------------------------------------------


def _from_lock(root: Path, path: Path) -> Iterator[Dependency | Problem]:
    try:
        data = tomllib.loads((root / path).read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        yield Problem(where=str(path), message=f"cannot be read: {exc}")
        return
    # PEP 751 pylock.toml has [[packages]]; uv.lock has [[package]].
    entries = data.get("packages") or data.get("package") or []
    for i, entry in enumerate(entries):
        where = f"{path}: package {i}"
        name, version = entry.get("name"), entry.get("version")
        source = entry.get("source") or {}
        if not isinstance(name, str) or not isinstance(version, str):
            yield Problem(where=where, message="expected a name and a version")
            continue
        if "editable" in source or "virtual" in source or "directory" in source:
            continue  # the project itself or a local path
        try:
            requirement = Requirement(f"{name}=={version}")
        except InvalidRequirement as exc:
            yield Problem(where=where, message=f"{name} {version!r} is not a valid pin: {exc}")
            continue
        yield Dependency(
            name=canonicalize_name(name),
            requirement=requirement,
            text=str(requirement),
            path=path,
            key=("package", i),
            locked=_exact_pin(requirement),
        )


# -- all of them -------------------------------------------------------------------------


def default_requirement_files(root: Path) -> tuple[Path, ...]:
    found: list[Path] = []
    for pattern in ("requirements*.txt", "requirements/*.txt", "pylock*.toml", "uv.lock"):
        found += sorted(p.relative_to(root) for p in root.glob(pattern) if p.is_file())
    return tuple(found)


def collect(
    root: Path, *, files: Sequence[Path] | None = None, ignore: Sequence[str] = ()
) -> Declared:
    """Every dependency declared under `root`, skipping the `ignore`d names."""
    skip = {canonicalize_name(n) for n in ignore}
    items: list[Dependency | Problem] = list(_from_pyproject(root))
    for path in default_requirement_files(root) if files is None else files:
        if not (root / path).is_file():
            items.append(Problem(where=str(path), message="configured but not found"))
        elif path.suffix == ".toml" or path.name == "uv.lock":
            items += _from_lock(root, path)
        else:
            items += _from_requirements(root, path)
    return Declared(
        dependencies=[i for i in items if isinstance(i, Dependency) and i.name not in skip],
        problems=[i for i in items if isinstance(i, Problem)],
    )

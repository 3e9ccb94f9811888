"""Offline advisories: a directory of OSV records (JSON or YAML), matched per ecosystem.

The layout of the PyPA advisory database (`vulns/<package>/PYSEC-*.yaml`), of
the RustSec database's OSV export (`crates/<crate>/RUSTSEC-*.json`) and of OSV's
JSON exports all work: every `*.json`, `*.yaml` and `*.yml` file below the
directory is read. Two ecosystems are matched: `PyPI` (ranges of type
`ECOSYSTEM`, PEP 440 order, from `packaging`) and `crates.io` (ranges of type
`SEMVER` or `ECOSYSTEM`, SemVer 2.0.0 precedence, from `semver`), plus explicit
`versions` lists; severity comes from CVSS vectors.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, Protocol

import semver
import yaml
from cvss import CVSS2, CVSS3, CVSS4, CVSSError
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from shipyard.report import Severity

__all__ = [
    "ECOSYSTEMS",
    "Advisory",
    "Affected",
    "Ecosystem",
    "LoadResult",
    "Score",
    "load",
    "match",
    "score",
]

_SUFFIXES = {".json", ".yaml", ".yml"}
_PREFERRED_PREFIXES = ("PYSEC-", "RUSTSEC-", "GHSA-", "CVE-")


class MalformedAdvisory(ValueError):
    """One advisory file cannot be used; the message says why."""


class Ordered(Hashable, Protocol):
    """A version of one ecosystem: ordered among the versions of that ecosystem only."""

    def __lt__(self, other: Any, /) -> bool: ...
    def __le__(self, other: Any, /) -> bool: ...
    def __gt__(self, other: Any, /) -> bool: ...
    def __ge__(self, other: Any, /) -> bool: ...


# -- ecosystems --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Ecosystem:
    """How OSV's records of one ecosystem name packages and order versions."""

    #: OSV's `package.ecosystem`.
    name: str
    #: The `ranges[].type`s whose events are versions of this ecosystem.
    range_types: frozenset[str]
    #: The version scheme, for messages ("PEP 440", "SemVer").
    scheme: str
    #: Parses a version; raises ValueError when it is not one.
    parse: Callable[[str], Ordered]
    #: The name two spellings of one package share.
    canonical: Callable[[str], str]


def _pep440(text: str) -> Version:
    try:
        return Version(text)
    except InvalidVersion as exc:
        raise ValueError(str(exc)) from None


def _semver(text: str) -> semver.Version:
    # RustSec writes full versions; a bare "1.2" in a hand-written record means 1.2.0.
    return semver.Version.parse(text.strip().removeprefix("v"), optional_minor_and_patch=True)


def _crate_name(name: str) -> str:
    # crates.io treats `-` and `_` as one and ignores case when names collide.
    return name.strip().lower().replace("_", "-")


#: The ecosystems matched, by OSV name; other ecosystems' entries are left out.
ECOSYSTEMS: Mapping[str, Ecosystem] = {
    "PyPI": Ecosystem(
        name="PyPI",
        range_types=frozenset({"ECOSYSTEM"}),
        scheme="PEP 440",
        parse=_pep440,
        canonical=canonicalize_name,
    ),
    "crates.io": Ecosystem(
        name="crates.io",
        range_types=frozenset({"SEMVER", "ECOSYSTEM"}),
        scheme="SemVer",
        parse=_semver,
        canonical=_crate_name,
    ),
}


def parse_version(ecosystem: str, text: str) -> Ordered | None:
    """`text` as a version of `ecosystem`; None when it is not one."""
    try:
        return ECOSYSTEMS[ecosystem].parse(str(text))
    except ValueError:
        return None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Affected:
    """One `affected[]` entry for a package of a matched ecosystem."""

    package: str
    ecosystem: str = "PyPI"
    #: Each range is a list of (event, version) pairs; event is introduced/fixed/last_affected.
    ranges: tuple[tuple[tuple[str, Ordered | None], ...], ...] = ()
    versions: frozenset[Ordered] = frozenset()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Advisory:
    id: str
    aliases: tuple[str, ...] = ()
    summary: str = ""
    affected: tuple[Affected, ...] = ()
    vectors: tuple[str, ...] = ()
    source: Path

    @property
    def ids(self) -> tuple[str, ...]:
        return (self.id, *self.aliases)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Score:
    severity: Severity
    value: float | None = None
    vector: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class LoadResult:
    advisories: tuple[Advisory, ...]
    #: (file, reason) for every file that could not be used.
    problems: tuple[tuple[Path, str], ...]


# -- reading -----------------------------------------------------------------------------


def _read(path: Path) -> Any:
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".json":
        return json.loads(text)
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return yaml.load(text, Loader=loader)  # noqa: S506  # nosec B506 - a safe loader, see above


def _version(ecosystem: Ecosystem, value: Any, where: str) -> Ordered:
    try:
        return ecosystem.parse(str(value))
    except ValueError:
        msg = f"{where}: {value!r} is not a {ecosystem.scheme} version"
        raise MalformedAdvisory(msg) from None


def _events(ecosystem: Ecosystem, raw: Any) -> tuple[tuple[str, Ordered | None], ...]:
    if not isinstance(raw, list):
        msg = "ranges[].events is not a list"
        raise MalformedAdvisory(msg)
    events: list[tuple[str, Ordered | None]] = []
    for event in raw:
        if not isinstance(event, dict) or len(event) != 1:
            msg = f"event {event!r} is not a one-key mapping"
            raise MalformedAdvisory(msg)
        ((kind, value),) = event.items()
        if kind not in ("introduced", "fixed", "last_affected", "limit"):
            msg = f"unknown event {kind!r}"
            raise MalformedAdvisory(msg)
        if kind == "limit":
            continue
        zero = kind == "introduced" and str(value) == "0"
        at = None if zero else _version(ecosystem, value, kind)
        events.append((kind, at))
    return tuple(events)


def _affected(raw: Any) -> Iterator[Affected]:
    if not isinstance(raw, list):
        msg = "'affected' is not a list"
        raise MalformedAdvisory(msg)
    for entry in raw:
        package = entry.get("package") if isinstance(entry, dict) else None
        if not isinstance(package, dict) or "name" not in package:
            msg = "an 'affected' entry has no package name"
            raise MalformedAdvisory(msg)
        ecosystem = ECOSYSTEMS.get(str(package.get("ecosystem")))
        if ecosystem is None:
            continue
        ranges = tuple(
            _events(ecosystem, r.get("events"))
            for r in entry.get("ranges") or ()
            if isinstance(r, dict) and r.get("type") in ecosystem.range_types
        )
        versions = frozenset(
            _version(ecosystem, v, "versions") for v in entry.get("versions") or ()
        )
        yield Affected(
            package=ecosystem.canonical(str(package["name"])),
            ecosystem=ecosystem.name,
            ranges=ranges,
            versions=versions,
        )


def parse(data: Any, source: Path) -> Advisory | None:
    """One OSV record as an `Advisory`; None when it is withdrawn."""
    if not isinstance(data, dict):
        msg = "not an OSV record (expected a mapping at the top)"
        raise MalformedAdvisory(msg)
    if not isinstance(data.get("id"), str):
        msg = "no 'id'"
        raise MalformedAdvisory(msg)
    if data.get("withdrawn"):
        return None
    vectors = tuple(
        str(s["score"])
        for s in data.get("severity") or ()
        if isinstance(s, dict) and str(s.get("type", "")).startswith("CVSS")
    )
    summary = data.get("summary") or data.get("details") or ""
    return Advisory(
        id=data["id"],
        aliases=tuple(str(a) for a in data.get("aliases") or ()),
        summary=" ".join(str(summary).split())[:300],
        affected=tuple(_affected(data.get("affected") or [])),
        vectors=vectors,
        source=source,
    )


def load(directory: Path) -> LoadResult:
    """Every advisory below `directory`; unusable files are listed, not fatal."""
    advisories: list[Advisory] = []
    problems: list[tuple[Path, str]] = []
    files = sorted(p for p in directory.rglob("*") if p.suffix in _SUFFIXES and p.is_file())
    for path in files:
        try:
            advisory = parse(_read(path), path)
        except MalformedAdvisory as exc:
            problems.append((path, str(exc)))
            continue
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as exc:
            first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc)
            problems.append((path, f"unreadable ({first_line})"))
            continue
        if advisory is not None:
            advisories.append(advisory)
    return LoadResult(advisories=tuple(advisories), problems=tuple(problems))


# -- matching ----------------------------------------------------------------------------


def _in_range(
    version: Ordered, events: Sequence[tuple[str, Ordered | None]]
) -> tuple[bool, Ordered | None]:
    """OSV's range evaluation: whether `version` is affected, and the fix closing its span."""
    # "introduced: 0" (None) sorts before every version.
    known = [(kind, at) for kind, at in events if at is not None]
    ordered = [e for e in events if e[1] is None] + sorted(known, key=lambda e: e[1])
    affected = False
    for kind, at in ordered:
        if kind == "introduced":
            affected = affected or at is None or version >= at
        elif at is not None and (version >= at if kind == "fixed" else version > at):
            affected = False
    if not affected:
        return False, None
    later = [(kind, at) for kind, at in ordered if at is not None and at > version]
    closing = later[0] if later else None
    return True, closing[1] if closing and closing[0] == "fixed" else None


def match(
    advisory: Advisory, name: str, version: Ordered, *, ecosystem: str = "PyPI"
) -> list[Ordered] | None:
    """The fixed versions when `name` at `version` (of `ecosystem`) is affected, else None."""
    hit = False
    fixed: set[Ordered] = set()
    wanted = ECOSYSTEMS[ecosystem].canonical(name)
    for affected in advisory.affected:
        if affected.ecosystem != ecosystem or affected.package != wanted:
            continue
        if version in affected.versions:
            hit = True
        for events in affected.ranges:
            inside, fix = _in_range(version, events)
            hit = hit or inside
            if fix is not None:
                fixed.add(fix)
    return sorted(fixed) if hit else None


def score(vectors: Iterable[str]) -> Score:
    """The worst severity of the CVSS vectors (v2, v3.x, v4); unknown when none can be read."""
    best = Score(severity=Severity.UNKNOWN)
    for vector in vectors:
        try:
            if vector.startswith("CVSS:4"):
                cvss4 = CVSS4(vector)
                value, name = float(cvss4.base_score), str(cvss4.severity)
            elif vector.startswith("CVSS:3"):
                cvss3 = CVSS3(vector)
                value, name = float(cvss3.scores()[0]), str(cvss3.severities()[0])
            else:
                value = float(Decimal(str(CVSS2(vector).scores()[0])))
                name = "Low" if value < 4 else "Medium" if value < 7 else "High"  # noqa: PLR2004
        except (CVSSError, ValueError, KeyError, IndexError):
            continue
        severity = Severity.INFO if name == "None" else Severity(name.lower())
        if best.value is None or value > best.value:
            best = Score(severity=severity, value=value, vector=vector)
    return best


def primary_id(ids: Iterable[str]) -> str:
    """The id to show for one flaw known under several names: PYSEC or RUSTSEC, GHSA, CVE."""

    def rank(value: str) -> tuple[int, str]:
        for index, prefix in enumerate(_PREFERRED_PREFIXES):
            if value.upper().startswith(prefix):
                return index, value
        return len(_PREFERRED_PREFIXES), value

    return min(ids, key=rank)


def merge_aliases(groups: Iterable[set[str]]) -> list[set[str]]:
    """Merge id sets that share any id: CVE, GHSA and PYSEC of one flaw become one set."""
    merged: list[set[str]] = []
    for group in groups:
        overlapping = [m for m in merged if m & group]
        combined = set(group).union(*overlapping)
        merged = [m for m in merged if not m & group]
        merged.append(combined)
    return merged


def by_id(advisories: Iterable[Advisory]) -> Mapping[str, Advisory]:
    return {a.id: a for a in advisories}

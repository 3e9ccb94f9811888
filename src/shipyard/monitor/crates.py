"""Freshness of a Cargo project's dependencies: Cargo.toml against a crates index.

The index is read with Cargo's sparse protocol: `config.json` at its root, then
one file per crate (`1/a`, `2/ab`, `3/a/abc`, `ab/cd/abcd...`, names lowercased)
whose lines are the crate's published versions as JSON: `vers`, `yanked`, and
`pubtime` where the index records publication times. Yanked versions are never
proposed, pre-releases only when the requirement names one, and versions
younger than the cooldown only when the index gives no time at all.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import tomllib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import httpx
from semver import Version

from shipyard import __version__
from shipyard.errors import Unreachable
from shipyard.monitor.cargo_req import CargoRequirement, InvalidRequirement, breaking_part, widen
from shipyard.monitor.index import LookupFailed, assessment_json, parse_time

__all__ = [
    "CrateDependency",
    "CrateFreshness",
    "CrateRelease",
    "SparseIndex",
    "assess",
    "collect",
    "index_path",
]

MANIFEST = Path("Cargo.toml")
_TABLES = ("dependencies", "dev-dependencies", "build-dependencies")
_LEGACY = {"dev_dependencies": "dev-dependencies", "build_dependencies": "build-dependencies"}
_NOT_FOUND = (404, 410, 451)  # what a sparse index answers for a crate it does not have


@dataclasses.dataclass(frozen=True, kw_only=True)
class CrateDependency:
    """One crates.io dependency of Cargo.toml."""

    #: The crate's name on the index (`package = "..."` when the key renames it).
    name: str
    requirement: CargoRequirement
    #: Where in Cargo.toml: the table's key path and the dependency's key.
    table: tuple[str, ...]
    key: str
    path: Path = MANIFEST
    line: int | None = None
    #: The version Cargo.lock resolved it to, when there is one.
    locked: Version | None = None

    @property
    def where(self) -> str:
        return f"{self.path}: " + ".".join([*self.table, self.key])


@dataclasses.dataclass(frozen=True, kw_only=True)
class CrateRelease:
    version: Version
    yanked: bool
    published: dt.datetime | None = None

    def age_days(self, now: dt.datetime) -> float | None:
        if self.published is None:
            return None
        return (now - self.published).total_seconds() / 86400


@dataclasses.dataclass(frozen=True, kw_only=True)
class CrateFreshness:
    """What the index says about one dependency; shaped like a Python `Freshness`."""

    dependency: CrateDependency
    current: Version | None
    current_age_days: float | None
    newest: Version | None
    newest_age_days: float | None
    proposal: Version | None = None
    proposal_age_days: float | None = None
    behind: str | None = None
    in_cooldown: tuple[Version, ...] = ()
    #: The requirement to write in Cargo.toml, when the current one excludes the proposal.
    new_requirement: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.dependency.name,
            "ecosystem": "crates.io",
            "requirement": self.dependency.requirement.text,
            "where": self.dependency.where,
            **assessment_json(self),
        }


# -- Cargo.toml and Cargo.lock -----------------------------------------------------------


def _dependency_tables(manifest: Mapping[str, Any]) -> Iterator[tuple[tuple[str, ...], Any]]:
    for name, table in manifest.items():
        if name in _TABLES or name in _LEGACY:
            yield (name,), table
    for cfg, targets in (manifest.get("target") or {}).items():
        for name, table in (targets or {}).items():
            if name in _TABLES or name in _LEGACY:
                yield ("target", cfg, name), table
    workspace = manifest.get("workspace") or {}
    if isinstance(workspace.get("dependencies"), dict):
        yield ("workspace", "dependencies"), workspace["dependencies"]


def _locked(root: Path) -> dict[str, list[Version]]:
    try:
        data = tomllib.loads((root / "Cargo.lock").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return {}
    found: dict[str, list[Version]] = {}
    for package in data.get("package") or ():
        if not isinstance(package, dict) or "source" not in package:
            continue  # the workspace's own crates and path dependencies
        try:
            found.setdefault(str(package["name"]), []).append(Version.parse(package["version"]))
        except (KeyError, ValueError, TypeError):
            continue
    return found


def _entry(table: tuple[str, ...], key: str, value: Any) -> tuple[str, str] | str | None:
    """(crate name, requirement text) of a crates.io entry; a problem text; None to skip."""
    if isinstance(value, str):
        return key, value
    if not isinstance(value, dict):
        return f"{'.'.join([*table, key])}: expected a version string or a table"
    local = ("path", "git", "workspace", "registry", "registry-index")
    if any(k in value for k in local) or "version" not in value:
        return None  # a workspace, path, git or other-registry dependency
    return str(value.get("package") or key), str(value["version"])


def collect(root: Path, *, ignore: Sequence[str] = ()) -> tuple[list[CrateDependency], list[str]]:
    """The crates.io dependencies Cargo.toml declares, and what could not be read."""
    try:
        manifest = tomllib.loads((root / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [], []
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return [], [f"cannot be read: {exc}"]
    locked = _locked(root)
    skip = {name.lower().replace("_", "-") for name in ignore}
    found, problems = [], []
    for table, entries in _dependency_tables(manifest):
        for key, value in (entries or {}).items():
            entry = _entry(table, key, value)
            if entry is None:
                continue
            if isinstance(entry, str):
                problems.append(entry)
                continue
            name, text = entry
            if name.lower().replace("_", "-") in skip:
                continue
            try:
                requirement = CargoRequirement.parse(text)
            except InvalidRequirement as exc:
                problems.append(f"{'.'.join([*table, key])}: {exc}")
                continue
            pinned = [v for v in locked.get(name, ()) if requirement.matches(v)]
            found.append(
                CrateDependency(
                    name=name,
                    requirement=requirement,
                    table=table,
                    key=key,
                    locked=max(pinned) if pinned else None,
                )
            )
    return found, problems


# -- the sparse index --------------------------------------------------------------------


def index_path(name: str) -> str:
    """Where a crate's file lives in a sparse index: `1/a`, `3/s/syn`, `se/rd/serde`."""
    lower = name.lower()
    if len(lower) <= 2:  # noqa: PLR2004
        return f"{len(lower)}/{lower}"
    if len(lower) == 3:  # noqa: PLR2004
        return f"3/{lower[0]}/{lower}"
    return f"{lower[:2]}/{lower[2:4]}/{lower}"


def _release(line: str) -> CrateRelease | None:
    entry = json.loads(line)
    try:
        version = Version.parse(str(entry["vers"]))
    except (KeyError, ValueError, TypeError):
        return None
    published = entry.get("pubtime")
    return CrateRelease(
        version=version,
        yanked=bool(entry.get("yanked", False)),
        published=parse_time(published) if isinstance(published, str) else None,
    )


class SparseIndex:
    """A crates index read over HTTP with Cargo's sparse protocol."""

    def __init__(self, url: str, *, client: httpx.Client) -> None:
        self.url = url.removeprefix("sparse+").rstrip("/")
        self._client = client
        self._headers = {"User-Agent": f"shipyard/{__version__} (monitor)"}

    def probe(self) -> None:
        """Raise Unreachable when the index cannot be reached; read its `config.json`."""
        url = f"{self.url}/config.json"
        try:
            self._client.get(url, headers=self._headers, follow_redirects=True)
        except httpx.TransportError as exc:
            host = httpx.URL(self.url).host
            msg = f"the crates index at {host} cannot be reached ({type(exc).__name__})."
            raise Unreachable(msg) from None

    def releases(self, name: str) -> list[CrateRelease]:
        """Every published version of `name`, oldest first; LookupFailed when unreadable."""
        url = f"{self.url}/{index_path(name)}"
        try:
            response = self._client.get(url, headers=self._headers, follow_redirects=True)
        except httpx.TransportError as exc:
            msg = f"{url}: {type(exc).__name__} ({exc})"
            raise LookupFailed(msg) from None
        if response.status_code in _NOT_FOUND:
            msg = f"not found on the crates index ({url} answered {response.status_code})"
            raise LookupFailed(msg)
        if response.status_code != httpx.codes.OK:
            msg = f"{url} answered HTTP {response.status_code}"
            raise LookupFailed(msg)
        try:
            found = [_release(line) for line in response.text.splitlines() if line.strip()]
        except (json.JSONDecodeError, AttributeError) as exc:
            msg = f"{url} answered lines that are not sparse index JSON ({exc})"
            raise LookupFailed(msg) from None
        return sorted((r for r in found if r is not None), key=lambda r: r.version)


# -- one dependency ----------------------------------------------------------------------


def assess(
    dependency: CrateDependency,
    releases: Sequence[CrateRelease],
    *,
    now: dt.datetime,
    cooldown_days: int,
) -> CrateFreshness:
    """Compare one dependency with the published versions of its crate."""
    requirement = dependency.requirement
    pre = requirement.names_prerelease
    candidates = [r for r in releases if not r.yanked and (pre or not r.version.prerelease)]
    allowed = [r for r in candidates if requirement.matches(r.version)]
    current = dependency.locked or (allowed[-1].version if allowed else None)
    newest = candidates[-1] if candidates else None
    by_version = {r.version: r for r in releases}

    def age(version: Version | None) -> float | None:
        found = by_version.get(version) if version is not None else None
        return found.age_days(now) if found is not None else None

    def settled(release: CrateRelease) -> bool:
        # A version of unknown age is proposed: the index did not say it is young.
        days = release.age_days(now)
        return days is None or days >= cooldown_days

    settled_ones = [r for r in candidates if settled(r)]
    target = settled_ones[-1] if settled_ones else None
    base = CrateFreshness(
        dependency=dependency,
        current=current,
        current_age_days=age(current),
        newest=newest.version if newest else None,
        newest_age_days=age(newest.version if newest else None),
    )
    if target is None or (current is not None and target.version <= current):
        held = tuple(r.version for r in candidates if current is None or r.version > current)
        return dataclasses.replace(base, in_cooldown=held)
    excluded = not requirement.matches(target.version)
    return dataclasses.replace(
        base,
        proposal=target.version,
        proposal_age_days=target.age_days(now),
        behind=breaking_part(current, target.version),
        in_cooldown=tuple(r.version for r in candidates if r.version > target.version),
        new_requirement=widen(requirement.text, target.version) if excluded else None,
    )

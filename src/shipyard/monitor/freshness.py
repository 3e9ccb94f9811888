"""Dependency freshness: how far each declared dependency is behind its newest release.

Python's dependencies are looked up on the package index; a Cargo.toml's
crates.io dependencies on the crates index (see `crates.py`).

For each dependency the newest release its specifier allows is compared with
the newest release on the index that is not yanked, not a pre-release (unless
the specifier itself names one) and older than the cooldown. When the
specifier excludes that release, an update is proposed: a new specifier that
`monitor --apply` writes back.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from collections.abc import Sequence
from typing import Any, Literal

import httpx
from packaging.requirements import Requirement
from packaging.specifiers import Specifier, SpecifierSet
from packaging.version import Version

from shipyard.config import Config
from shipyard.monitor import crates, deps
from shipyard.monitor.index import LookupFailed, PackageIndex, Release, assessment_json
from shipyard.report import Finding, Severity, StageResult, Status

__all__ = ["Freshness", "assess", "check_freshness", "widen"]

Behind = Literal["major", "minor", "patch"]

STAGE = "freshness"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Freshness:
    """What the index says about one declared dependency."""

    dependency: deps.Dependency
    #: The release in use: the locked/pinned one, else the newest the specifier allows.
    current: Version | None
    current_age_days: float | None
    #: The newest release considered at all (cooldown ignored).
    newest: Version | None
    newest_age_days: float | None
    #: The release to move to: outside the cooldown and excluded by the specifier.
    proposal: Version | None = None
    proposal_age_days: float | None = None
    behind: Behind | None = None
    #: Newer releases held back by the cooldown.
    in_cooldown: tuple[Version, ...] = ()
    #: The requirement string with the widened specifier, when the specifier must change.
    new_requirement: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.dependency.name,
            "requirement": str(self.dependency.requirement),
            "where": self.dependency.where,
            **assessment_json(self),
        }


# -- comparing versions ------------------------------------------------------------------


def behind(current: Version | None, target: Version) -> Behind:
    if current is None or current.major != target.major:
        return "major"
    if current.minor != target.minor:
        return "minor"
    return "patch"


def _next_bound(bound: str, target: Version) -> str:
    """An exclusive upper bound past `target`, capping the same part `bound` did.

    `<2` and `<2.0` cap the major version (-> `<3`, `<3.0`); `<2.1` caps the minor one.
    """
    release = Version(bound).release
    significant = max((i + 1 for i, part in enumerate(release) if part), default=1)
    parts = [*target.release[:significant], *([0] * significant)][:significant]
    parts[-1] += 1
    parts += [0] * (len(release) - significant)
    return ".".join(str(p) for p in parts)


def _widen_one(spec: Specifier, target: Version) -> Specifier:  # noqa: PLR0911
    if spec.contains(target, prereleases=True):
        return spec
    op, bound = spec.operator, spec.version
    if op in ("==", "===") and not bound.endswith(".*"):
        return Specifier(f"{op}{target}")
    if op in ("==", "!=") and bound.endswith(".*"):
        if op == "!=":
            return spec
        width = len(Version(bound[:-2]).release)
        return Specifier("==" + ".".join(str(p) for p in target.release[:width]) + ".*")
    if op == "<":
        return Specifier(f"<{_next_bound(bound, target)}")
    if op == "<=":
        return Specifier(f"<={target}")
    if op == "~=":
        width = len(Version(bound).release)
        return Specifier("~=" + ".".join(str(p) for p in [*target.release, 0, 0][:width]))
    return spec  # >=, > and != never exclude a newer release on purpose


def _replace_spec(text: str, old: Specifier, new: Specifier) -> str | None:
    pattern = re.compile(rf"{re.escape(old.operator)}\s*{re.escape(old.version)}(?![\w.*])")
    if not pattern.search(text):
        return None
    return pattern.sub(lambda _: str(new), text, count=1)


def widen(text: str, requirement: Requirement, target: Version) -> str | None:
    """`text` with its specifier changed just enough to allow `target`, spacing and
    order kept; None when that cannot be done."""
    pairs = [(s, _widen_one(s, target)) for s in requirement.specifier]
    if not SpecifierSet(",".join(str(new) for _, new in pairs)).contains(target, prereleases=True):
        return None  # an explicit != or a lower bound above it: the author's choice
    for old, new in pairs:
        if new == old:
            continue
        changed = _replace_spec(text, old, new)
        if changed is None:
            widened = Requirement(str(requirement))
            widened.specifier = SpecifierSet(",".join(str(new) for _, new in pairs))
            return str(widened)
        text = changed
    return text


# -- one dependency ----------------------------------------------------------------------


def _candidates(releases: Sequence[Release], specifier: SpecifierSet) -> list[Release]:
    # Pre-releases only when the pin is one itself (packaging: a specifier naming a
    # pre-release turns `prereleases` on).
    allow_pre = bool(specifier.prereleases)
    return [r for r in releases if not r.yanked and (allow_pre or not r.version.is_prerelease)]


def _settled(release: Release, now: dt.datetime, cooldown_days: int) -> bool:
    age = release.age_days(now)
    return age is None or age >= cooldown_days


def assess(
    dependency: deps.Dependency,
    releases: Sequence[Release],
    *,
    now: dt.datetime,
    cooldown_days: int,
) -> Freshness:
    """Compare one dependency with the releases of its project."""
    specifier = dependency.requirement.specifier
    candidates = _candidates(releases, specifier)
    by_version = {r.version: r for r in releases}
    allowed = [r for r in candidates if specifier.contains(r.version, prereleases=True)]
    current = dependency.locked or (allowed[-1].version if allowed else None)
    newest = candidates[-1] if candidates else None

    def age(version: Version | None) -> float | None:
        found = by_version.get(version) if version is not None else None
        return found.age_days(now) if found is not None else None

    # Releases of unknown age are proposed: the index did not say they are young.
    settled = [r for r in candidates if _settled(r, now, cooldown_days)]
    target = settled[-1] if settled else None
    base = Freshness(
        dependency=dependency,
        current=current,
        current_age_days=age(current),
        newest=newest.version if newest else None,
        newest_age_days=age(newest.version if newest else None),
    )
    if target is None or (current is not None and target.version <= current):
        held = tuple(r.version for r in candidates if current is None or r.version > current)
        return dataclasses.replace(base, in_cooldown=held)
    held = tuple(r.version for r in candidates if r.version > target.version)
    needs_change = dependency.locked is not None or not specifier.contains(
        target.version, prereleases=True
    )
    new = widen(dependency.text, dependency.requirement, target.version) if needs_change else None
    return dataclasses.replace(
        base,
        proposal=target.version,
        proposal_age_days=target.age_days(now),
        behind=behind(current, target.version),
        in_cooldown=held,
        new_requirement=new,
    )


# -- the stage ---------------------------------------------------------------------------


def _finding(item: Freshness | crates.CrateFreshness, cooldown_days: int) -> Finding:
    dep = item.dependency
    age = f", {item.proposal_age_days:.0f} days old" if item.proposal_age_days is not None else ""
    message = f"{dep.name} {item.current or 'none'} -> {item.proposal} ({item.behind}{age})"
    if item.in_cooldown:
        held = ", ".join(str(v) for v in item.in_cooldown)
        message += f"; {held} inside the {cooldown_days}-day cooldown"
    if item.new_requirement:
        what = "requirement" if isinstance(item, crates.CrateFreshness) else "specifier"
        message += f"; {what} becomes {item.new_requirement!r}"
    severity = Severity.MEDIUM if item.behind == "major" else Severity.LOW
    return Finding(
        rule=f"freshness.{item.behind}",
        message=message,
        severity=severity,
        path=str(dep.path),
        line=dep.line,
        tool="shipyard",
        extra={**item.to_json(), "fingerprint": f"{dep.name}|{item.proposal}|{dep.where}"},
    )


def _problem(where: str, message: str, rule: str) -> Finding:
    """A finding at `where`: 'file:line' or 'file: key.path'."""
    path, _, rest = where.partition(":")
    rest = rest.strip()
    line = int(rest) if rest.isdigit() else None
    prefix = f"{rest}: " if rest and line is None else ""
    return Finding(
        rule=rule,
        message=prefix + message,
        severity=Severity.LOW,
        path=path,
        line=line,
        tool="shipyard",
    )


def _python_items(
    config: Config, client: httpx.Client, now: dt.datetime
) -> tuple[list[Freshness], list[Finding], int]:
    """Python's declared dependencies against the package index; (items, problems, count)."""
    settings = config.monitor
    index = PackageIndex(settings.index_url, api=settings.index_api, client=client)
    declared = deps.collect(config.root, files=settings.requirements, ignore=settings.ignore)
    problems = [_problem(p.where, p.message, "freshness.unreadable") for p in declared.problems]
    results: list[Freshness] = []
    for dependency in declared.dependencies:
        try:
            releases = index.releases(dependency.name)
        except LookupFailed as exc:
            problems.append(
                _problem(dependency.where, f"{dependency.name}: {exc}", "freshness.lookup")
            )
            continue
        if not releases:
            message = f"{dependency.name}: the index lists no release files"
            problems.append(_problem(dependency.where, message, "freshness.lookup"))
            continue
        results.append(assess(dependency, releases, now=now, cooldown_days=settings.cooldown_days))
    return results, problems, len(declared.dependencies)


def _crate_items(
    config: Config, client: httpx.Client, now: dt.datetime
) -> tuple[list[crates.CrateFreshness], list[Finding], int]:
    """Cargo.toml's crates.io dependencies against the crates index; (items, problems, count)."""
    settings = config.monitor
    declared, unreadable = crates.collect(config.root, ignore=settings.ignore)
    where = crates.MANIFEST.as_posix()
    problems = [_problem(f"{where}: ", text, "freshness.unreadable") for text in unreadable]
    index = crates.SparseIndex(settings.crates_index_url, client=client)
    results = []
    for dependency in declared:
        try:
            releases = index.releases(dependency.name)
        except LookupFailed as exc:
            problems.append(
                _problem(dependency.where, f"{dependency.name}: {exc}", "freshness.lookup")
            )
            continue
        results.append(
            crates.assess(dependency, releases, now=now, cooldown_days=settings.cooldown_days)
        )
    return results, problems, len(declared)


def check_freshness(
    config: Config,
    *,
    client: httpx.Client,
    now: dt.datetime | None = None,
) -> tuple[StageResult, list[Freshness | crates.CrateFreshness]]:
    """Look every declared dependency up on its index: Python's, and Cargo.toml's crates."""
    started = time.monotonic()
    now = now or dt.datetime.now(dt.UTC)
    python, findings, declared = _python_items(config, client, now)
    results: list[Freshness | crates.CrateFreshness] = [*python]
    if (config.root / crates.MANIFEST).is_file():
        found, problems, count = _crate_items(config, client, now)
        results += found
        findings += problems
        declared += count

    outdated = [r for r in results if r.proposal is not None]
    errors = len(findings)
    findings += [_finding(r, config.monitor.cooldown_days) for r in outdated]
    status = Status.WARNED if findings else Status.PASSED
    metrics = {
        "freshness.dependencies": declared,
        "freshness.outdated": len(outdated),
        "freshness.major": sum(1 for r in outdated if r.behind == "major"),
        "freshness.errors": errors,
    }
    result = StageResult(
        stage=STAGE,
        status=status,
        reason=_reason(len(results), outdated, errors),
        duration=time.monotonic() - started,
        findings=findings,
        metrics=metrics,
    )
    return result, results


def _reason(
    checked: int, outdated: Sequence[Freshness | crates.CrateFreshness], errors: int
) -> str:
    parts = [f"{checked} checked", f"{len(outdated)} with an update"]
    majors = sum(1 for r in outdated if r.behind == "major")
    if majors:
        parts.append(f"{majors} major")
    if errors:
        parts.append(f"{errors} could not be read")
    return ", ".join(parts)

"""Versions: release tags, the next version, and the one mapping to PEP 440.

Tags and changelog headings carry SemVer 2.0.0 versions (`1.3.0-rc.1`); Python
metadata carries their PEP 440 twin (`1.3.0rc1`). `to_pep440` is the only
place that turns one into the other, and `from_pep440` its inverse.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from typing import TYPE_CHECKING

import packaging.version
from semver import Version

from shipyard.errors import NothingToRelease, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from shipyard.release.commits import Commit

__all__ = [
    "DEFAULT_TYPES",
    "PRE_TOKENS",
    "Bump",
    "Tag",
    "Version",
    "apply_bump",
    "bump_for",
    "check_pre",
    "effective_bump",
    "format_tag",
    "from_pep440",
    "next_version",
    "parse_version",
    "release_tags",
    "to_pep440",
]

#: How each commit type moves the version; a breaking change is always major.
DEFAULT_TYPES: Mapping[str, str] = {
    "feat": "minor",
    "fix": "patch",
    "perf": "patch",
    "revert": "patch",
}

#: The pre-release labels `--pre` accepts, in release order (SemVer and PEP 440 agree).
PRE_TOKENS = ("alpha", "beta", "rc")

_PEP440_PRE = {"alpha": "a", "a": "a", "beta": "b", "b": "b", "rc": "rc", "c": "rc"}
_SEMVER_PRE = {"a": "alpha", "b": "beta", "rc": "rc"}


class Bump(enum.IntEnum):
    NONE = 0
    PATCH = 1
    MINOR = 2
    MAJOR = 3

    @classmethod
    def named(cls, name: str) -> Bump:
        return cls[name.upper()]


@dataclasses.dataclass(frozen=True, kw_only=True, order=False)
class Tag:
    name: str
    version: Version


def parse_version(text: str) -> Version | None:
    """A SemVer version, or None when `text` is not one."""
    try:
        return Version.parse(text)
    except (ValueError, TypeError):
        return None


def to_pep440(version: Version) -> str:
    """`1.3.0-rc.1` -> `1.3.0rc1`; the single SemVer -> PEP 440 mapping."""
    text = f"{version.major}.{version.minor}.{version.patch}"
    if version.prerelease:
        label, _, number = version.prerelease.partition(".")
        if not number:
            number = "0"
        if not number.isdigit() or (label not in _PEP440_PRE and label != "dev"):
            msg = (
                f"pre-release '{version.prerelease}' of {version} has no PEP 440 form; "
                f"use one of {', '.join(PRE_TOKENS)} followed by a number, like rc.1."
            )
            raise UsageError(msg)
        text += f".dev{int(number)}" if label == "dev" else f"{_PEP440_PRE[label]}{int(number)}"
    if version.build:
        text += "+" + re.sub(r"[^A-Za-z0-9.]", ".", version.build)
    return text


def from_pep440(text: str) -> Version:
    """`1.3.0rc1` -> `1.3.0-rc.1`; the inverse of `to_pep440`."""
    try:
        parsed = packaging.version.Version(text)
    except packaging.version.InvalidVersion:
        msg = f"'{text}' is not a version (PEP 440)."
        raise UsageError(msg) from None
    if parsed.epoch or parsed.post is not None or len(parsed.release) > 3:  # noqa: PLR2004
        msg = f"'{text}' has no SemVer form (epoch, post-release or more than 3 numbers)."
        raise UsageError(msg)
    major, minor, patch = (*parsed.release, 0, 0)[:3]
    prerelease = None
    if parsed.pre is not None:
        prerelease = f"{_SEMVER_PRE[parsed.pre[0]]}.{parsed.pre[1]}"
    elif parsed.dev is not None:
        prerelease = f"dev.{parsed.dev}"
    return Version(major, minor, patch, prerelease=prerelease, build=parsed.local)


def _tag_pattern(tag_format: str) -> re.Pattern[str]:
    prefix, _, suffix = tag_format.partition("{version}")
    return re.compile(f"^{re.escape(prefix)}(?P<version>.+){re.escape(suffix)}$")


def format_tag(version: Version, tag_format: str) -> str:
    return tag_format.replace("{version}", str(version))


def release_tags(names: Iterable[str], tag_format: str) -> tuple[Tag, ...]:
    """The tags that match `tag_format` and hold a SemVer version, lowest version first."""
    pattern = _tag_pattern(tag_format)
    tags = []
    for name in names:
        match = pattern.match(name)
        version = parse_version(match["version"]) if match else None
        if version is not None:
            tags.append(Tag(name=name, version=version))
    return tuple(sorted(tags, key=lambda tag: tag.version))


def bump_for(commits: Iterable[Commit], types: Mapping[str, str]) -> Bump:
    """The largest bump the commits ask for."""
    merged = {**DEFAULT_TYPES, **{k.lower(): v for k, v in types.items()}}
    bump = Bump.NONE
    for commit in commits:
        wanted = Bump.MAJOR if commit.breaking else Bump.named(merged.get(commit.type, "none"))
        bump = max(bump, wanted)
    return bump


def check_pre(pre: str | None) -> None:
    """Refuse a `--pre` label other than alpha, beta or rc (before anything is planned)."""
    if pre is not None and pre not in PRE_TOKENS:
        msg = f"--pre expects one of {', '.join(PRE_TOKENS)}, got '{pre}'."
        raise UsageError(msg)


def effective_bump(version: Version, bump: Bump, *, major_on_zero: bool = False) -> Bump:
    """The bump `apply_bump` makes: on 0.x a breaking change moves the minor unless
    `major_on_zero`."""
    if bump is Bump.MAJOR and version.major == 0 and not major_on_zero:
        return Bump.MINOR
    return bump


def apply_bump(version: Version, bump: Bump, *, major_on_zero: bool = False) -> Version:
    """Bump a final version; on 0.x a breaking change moves the minor unless `major_on_zero`."""
    bump = effective_bump(version, bump, major_on_zero=major_on_zero)
    if bump is Bump.MAJOR:
        return version.bump_major()
    if bump is Bump.MINOR:
        return version.bump_minor()
    if bump is Bump.PATCH:
        return version.bump_patch()
    return version


def _pre_number(version: Version, token: str) -> int | None:
    label, _, number = (version.prerelease or "").partition(".")
    return int(number) if label == token and number.isdigit() else None


def _target(tags: Sequence[Tag], bump: Bump, *, first: Version, major_on_zero: bool) -> Version:
    """The final version all changes since the last final release imply."""
    finals = [tag.version for tag in tags if not tag.version.prerelease]
    if not finals:
        target = first.finalize_version()
    elif bump is Bump.NONE:
        msg = f"nothing to release: no releasable change since {max(finals)}."
        raise NothingToRelease(msg)
    else:
        target = apply_bump(max(finals), bump, major_on_zero=major_on_zero)
    # Stay above a pre-release that already aims higher (1.4.0-rc.1 after a 2.0.0-rc.1).
    highest = tags[-1].version if tags else None
    if highest is not None and highest.prerelease and highest.finalize_version() > target:
        target = highest.finalize_version()
    return target


def next_version(
    tags: Sequence[Tag],
    bump: Bump,
    *,
    recent: Bump | None = None,
    pre: str | None = None,
    first: Version | None = None,
    major_on_zero: bool = False,
) -> Version:
    """The version a release makes now.

    `tags` are sorted (`release_tags`); `bump` covers the commits since the last
    final release, `recent` those since the highest tag (default: `bump`);
    `first` is the project's version, used when nothing was released yet.
    """
    target = _target(tags, bump, first=first or Version(0, 1, 0), major_on_zero=major_on_zero)
    existing = {tag.version for tag in tags}
    highest = tags[-1].version if tags else None
    if pre is None:
        if target in existing:
            msg = f"nothing to release: {target} is already released."
            raise NothingToRelease(msg)
        return target

    check_pre(pre)
    taken = [n for v in existing if v.finalize_version() == target for n in [_pre_number(v, pre)]]
    numbers = [n for n in taken if n is not None]
    # A further rc of the same target only when something changed since the last one.
    unchanged = (recent if recent is not None else bump) is Bump.NONE
    same_line = highest is not None and highest.finalize_version() == target
    if unchanged and same_line and highest is not None and _pre_number(highest, pre) is not None:
        msg = f"nothing to release: no releasable change since {highest}."
        raise NothingToRelease(msg)
    candidate = target.replace(prerelease=f"{pre}.{max(numbers, default=0) + 1}")
    if highest is not None and candidate <= highest:
        msg = (
            f"{candidate} would sort below the existing release {highest}; pre-releases "
            f"go alpha, beta, rc: use --pre {highest.prerelease.partition('.')[0]} or later."
            if highest.prerelease
            else f"{candidate} would sort below the existing release {highest}."
        )
        raise UsageError(msg)
    return candidate

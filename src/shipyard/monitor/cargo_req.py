"""Cargo's version requirements (`"1.2"`, `"^0.3"`, `"~1.4.2"`, `">=1, <3"`, `"1.*"`).

What a requirement matches follows Cargo's rules (the `semver` crate's `VersionReq`):
a bare version is a caret requirement, `^` allows changes that leave the leftmost
non-zero part alone, `~` allows patch changes (minor ones when only the major is
given), missing parts of a comparison are wildcards, and a pre-release matches
only when a comparator names a pre-release of the same major.minor.patch.
Versions are SemVer 2.0.0 versions from the `semver` package.
"""

from __future__ import annotations

import dataclasses
import re

from semver import Version

__all__ = ["CargoRequirement", "InvalidRequirement", "breaking_part", "widen"]

_COMPARATOR = re.compile(
    r"(?P<op>=|>=|<=|>|<|~|\^)?\s*"
    r"(?P<major>\d+|[*xX])(?:\.(?P<minor>\d+|[*xX]))?(?:\.(?P<patch>\d+|[*xX]))?"
    r"(?:-(?P<pre>[0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?"
)
_WILD = ("*", "x", "X")


class InvalidRequirement(ValueError):
    """Text that is not a Cargo version requirement."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Comparator:
    op: str
    major: int | None
    minor: int | None
    patch: int | None
    pre: str | None

    @property
    def parts(self) -> int:
        """How many of major, minor, patch are given (0 for `*`)."""
        return sum(p is not None for p in (self.major, self.minor, self.patch))

    def version(self) -> Version:
        return Version(self.major or 0, self.minor or 0, self.patch or 0, prerelease=self.pre)


def _bump(version: Version, parts: int) -> Version:
    """The first version past every version starting with `version`'s first `parts` parts."""
    if parts <= 1:
        return Version(version.major + 1, 0, 0)
    if parts == 2:  # noqa: PLR2004
        return Version(version.major, version.minor + 1, 0)
    return Version(version.major, version.minor, version.patch + 1)


def _caret_parts(comparator: _Comparator) -> int:
    """How many leading parts `^` keeps fixed: up to the first non-zero one that is given."""
    given = [p for p in (comparator.major, comparator.minor, comparator.patch) if p is not None]
    for index, part in enumerate(given):
        if part != 0:
            return index + 1
    return len(given)


def _bounds(c: _Comparator) -> tuple[Version | None, bool, Version | None, bool]:  # noqa: PLR0911
    """(lower, lower inclusive, upper, upper inclusive) of one comparator."""
    low, parts = c.version(), c.parts
    exact = parts == 3  # noqa: PLR2004
    match c.op:
        case "*":
            return None, True, None, False
        case "=":
            return (low, True, low, True) if exact else (low, True, _bump(low, parts), False)
        case ">":
            return (low, False, None, False) if exact else (_bump(low, parts), True, None, False)
        case ">=":
            return low, True, None, False
        case "<":
            return None, True, low, False
        case "<=":
            return (None, True, low, True) if exact else (None, True, _bump(low, parts), False)
        case "~":
            return low, True, _bump(low, max(min(parts, 2), 1)), False
        case _:  # "^"
            return low, True, _bump(low, _caret_parts(c)), False


def _comparator(text: str, requirement: str) -> _Comparator:
    text = text.strip()
    if text in _WILD:
        return _Comparator(op="*", major=None, minor=None, patch=None, pre=None)
    found = _COMPARATOR.fullmatch(text)
    if found is None:
        msg = f"{requirement!r} is not a Cargo version requirement ({text!r})"
        raise InvalidRequirement(msg)
    parts: list[int | None] = []
    for name in ("major", "minor", "patch"):
        value = found[name]
        if value is None or value in _WILD or (parts and parts[-1] is None):
            parts.append(None)  # a wildcard, and everything after it
        else:
            parts.append(int(value))
    op = found["op"] or "^"
    if op == "^" and any(found[n] in _WILD for n in ("major", "minor", "patch") if found[n]):
        op = "="  # `1.*` and `1.2.x` mean `=1`, `=1.2`
    if parts[0] is None:
        return _Comparator(op="*", major=None, minor=None, patch=None, pre=None)
    major, minor, patch = parts
    return _Comparator(op=op, major=major, minor=minor, patch=patch, pre=found["pre"])


@dataclasses.dataclass(frozen=True)
class CargoRequirement:
    """A parsed requirement: comma-separated comparators that must all hold."""

    text: str
    comparators: tuple[_Comparator, ...]

    @classmethod
    def parse(cls, text: str) -> CargoRequirement:
        items = text.split(",")
        if not text.strip() or any(not part.strip() for part in items):
            msg = f"{text!r} is not a Cargo version requirement"
            raise InvalidRequirement(msg)
        return cls(text, tuple(_comparator(part, text) for part in items))

    @property
    def names_prerelease(self) -> bool:
        return any(c.pre for c in self.comparators)

    def matches(self, version: Version) -> bool:
        for comparator in self.comparators:
            low, low_in, high, high_in = _bounds(comparator)
            if low is not None and (version < low or (version == low and not low_in)):
                return False
            if high is not None and (version > high or (version == high and not high_in)):
                return False
        if version.prerelease:
            # Cargo: a pre-release only matches a comparator naming one of the same release.
            release = (version.major, version.minor, version.patch)
            return any(
                c.pre and (c.major, c.minor or 0, c.patch or 0) == release for c in self.comparators
            )
        return True


def breaking_part(current: Version | None, target: Version) -> str:
    """Cargo's compatibility: which part of `target` breaks with `current`.

    The leftmost non-zero part is the breaking one: 1.2 -> 2.0 and 0.3 -> 0.4 are
    "major", 1.2 -> 1.3 "minor", the rest "patch".
    """
    if current is None or current.major != target.major:
        return "major"
    if current.major == 0 and current.minor != target.minor:
        return "major"
    if current.minor != target.minor:
        return "minor"
    return "patch"


def widen(text: str, target: Version) -> str | None:
    """A requirement like `text` (same operator and precision) that allows `target`.

    `"1.2"` -> `"2.0"`, `"^0.3.1"` -> `"^0.4.0"`, `"=1.0.5"` -> `"=2.3.1"`; None when
    `text` is a range or a wildcard that cannot be widened by rewriting one version.
    """
    requirement = CargoRequirement.parse(text)
    if len(requirement.comparators) != 1:
        return None
    (comparator,) = requirement.comparators
    if comparator.op not in ("^", "~", "=") or comparator.pre:
        return None
    found = _COMPARATOR.fullmatch(text.strip())
    if found is None or any(found[n] in _WILD for n in ("major", "minor", "patch") if found[n]):
        return None
    release = [target.major, target.minor, target.patch][: comparator.parts]
    operator = found["op"] or ""
    return operator + ".".join(str(p) for p in release)

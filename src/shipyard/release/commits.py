"""Conventional Commits 1.0.0: parse commit messages and sort a range of commits.

A message is `type(scope)!: description`, then an optional body and optional
footers (`Token: value` or `Token #value`, git-trailer style). `BREAKING CHANGE:`
and `BREAKING-CHANGE:` footers, or a `!` before the colon, mark a breaking
change. Types and footer tokens are case-insensitive, except the breaking
tokens, which the specification wants in upper case. A message that does not
follow the format is counted as non-conventional; it never raises.
"""

from __future__ import annotations

import dataclasses
import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Iterable

__all__ = [
    "BREAKING_TOKENS",
    "Commit",
    "CommitLog",
    "Footer",
    "RawCommit",
    "classify",
    "parse",
]

BREAKING_TOKENS = ("BREAKING CHANGE", "BREAKING-CHANGE")

_HEADER = re.compile(
    r"^(?P<type>[A-Za-z][A-Za-z0-9_-]*)"
    r"(?:\((?P<scope>[^()\r\n]+)\))?"
    r"(?P<bang>!)?"
    r": (?P<description>\S.*?)\s*$"
)
_FOOTER = re.compile(
    r"^(?P<token>BREAKING CHANGE|[A-Za-z0-9][A-Za-z0-9-]*)(?P<sep>: | #)(?P<value>.*)$"
)
_GIT_REVERT = re.compile(r'^Revert "(?P<header>.+)"\s*$')
_REVERTS_SHA = re.compile(r"This reverts commit (?P<sha>[0-9a-f]{7,40})")
_SHA = re.compile(r"^[0-9a-f]{7,40}$")


@dataclasses.dataclass(frozen=True, kw_only=True)
class RawCommit:
    """One commit as git gives it."""

    sha: str
    message: str
    parents: tuple[str, ...] = ()

    @property
    def is_merge(self) -> bool:
        return len(self.parents) > 1

    @property
    def summary(self) -> str:
        lines = self.message.strip().splitlines()
        return lines[0] if lines else ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Footer:
    token: str
    value: str

    @property
    def breaking(self) -> bool:
        return self.token in BREAKING_TOKENS


@dataclasses.dataclass(frozen=True, kw_only=True)
class Commit:
    """A conventional commit; `type` is lower-cased, the rest is kept as written."""

    type: str
    description: str
    scope: str | None = None
    bang: bool = False
    body: str = ""
    footers: tuple[Footer, ...] = ()
    sha: str = ""
    #: The commit this one reverts (a sha or its header), for `revert` commits.
    reverts: str | None = None

    @property
    def breaking(self) -> bool:
        return self.bang or any(f.breaking for f in self.footers)

    @property
    def breaking_notes(self) -> tuple[str, ...]:
        """What the breaking footers say, or the description when only `!` marks it."""
        notes = tuple(f.value for f in self.footers if f.breaking)
        if notes or not self.bang:
            return notes
        return (self.description,)

    @property
    def short_sha(self) -> str:
        return self.sha[:7]

    def footer(self, token: str) -> tuple[str, ...]:
        """Values of the footers named `token` (case-insensitive), in order."""
        wanted = token.casefold()
        return tuple(f.value for f in self.footers if f.token.casefold() == wanted)


@dataclasses.dataclass(frozen=True, kw_only=True)
class CommitLog:
    """A range of commits, sorted: what counts, what does not, what was skipped."""

    commits: tuple[Commit, ...] = ()
    non_conventional: tuple[RawCommit, ...] = ()
    merges_skipped: int = 0
    #: Pairs of commits that cancel out inside the range (a change and its revert).
    cancelled: tuple[Commit, ...] = ()


def _split_footers(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split the lines after the header into body and footer lines.

    Footers start at the first paragraph whose first line is a footer; a footer's
    value runs on (blank lines included) until the next footer line.
    """
    for index, line in enumerate(lines):
        starts_paragraph = index == 0 or not lines[index - 1].strip()
        if starts_paragraph and _FOOTER.match(line):
            return lines[:index], lines[index:]
    return lines, []


def _parse_footers(lines: list[str]) -> tuple[Footer, ...]:
    parsed: list[tuple[str, list[str]]] = []
    for line in lines:
        match = _FOOTER.match(line)
        if match:
            value = match["value"] if match["sep"] == ": " else "#" + match["value"]
            parsed.append((match["token"], [value]))
        elif parsed:
            parsed[-1][1].append(line)
    return tuple(Footer(token=token, value="\n".join(value).strip()) for token, value in parsed)


def _reverted(header: str, body: str, footers: tuple[Footer, ...]) -> str | None:
    found = _REVERTS_SHA.search(body)
    if found:
        return found["sha"]
    for footer in footers:
        if footer.token.casefold() == "refs" and _SHA.match(footer.value):
            return footer.value
    return header or None


def parse(message: str, *, sha: str = "") -> Commit | None:
    """Parse one commit message; None when it is not a conventional commit."""
    lines = message.strip("\r\n").splitlines()
    if not lines:
        return None
    header, rest = lines[0], lines[1:]
    body_lines, footer_lines = _split_footers(rest)
    body = "\n".join(body_lines).strip("\n")
    footers = _parse_footers(footer_lines)

    # git's own revert message wraps the reverted header: Revert "feat: x"
    git_revert = _GIT_REVERT.match(header)
    if git_revert:
        return Commit(
            type="revert",
            description=git_revert["header"],
            body=body,
            footers=footers,
            sha=sha,
            reverts=_reverted(git_revert["header"], body, footers),
        )

    match = _HEADER.match(header)
    if not match:
        return None
    kind = match["type"].lower()
    return Commit(
        type=kind,
        scope=match["scope"].strip() if match["scope"] else None,
        bang=bool(match["bang"]),
        description=match["description"],
        body=body,
        footers=footers,
        sha=sha,
        reverts=_reverted(match["description"], body, footers) if kind == "revert" else None,
    )


def _cancel_reverts(commits: list[Commit]) -> tuple[list[Commit], list[Commit]]:
    """Drop each revert whose target lies in the same range, and that target."""
    kept = list(commits)
    cancelled: list[Commit] = []
    for revert in [c for c in commits if c.reverts]:
        target = next(
            (
                c
                for c in kept
                if c is not revert and c.sha and c.sha.startswith(revert.reverts or "-")
            ),
            None,
        )
        if target is not None and revert in kept:
            kept.remove(revert)
            kept.remove(target)
            cancelled += [target, revert]
    return kept, cancelled


def classify(raw: Iterable[RawCommit], *, include_merges: bool = False) -> CommitLog:
    """Sort `raw` (newest first, as git logs it) into conventional and other commits."""
    commits: list[Commit] = []
    others: list[RawCommit] = []
    merges = 0
    for item in raw:
        if item.is_merge and not include_merges:
            merges += 1
            continue
        parsed = parse(item.message, sha=item.sha)
        if parsed is None:
            others.append(item)
        else:
            commits.append(parsed)
    kept, cancelled = _cancel_reverts(commits)
    return CommitLog(
        commits=tuple(kept),
        non_conventional=tuple(others),
        merges_skipped=merges,
        cancelled=tuple(cancelled),
    )

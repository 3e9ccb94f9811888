"""The changelog: the section a release adds, in Keep a Changelog style, and where it goes.

A section lists the release's commits grouped by type (breaking changes first),
with scopes in bold, and links to the commits and the compare view when the
project's web address is known. It is inserted under "Unreleased" (after the
notes people wrote there), or above the newest release, or at the end; the
rest of the file stays byte for byte. The section's text, minus its heading,
is the GitHub release body.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Mapping, Sequence

    from shipyard.release.commits import Commit

__all__ = [
    "BREAKING_TITLE",
    "DEFAULT_SECTIONS",
    "NEW_FILE_HEADER",
    "find_section",
    "insert_section",
    "release_body",
    "render_section",
]

#: Commit type -> section heading; types not listed (docs, chore, ci...) are left out.
DEFAULT_SECTIONS: Mapping[str, str] = {
    "feat": "Added",
    "fix": "Fixed",
    "perf": "Performance",
    "revert": "Reverted",
    "deprecate": "Deprecated",
    "security": "Security",
}
BREAKING_TITLE = "Breaking changes"

NEW_FILE_HEADER = """\
# Changelog

All notable changes to this project are documented in this file.

The format is based on [Keep a Changelog](https://keepachangelog.com/en/1.1.0/),
and this project adheres to [Semantic Versioning](https://semver.org/spec/v2.0.0.html).

## [Unreleased]

"""

_HEADING = re.compile(r"^##(?!#)\s")
_UNRELEASED = re.compile(r"^##\s+\[?unreleased\]?", re.IGNORECASE)
_FENCE = re.compile(r"^\s*(```|~~~)")


def _entry(commit: Commit, *, web_url: str | None) -> str:
    scope = f"**{commit.scope}:** " if commit.scope else ""
    refs = [commit.short_sha] if commit.sha else []
    if web_url and commit.sha:
        refs = [f"[{commit.short_sha}]({web_url}/commit/{commit.sha})"]
    refs += [f"refs {ref}" for ref in commit.footer("refs")]
    suffix = f" ({', '.join(refs)})" if refs else ""
    return f"- {scope}{commit.description}{suffix}"


def _breaking_entry(commit: Commit, *, web_url: str | None) -> str:
    lines = [_entry(commit, web_url=web_url)]
    for note in commit.breaking_notes:
        if note != commit.description:
            lines += ["", *(f"  {line}" if line else "" for line in note.splitlines())]
    return "\n".join(lines)


def _heading(version: str, *, date: dt.date, compare_url: str | None) -> str:
    title = f"[{version}]({compare_url})" if compare_url else f"[{version}]"
    return f"## {title} - {date.isoformat()}"


def render_section(
    version: str,
    commits: Sequence[Commit],
    *,
    date: dt.date,
    sections: Mapping[str, str] | None = None,
    web_url: str | None = None,
    compare_url: str | None = None,
) -> str:
    """The markdown section for `version` (SemVer), ending in one newline."""
    titles = {**DEFAULT_SECTIONS, **{k.lower(): v for k, v in (sections or {}).items()}}
    ordered = list(reversed(commits))  # git lists newest first; read them oldest first
    groups: dict[str, list[str]] = {BREAKING_TITLE: []}
    groups.update({title: [] for title in titles.values() if title})
    for commit in ordered:
        if commit.breaking:
            groups[BREAKING_TITLE].append(_breaking_entry(commit, web_url=web_url))
        elif titles.get(commit.type):
            groups[titles[commit.type]].append(_entry(commit, web_url=web_url))

    parts = [_heading(version, date=date, compare_url=compare_url)]
    for title, entries in groups.items():
        if entries:
            parts += [f"### {title}", "\n".join(entries)]
    if len(parts) == 1:
        parts.append("No user-facing changes.")
    return "\n\n".join(parts) + "\n"


def _headings(lines: Sequence[str]) -> Iterable[int]:
    """Indexes of the `## ` headings, ignoring fenced code blocks."""
    fenced = False
    for index, line in enumerate(lines):
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and _HEADING.match(line):
            yield index


def _offset(lines: Sequence[str], index: int) -> int:
    return sum(len(line) for line in lines[:index])


def _insertion_point(text: str) -> int:
    lines = text.splitlines(keepends=True)
    headings = list(_headings(lines))
    unreleased = next((i for i in headings if _UNRELEASED.match(lines[i])), None)
    if unreleased is None:
        return _offset(lines, headings[0]) if headings else len(text)
    later = [i for i in headings if i > unreleased]
    return _offset(lines, later[0]) if later else len(text)


def insert_section(text: str, section: str) -> str:
    """`text` (a whole changelog, or "" for a new one) with `section` added; nothing removed."""
    if not text:
        text = NEW_FILE_HEADER
    newline = "\r\n" if "\r\n" in text else "\n"
    position = _insertion_point(text)
    before, after = text[:position], text[position:]
    # Only add: a blank line before the section and one after it, where missing.
    plain = before.replace("\r\n", "\n")
    if not plain or plain.endswith("\n\n"):
        lead = ""
    elif plain.endswith("\n"):
        lead = newline
    else:
        lead = newline * 2
    tail = newline if after else ""
    body = section.replace("\n", newline)
    return f"{before}{lead}{body}{tail}{after}"


def find_section(text: str, version: str) -> str | None:
    """The section of `version` already in the changelog (heading included), if any."""
    lines = text.splitlines(keepends=True)
    heading = re.compile(rf"^##\s+\[?{re.escape(version)}\]?(?:\(|\s|$)")
    headings = list(_headings(lines))
    for position, index in enumerate(headings):
        if heading.match(lines[index]):
            end = headings[position + 1] if position + 1 < len(headings) else len(lines)
            return "".join(lines[index:end]).replace("\r\n", "\n").rstrip("\n") + "\n"
    return None


def release_body(section: str) -> str:
    """The section without its heading: the text of the GitHub release."""
    _, _, rest = section.partition("\n")
    return rest.strip("\n") + "\n"

from __future__ import annotations

import datetime as dt
import textwrap

import pytest

from shipyard.release.changelog import (
    NEW_FILE_HEADER,
    find_section,
    insert_section,
    release_body,
    render_section,
)
from shipyard.release.commits import RawCommit, classify

DAY = dt.date(2024, 5, 1)


def _commits(*messages: str):
    # `messages` oldest first; the n-th gets the sha "nnnn..."; git logs newest first.
    raw = [RawCommit(sha=f"{i:x}" * 40, message=m) for i, m in enumerate(messages, start=1)]
    return classify(reversed(raw)).commits


def test_section_groups_breaking_first_with_scopes_and_links() -> None:
    commits = _commits(
        "fix(cli): exit code on ^C",
        "feat(api)!: drop v1\n\nBREAKING CHANGE: clients must send v2 headers.\nRefs: #12",
        "docs: typo",
        "feat: add --json\n\nRefs: #7",
        "perf: cache the index",
    )
    section = render_section(
        "2.0.0",
        commits,
        date=DAY,
        web_url="https://github.com/o/r",
        compare_url="https://github.com/o/r/compare/v1.4.2...v2.0.0",
    )
    link = "https://github.com/o/r/commit/"
    assert section == textwrap.dedent(f"""\
        ## [2.0.0](https://github.com/o/r/compare/v1.4.2...v2.0.0) - 2024-05-01

        ### Breaking changes

        - **api:** drop v1 ([2222222]({link}{"2" * 40}), refs #12)

          clients must send v2 headers.

        ### Added

        - add --json ([4444444]({link}{"4" * 40}), refs #7)

        ### Fixed

        - **cli:** exit code on ^C ([1111111]({link}{"1" * 40}))

        ### Performance

        - cache the index ([5555555]({link}{"5" * 40}))
        """)


def test_section_without_remote_and_with_custom_sections() -> None:
    commits = _commits("docs: explain x", "chore: bump deps", "feat: y")
    section = render_section(
        "0.2.0", commits, date=DAY, sections={"docs": "Documentation", "feat": "Features"}
    )
    assert section == textwrap.dedent("""\
        ## [0.2.0] - 2024-05-01

        ### Features

        - y (3333333)

        ### Documentation

        - explain x (1111111)
        """)


def test_section_with_nothing_visible() -> None:
    section = render_section("0.1.0", _commits("chore: init"), date=DAY)
    assert section == "## [0.1.0] - 2024-05-01\n\nNo user-facing changes.\n"


SECTION = "## [1.1.0] - 2024-05-01\n\n### Added\n\n- x\n"


def test_insert_after_unreleased_notes_keeps_everything_else() -> None:
    text = (
        "# Changelog\n\nIntro.\n\n## [Unreleased]\n\n- a hand-written note\n\n"
        "## [1.0.0] - 2024-01-01\n\n- first\n\n[1.0.0]: https://example.invalid\n"
    )
    new = insert_section(text, SECTION)
    position = text.index("## [1.0.0]")
    assert new == text[:position] + SECTION + "\n" + text[position:]


def test_insert_at_top_without_unreleased() -> None:
    text = "# Changelog\n\n## 1.0.0\n\n- first\n"
    assert insert_section(text, SECTION) == "# Changelog\n\n" + SECTION + "\n## 1.0.0\n\n- first\n"


def test_insert_into_file_without_sections_or_final_newline() -> None:
    assert insert_section("# Changelog", SECTION) == "# Changelog\n\n" + SECTION
    assert insert_section("# Changelog\n", SECTION) == "# Changelog\n\n" + SECTION


def test_insert_keeps_crlf_and_ignores_headings_in_code_fences() -> None:
    text = "# Changelog\r\n\r\n```\r\n## not a heading\r\n```\r\n\r\n## [0.9.0]\r\n- old\r\n"
    new = insert_section(text, SECTION)
    position = text.index("## [0.9.0]")
    assert new == text[:position] + SECTION.replace("\n", "\r\n") + "\r\n" + text[position:]


def test_new_file() -> None:
    assert insert_section("", SECTION) == NEW_FILE_HEADER + SECTION


@pytest.mark.parametrize("heading", ["## [1.1.0] - 2024-05-01", "## [1.1.0](https://x/c) - d"])
def test_find_section_and_release_body(heading: str) -> None:
    text = f"# C\n\n## [Unreleased]\n\n{heading}\r\n\r\n- x\r\n\r\n## [1.0.0]\n- y\n"
    section = find_section(text, "1.1.0")
    assert section == f"{heading}\n\n- x\n"
    assert release_body(section) == "- x\n"
    assert find_section(text, "1.1") is None
    assert find_section(text, "1.0.0") == "## [1.0.0]\n- y\n"

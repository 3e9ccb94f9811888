from __future__ import annotations

import pytest

from shipyard.release.commits import Commit, RawCommit, classify, parse


def test_header_with_type_scope_and_bang() -> None:
    commit = parse("feat(api)!: drop the v1 endpoints", sha="a" * 40)
    assert commit is not None
    assert (commit.type, commit.scope, commit.bang) == ("feat", "api", True)
    assert commit.description == "drop the v1 endpoints"
    assert commit.breaking
    assert commit.breaking_notes == ("drop the v1 endpoints",)
    assert commit.short_sha == "aaaaaaa"


@pytest.mark.parametrize("header", ["FEAT: x", "Feat: x", "fEaT: x"])
def test_types_are_case_insensitive(header: str) -> None:
    commit = parse(header)
    assert commit is not None
    assert commit.type == "feat"


@pytest.mark.parametrize(
    "message",
    [
        "",
        "\n\n",
        "update readme",
        "feat:missing space",
        "feat : space before colon",
        "feat(): empty scope",
        "feat: ",
        "Merge branch 'x' into main",
        "fixup! feat: x",
        "(api): no type",
    ],
)
def test_non_conventional_messages_are_none(message: str) -> None:
    assert parse(message) is None


def test_multi_paragraph_body_and_footers() -> None:
    message = (
        "fix(parser): handle CRLF\n"
        "\n"
        "First paragraph of the body\n"
        "wraps over two lines.\n"
        "\n"
        "Second paragraph.\n"
        "\n"
        "Reviewed-by: Ada\n"
        "Refs: #12\n"
        "Closes #34\n"
    )
    commit = parse(message)
    assert commit is not None
    assert commit.body == (
        "First paragraph of the body\nwraps over two lines.\n\nSecond paragraph."
    )
    assert [(f.token, f.value) for f in commit.footers] == [
        ("Reviewed-by", "Ada"),
        ("Refs", "#12"),
        ("Closes", "#34"),
    ]
    assert commit.footer("refs") == ("#12",)
    assert commit.footer("CLOSES") == ("#34",)
    assert not commit.breaking


@pytest.mark.parametrize("token", ["BREAKING CHANGE", "BREAKING-CHANGE"])
def test_breaking_footer(token: str) -> None:
    commit = parse(f"feat: x\n\nsome body\n\n{token}: the config moved\nRefs: #1")
    assert commit is not None
    assert commit.breaking
    assert not commit.bang
    assert commit.breaking_notes == ("the config moved",)
    assert commit.body == "some body"


def test_breaking_footer_must_be_upper_case() -> None:
    commit = parse("feat: x\n\nbreaking change: lower case is body text")
    assert commit is not None
    assert not commit.breaking
    assert commit.body == "breaking change: lower case is body text"


def test_breaking_footer_value_runs_over_paragraphs_until_next_footer() -> None:
    commit = parse(
        "refactor!: rename\n\nBREAKING CHANGE: `run` is now `start`.\n\n"
        "Update your scripts.\nRefs: #9"
    )
    assert commit is not None
    assert commit.breaking_notes == ("`run` is now `start`.\n\nUpdate your scripts.",)
    assert commit.footer("Refs") == ("#9",)
    assert commit.body == ""


def test_crlf_messages() -> None:
    commit = parse("feat(ui): x\r\n\r\nbody\r\n\r\nBREAKING CHANGE: y\r\n")
    assert commit is not None
    assert commit.body == "body"
    assert commit.breaking_notes == ("y",)


def test_git_revert_message() -> None:
    sha = "1234567890abcdef1234567890abcdef12345678"
    commit = parse(f'Revert "feat: add x"\n\nThis reverts commit {sha}.\n')
    assert commit is not None
    assert commit.type == "revert"
    assert commit.description == "feat: add x"
    assert commit.reverts == sha


def test_conventional_revert_with_refs_footer() -> None:
    commit = parse("revert: let us never again speak of the noodle incident\n\nRefs: 676104e")
    assert commit is not None
    assert commit.type == "revert"
    assert commit.reverts == "676104e"


def _raw(sha: str, message: str, parents: int = 1) -> RawCommit:
    return RawCommit(sha=sha, message=message, parents=tuple(f"p{i}" for i in range(parents)))


def test_classify_counts_non_conventional_and_skips_merges() -> None:
    log = classify(
        [
            _raw("c3", "Merge pull request #3 from x/y", parents=2),
            _raw("c2", "wip"),
            _raw("c1", "fix: a"),
        ]
    )
    assert [c.sha for c in log.commits] == ["c1"]
    assert [c.sha for c in log.non_conventional] == ["c2"]
    assert log.merges_skipped == 1


def test_classify_can_include_merges() -> None:
    log = classify([_raw("m", "feat: merged change", parents=2)], include_merges=True)
    assert [c.sha for c in log.commits] == ["m"]
    assert log.merges_skipped == 0


def test_revert_inside_the_range_cancels_its_target() -> None:
    target = "a" * 40
    log = classify(
        [
            _raw("b" * 40, f'Revert "feat: x"\n\nThis reverts commit {target}.'),
            _raw(target, "feat: x"),
            _raw("c" * 40, "fix: y"),
        ]
    )
    assert [c.description for c in log.commits] == ["y"]
    assert {c.sha for c in log.cancelled} == {target, "b" * 40}


def test_revert_of_an_older_release_stays() -> None:
    log = classify([_raw("b" * 40, f'Revert "feat: x"\n\nThis reverts commit {"d" * 40}.')])
    assert [c.type for c in log.commits] == ["revert"]
    assert log.cancelled == ()


def test_garbage_never_raises() -> None:
    for message in ["\x00\x01", ":", "!: x", "a" * 10_000, "feat(x: y", "\n".join(["x:"] * 50)]:
        assert parse(message) is None or isinstance(parse(message), Commit)

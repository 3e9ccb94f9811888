from __future__ import annotations

import pytest

from shipyard.errors import ExitCode, NothingToRelease, UsageError
from shipyard.release.commits import parse
from shipyard.release.semver import (
    Bump,
    Version,
    apply_bump,
    bump_for,
    check_pre,
    effective_bump,
    format_tag,
    from_pep440,
    next_version,
    release_tags,
    to_pep440,
)


def _commits(*messages: str):
    parsed = [parse(m) for m in messages]
    assert all(parsed)
    return parsed


def _next(tags: list[str], *messages: str, **kwargs) -> str:
    bump = bump_for(_commits(*messages), {})
    return str(next_version(release_tags(tags, "v{version}"), bump, **kwargs))


# -- the examples ---------------------------------------------------------------


def test_breaking_feature_after_1_4_2_gives_2_0_0() -> None:
    assert _next(["v1.4.2"], "fix: a", "feat(api)!: b", "docs: c") == "2.0.0"


def test_breaking_footer_on_zero_bumps_minor_unless_major_on_zero() -> None:
    message = "feat: x\n\nBREAKING CHANGE: y"
    assert _next(["v0.9.1"], message) == "0.10.0"
    assert _next(["v0.9.1"], message, major_on_zero=True) == "1.0.0"


def test_last_release_is_ordered_by_version_not_string() -> None:
    tags = release_tags(["v1.10.0", "v1.9.0", "v1.10.0-rc.1", "latest"], "v{version}")
    assert [t.name for t in tags] == ["v1.9.0", "v1.10.0-rc.1", "v1.10.0"]
    assert tags[-1].version == Version(1, 10, 0)


# -- tags -------------------------------------------------------------------------------


def test_other_tag_formats_are_ignored() -> None:
    names = ["v2.0.0", "pkg-v1.2.0", "pkg-v1.10.0", "pkg-vnext", "pkg-v1.2"]
    tags = release_tags(names, "pkg-v{version}")
    assert [t.name for t in tags] == ["pkg-v1.2.0", "pkg-v1.10.0"]
    assert format_tag(Version(1, 11, 0), "pkg-v{version}") == "pkg-v1.11.0"


# -- bumps ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "bump"),
    [
        (["docs: a", "chore: b", "test: c"], Bump.NONE),
        (["docs: a", "perf: b"], Bump.PATCH),
        (["fix: a", "feat: b"], Bump.MINOR),
        (["fix!: a"], Bump.MAJOR),
        (["chore: a\n\nBREAKING-CHANGE: b"], Bump.MAJOR),
    ],
)
def test_bump_for(messages: list[str], bump: Bump) -> None:
    assert bump_for(_commits(*messages), {}) is bump


def test_type_map_is_configurable_and_case_insensitive() -> None:
    commits = _commits("DOCS: a")
    assert bump_for(commits, {"docs": "patch"}) is Bump.PATCH
    assert bump_for(_commits("feat: a"), {"feat": "none"}) is Bump.NONE


def test_apply_bump() -> None:
    assert apply_bump(Version(1, 2, 3), Bump.PATCH) == Version(1, 2, 4)
    assert apply_bump(Version(1, 2, 3), Bump.MINOR) == Version(1, 3, 0)
    assert apply_bump(Version(1, 2, 3), Bump.MAJOR) == Version(2, 0, 0)
    assert apply_bump(Version(0, 2, 3), Bump.MAJOR) == Version(0, 3, 0)
    assert apply_bump(Version(0, 2, 3), Bump.MINOR) == Version(0, 3, 0)


# -- next version -----------------------------------------------------------------------


def test_nothing_releasable_raises_with_its_exit_code() -> None:
    with pytest.raises(NothingToRelease, match=r"since 1\.4\.2") as info:
        _next(["v1.4.2"], "docs: a", "chore: b")
    assert info.value.code is ExitCode.NOTHING_TO_RELEASE


def test_first_release_is_the_project_version() -> None:
    assert str(next_version((), Bump.NONE, first=Version(0, 1, 0))) == "0.1.0"
    assert str(next_version((), Bump.MINOR, first=from_pep440("1.0.0rc2"))) == "1.0.0"
    assert str(next_version((), Bump.NONE, pre="rc", first=Version(1, 0, 0))) == "1.0.0-rc.1"


def test_pre_release_sequence_then_final() -> None:
    tags = ["v1.2.0"]
    assert _next(tags, "feat: a", pre="rc") == "1.3.0-rc.1"
    tags.append("v1.3.0-rc.1")
    assert _next(tags, "feat: a", "fix: b", pre="rc") == "1.3.0-rc.2"
    tags.append("v1.3.0-rc.2")
    assert _next(tags, "feat: a", "fix: b") == "1.3.0"


def test_pre_release_targets_all_changes_since_last_final() -> None:
    # After 1.3.1-rc.1 a new feature gives 1.4.0-rc.1, not 1.3.1-rc.2.
    tags = ["v1.3.0", "v1.3.1-rc.1"]
    assert _next(tags, "fix: a", "feat: b", pre="rc") == "1.4.0-rc.1"


def test_pre_release_is_above_every_existing_release() -> None:
    # A 2.0.0-rc.1 exists (its breaking change was reverted); a feature still goes above it.
    tags = ["v1.3.0", "v2.0.0-rc.1"]
    assert _next(tags, "feat: b", pre="rc") == "2.0.0-rc.2"
    with pytest.raises(UsageError, match=r"below the existing release 2\.0\.0-rc\.1"):
        _next(tags, "feat: b", pre="beta")


def test_no_new_change_since_last_rc_is_nothing_to_release() -> None:
    tags = release_tags(["v1.2.0", "v1.3.0-rc.1"], "v{version}")
    with pytest.raises(NothingToRelease, match=r"since 1\.3\.0-rc\.1"):
        next_version(tags, Bump.MINOR, recent=Bump.NONE, pre="rc")
    # ...but promoting the rc to the final, or to a later label, is a release.
    assert str(next_version(tags, Bump.MINOR, recent=Bump.NONE)) == "1.3.0"


def test_unknown_pre_token_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="alpha, beta, rc"):
        _next(["v1.0.0"], "fix: a", pre="nightly")


# -- PEP 440 ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("semver", "pep440"),
    [
        ("1.3.0", "1.3.0"),
        ("1.3.0-rc.1", "1.3.0rc1"),
        ("1.3.0-rc.12", "1.3.0rc12"),
        ("2.0.0-beta.2", "2.0.0b2"),
        ("2.0.0-alpha.1", "2.0.0a1"),
        ("0.1.0-dev.3", "0.1.0.dev3"),
    ],
)
def test_pep440_round_trip(semver: str, pep440: str) -> None:
    version = Version.parse(semver)
    assert to_pep440(version) == pep440
    assert from_pep440(pep440) == version


def test_pep440_short_forms() -> None:
    assert to_pep440(Version.parse("1.0.0-a.1")) == "1.0.0a1"
    assert to_pep440(Version.parse("1.0.0-rc")) == "1.0.0rc0"
    assert from_pep440("1.2") == Version(1, 2, 0)


@pytest.mark.parametrize("bad", ["1.0.0-nightly.1", "1.0.0-rc.x"])
def test_pep440_rejects_labels_it_cannot_map(bad: str) -> None:
    with pytest.raises(UsageError, match="no PEP 440 form"):
        to_pep440(Version.parse(bad))


@pytest.mark.parametrize("bad", ["1.0.0.post1", "1!1.0", "1.2.3.4", "banana"])
def test_from_pep440_rejects_what_semver_cannot_say(bad: str) -> None:
    with pytest.raises(UsageError):
        from_pep440(bad)


def test_check_pre_refuses_unknown_labels_before_anything_else() -> None:
    check_pre(None)
    check_pre("rc")
    with pytest.raises(UsageError, match=r"--pre expects one of alpha, beta, rc, got 'foo'"):
        check_pre("foo")


def test_effective_bump_on_zero() -> None:
    zero, one = Version(0, 4, 1), Version(1, 0, 0)
    assert effective_bump(zero, Bump.MAJOR) is Bump.MINOR
    assert effective_bump(zero, Bump.MAJOR, major_on_zero=True) is Bump.MAJOR
    assert effective_bump(one, Bump.MAJOR) is Bump.MAJOR
    assert effective_bump(zero, Bump.PATCH) is Bump.PATCH

"""Cargo.toml freshness: Cargo's requirement rules, the sparse index layout, the assessment."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from semver import Version

from shipyard.monitor import crates
from shipyard.monitor.cargo_req import CargoRequirement, InvalidRequirement, breaking_part, widen

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("requirement", "version", "matches"),
    [
        ("1.2", "1.9.0", True),  # a bare version is a caret requirement
        ("1.2", "2.0.0", False),
        ("1.2", "1.1.9", False),
        ("^0.2.3", "0.2.9", True),  # 0.x: the minor is the breaking part
        ("^0.2.3", "0.3.0", False),
        ("^0.0.3", "0.0.4", False),  # 0.0.x: every release breaks
        ("^0.0", "0.0.9", True),
        ("^0", "0.9.0", True),
        ("~1.2.3", "1.2.9", True),
        ("~1.2.3", "1.3.0", False),
        ("~1", "1.9.0", True),
        ("1.*", "1.5.0", True),
        ("1.2.*", "1.3.0", False),
        ("*", "3.0.0", True),
        ("=1.2.3", "1.2.4", False),
        ("=1.2", "1.2.7", True),
        (">1.2", "1.2.9", False),  # >1.2 means >=1.3.0
        (">1.2", "1.3.0", True),
        ("<=1.2", "1.2.9", True),
        ("<=1.2", "1.3.0", False),
        (">= 1.2.0, < 1.5", "1.4.9", True),
        (">= 1.2.0, < 1.5", "1.5.0", False),
        ("1.0", "2.0.0-alpha.1", False),  # pre-releases only when named
        (">=1.0.0-alpha", "1.0.0-beta", True),
        ("^1.0.0-alpha", "1.1.0-beta", False),  # named for 1.0.0 only
    ],
)
def test_requirements_follow_cargo(requirement: str, version: str, matches: bool) -> None:
    assert CargoRequirement.parse(requirement).matches(Version.parse(version)) is matches


@pytest.mark.parametrize("text", ["", "abc", "1.2.3.4", ">=1,", "1 2", "^^1"])
def test_what_is_not_a_requirement_says_so(text: str) -> None:
    with pytest.raises(InvalidRequirement, match="is not a Cargo version requirement"):
        CargoRequirement.parse(text)


def test_widening_keeps_the_operator_and_the_precision() -> None:
    target = Version.parse("2.3.1")
    assert widen("1.2", target) == "2.3"
    assert widen("^0.3.1", target) == "^2.3.1"
    assert widen("=1.0.5", target) == "=2.3.1"
    assert widen("~1", target) == "~2"
    assert widen(">=1, <2", target) is None  # a range: the author's choice
    assert widen("1.*", target) is None


def test_the_breaking_part_is_the_leftmost_non_zero_one() -> None:
    v = Version.parse
    assert breaking_part(v("0.3.1"), v("0.4.0")) == "major"
    assert breaking_part(v("1.3.1"), v("2.0.0")) == "major"
    assert breaking_part(v("1.3.1"), v("1.4.0")) == "minor"
    assert breaking_part(v("0.3.1"), v("0.3.2")) == "patch"
    assert breaking_part(None, v("0.3.2")) == "major"


def test_sparse_index_paths() -> None:
    assert crates.index_path("a") == "1/a"
    assert crates.index_path("ab") == "2/ab"
    assert crates.index_path("Syn") == "3/s/syn"
    assert crates.index_path("serde_json") == "se/rd/serde_json"


MANIFEST = """
[package]
name = "app"
version = "0.1.0"

[dependencies]
serde = "1.0"
json = { package = "serde_json", version = "~1.0.100", features = ["std"] }
local = { path = "../local" }
both = { path = "../both", version = "1" }
from-git = { git = "https://example.invalid/x.git" }
shared = { workspace = true }
private = { version = "1", registry = "company" }
ignored-one = "1"
broken = "not a version"
weird = 3

[dev-dependencies]
proptest = "=1.4.0"

[target.'cfg(unix)'.build-dependencies]
cc = "1"

[workspace.dependencies]
anyhow = "1.0.80"
"""

LOCK = """
version = 4

[[package]]
name = "app"
version = "0.1.0"

[[package]]
name = "serde"
version = "1.0.190"
source = "registry+https://github.com/rust-lang/crates.io-index"

[[package]]
name = "serde"
version = "0.9.15"
source = "registry+https://github.com/rust-lang/crates.io-index"
"""


def test_cargo_toml_dependencies_with_renames_lock_and_skips(tmp_path: Path) -> None:
    (tmp_path / "Cargo.toml").write_text(textwrap.dedent(MANIFEST))
    (tmp_path / "Cargo.lock").write_text(textwrap.dedent(LOCK))
    found, problems = crates.collect(tmp_path, ignore=["ignored_one"])
    described = [(d.name, d.requirement.text, d.where, d.locked) for d in found]
    assert described == [
        ("serde", "1.0", "Cargo.toml: dependencies.serde", Version.parse("1.0.190")),
        ("serde_json", "~1.0.100", "Cargo.toml: dependencies.json", None),
        ("proptest", "=1.4.0", "Cargo.toml: dev-dependencies.proptest", None),
        ("cc", "1", "Cargo.toml: target.cfg(unix).build-dependencies.cc", None),
        ("anyhow", "1.0.80", "Cargo.toml: workspace.dependencies.anyhow", None),
    ]
    assert problems == [
        (
            "dependencies.broken: 'not a version' is not a Cargo version requirement "
            "('not a version')"
        ),
        "dependencies.weird: expected a version string or a table",
    ]


def test_no_cargo_toml_is_no_crates_and_a_broken_one_is_one_problem(tmp_path: Path) -> None:
    assert crates.collect(tmp_path) == ([], [])
    (tmp_path / "Cargo.toml").write_text("[dependencies\n")
    found, problems = crates.collect(tmp_path)
    assert found == []
    assert problems[0].startswith("cannot be read: ")


def release(version: str, days: float | None, *, yanked: bool = False) -> crates.CrateRelease:
    published = None if days is None else NOW - dt.timedelta(days=days)
    return crates.CrateRelease(version=Version.parse(version), yanked=yanked, published=published)


def dependency(text: str, locked: str | None = None) -> crates.CrateDependency:
    return crates.CrateDependency(
        name="rand",
        requirement=CargoRequirement.parse(text),
        table=("dependencies",),
        key="rand",
        locked=Version.parse(locked) if locked else None,
    )


RAND = [
    release("0.7.3", 900),
    release("0.8.4", 500),
    release("0.8.5", 300),
    release("0.9.0-beta.1", 90),
    release("0.9.0", 60),
    release("0.9.1", 30, yanked=True),
    release("0.9.2", 2),
]


def test_a_breaking_release_outside_the_cooldown_is_proposed_with_a_new_requirement() -> None:
    item = crates.assess(dependency("0.8", locked="0.8.4"), RAND, now=NOW, cooldown_days=7)
    assert item.current == Version.parse("0.8.4")  # Cargo.lock's
    assert item.proposal == Version.parse("0.9.0")  # 0.9.1 is yanked, 0.9.2 too young
    assert item.behind == "major"  # 0.8 -> 0.9 breaks
    assert item.in_cooldown == (Version.parse("0.9.2"),)
    assert item.new_requirement == "0.9"
    assert item.newest == Version.parse("0.9.2")
    assert item.to_json()["ecosystem"] == "crates.io"


def test_a_compatible_release_needs_no_new_requirement_and_pre_releases_wait() -> None:
    releases = [*RAND[:3], RAND[3]]
    item = crates.assess(dependency("0.8", locked="0.8.4"), releases, now=NOW, cooldown_days=7)
    assert (item.proposal, item.behind, item.new_requirement) == (
        Version.parse("0.8.5"),
        "patch",
        None,
    )
    # Named in the requirement, a pre-release counts.
    pinned = crates.assess(dependency("=0.9.0-beta.1"), RAND[:4], now=NOW, cooldown_days=7)
    assert pinned.current == Version.parse("0.9.0-beta.1")
    assert pinned.proposal is None


def test_versions_of_unknown_age_are_proposed_and_up_to_date_is_quiet() -> None:
    undated = [release("1.0.0", None), release("1.1.0", None)]
    item = crates.assess(dependency("1.0", locked="1.0.0"), undated, now=NOW, cooldown_days=7)
    assert item.proposal == Version.parse("1.1.0")
    fresh = crates.assess(dependency("1.1"), undated, now=NOW, cooldown_days=7)
    assert (fresh.current, fresh.proposal) == (Version.parse("1.1.0"), None)

from __future__ import annotations

import datetime as dt
import json
import textwrap
from pathlib import Path

import httpx
import pytest
from packaging.requirements import Requirement
from packaging.version import Version

from shipyard.errors import ConfigError
from shipyard.monitor import deps, freshness, update
from shipyard.monitor.index import SIMPLE_JSON, LookupFailed, PackageIndex, Release, _releases

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def release(version: str, days_ago: float | None, *, yanked: bool = False) -> Release:
    uploaded = None if days_ago is None else NOW - dt.timedelta(days=days_ago)
    return Release(version=Version(version), uploaded=uploaded, yanked=yanked)


def dependency(text: str, *, locked: str | None = None) -> deps.Dependency:
    req = Requirement(text)
    return deps.Dependency(
        name=req.name,
        requirement=req,
        text=text,
        path=Path("pyproject.toml"),
        key=("project", "dependencies", 0),
        locked=Version(locked) if locked else None,
    )


FOO = [
    release("1.2.0", 400),
    release("1.4.0", 200),
    release("2.0.0rc1", 60),
    release("2.0.0", 30),
    release("2.1.0", 2),
]


def test_the_issue_example_proposes_the_major_outside_the_cooldown() -> None:
    item = freshness.assess(dependency("foo>=1.2,<2"), FOO, now=NOW, cooldown_days=7)

    assert item.current == Version("1.4.0")  # the newest release the pin allows
    assert item.proposal == Version("2.0.0")
    assert item.behind == "major"
    assert item.in_cooldown == (Version("2.1.0"),)
    assert item.new_requirement == "foo>=1.2,<3"
    assert item.proposal_age_days == pytest.approx(30)
    assert item.newest == Version("2.1.0")


def test_a_prerelease_is_never_proposed_even_when_it_is_the_only_newer_release() -> None:
    releases = [release("1.4.0", 200), release("2.0.0rc1", 60)]
    item = freshness.assess(dependency("foo>=1.2,<2"), releases, now=NOW, cooldown_days=7)
    assert item.proposal is None
    assert item.in_cooldown == ()


def test_a_prerelease_pin_may_move_to_a_newer_prerelease() -> None:
    releases = [release("2.0.0b1", 90), release("2.0.0rc1", 60)]
    item = freshness.assess(dependency("foo==2.0.0b1"), releases, now=NOW, cooldown_days=7)
    assert item.proposal == Version("2.0.0rc1")
    assert item.new_requirement == "foo==2.0.0rc1"


def test_yanked_releases_are_ignored() -> None:
    releases = [release("1.0.0", 100), release("1.1.0", 50, yanked=True)]
    item = freshness.assess(dependency("foo==1.0.0"), releases, now=NOW, cooldown_days=7)
    assert item.proposal is None
    assert item.newest == Version("1.0.0")


def test_a_pin_is_proposed_a_patch_and_names_the_held_back_release() -> None:
    releases = [release("1.0.0", 100), release("1.0.3", 20), release("1.1.0", 1)]
    item = freshness.assess(dependency("foo==1.0.0"), releases, now=NOW, cooldown_days=7)
    assert (item.proposal, item.behind) == (Version("1.0.3"), "patch")
    assert item.in_cooldown == (Version("1.1.0"),)
    assert item.new_requirement == "foo==1.0.3"


def test_a_release_just_uploaded_is_inside_the_cooldown() -> None:
    releases = [release("1.0.0", 100), release("1.1.0", 0)]
    item = freshness.assess(dependency("foo==1.0.0"), releases, now=NOW, cooldown_days=7)
    assert item.proposal is None
    assert item.in_cooldown == (Version("1.1.0"),)


def test_an_open_range_that_allows_the_newest_needs_no_change() -> None:
    item = freshness.assess(dependency("foo>=1"), FOO, now=NOW, cooldown_days=7)
    assert item.proposal is None
    assert item.current == Version("2.1.0")


@pytest.mark.parametrize(
    ("text", "target", "expected"),
    [
        ("foo>=1.2,<2", "2.0.0", "foo>=1.2,<3"),
        ("foo >= 1.2, < 2.0", "2.0.0", "foo >= 1.2, <3.0"),
        ("foo<2.1", "2.1.3", "foo<2.2"),
        ("foo~=1.2", "2.0.1", "foo~=2.0"),
        ("foo~=1.2.0", "1.3.4", "foo~=1.3.4"),
        ("foo==1.*", "2.3", "foo==2.*"),
        ("foo<=1.5", "1.6", "foo<=1.6"),
        ("foo[extra]==1.0; python_version>'3'", "1.1", "foo[extra]==1.1; python_version>'3'"),
    ],
)
def test_widen_changes_the_specifier_just_enough(text: str, target: str, expected: str) -> None:
    assert freshness.widen(text, Requirement(text), Version(target)) == expected


def test_widen_leaves_an_explicit_exclusion_alone() -> None:
    text = "foo!=2.0.0,<3"
    assert freshness.widen(text, Requirement(text), Version("2.0.0")) is None


def test_collect_reads_every_kind_of_declaration(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        textwrap.dedent(
            """
            [project]
            name = "x"
            dependencies = ["foo>=1.2,<2", "bad requirement !!"]
            [project.optional-dependencies]
            test = ["pytest>=8"]
            [dependency-groups]
            dev = ["ruff==0.1.0", {include-group = "test"}]
            """
        ),
        encoding="utf-8",
    )
    (tmp_path / "requirements.txt").write_text(
        "# comment\n--index-url https://example.invalid/simple\n"
        "bar==1.0 \\\n    --hash=sha256:abc\nbaz>=2 # why\nnot a valid ==line\n"
        "direct @ https://example.invalid/d.whl\n",
        encoding="utf-8",
    )
    (tmp_path / "uv.lock").write_text(
        '[[package]]\nname = "x"\nversion = "0.1"\nsource = { editable = "." }\n'
        '[[package]]\nname = "qux"\nversion = "3.0"\n',
        encoding="utf-8",
    )
    found = deps.collect(tmp_path, ignore=["baz"])

    where = {d.where: str(d.requirement) for d in found.dependencies}
    assert where == {
        "pyproject.toml: project.dependencies.0": "foo<2,>=1.2",
        "pyproject.toml: project.optional-dependencies.test.0": "pytest>=8",
        "pyproject.toml: dependency-groups.dev.0": "ruff==0.1.0",
        "requirements.txt:3": "bar==1.0",
        "uv.lock: package.1": "qux==3.0",
    }
    locked = {d.name: d.locked for d in found.dependencies}
    assert locked["bar"] == Version("1.0")
    assert locked["qux"] == Version("3.0")
    problems = {p.where: p.message for p in found.problems}
    assert set(problems) == {"pyproject.toml: project.dependencies.1", "requirements.txt:6"}
    assert (
        "'not a valid ==line' is not a requirement pip can parse" in problems["requirements.txt:6"]
    )


def test_a_configured_requirement_file_that_is_missing_is_a_problem(tmp_path: Path) -> None:
    found = deps.collect(tmp_path, files=[Path("reqs/missing.txt")])
    assert [(p.where, p.message) for p in found.problems] == [
        ("reqs/missing.txt", "configured but not found")
    ]


# -- reading index answers ---------------------------------------------------------------


def parse(body: bytes, content_type: str, *, api: str = "simple") -> list[Release]:
    response = httpx.Response(200, headers={"content-type": content_type}, content=body)
    with httpx.Client() as client:
        index = PackageIndex("http://index.invalid/simple", api=api, client=client)  # type: ignore[arg-type]
        return _releases(index._parse(response, "http://index.invalid/simple/foo/"))


def test_pep691_json_yank_reasons_and_upload_times() -> None:
    body = {
        "meta": {"api-version": "1.1"},
        "name": "foo",
        "files": [
            {"filename": "foo-1.0.tar.gz", "upload-time": "2025-01-02T00:00:00Z", "yanked": False},
            {"filename": "foo-1.0-py3-none-any.whl", "upload-time": "2025-01-01T00:00:00Z"},
            {"filename": "foo-1.1.tar.gz", "yanked": "broken"},
            {"filename": "foo-1.2-py3-none-any.whl", "yanked": True},
            {"filename": "foo-1.2.tar.gz", "yanked": False},
            {"filename": "foo-1.3.exe"},
        ],
    }
    releases = parse(json.dumps(body).encode(), "application/vnd.pypi.simple.v1+json")
    assert [(str(r.version), r.yanked) for r in releases] == [
        ("1.0", False),
        ("1.1", True),
        ("1.2", False),  # only one of its files is yanked
    ]
    assert releases[0].uploaded == dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    assert releases[1].uploaded is None


def test_pep503_html_pages_carry_yanks_but_no_times() -> None:
    page = (
        b'<a href="../../packages/foo-1.0.tar.gz#sha256=ab">foo-1.0.tar.gz</a>'
        b'<a href="/p/foo-2.0-py3-none-any.whl" data-yanked="">foo-2.0</a>'
    )
    releases = parse(page, "text/html; charset=utf-8")
    assert [(str(r.version), r.yanked, r.uploaded) for r in releases] == [
        ("1.0", False, None),
        ("2.0", True, None),
    ]


def test_the_pypi_json_api() -> None:
    body = {
        "releases": {
            "1.0": [{"upload_time_iso_8601": "2024-05-01T10:00:00.000000Z", "yanked": False}],
            "2.0": [{"upload_time_iso_8601": "2024-06-01T10:00:00Z", "yanked": True}],
            "not a version": [{}],
            "3.0": [],
        }
    }
    releases = parse(json.dumps(body).encode(), "application/json", api="json")
    assert [(str(r.version), r.yanked) for r in releases] == [("1.0", False), ("2.0", True)]


@pytest.mark.parametrize(
    ("body", "content_type", "words"),
    [
        (b'{"meta": {"api-version": "2.0"}, "files": []}', SIMPLE_JSON, "version 2.0"),
        (b"{not json", SIMPLE_JSON, "not valid JSON"),
        (b'{"files": "nope"}', SIMPLE_JSON, "no 'files' list"),
        (b"hello", "text/plain", "content type 'text/plain'"),
    ],
)
def test_answers_that_are_not_an_index_page_fail_the_lookup(
    body: bytes, content_type: str, words: str
) -> None:
    with pytest.raises(LookupFailed, match=words):
        parse(body, content_type)


# -- --apply: planning and rewriting -----------------------------------------------------


def proposal(text: str, new: str, behind: str, *, path: str = "pyproject.toml", **where: object):
    req = Requirement(text)
    dep = deps.Dependency(
        name=req.name,
        requirement=req,
        text=text,
        path=Path(path),
        **where,  # type: ignore[arg-type]
    )
    return freshness.Freshness(
        dependency=dep,
        current=None,
        current_age_days=None,
        newest=None,
        newest_age_days=None,
        proposal=Version("9"),
        behind=behind,  # type: ignore[arg-type]
        new_requirement=new,
    )


def test_plan_groups_minor_and_patch_together_and_each_major_alone() -> None:
    items = [
        proposal("a==1.0", "a==1.1", "minor", key=("project", "dependencies", 0)),
        proposal("b==1.0", "b==1.0.1", "patch", key=("project", "dependencies", 1)),
        proposal("c<2", "c<3", "major", key=("project", "dependencies", 2)),
        proposal("c==1.0", "c==2.0", "major", path="requirements.txt", line=1),
        proposal("d==1.0", "d==2.0", "major", path="uv.lock", key=("package", 0)),
    ]
    groups = update.plan(items, prefix="deps")
    assert [(g.branch, [i.dependency.name for i in g.items]) for g in groups] == [
        ("deps/minor-patch", ["a", "b"]),
        ("deps/major-c", ["c", "c"]),  # lock files are not rewritten
    ]


def test_rewrite_pyproject_keeps_comments_and_layout() -> None:
    text = textwrap.dedent(
        """
        [project]
        dependencies = [
            "foo>=1.2,<2",  # why this pin
            # a comment line
            "bar==1.0",
        ]
        [dependency-groups]
        dev = [{include-group = "test"}, "ruff==0.1"]
        """
    )
    items = [
        proposal("bar==1.0", "bar==1.1", "minor", key=("project", "dependencies", 1)),
        proposal("ruff==0.1", "ruff==0.2", "minor", key=("dependency-groups", "dev", 1)),
    ]
    assert update.rewrite_pyproject(text, items) == text.replace("bar==1.0", "bar==1.1").replace(
        "ruff==0.1", "ruff==0.2"
    )


def test_rewriting_a_file_that_changed_meanwhile_is_an_error() -> None:
    item = proposal("bar==1.0", "bar==1.1", "minor", key=("project", "dependencies", 0))
    with pytest.raises(ConfigError, match=r"no longer reads 'bar==1\.0'"):
        update.rewrite_pyproject('[project]\ndependencies = ["bar==0.9"]\n', [item])
    line = proposal("bar==1.0", "bar==1.1", "minor", path="requirements.txt", line=2)
    assert update.rewrite_lines("# pins\nbar==1.0 --hash=sha256:x\n", [line]) == (
        "# pins\nbar==1.1 --hash=sha256:x\n"
    )
    with pytest.raises(ConfigError, match=r"requirements\.txt:2 no longer reads"):
        update.rewrite_lines("bar==1.0\n", [line])


def test_git_errors_never_show_credentials_from_a_remote_url() -> None:
    said = "fatal: unable to access 'https://bot:ghp_abc/def@github.com/o/r.git/': 403"
    assert update._CREDENTIALS.sub("://***@", said) == (
        "fatal: unable to access 'https://***@github.com/o/r.git/': 403"
    )
    assert update._CREDENTIALS.sub("://***@", "https://github.com/o/r.git") == (
        "https://github.com/o/r.git"
    )

"""Planning and pre-flight on real git repositories with a real bare remote."""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from helpers.release import Project, git, make_project
from shipyard import config
from shipyard.errors import ExitCode, GateFailed, NothingToRelease
from shipyard.release import current_version, plan_release
from shipyard.release import git as release_git
from shipyard.release.steps import run_release


def _plan(project: Project, **kwargs):
    return plan_release(config.load(project.root), **kwargs)


def test_issue_example_breaking_feature_after_1_4_2(tmp_path: Path) -> None:
    project = make_project(tmp_path, version="1.4.2")
    project.tag("v1.4.2")
    for message in ["fix: a", "feat(api)!: b", "docs: c"]:
        project.commit(message)
    plan = _plan(project)
    assert str(plan.version) == "2.0.0"
    assert plan.tag == "v2.0.0"
    assert plan.previous is not None
    assert plan.previous.name == "v1.4.2"
    assert [c.description for c in plan.log.commits] == ["c", "b", "a"]


@pytest.mark.parametrize(("major_on_zero", "expected"), [(False, "0.10.0"), (True, "1.0.0")])
def test_issue_example_breaking_footer_on_zero(
    tmp_path: Path, major_on_zero: bool, expected: str
) -> None:
    flag = "major-on-zero = true" if major_on_zero else ""
    project = make_project(tmp_path, version="0.9.1", release=flag)
    project.tag("v0.9.1")
    project.commit("feat: x\n\nBREAKING CHANGE: y")
    assert str(_plan(project).version) == expected


def test_issue_example_last_release_by_version(tmp_path: Path) -> None:
    project = make_project(tmp_path, version="1.10.0")
    project.tag("v1.9.0")
    project.commit("feat: a")
    project.tag("v1.10.0-rc.1")
    project.commit("fix: b")
    project.tag("v1.10.0")
    project.tag("latest")
    project.commit("fix: c")
    plan = _plan(project)
    assert plan.previous is not None
    assert plan.previous.name == "v1.10.0"
    assert str(plan.version) == "1.10.1"
    assert [c.description for c in plan.log.commits] == ["c"]


def test_merges_skipped_and_non_conventional_counted(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    project.tag("v0.1.0")
    git(project.root, "checkout", "-q", "-b", "topic")
    project.commit("feat: on a branch", path="topic.txt")
    git(project.root, "checkout", "-q", "main")
    project.commit("Update the readme", path="README.md")
    git(project.root, "merge", "-q", "--no-ff", "-m", "Merge branch 'topic'", "topic")
    plan = _plan(project)
    assert str(plan.version) == "0.2.0"
    assert plan.log.merges_skipped == 1
    assert [c.summary for c in plan.log.non_conventional] == ["Update the readme"]
    assert [c.description for c in plan.log.commits] == ["on a branch"]


def test_nothing_releasable(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    project.tag("v0.1.0")
    project.commit("docs: only words")
    with pytest.raises(NothingToRelease) as info:
        _plan(project)
    assert info.value.code is ExitCode.NOTHING_TO_RELEASE


def test_first_release_uses_the_project_version(tmp_path: Path) -> None:
    project = make_project(tmp_path, version="0.3.0")
    plan = _plan(project)
    assert str(plan.version) == "0.3.0"
    assert plan.previous is None
    assert current_version(config.load(project.root)) == plan.version


def test_current_version_from_tags_when_dynamic(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    pyproject = project.root / "pyproject.toml"
    text = pyproject.read_text().replace('version = "0.1.0"', 'dynamic = ["version"]')
    pyproject.write_text(text + '[tool.hatch.version]\nsource = "vcs"\n')
    git(project.root, "commit", "-q", "-am", "build: version from tags")
    project.tag("v0.4.0-rc.2")
    assert str(current_version(config.load(project.root))) == "0.4.0-rc.2"


def test_pre_release_after_rc_with_a_new_feature(tmp_path: Path) -> None:
    # After 1.3.1-rc.1 a new feature gives 1.4.0-rc.1, not 1.3.1-rc.2.
    project = make_project(tmp_path, version="1.3.0")
    project.tag("v1.3.0")
    project.commit("fix: a")
    project.tag("v1.3.1-rc.1")
    project.commit("feat: b")
    plan = _plan(project, pre="rc")
    assert str(plan.version) == "1.4.0-rc.1"
    assert plan.pep440 == "1.4.0rc1"
    assert plan.prerelease
    assert plan.previous is not None
    assert plan.previous.name == "v1.3.1-rc.1"


# -- pre-flight --------------------------------------------------------------------------


def _preflight(project: Project, tag: str = "v9.9.9") -> tuple[str, ...]:
    check = release_git.preflight(
        project.root, branch="main", remote="origin", tag_name=tag, allowed_dirty=["CHANGELOG.md"]
    )
    return check.problems


def test_preflight_passes_on_a_clean_up_to_date_branch(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    (project.root / "CHANGELOG.md").write_text("x")  # untracked files do not matter
    assert _preflight(project) == ()


def test_preflight_finds_every_problem(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    project.tag("v9.9.9")
    # Someone else pushed to main meanwhile.
    other = tmp_path / "other"
    subprocess.run(["git", "clone", "-q", str(project.remote), str(other)], check=True)
    git(other, "-c", "user.name=O", "-c", "user.email=o@x.invalid", "commit", "-q",
        "--allow-empty", "-m", "fix: elsewhere")  # fmt: skip
    git(other, "push", "-q", "origin", "main")
    # Here: a local edit, on another branch, and the tag is not on HEAD.
    git(project.root, "checkout", "-q", "-b", "topic")
    project.commit("feat: topic")
    (project.root / "pyproject.toml").write_text("changed")
    problems = _preflight(project)
    assert problems == (
        "on branch 'topic', releases are made from 'main'",
        "uncommitted changes in pyproject.toml",
        f"tag v9.9.9 already exists on another commit ({git(project.root, 'rev-parse', 'v9.9.9^{commit}')[:7]})",  # noqa: E501
        "behind origin/main: pull the latest changes first",
        "tag v9.9.9 already exists on origin on another commit",
    )


def test_release_stops_before_writing_when_preflight_fails(tmp_path: Path) -> None:
    project = make_project(tmp_path)
    project.tag("v0.1.0")
    project.commit("fix: a")
    (project.root / "src/demo/__init__.py").write_text("edited\n")
    before = (project.root / "pyproject.toml").read_bytes()
    with pytest.raises(GateFailed, match=r"(?s)cannot release v0\.1\.1:.*src/demo/__init__\.py"):
        run_release(config.load(project.root))
    assert (project.root / "pyproject.toml").read_bytes() == before
    assert not (project.root / "CHANGELOG.md").exists()
    assert project.tags() == ["v0.1.0"]


def test_section_links_to_compare_view_when_the_remote_is_known(tmp_path: Path) -> None:
    project = make_project(tmp_path, version="1.4.2")
    project.tag("v1.4.2")
    sha = project.commit("fix(cli): a")
    git(project.root, "remote", "set-url", "origin", "git@github.com:octo/demo.git")
    section = _plan(project, today=dt.date(2024, 5, 1)).section
    assert section == (
        "## [1.4.3](https://github.com/octo/demo/compare/v1.4.2...v1.4.3) - 2024-05-01\n\n"
        f"### Fixed\n\n- **cli:** a ([{sha[:7]}](https://github.com/octo/demo/commit/{sha}))\n"
    )

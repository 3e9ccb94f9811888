"""The whole release flow on real parts: git with a bare remote, python -m build, twine,
a real pypiserver, and the checking GitHub stand-in. Then the same flow, crashed at
every step in turn and run again."""

from __future__ import annotations

import datetime as dt
import fnmatch
import hashlib
import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.release import TOKEN, FakeGitHub, PackageIndex, Project, git, make_project, pypiserver
from shipyard import config
from shipyard.release import STEPS, run_release
from shipyard.report import Status

pytestmark = pytest.mark.slow

DAY = dt.date(2024, 5, 1)
_names = (f"demo{n}" for n in itertools.count())


class Crash(Exception):
    """Stands for anything that stops a run: a kill, a network error, a full disk."""


@pytest.fixture(scope="module")
def index() -> Iterator[PackageIndex]:
    with pypiserver() as server:
        yield server


@pytest.fixture
def github(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
        monkeypatch.setenv("GITHUB_API_URL", server.url)
        monkeypatch.setenv("GITHUB_REPOSITORY", server.repository)
        monkeypatch.setenv("TWINE_USERNAME", "shipyard")
        monkeypatch.setenv("TWINE_PASSWORD", "index-password")
        yield server


def _project(tmp_path: Path, index: PackageIndex, version: str = "1.4.2") -> Project:
    # Each test gets its own package name: the index is shared and never forgets a file.
    name = next(_names)
    project = make_project(
        tmp_path, name=name, version=version, release=f'repository-url = "{index.url}"'
    )
    project.tag(f"v{version}")
    for message in ["fix: a", "feat(api)!: b\n\nRefs: #12", "docs: c"]:
        project.commit(message, path=f"src/{name}/changes.txt")
    return project


def _tree(root: Path) -> dict[str, str]:
    """Every file under `root`, .git included, with a hash of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def _assert_released_once(
    project: Project, index: PackageIndex, github: FakeGitHub, version: str = "2.0.0"
) -> None:
    root, name, tag = project.root, project.root.name, f"v{version}"
    # One tag, local and remote, on the one release commit, which is the remote's main.
    assert project.tags() == project.tags(remote=True) == ["v1.4.2", tag]
    assert git(root, "cat-file", "-t", tag) == "tag"  # annotated
    assert git(root, "rev-parse", f"{tag}^{{commit}}") == project.remote_head()
    messages = git(root, "log", "--format=%s", "v1.4.2..HEAD").splitlines()
    assert messages.count(f"chore(release): {version}") == 1
    assert git(root, "status", "--porcelain", "--untracked-files=no") == ""
    # The files say the new version, exactly once, with everything else kept.
    pyproject = (root / "pyproject.toml").read_text()
    assert f'version = "{version}"  # bumped by shipyard' in pyproject
    changelog = (root / "CHANGELOG.md").read_text()
    assert changelog.count(f"## [{version}]") == 1
    # One upload of each file, and one release holding one set of assets.
    dists = sorted(p.name for p in (root / "dist").iterdir() if p.name != "SHA256SUMS")
    assert dists == [f"{name}-{version}-py3-none-any.whl", f"{name}-{version}.tar.gz"]
    assert [f for f in index.files() if f.startswith(f"{name}-")] == dists
    for file in dists:
        uploaded = (index.packages / file).read_bytes()
        assert uploaded == (root / "dist" / file).read_bytes()
    [release] = github.releases
    assert release["tag_name"] == tag
    assert release["draft"] is False
    assert github.asset_names(release["id"]) == sorted([*dists, "SHA256SUMS"])
    for asset in github.assets:
        assert asset["content"] == (root / "dist" / asset["name"]).read_bytes()
    assert github.rejected == []


def test_release_end_to_end_then_nothing_twice(
    tmp_path: Path, index: PackageIndex, github: FakeGitHub
) -> None:
    project = _project(tmp_path, index)
    cfg = config.load(project.root)
    outcome = run_release(cfg, today=DAY)

    assert str(outcome.plan.version) == "2.0.0"
    assert [s.name for s in outcome.steps] == list(STEPS)
    steps = {s.name: s for s in outcome.steps}
    wheels, images = steps.pop("wheels"), steps.pop("images")
    assert all(s.status is Status.PASSED for s in steps.values())
    # A pure project and no image variants (test_release_cibuildwheel.py and
    # test_release_images.py test those steps).
    assert wheels.status is Status.SKIPPED
    assert wheels.detail.startswith("the build does not compile")
    assert (images.status, images.detail.split(":")[0]) == (Status.SKIPPED, "no image variants")
    _assert_released_once(project, index, github)

    # The changelog section and the release body are the same text.
    changelog = (project.root / "CHANGELOG.md").read_text()
    assert changelog.startswith("# Changelog\n")
    section = changelog[changelog.index("## [2.0.0] - 2024-05-01") :]
    assert github.releases[0]["body"] == section.split("\n", 1)[1].strip("\n") + "\n"
    assert "### Breaking changes\n\n- **api:** b (" in section
    assert "refs #12)" in section
    assert "### Fixed\n\n- a (" in section
    assert "docs" not in section
    assert outcome.result().metrics["tag"] == "v2.0.0"

    # Run again: everything is found done, nothing is made twice.
    requests_before = len(github.requests)
    again = run_release(config.load(project.root), today=DAY)
    assert again.plan.resumed
    assert [s.status for s in again.steps[1:]] == [Status.SKIPPED] * (len(STEPS) - 1)
    assert {r.method for r in github.requests[requests_before:]} == {"GET"}
    _assert_released_once(project, index, github)


def test_dry_run_writes_nothing_and_shows_plan_and_changelog(
    tmp_path: Path, index: PackageIndex, github: FakeGitHub
) -> None:
    project = _project(tmp_path, index)
    before = _tree(project.root)
    remote_before = _tree(project.remote)

    outcome = run_release(config.load(project.root), dry_run=True, today=DAY)

    assert _tree(project.root) == before
    assert _tree(project.remote) == remote_before
    assert github.requests == []
    assert not [f for f in index.files() if f.startswith(project.root.name)]
    text = outcome.text()
    assert f"release {project.root.name} 2.0.0 (tag v2.0.0, Python 2.0.0)" in text
    assert "3 conventional commit(s), 0 non-conventional, 0 merge(s) skipped, bump major" in text
    assert "would set 2.0.0" in text
    assert "## [2.0.0] - 2024-05-01" in text
    assert outcome.result().status is Status.SKIPPED


def test_pre_releases_then_final(tmp_path: Path, index: PackageIndex, github: FakeGitHub) -> None:
    project = _project(tmp_path, index, version="1.2.0")
    name = project.root.name

    first = run_release(config.load(project.root), pre="rc", today=DAY)
    assert str(first.plan.version) == "2.0.0-rc.1"
    assert 'version = "2.0.0rc1"' in (project.root / "pyproject.toml").read_text()
    assert github.release("v2.0.0-rc.1")["prerelease"] is True
    assert f"{name}-2.0.0rc1.tar.gz" in index.files()

    project.commit("fix: d", path=f"src/{name}/changes.txt")
    second = run_release(config.load(project.root), pre="rc", today=DAY)
    assert str(second.plan.version) == "2.0.0-rc.2"
    assert [c.description for c in second.plan.log.commits] == ["d"]

    final = run_release(config.load(project.root), today=DAY)
    assert str(final.plan.version) == "2.0.0"
    assert github.release("v2.0.0")["prerelease"] is False
    # The final section covers everything since the last final release.
    assert {c.description for c in final.plan.log.commits} >= {"a", "b", "d"}
    assert project.tags(remote=True) == ["v1.2.0", "v2.0.0", "v2.0.0-rc.1", "v2.0.0-rc.2"]
    assert github.rejected == []


# -- fault injection ---------------------------------------------------------------------

#: Before each step, and between the uploads of one step (files go whl, tar.gz, SHA256SUMS).
FAULT_POINTS = [*STEPS, "publish:*.tar.gz", "github:*.tar.gz", "github:SHA256SUMS"]


@pytest.mark.parametrize("point", FAULT_POINTS)
def test_crash_anywhere_then_rerun_releases_exactly_once(
    point: str, tmp_path: Path, index: PackageIndex, github: FakeGitHub
) -> None:
    project = _project(tmp_path, index)
    crashed: list[str] = []

    def crash_at(name: str) -> None:
        if fnmatch.fnmatchcase(name, point) and not crashed:
            crashed.append(name)
            raise Crash(name)

    with pytest.raises(Crash):
        run_release(config.load(project.root), hook=crash_at, today=DAY)
    assert crashed

    outcome = run_release(config.load(project.root), today=DAY)
    assert str(outcome.plan.version) == "2.0.0"
    _assert_released_once(project, index, github)

"""What a new user met after a first release: a dry run that disagreed with the real run
on a release half done, a failed upload as a traceback, no report after a failure, and
messages that said less (or other) than what was wrong. On real git repositories."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.release import (
    TOKEN,
    FakeGitHub,
    PackageIndex,
    Project,
    free_port,
    git,
    invoke_release,
    make_project,
    pypiserver,
)
from shipyard import config
from shipyard.cli import main
from shipyard.errors import ToolMissing, Unreachable
from shipyard.release import render_plan
from shipyard.release.build import build
from shipyard.release.plan import plan_release
from shipyard.release.publish import upload

TASKS = "from shipyard.flows import ns  # noqa: F401\n"
LOCAL = "preflight,version,changelog,commit,tag"


def _report(project: Project) -> dict:
    return json.loads((project.root / ".shipyard/reports/release.json").read_text())


def _closed_index() -> str:
    return f"http://127.0.0.1:{free_port()}/legacy/"  # nothing listens there


# -- 1. the dry run looks at the world with the real run's own checks --------------------


@pytest.mark.slow
def test_dry_run_of_a_release_half_done_agrees_with_the_real_run(tmp_path: Path) -> None:
    url = _closed_index()
    project = make_project(tmp_path, release=f'repository-url = "{url}"', files={"tasks.py": TASKS})
    project.commit("feat: add readme feature")
    project.commit("fix: small fix")
    done = invoke_release(project, "--step", LOCAL)
    assert done.returncode == 0, done.stderr

    dry = invoke_release(project, "--dry-run")
    # The release commit is not one of the release's changes.
    assert "since the first commit: 3 conventional commit(s)" in dry.stdout
    assert "bump none (a first release takes the version the files give" in dry.stdout
    assert "- commit     HEAD is the release commit 'chore(release): 0.1.0'" in dry.stdout
    assert "- tag        v0.1.0 is on HEAD" in dry.stdout
    assert "✓ push       would push main and v0.1.0 to origin" in dry.stdout
    # The index is read as the real run reads it: unreachable is exit 6 in both.
    assert f"✕ publish    cannot read the package index at {url}simple/demo/" in dry.stdout
    assert "- github     not reached: the run stops at publish" in dry.stdout
    assert dry.returncode == 6, dry.stderr

    real = invoke_release(project)
    assert real.returncode == 6, real.stderr
    assert "release: - commit: HEAD is the release commit" in real.stderr
    assert "release: ✓ push: pushed main and v0.1.0 to origin" in real.stderr
    # 4. A failed release leaves its report: the step, why, and what was done.
    report = _report(project)
    assert report["status"] == "failed"
    assert report["metrics"]["failed_step"] == "publish"
    assert report["metrics"]["exit_code"] == 6
    assert "cannot read the package index" in report["reason"]
    assert "done before it: preflight, build, push" in report["reason"]

    # Pushed now: the dry run finds it pushed, as the real run does.
    dry = invoke_release(project, "--dry-run")
    assert "- push       origin has main and v0.1.0" in dry.stdout
    assert "would check demo-0.1.0-py3-none-any.whl, demo-0.1.0.tar.gz" in dry.stdout
    assert dry.returncode == 6
    real = invoke_release(project)
    assert "release: - push: origin has main and v0.1.0" in real.stderr
    assert real.returncode == 6


def test_dry_run_says_what_the_real_run_skips_after_a_partial_run(tmp_path: Path) -> None:
    project = make_project(tmp_path, release="publish = false", files={"tasks.py": TASKS})
    project.commit("feat: x")
    local = invoke_release(project, "--step", "preflight,version,changelog,commit,tag,push")
    assert local.returncode == 0
    dry = invoke_release(project, "--dry-run", "--step", "preflight,commit,tag,push,publish")
    assert dry.returncode == 0, dry.stderr
    assert "- commit     HEAD is the release commit 'chore(release): 0.1.0'" in dry.stdout
    assert "- tag        v0.1.0 is on HEAD" in dry.stdout
    assert "- push       origin has main and v0.1.0" in dry.stdout
    assert "- publish    publish = false" in dry.stdout


def test_github_release_already_complete_is_seen_by_the_dry_run(tmp_path: Path) -> None:
    project = make_project(tmp_path, release="publish = false", files={"tasks.py": TASKS})
    project.commit("feat: x")
    dist = project.root / "dist"
    with FakeGitHub() as github:
        env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": github.url,
               "GITHUB_REPOSITORY": github.repository}  # fmt: skip
        assert invoke_release(project, "--step", LOCAL).returncode == 0
        build(project.root, dist, name="demo", version="0.1.0", isolation=False)
        assert invoke_release(project, "--step", "github", env=env).returncode == 0
        before = len(github.requests)
        dry = invoke_release(project, "--dry-run", "--step", "github", env=env)
        assert dry.returncode == 0, dry.stderr
        assert "- github     release v0.1.0 is complete" in dry.stdout
        assert {r.method for r in github.requests[before:]} == {"GET"}


# -- 2. a failed upload: one line, exit 6 when unreachable, missing credentials named ----


@pytest.fixture(scope="module")
def index() -> Iterator[PackageIndex]:
    with pypiserver() as server:
        yield server


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    project = make_project(tmp_path_factory.mktemp("build"), name="second", version="1.0.0")
    built = build(project.root, project.root / "dist", name="second", version="1.0.0",
                  isolation=False)  # fmt: skip
    return built.files


@pytest.mark.slow
def test_upload_to_an_unreachable_index_is_exit_6_in_one_line(
    index: PackageIndex, dists: tuple[Path, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TWINE_USERNAME", "shipyard")
    monkeypatch.setenv("TWINE_PASSWORD", "not-a-secret-here")
    url = _closed_index()
    with pytest.raises(Unreachable) as info:
        upload(dists, project="second", repository_url=url, index_url=index.url + "simple/")
    message = str(info.value)
    assert message.startswith(f"cannot reach {url} to upload second-1.0.0")
    assert message.endswith("Connection refused")
    assert "\n" not in message
    assert "Traceback" not in message


@pytest.mark.slow
def test_upload_without_credentials_says_so(
    index: PackageIndex, dists: tuple[Path, ...], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("TWINE_USERNAME", "TWINE_PASSWORD", "ACTIONS_ID_TOKEN_REQUEST_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")
    seen: list[str] = []
    with pytest.raises(ToolMissing, match=f"no credentials to upload to {index.url}"):
        upload(dists, project="second", repository_url=index.url, before_each=seen.append)
    assert seen == []  # twine never ran
    assert index.files() == []


# -- 3. an unknown --pre label is a usage error, whatever the history --------------------


def test_unknown_pre_label_is_exit_2_even_with_nothing_to_release(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path, files={"tasks.py": TASKS})
    project.tag("v0.1.0")
    root = str(project.root)
    for args in (
        ["version", "--next", "--pre", "foo"],
        ["changelog", "--unreleased", "--pre", "foo"],
    ):
        assert main(["--root", root, *args]) == 2
        assert "--pre expects one of alpha, beta, rc, got 'foo'" in capsys.readouterr().err
    dry = invoke_release(project, "--pre", "foo", "--dry-run")
    assert dry.returncode == 2, dry.stderr
    assert "--pre expects one of alpha, beta, rc" in dry.stderr


# -- 4. a failed release writes its report ------------------------------------------------


def test_failed_preflight_writes_the_report(tmp_path: Path) -> None:
    project = make_project(tmp_path, files={"tasks.py": TASKS})
    project.commit("feat: x")
    (project.root / ".gitignore").write_text("changed\n")
    real = invoke_release(project)
    assert real.returncode == 1
    report = _report(project)
    assert report["status"] == "failed"
    assert report["metrics"]["failed_step"] == "preflight"
    assert report["metrics"]["exit_code"] == 1
    assert report["metrics"]["tag"] == "v0.1.0"
    assert "uncommitted changes in .gitignore" in report["reason"]
    assert "done before it: nothing" in report["reason"]


def test_nothing_to_release_writes_a_skipped_report(tmp_path: Path) -> None:
    project = make_project(tmp_path, files={"tasks.py": TASKS})
    project.tag("v0.1.0")
    assert invoke_release(project).returncode == 5
    report = _report(project)
    assert report["status"] == "skipped"
    assert report["reason"].startswith("nothing to release")


# -- 5. the plan says the bump that is made ----------------------------------------------


def test_plan_of_a_breaking_change_on_zero_says_minor(tmp_path: Path) -> None:
    project = make_project(tmp_path, version="0.4.1")
    project.tag("v0.4.1")
    project.commit("feat(api)!: breaking thing")
    plan = plan_release(config.load(project.root))
    assert str(plan.version) == "0.5.0"
    text = render_plan(plan)
    assert "bump minor (a breaking change on 0.x; major-on-zero is off)" in text
    assert "bump major" not in text


# -- 6. every pre-flight problem at once, and only the stopping step marked --------------


def test_missing_remote_and_dirty_tree_are_reported_together(tmp_path: Path) -> None:
    project = make_project(tmp_path, files={"tasks.py": TASKS})
    project.commit("feat: x")
    git(project.root, "remote", "remove", "origin")
    (project.root / ".gitignore").write_text("changed\n")
    dry = invoke_release(project, "--dry-run")
    real = invoke_release(project)
    assert dry.returncode == real.returncode == 2
    for said in (dry.stderr, real.stderr):
        assert "the git remote 'origin' does not exist here" in said
        assert "uncommitted changes in .gitignore" in said
    assert "✕ preflight" in dry.stdout
    assert dry.stdout.count("✕") == 1
    assert "- push       not reached: the run stops at preflight" in dry.stdout


# -- 8. GITHUB_REPOSITORY is checked before it reaches the API ---------------------------


def test_bad_github_repository_is_a_usage_error_naming_the_variable(tmp_path: Path) -> None:
    project = make_project(tmp_path, release="publish = false", files={"tasks.py": TASKS})
    project.commit("feat: x")
    with FakeGitHub() as github:
        env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": github.url,
               "GITHUB_REPOSITORY": "not a repo"}  # fmt: skip
        dry = invoke_release(project, "--dry-run", env=env)
        real = invoke_release(project, env=env)
        assert github.requests == []
    assert dry.returncode == real.returncode == 2
    for said in (dry.stderr, real.stderr):
        assert "GITHUB_REPOSITORY says 'not a repo', which is not a GitHub repository" in said
    assert project.tags() == []  # stopped in pre-flight, before anything was written

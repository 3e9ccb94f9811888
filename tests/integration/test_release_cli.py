"""The doors: `shipyard version`, `shipyard changelog` and `invoke release`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.release import TOKEN, FakeGitHub, Project, make_project, pypiserver
from shipyard.cli import main


@pytest.fixture
def project(tmp_path: Path) -> Project:
    made = make_project(tmp_path, version="1.4.2", files={"tasks.py": TASKS})
    made.tag("v1.4.2")
    for message in ["fix: a", "feat(api)!: b", "docs: c"]:
        made.commit(message)
    return made


TASKS = "from shipyard.flows import ns  # noqa: F401\n"


def _cli(project: Project, *args: str) -> int:
    return main(["--root", str(project.root), *args])


def test_version_current_and_next(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(project, "version") == 0
    assert capsys.readouterr().out == "1.4.2\n"
    assert _cli(project, "version", "--next") == 0
    assert capsys.readouterr().out == "2.0.0\n"
    assert _cli(project, "version", "--next", "--pre", "rc") == 0
    assert capsys.readouterr().out == "2.0.0-rc.1\n"
    assert _cli(project, "version", "--next", "--pre", "rc", "--pep440") == 0
    assert capsys.readouterr().out == "2.0.0rc1\n"


def test_version_next_with_nothing_to_release_exits_5(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    project = make_project(tmp_path)
    project.tag("v0.1.0")
    project.commit("docs: words")
    assert _cli(project, "version", "--next") == 5
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "nothing to release: no releasable change since 0.1.0" in captured.err


def test_version_usage_errors(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(project, "version", "--pre", "rc") == 2
    assert "--pre goes with --next" in capsys.readouterr().err
    assert _cli(project, "version", "--next", "--pre", "nightly") == 2
    assert "alpha, beta, rc" in capsys.readouterr().err


def test_changelog_unreleased(project: Project, capsys: pytest.CaptureFixture[str]) -> None:
    assert _cli(project, "changelog", "--unreleased") == 0
    out = capsys.readouterr().out
    assert out.startswith("## [2.0.0] - ")
    assert "### Breaking changes\n\n- **api:** b (" in out
    assert "### Fixed\n\n- a (" in out
    assert not (project.root / "CHANGELOG.md").exists()


def test_changelog_of_the_current_version(
    project: Project, capsys: pytest.CaptureFixture[str]
) -> None:
    # No CHANGELOG.md at all: say so, and what makes one.
    assert _cli(project, "changelog") == 2
    err = capsys.readouterr().err
    assert "CHANGELOG.md: this file does not exist (so it has no section for 1.4.2)" in err
    assert "`invoke release` creates it" in err
    assert "no section for version" not in err
    (project.root / "CHANGELOG.md").write_text("# Changelog\n\n## [1.4.1] - 2023-01-01\n")
    assert _cli(project, "changelog") == 2
    assert "no section for version 1.4.2 in this file" in capsys.readouterr().err
    (project.root / "CHANGELOG.md").write_text("# Changelog\n\n## [1.4.2] - 2024-01-01\n\n- x\n")
    assert _cli(project, "changelog") == 0
    assert capsys.readouterr().out == "## [1.4.2] - 2024-01-01\n\n- x\n"


def _invoke(project: Project, *args: str, env: dict[str, str] | None = None):
    return subprocess.run(
        [sys.executable, "-m", "invoke", "release", *args],
        cwd=project.root,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_invoke_release_dry_run(project: Project) -> None:
    # A dry run reads the index as the real run would: none here.
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + "publish = false\n")
    subprocess.run(["git", "commit", "-qam", "ci: no index"], cwd=project.root, check=True)
    before = (project.root / "pyproject.toml").read_bytes()
    done = _invoke(project, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "release demo 2.0.0 (tag v2.0.0, Python 2.0.0)" in done.stdout
    assert "## [2.0.0] - " in done.stdout
    assert (project.root / "pyproject.toml").read_bytes() == before
    assert not (project.root / ".shipyard").exists()


def test_invoke_release_nothing_to_release_exits_5(tmp_path: Path) -> None:
    project = make_project(tmp_path, files={"tasks.py": TASKS})
    project.tag("v0.1.0")
    done = _invoke(project)
    assert done.returncode == 5
    assert "release: error: nothing to release" in done.stderr


@pytest.mark.slow
def test_invoke_release_ci_publishes_and_summarises(project: Project, tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    with pypiserver() as index, FakeGitHub() as github:
        pyproject = project.root / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + f'repository-url = "{index.url}"\n')
        subprocess.run(["git", "commit", "-qam", "ci: index"], cwd=project.root, check=True)
        env = {
            "GITHUB_API_URL": github.url,
            "GITHUB_REPOSITORY": github.repository,
            "TWINE_USERNAME": "shipyard",
            "TWINE_PASSWORD": "index-password",
            "GITHUB_STEP_SUMMARY": str(summary),
        }
        # On CI a missing token is an error (exit 3), found before anything is written.
        missing = _invoke(project, "--ci", env=env)
        assert missing.returncode == 3, missing.stderr
        assert "GITHUB_TOKEN (or GH_TOKEN) is not set" in missing.stderr
        assert project.tags() == ["v1.4.2"]
        assert not (project.root / "CHANGELOG.md").exists()

        done = _invoke(project, "--ci", env={**env, "GH_TOKEN": TOKEN})
        assert done.returncode == 0, done.stderr
        assert github.rejected == []
        assert [r["tag_name"] for r in github.releases] == ["v2.0.0"]
        assert sorted(index.files()) == ["demo-2.0.0-py3-none-any.whl", "demo-2.0.0.tar.gz"]
    assert TOKEN not in done.stdout + done.stderr + missing.stderr
    assert "✓ github" in done.stderr
    assert "✓ publish: uploaded" in done.stderr
    text = summary.read_text()
    assert "## release" in text
    assert "## [2.0.0] - " in text
    result = json.loads((project.root / ".shipyard/reports/release.json").read_text())
    assert result["metrics"]["tag"] == "v2.0.0"
    assert result["status"] == "passed"
    assert result["artifacts"] == [
        "dist/demo-2.0.0-py3-none-any.whl",
        "dist/demo-2.0.0.tar.gz",
        "dist/SHA256SUMS",
    ]


def test_invoke_release_unknown_step_is_a_usage_error(project: Project) -> None:
    done = _invoke(project, "--step", "build,deploy")
    assert done.returncode == 2
    assert "unknown step deploy; the steps are preflight, version," in done.stderr


@pytest.mark.slow
def test_split_release_as_the_generated_workflow_runs_it(project: Project, tmp_path: Path) -> None:
    # A maintainer tags and pushes; CI jobs, each in a fresh clone of the tag, build,
    # then make the GitHub release and upload to the index from the build's files.
    local = _invoke(project, "--step", "preflight,version,changelog,commit,tag,push")
    assert local.returncode == 0, local.stderr
    assert project.tags(remote=True) == ["v1.4.2", "v2.0.0"]

    def clone(name: str) -> Project:
        root = tmp_path / name
        subprocess.run(
            ["git", "clone", "-q", "--branch", "v2.0.0", str(project.remote), str(root)],
            check=True,
            capture_output=True,
        )
        return Project(root=root, remote=project.remote)

    with pypiserver() as index, FakeGitHub() as github:
        env = {
            "GITHUB_API_URL": github.url,
            "GITHUB_REPOSITORY": github.repository,
            "TWINE_USERNAME": "shipyard",
            "TWINE_PASSWORD": "index-password",
        }
        build_job = clone("build-job")
        done = _invoke(build_job, "--ci", "--step", "build", env=env)
        assert done.returncode == 0, done.stderr

        release_job = clone("release-job")
        (release_job.root / "dist").mkdir()
        for file in (build_job.root / "dist").iterdir():
            (release_job.root / "dist" / file.name).write_bytes(file.read_bytes())
        pyproject = release_job.root / "pyproject.toml"
        pyproject.write_text(pyproject.read_text() + f'repository-url = "{index.url}"\n')
        done = _invoke(
            release_job, "--ci", "--step", "github,publish", env={**env, "GITHUB_TOKEN": TOKEN}
        )
        assert done.returncode == 0, done.stderr
        assert github.rejected == []
        [release] = github.releases
        assert release["tag_name"] == "v2.0.0"
        assert release["draft"] is False
        assert "### Breaking changes" in release["body"]
        assert github.asset_names(release["id"]) == [
            "SHA256SUMS",
            "demo-2.0.0-py3-none-any.whl",
            "demo-2.0.0.tar.gz",
        ]
        assert index.files() == ["demo-2.0.0-py3-none-any.whl", "demo-2.0.0.tar.gz"]
        for asset in github.assets:
            assert asset["content"] == (build_job.root / "dist" / asset["name"]).read_bytes()

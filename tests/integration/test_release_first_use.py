"""What a new user met on a first `invoke release`, on real git repositories: a new
CHANGELOG.md left out of the release commit, a flit version tagged but never built,
setup.cfg and poetry projects refused, and dry runs that said less than the real run."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.release import Project, git, invoke_release, make_project
from shipyard import config
from shipyard.cli import main
from shipyard.errors import ConfigError, GateFailed
from shipyard.release import run_release

TASKS = "from shipyard.flows import ns  # noqa: F401\n"
LOCAL = "preflight,version,changelog,commit,tag"


def _committed(project: Project, revision: str = "HEAD") -> list[str]:
    return git(
        project.root, "show", "--name-only", "--format=", f"{revision}^{{commit}}"
    ).splitlines()


def _status(project: Project) -> str:
    return git(project.root, "status", "--porcelain")


# -- 1. the release commit holds every file the release wrote ---------------------------


def test_first_release_commits_the_new_changelog(tmp_path: Path) -> None:
    project = make_project(tmp_path, version="1.4.2")
    project.tag("v1.4.2")
    project.commit("feat: beaufort scale")

    run_release(config.load(project.root), only=LOCAL.split(","))

    assert _committed(project) == ["CHANGELOG.md", "pyproject.toml"]
    assert _committed(project, "v1.5.0") == ["CHANGELOG.md", "pyproject.toml"]
    assert _status(project) == ""


def test_release_whose_version_step_did_nothing_still_commits_the_changelog(
    tmp_path: Path,
) -> None:
    # The first release takes the files' version: only the changelog is new.
    project = make_project(tmp_path, version="1.5.0")
    project.commit("feat: initial conversions")

    outcome = run_release(config.load(project.root), only=LOCAL.split(","))

    assert [s.detail.split(" ")[0] for s in outcome.steps][1:3] == ["files", "added"]
    assert git(project.root, "show", "-s", "--format=%s") == "chore(release): 1.5.0"
    assert _committed(project, "v1.5.0") == ["CHANGELOG.md"]
    assert _status(project) == ""


def test_tag_refuses_a_commit_without_the_release_files(tmp_path: Path) -> None:
    project = make_project(tmp_path, version="1.4.2")
    project.tag("v1.4.2")
    project.commit("fix: a")

    with pytest.raises(GateFailed, match=r"files say 1\.4\.2, so a build would make 1\.4\.2"):
        run_release(config.load(project.root), only=["tag"])
    run_release(config.load(project.root), only=["version", "changelog"])
    with pytest.raises(GateFailed, match=r"not tagging v1\.4\.3: .*CHANGELOG\.md"):
        run_release(config.load(project.root), only=["tag"])
    assert project.tags() == ["v1.4.2"]


# -- 2. a dynamic version is the tag's only with a VCS plugin ---------------------------

FLIT = """\
[build-system]
requires = ["flit_core>=3.4"]
build-backend = "flit_core.buildapi"

[project]
name = "csvtool"
dynamic = ["version", "description"]
requires-python = ">=3.11"

[tool.shipyard.release]
github = false
publish = false  # a dry run reads the index as the real run would: none here
"""


def _flit(tmp_path: Path, init: str) -> Project:
    files = {"pyproject.toml": FLIT, "tasks.py": TASKS, "csvtool/__init__.py": init}
    project = make_project(tmp_path, name="csvtool", files=files)
    project.tag("v2.0.1")
    project.commit("perf: faster reader", path="csvtool/reader.py")
    return project


def test_flit_version_is_bumped_in_the_module_before_the_tag(tmp_path: Path) -> None:
    project = _flit(tmp_path, '"""CSV tools."""\n__version__ = "2.0.1"\n')

    dry = invoke_release(project, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would set 2.0.2 in csvtool/__init__.py" in dry.stdout

    done = invoke_release(project, "--step", LOCAL)
    assert done.returncode == 0, done.stderr
    tagged = git(project.root, "show", "v2.0.2:csvtool/__init__.py")
    assert tagged == '"""CSV tools."""\n__version__ = "2.0.2"'
    assert _committed(project, "v2.0.2") == ["CHANGELOG.md", "csvtool/__init__.py"]


def test_flit_version_not_found_stops_before_any_tag_or_commit(tmp_path: Path) -> None:
    init = "from importlib.metadata import version\n__version__ = version('csvtool')\n"
    project = _flit(tmp_path, init)
    head = git(project.root, "rev-parse", "HEAD")

    dry = invoke_release(project, "--dry-run")
    assert dry.returncode == 2
    assert "tool.shipyard.release.version-files" in dry.stderr

    done = invoke_release(project, "--step", LOCAL)
    assert done.returncode == 2
    assert "key 'tool.shipyard.release.version-files'" in done.stderr
    assert "flit's module points to this file, but it holds no literal version" in done.stderr
    assert project.tags() == ["v2.0.1"]
    assert git(project.root, "rev-parse", "HEAD") == head


def test_dynamic_version_without_plugin_or_file_is_refused(tmp_path: Path) -> None:
    pyproject = FLIT.replace("flit_core.buildapi", "hatchling.build").replace(
        "flit_core>=3.4", "hatchling"
    )
    project = make_project(tmp_path, files={"pyproject.toml": pyproject, "tasks.py": TASKS})
    project.commit("feat: x")
    with pytest.raises(ConfigError, match=r'e\.g\. version-files = \["src/demo/__init__.py"\]'):
        run_release(config.load(project.root), only=LOCAL.split(","))
    assert project.tags() == []


# -- 3. projects without a [project] table -----------------------------------------------

SETUPTOOLS = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"

[tool.shipyard.release]
build-isolation = false
github = false
publish = false
"""

SETUP_CFG = """\
[metadata]
name = legacycalc
# the version lives here
version = 0.3.1
description = A tiny calculator

[options]
packages = find:
"""

POETRY = """\
[tool.poetry]
name = "slugify-lite"
version = "0.2.0"  # poetry's
description = "Turn titles into URL slugs"
authors = ["Sam Smith <sam@example.org>"]

[build-system]
requires = ["poetry-core>=1.0.0"]
build-backend = "poetry.core.masonry.api"

[tool.shipyard.release]
github = false
publish = false  # a dry run reads the index as the real run would: none here
"""


def _legacy(tmp_path: Path, files: dict[str, str]) -> Project:
    project = make_project(tmp_path, name="calc", files={"tasks.py": TASKS, **files})
    project.commit("fix!: strip leading dashes", path="calc/__init__.py")
    return project


@pytest.mark.parametrize(
    ("files", "changed", "versions"),
    [
        ({"pyproject.toml": SETUPTOOLS, "setup.cfg": SETUP_CFG}, "setup.cfg", ("0.3.1", "0.4.0")),
        ({"pyproject.toml": POETRY}, "pyproject.toml", ("0.2.0", "0.3.0")),
    ],
    ids=["setup.cfg", "poetry"],
)
def test_setup_cfg_and_poetry_versions_are_read_and_bumped(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    files: dict[str, str],
    changed: str,
    versions: tuple[str, str],
) -> None:
    now, then = versions  # now, and after a feat
    project = _legacy(tmp_path, files)
    root = str(project.root)
    assert main(["--root", root, "version"]) == 0
    assert capsys.readouterr().out == f"{now}\n"
    assert main(["--root", root, "version", "--next"]) == 0
    assert capsys.readouterr().out == f"{now}\n"  # the first release is the files' version
    project.tag(f"v{now}")
    project.commit("feat: more")
    assert main(["--root", root, "version", "--next"]) == 0
    assert capsys.readouterr().out == f"{then}\n"
    assert main(["--root", root, "changelog", "--unreleased"]) == 0
    assert capsys.readouterr().out.startswith(f"## [{then}] - ")

    dry = invoke_release(project, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert f"would set {then} in {changed}" in dry.stdout

    before = (project.root / changed).read_text()
    done = invoke_release(project, "--step", LOCAL)
    assert done.returncode == 0, done.stderr
    assert (project.root / changed).read_text() == before.replace(now, then, 1)
    assert _committed(project, f"v{then}") == sorted(["CHANGELOG.md", changed])


HATCH_PATH = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "demo"
dynamic = ["version"]
requires-python = ">=3.11"

[tool.hatch.version]
path = "src/demo/__init__.py"

[tool.shipyard.release]
build-isolation = false
github = false
"""


@pytest.mark.slow
def test_dynamic_version_release_builds_the_tagged_version(tmp_path: Path) -> None:
    files = {"pyproject.toml": HATCH_PATH, "tasks.py": TASKS}
    project = make_project(tmp_path, files=files)
    (project.root / "src/demo/__init__.py").write_text('__version__ = "1.0.0"\n')
    git(project.root, "commit", "-qam", "build: the version in the package")
    project.tag("v1.0.0")
    project.commit("fix: a")

    done = invoke_release(project, "--step", f"{LOCAL},build")
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (project.root / "dist").iterdir()) == [
        "SHA256SUMS",
        "demo-1.0.1-py3-none-any.whl",
        "demo-1.0.1.tar.gz",
    ]


# -- 4. a dry run says what the real run would do, and fails as it would -----------------


def test_dry_run_without_the_remote_names_the_setting(tmp_path: Path) -> None:
    project = make_project(tmp_path, files={"tasks.py": TASKS})
    project.commit("feat: x")
    git(project.root, "remote", "remove", "origin")
    dry = invoke_release(project, "--dry-run")
    assert dry.returncode == 2, dry.stderr
    assert "the git remote 'origin' does not exist here (remotes: none)" in dry.stderr
    assert "tool.shipyard.release.remote" in dry.stderr
    real = invoke_release(project)
    assert real.returncode == 2
    assert "tool.shipyard.release.remote" in real.stderr


def test_dry_run_with_an_unreachable_remote_keeps_gits_words(tmp_path: Path) -> None:
    project = make_project(tmp_path, files={"tasks.py": TASKS})
    project.commit("feat: x")
    git(project.root, "remote", "set-url", "origin", str(tmp_path / "gone.git"))
    dry = invoke_release(project, "--dry-run")
    assert dry.returncode == 6, dry.stderr
    assert "does not appear to be a git repository" in dry.stderr
    assert "Could not read from remote repository" in dry.stderr


def test_dry_run_exits_as_the_real_run_when_preflight_fails(tmp_path: Path) -> None:
    project = make_project(tmp_path, files={"tasks.py": TASKS})
    project.commit("feat: x")
    (project.root / ".gitignore").write_text("changed\n")
    dry = invoke_release(project, "--dry-run")
    real = invoke_release(project)
    assert dry.returncode == real.returncode == 1
    assert "✕ preflight  uncommitted changes in .gitignore" in dry.stdout
    assert "release: error: preflight: uncommitted changes in .gitignore" in dry.stderr
    assert project.tags() == []


def test_dry_run_shows_the_skips_of_the_real_run(tmp_path: Path) -> None:
    project = make_project(tmp_path, release="publish = false", files={"tasks.py": TASKS})
    project.commit("feat: x")
    (project.root / "CHANGELOG.md").write_text("# Changelog\n\n## [0.1.0] - 2024-05-01\n")
    dry = invoke_release(project, "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "- version    files already say 0.1.0" in dry.stdout
    assert "- changelog  CHANGELOG.md already has 0.1.0" in dry.stdout
    assert "- github     no GITHUB_TOKEN or GH_TOKEN: GitHub release left out" in dry.stdout
    assert "- publish    publish = false" in dry.stdout
    assert "would create the GitHub release" not in dry.stdout
    ci = invoke_release(project, "--dry-run", "--ci")
    assert ci.returncode == 3
    assert "GITHUB_TOKEN (or GH_TOKEN) is not set" in ci.stderr

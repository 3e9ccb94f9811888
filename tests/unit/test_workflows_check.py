from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from helpers.workflows import inputs, write_project
from shipyard import config
from shipyard.errors import ConfigError
from shipyard.report import Status
from shipyard.workflows import check, generate
from shipyard.workflows.check import Kind


@pytest.fixture
def project(tmp_path: Path) -> config.Config:
    return config.load(write_project(tmp_path / "p"))


def rendered(cfg: config.Config) -> dict[str, str]:
    return generate.render(cfg, inputs())


def write_all(cfg: config.Config, *, force: bool = False) -> list[check.Change]:
    changes = check.plan(cfg, rendered(cfg), force=force)
    check.apply(changes)
    return changes


def kinds(changes: list[check.Change]) -> dict[str, Kind]:
    return {c.name: c.kind for c in changes}


def test_first_write_creates_then_nothing_drifts(project: config.Config) -> None:
    assert kinds(write_all(project)) == {"ci.yml": Kind.CREATE, "security.yml": Kind.CREATE}
    again = check.plan(project, rendered(project))
    assert kinds(again) == {"ci.yml": Kind.SAME, "security.yml": Kind.SAME}
    assert check.unified_diff(again, project.root) == ""
    assert check.managed(project)


def test_an_edit_above_the_marker_is_drift_with_a_unified_diff(project: config.Config) -> None:
    write_all(project)
    ci = project.root / ".github/workflows/ci.yml"
    ci.write_text(ci.read_text().replace("timeout-minutes: 15", "timeout-minutes: 99"))
    changes = check.plan(project, rendered(project))
    assert kinds(changes)["ci.yml"] is Kind.UPDATE
    diff = check.unified_diff(changes, project.root)
    assert diff.startswith("--- a/.github/workflows/ci.yml\n+++ b/.github/workflows/ci.yml\n")
    assert "-    timeout-minutes: 99\n+    timeout-minutes: 15\n" in diff


def test_hand_edits_below_the_marker_are_kept(project: config.Config) -> None:
    write_all(project)
    ci = project.root / ".github/workflows/ci.yml"
    extra = textwrap.dedent(
        """\
          docs:
            runs-on: ubuntu-24.04
            steps:
              - run: nox -s docs
        """
    )
    ci.write_text(ci.read_text() + extra)
    assert kinds(check.plan(project, rendered(project)))["ci.yml"] is Kind.SAME

    # A change in what shipyard generates rewrites the top and carries the tail over.
    ci.write_text(ci.read_text().replace("timeout-minutes: 15", "timeout-minutes: 99"))
    write_all(project)
    text = ci.read_text()
    assert "timeout-minutes: 99" not in text
    assert text.endswith(generate.MARKER + "\n" + extra)


def test_hand_written_workflows_are_left_alone_unless_forced(project: config.Config) -> None:
    workflows = project.root / ".github/workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text("name: mine\n")
    (workflows / "docs.yml").write_text("name: docs\n")
    changes = write_all(project)
    assert kinds(changes) == {"ci.yml": Kind.HAND_WRITTEN, "security.yml": Kind.CREATE}
    assert (workflows / "ci.yml").read_text() == "name: mine\n"
    assert check.unified_diff(changes, project.root).count("+++ ") == 1

    forced = write_all(project, force=True)
    assert kinds(forced)["ci.yml"] is Kind.UPDATE
    assert check.is_generated((workflows / "ci.yml").read_text())
    assert (workflows / "docs.yml").read_text() == "name: docs\n"


def test_a_generated_file_no_longer_wanted_is_removed(project: config.Config) -> None:
    write_all(project)
    stale = project.root / ".github/workflows/monitor.yml"
    stale.write_text(rendered(project)["ci.yml"].replace("name: ci", "name: monitor"))
    changes = check.plan(project, rendered(project))
    assert kinds(changes)["monitor.yml"] is Kind.REMOVE
    assert "+++ /dev/null" in check.unified_diff(changes, project.root)
    check.apply(changes)
    assert not stale.exists()


def test_a_workflow_dir_that_is_a_file_is_an_error(project: config.Config) -> None:
    (project.root / ".github").mkdir()
    (project.root / ".github/workflows").write_text("oops")
    with pytest.raises(ConfigError, match=r"workflows: is not a directory"):
        check.plan(project, rendered(project))


def test_drift_stage_result(project: config.Config, capsys: pytest.CaptureFixture[str]) -> None:
    missing = check.drift(project, inputs())
    assert missing.status is Status.FAILED
    assert "ci.yml, security.yml" in missing.reason
    assert [f.path for f in missing.findings] == [
        ".github/workflows/ci.yml",
        ".github/workflows/security.yml",
    ]
    assert "+++ b/.github/workflows/ci.yml" in capsys.readouterr().err

    write_all(project)
    assert check.drift(project, inputs()).status is Status.PASSED


def test_not_managed_without_generated_files(project: config.Config) -> None:
    assert not check.managed(project)
    workflows = project.root / ".github/workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text("name: mine\n")
    assert not check.managed(project)

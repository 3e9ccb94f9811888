from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import subprocess
import time
from pathlib import Path

import pytest

from helpers.projects import write_files
from shipyard import config as config_mod
from shipyard.monitor import alerts, checks, facts, health
from shipyard.monitor.run import security_from_audit
from shipyard.report import Finding, Severity, StageResult, Status, write_result

SHA = "0123456789abcdef0123456789abcdef01234567"
NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)


def workflow(**body: object) -> dict[str, object]:
    return {"name": "ci", "jobs": {"test": {"runs-on": "ubuntu-latest", "steps": []}}, **body}


def test_sy002_names_every_action_not_pinned_to_a_sha() -> None:
    flow = workflow()
    flow["jobs"] = {
        "test": {
            "steps": [
                {"uses": f"actions/checkout@{SHA}"},
                {"uses": "actions/setup-python@v5"},
                {"uses": "./.github/actions/local"},
                {"uses": "docker://alpine:3"},
                {"run": "nox -s test"},
            ]
        },
        "reuse": {"uses": "org/repo/.github/workflows/x.yml@main"},
    }
    message = checks.SY002.check({"ci": flow})
    assert "`ci`: `actions/setup-python@v5`" in message
    assert "`ci`: `docker://alpine:3`" in message
    assert "`ci`: `org/repo/.github/workflows/x.yml@main`" in message
    assert "checkout" not in message
    assert "local" not in message

    flow["jobs"] = {"test": {"steps": [{"uses": f"actions/checkout@{SHA}"}]}}
    assert checks.SY002.check({"ci": flow}) == ""


def test_sy003_wants_read_only_top_level_permissions() -> None:
    good = workflow(permissions={"contents": "read"})
    good["jobs"] = {"release": {"permissions": {"contents": "write"}}}
    assert checks.SY003.check({"ci": good, "empty": workflow(permissions={})}) == ""

    message = checks.SY003.check(
        {
            "none": workflow(),
            "wide": workflow(permissions="write-all"),
            "writes": workflow(permissions={"contents": "write"}),
            "job": {
                **workflow(permissions="read-all"),
                "jobs": {"x": {"permissions": "write-all"}},
            },
        }
    )
    assert "`none`: no top-level `permissions:`" in message
    assert "`wide`: top-level `permissions:` grants write access" in message
    assert "`writes`: top-level `permissions:` grants write access" in message
    assert "`job`: job `x` has `permissions: write-all`" in message


def test_file_checks_look_where_projects_keep_those_files(tmp_path: Path) -> None:
    assert not checks.SY012.check(tmp_path)
    write_files(tmp_path, {".github/SECURITY.md": "x", "docs/changelog.rst": "x", "COPYING": "x"})
    assert checks.SY012.check(tmp_path)
    assert checks.SY013.check(tmp_path)
    assert checks.SY011.check(tmp_path)
    assert not checks.SY010.check(tmp_path)


def test_sy020_and_sy021_read_the_configuration(tmp_path: Path) -> None:
    assert not checks.SY020.check({})
    assert checks.SY020.check({"tool": {"shipyard": {"gates": {"coverage": 90}}}})
    assert checks.SY020.check({"tool": {"coverage": {"report": {"fail_under": 90}}}})

    assert not checks.SY021.check(tmp_path, {}, {})
    assert checks.SY021.check(tmp_path, {"updates": [{"package-ecosystem": "pip"}]}, {})
    flow = workflow()
    flow["jobs"] = {"m": {"steps": [{"run": "invoke monitor --apply"}]}}
    assert checks.SY021.check(tmp_path, {}, {"monitor": flow})
    write_files(tmp_path, {"renovate.json": "{}"})
    assert checks.SY021.check(tmp_path, {}, {})


def known(tmp_path: Path, **changes: object) -> facts.HealthFacts:
    base = facts.HealthFacts(root=tmp_path, config=None, now=NOW)
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def test_sy001_reports_the_drift_check(tmp_path: Path) -> None:
    note = "the workflows cannot be generated here: no noxfile.py"
    assert checks.SY001.check(known(tmp_path, workflows_note=note)) is None
    assert checks.SY001.skip_reason(known(tmp_path, workflows_note=note)) == note

    same = StageResult(stage="workflows", status=Status.PASSED)
    assert checks.SY001.check(known(tmp_path, workflows=same)) == ""
    drifted = StageResult(
        stage="workflows",
        status=Status.FAILED,
        reason="out of date: ci.yml",
        findings=[Finding(rule="workflow-update", message="x", path=".github/workflows/ci.yml")],
    )
    message = checks.SY001.check(known(tmp_path, workflows=drifted))
    assert message == "out of date: ci.yml."


def test_sy030_measures_days_since_the_last_release_tag(tmp_path: Path) -> None:
    none = known(tmp_path, tag_note="no release tag matching 'v*' yet")
    assert checks.SY030.check(none) is None
    assert checks.SY030.skip_reason(none) == "no release tag matching 'v*' yet"

    fresh = known(tmp_path, last_tag="v1.0", last_tag_time=NOW - dt.timedelta(days=10))
    assert checks.SY030.check(fresh) == ""
    old = known(tmp_path, last_tag="v0.9", last_tag_time=NOW - dt.timedelta(days=400))
    assert checks.SY030.check(old) == "The last release, `v0.9`, is 400 days old (limit: 180)."


def test_sy031_counts_open_audit_findings_by_severity(tmp_path: Path) -> None:
    audit = StageResult(
        stage="audit",
        status=Status.FAILED,
        findings=[
            Finding(rule="CVE-1", message="x", severity=Severity.HIGH),
            Finding(rule="CVE-2", message="y", severity=Severity.HIGH),
            Finding(rule="B101", message="z", severity=Severity.LOW),
        ],
    )
    message = checks.SY031.check(known(tmp_path, audit=audit))
    assert message == "The last audit has 3 open finding(s): 2 high, 1 low."
    assert (
        checks.SY031.check(known(tmp_path, audit=StageResult(stage="audit", status=Status.PASSED)))
        == ""
    )


def test_last_release_tag_reads_annotated_and_light_tags(git_repo: Path) -> None:
    assert facts.last_release_tag(git_repo, "v*")[2] == "no release tag matching 'v*' yet"
    date = "2020-01-02T03:04:05+00:00"
    env = {**os.environ, "GIT_COMMITTER_DATE": date, "GIT_AUTHOR_DATE": date}
    for argv in (["commit", "-q", "--allow-empty", "-m", "one"], ["tag", "-a", "v1.0", "-m", "v1"]):
        subprocess.run(["git", *argv], cwd=git_repo, env=env, check=True)
    subprocess.run(["git", "tag", "other"], cwd=git_repo, check=True)
    tag, when, note = facts.last_release_tag(git_repo, "v*")
    assert (tag, note) == ("v1.0", "")
    assert when == dt.datetime(2020, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    assert "not a git repository" in facts.last_release_tag(git_repo.parent, "v*")[2]


def test_health_scores_only_checks_that_ran(sample_project) -> None:
    root = sample_project(tool="[tool.shipyard.monitor]\nhealth-floor = 100\n")
    config = config_mod.load(root)
    result = health.run_health(config, facts=facts.gather(root, config=config, now=NOW))

    table = json.loads((config.reports / "health-checks.json").read_text())
    ran = [c for c in table["checks"] if c["result"] != "skipped"]
    passed = [c for c in ran if c["result"] == "passed"]
    assert result.metrics["health.score"] == round(100 * len(passed) / len(ran), 1)
    assert result.status is Status.FAILED
    assert "below the floor of 100%" in result.reason
    names = {c["name"] for c in table["checks"]}
    assert {"SY010", "SY041", "PY001"} <= names  # shipyard's and sp-repo-review's checks
    skipped = {c["name"]: c["skip_reason"] for c in table["checks"]}
    assert skipped["SY002"] == "requires GH100"
    assert skipped["SY031"].startswith("no audit result at ")


def test_security_part_comes_from_a_fresh_audit_result(sample_project) -> None:
    config = config_mod.load(sample_project())
    since = time.time()
    missing = security_from_audit(config, since=since, exit_code=1)
    assert missing.status is Status.SKIPPED
    assert "`nox -s audit` exited 1 without a readable audit.json" in missing.reason

    stale = StageResult(stage="audit", status=Status.FAILED, finished_at=since - 60)
    write_result(stale, config.reports)
    assert "wrote no new audit.json" in security_from_audit(config, since=since, exit_code=0).reason

    write_result(StageResult(stage="audit", status=Status.FAILED, reason="2 high"), config.reports)
    part = security_from_audit(config, since=since, exit_code=1)
    assert (part.stage, part.status, part.reason) == ("security", Status.FAILED, "audit: 2 high")


def result(stage: str, status: Status, *findings: Finding) -> StageResult:
    return StageResult(stage=stage, status=status, findings=findings, duration=time.time())


@pytest.mark.parametrize(
    ("alert_on", "raised"), [("failed", ["health"]), ("warned", ["health", "freshness"])]
)
def test_alerts_follow_alert_on_and_skipped_parts_change_nothing(
    alert_on: str, raised: list[str]
) -> None:
    parts = [
        result("health", Status.FAILED),
        result("freshness", Status.WARNED),
        result("security", Status.SKIPPED),
        result("updates", Status.PASSED),
    ]
    active, cleared = alerts.raised_and_cleared(parts, alert_on=alert_on)
    assert [a.kind for a in active] == raised
    assert "security" not in cleared
    assert "updates" in cleared
    assert ("freshness" in cleared) is (alert_on == "failed")


def test_the_fingerprint_ignores_timings_and_follows_the_findings() -> None:
    one = Finding(rule="SY011", message="no licence", extra={"fingerprint": "SY011"})
    aged = Finding(rule="SY011", message="no licence, 3 days", extra={"fingerprint": "SY011"})
    first = alerts.raised_and_cleared([result("health", Status.FAILED, one)], alert_on="failed")
    later = alerts.raised_and_cleared([result("health", Status.FAILED, aged)], alert_on="failed")
    other = alerts.raised_and_cleared(
        [result("health", Status.FAILED, Finding(rule="SY012", message="x"))], alert_on="failed"
    )
    assert first[0][0].fingerprint == later[0][0].fingerprint
    assert first[0][0].fingerprint != other[0][0].fingerprint
    assert first[0][0].marker() in first[0][0].markdown()


def test_shipyard_health_prints_every_check_and_exits_1_below_the_floor(
    sample_project, capsys: pytest.CaptureFixture[str]
) -> None:
    from shipyard import cli  # noqa: PLC0415

    root = sample_project(tool="[tool.shipyard.monitor]\nhealth-floor = 100\n")
    code = cli.main(["--root", str(root), "health", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 1
    assert {"SY010", "SY041"} <= {c["name"] for c in out["checks"]}
    assert (root / ".shipyard/reports/health.json").is_file()

    root = sample_project(name="other", tool="[tool.shipyard.monitor]\nhealth-floor = 0\n")
    assert cli.main(["--root", str(root), "health"]) == 0
    assert "SY013" in capsys.readouterr().out

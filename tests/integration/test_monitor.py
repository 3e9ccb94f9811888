"""`run_monitor` against a real pypiserver, a real git remote and local GitHub/webhook servers."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from helpers.monitor import Project, every_text, git, make_project, publish
from helpers.servers import FakeGitHub, SimpleIndex, Webhook, pypiserver
from shipyard import config as config_mod
from shipyard.errors import ExitCode
from shipyard.monitor.freshness import check_freshness
from shipyard.monitor.run import run_monitor
from shipyard.report import Status

pytestmark = pytest.mark.slow

TOKEN = "ghp_test-token-never-shown"
SECRET = "T000/B000/hook-secret-never-shown"


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("index")
    with pypiserver(tmp / "packages") as pypi, SimpleIndex(pypi) as index:
        publish(pypi, index, tmp / "dist")
        yield pypi, index


@pytest.fixture
def index(servers) -> SimpleIndex:
    _, index = servers
    index.faults.clear()
    index.errors.clear()
    index.requests.clear()
    return index


@pytest.fixture
def project(tmp_path: Path, index: SimpleIndex) -> Project:
    return make_project(tmp_path, f"{index.url}/simple/")


def load(project: Project) -> config_mod.Config:
    return config_mod.load(project.root)


def by_name(items):
    return {item.dependency.name: item for item in items}


# -- freshness ---------------------------------------------------------------------------


def test_the_issue_example_holds_against_a_real_index(project: Project, index: SimpleIndex):
    with httpx.Client() as client:
        result, items = check_freshness(load(project), client=client)

    foo = by_name(items)["foo"]
    assert str(foo.current) == "1.4.0"  # the newest release the pin allows
    assert str(foo.proposal) == "2.0.0"
    assert foo.behind == "major"
    assert [str(v) for v in foo.in_cooldown] == ["2.1.0"]
    assert foo.new_requirement == "foo>=1.2,<3"
    assert foo.proposal_age_days == pytest.approx(30, abs=0.1)
    assert all("2.0.0rc1" not in json.dumps(f.to_json()) for f in result.findings)
    message = next(f.message for f in result.findings if f.rule == "freshness.major")
    assert "2.1.0 inside the 7-day cooldown" in message

    bar = by_name(items)["bar"]  # 1.1.0 is yanked
    assert (str(bar.proposal), bar.behind, bar.new_requirement) == ("1.0.3", "patch", "bar==1.0.3")
    assert by_name(items)["baz"].proposal is None
    assert result.status is Status.WARNED
    assert result.metrics["freshness.outdated"] == 2
    assert index.errors == []
    assert {r.path for r in index.requests} == {"/simple/foo/", "/simple/bar/", "/simple/baz/"}


def test_the_pypi_json_api_gives_the_same_answer(project: Project, index: SimpleIndex):
    text = (project.root / "pyproject.toml").read_text()
    text = text.replace(f'"{index.url}/simple/"', f'"{index.url}/pypi"\nindex-api = "json"')
    (project.root / "pyproject.toml").write_text(text)

    with httpx.Client() as client:
        _, items = check_freshness(load(project), client=client)

    foo = by_name(items)["foo"]
    assert (str(foo.current), str(foo.proposal)) == ("1.4.0", "2.0.0")
    assert str(by_name(items)["bar"].proposal) == "1.0.3"
    assert index.errors == []
    assert {r.path for r in index.requests} >= {"/pypi/foo/json", "/pypi/bar/json"}


def test_pypiservers_own_html_pages_have_no_upload_times(servers, tmp_path: Path):
    # pypiserver speaks PEP 503 HTML only: no upload times, no yanking. Releases of
    # unknown age are proposed, so the cooldown cannot hold 2.1.0 back there.
    pypi, _ = servers
    project = make_project(tmp_path, f"{pypi.url}/simple/")
    with httpx.Client() as client:
        _, items = check_freshness(load(project), client=client)
    foo = by_name(items)["foo"]
    assert str(foo.proposal) == "2.1.0"
    assert foo.proposal_age_days is None


def test_one_bad_package_is_reported_and_the_others_are_done(project: Project, index: SimpleIndex):
    project.write(
        "requirements.txt",
        """
        broken==1.0.0
        missing==1.0
        garbled==2.0
        foo==1.2.0
        this is not ==a requirement
        """,
    )
    index.faults.update({"broken": 500, "garbled": "garbage"})

    with httpx.Client() as client:
        result, items = check_freshness(load(project), client=client)

    problems = {f.message for f in result.findings if not f.rule.startswith("freshness.m")}
    assert any("broken" in m and "HTTP 500" in m for m in problems)
    assert any("missing" in m and "404" in m for m in problems)
    assert any("garbled" in m and "not valid JSON" in m for m in problems)
    assert any(
        "'this is not ==a requirement' is not a requirement pip can parse" in m for m in problems
    )
    assert result.metrics["freshness.errors"] == 4
    unparsable = next(f for f in result.findings if "pip can parse" in f.message)
    assert unparsable.location == "requirements.txt:5"
    pinned = [i for i in items if i.dependency.path.name == "requirements.txt"]
    assert [(i.dependency.name, str(i.proposal)) for i in pinned] == [("foo", "2.0.0")]
    assert index.errors == []


# -- the whole run -----------------------------------------------------------------------


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_no_network_skips_every_part_as_unreachable(tmp_path: Path, index: SimpleIndex):
    project = make_project(tmp_path, f"http://127.0.0.1:{closed_port()}/simple/")
    report = run_monitor(load(project), apply=True, env={})

    assert report.exit_code is ExitCode.UNREACHABLE
    assert [p.stage for p in report.parts] == [
        "health",
        "freshness",
        "performance",
        "security",
        "updates",
        "alerts",
    ]
    assert all(p.status is Status.SKIPPED for p in report.parts)
    assert all(p.reason.startswith("unreachable: ") for p in report.parts)
    data = json.loads(report.json_path.read_text())
    assert data["exit_code"] == 6
    assert "unreachable" in report.markdown_path.read_text()


def test_a_run_writes_one_report_and_says_nothing_needs_a_person(
    project: Project, index: SimpleIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    summary = tmp_path / "summary.md"
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(summary))
    report = run_monitor(load(project), env={})

    assert report.exit_code is ExitCode.OK
    parts = {p.stage: p for p in report.parts}
    assert list(parts) == ["health", "freshness", "performance", "security", "alerts"]
    assert parts["freshness"].status is Status.WARNED
    assert parts["alerts"].status is Status.SKIPPED
    assert "no GitHub token ($GITHUB_TOKEN is not set)" in parts["alerts"].reason
    data = json.loads(report.json_path.read_text())
    assert data["needs_person"] is False
    assert [p["stage"] for p in data["parts"]] == list(parts)
    reports = project.root / ".shipyard/reports"
    assert (reports / "freshness.json").is_file()
    deps = json.loads((reports / "freshness-dependencies.json").read_text())
    assert {d["name"]: d["proposal"] for d in deps} == {"foo": "2.0.0", "baz": None, "bar": "1.0.3"}
    assert "## shipyard monitor" in summary.read_text()
    assert summary.read_text() == report.markdown_path.read_text()


def test_health_reads_github_when_a_token_is_present(project: Project, index: SimpleIndex):
    with FakeGitHub(repository="acme/widget", token=TOKEN) as github:
        github.protected = False
        github.alerts["dependabot/alerts"] = [{"number": 1}, {"number": 2}]
        github.alerts["code-scanning/alerts"] = 403
        env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": github.url}
        report = run_monitor(load(project), env=env)
    assert github.errors == []

    checks = json.loads((project.root / ".shipyard/reports/health-checks.json").read_text())
    table = {c["name"]: c for c in checks["checks"]}
    assert table["SY040"]["result"] == "failed"
    assert "`main` is not protected" in table["SY040"]["details"]
    assert table["SY041"]["result"] == "failed"
    assert "2 dependabot" in table["SY041"]["details"]
    health = report.parts[0]
    assert health.status is Status.FAILED  # open security alerts need a person
    assert report.exit_code is ExitCode.GATE_FAILED


def test_without_a_token_the_github_checks_are_skipped_with_the_reason(project: Project):
    run_monitor(load(project), env={})
    checks = json.loads((project.root / ".shipyard/reports/health-checks.json").read_text())
    table = {c["name"]: c for c in checks["checks"]}
    for name in ("SY040", "SY041"):
        assert table[name]["result"] == "skipped"
        assert table[name]["skip_reason"] == "no GitHub token ($GITHUB_TOKEN is not set)"
    assert table["SY030"]["skip_reason"] == "no release tag matching 'v*' yet"


# -- --apply -----------------------------------------------------------------------------


def test_apply_opens_one_pull_request_per_group_and_updates_them_on_rerun(
    project: Project, index: SimpleIndex
):
    before = (project.root / "pyproject.toml").read_text()
    with FakeGitHub(repository="acme/widget", token=TOKEN, remote=project.remote) as github:
        env = {"GITHUB_TOKEN": TOKEN, "GITHUB_API_URL": github.url}
        first = run_monitor(load(project), apply=True, env=env)
        second = run_monitor(load(project), apply=True, env=env)
    assert github.errors == []

    assert project.remote_branches() == [
        "main",
        "shipyard/deps/major-foo",
        "shipyard/deps/minor-patch",
    ]
    major = project.remote_file("shipyard/deps/major-foo", "pyproject.toml")
    assert major == before.replace('"foo>=1.2,<2",  # the issue', '"foo>=1.2,<3",  # the issue')
    small = project.remote_file("shipyard/deps/minor-patch", "pyproject.toml")
    assert small == before.replace('"bar==1.0.0"', '"bar==1.0.3"')

    assert [(p["head"]["ref"], p["base"]["ref"]) for p in github.pulls] == [
        ("shipyard/deps/minor-patch", "main"),
        ("shipyard/deps/major-foo", "main"),
    ]
    assert "| foo | 1.4.0 | 2.0.0 | major | 30 days | 2.1.0 |" in github.pulls[1]["body"]
    updates = {p.stage: p for p in first.parts}["updates"]
    assert updates.status is Status.PASSED
    assert "PR created" in updates.reason
    rerun = {p.stage: p for p in second.parts}["updates"]
    assert rerun.reason.count("unchanged, PR updated") == 2
    patched = [r for r in github.requests if r.method == "PATCH" and "/pulls/" in r.path]
    assert len(patched) == 2

    # The checkout itself is left as it was.
    assert (project.root / "pyproject.toml").read_text() == before
    assert git(project.root, "status", "--porcelain") == ""
    assert git(project.root, "branch", "--show-current") == "main"


def test_apply_without_a_token_pushes_branches_and_says_why_no_pull_request(project: Project):
    report = run_monitor(load(project), apply=True, env={})
    updates = {p.stage: p for p in report.parts}["updates"]
    assert updates.status is Status.WARNED
    assert "no GitHub token" in updates.reason
    assert "shipyard/deps/minor-patch" in project.remote_branches()


# -- alerts ------------------------------------------------------------------------------


def set_floor(project: Project, floor: int) -> None:
    path = project.root / "pyproject.toml"
    text = path.read_text()
    if "health-floor" in text:
        text = text.rsplit("\nhealth-floor", 1)[0] + "\n"
    path.write_text(text + f"health-floor = {floor}\n")


def test_alerts_are_raised_once_commented_on_change_and_closed_when_clear(
    project: Project,
    index: SimpleIndex,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
):
    caplog.set_level(logging.DEBUG)
    set_floor(project, 100)  # every failed check now fails health
    with FakeGitHub(repository="acme/widget", token=TOKEN) as github, Webhook(SECRET) as hook:
        env = {
            "GITHUB_TOKEN": TOKEN,
            "GITHUB_API_URL": github.url,
            "SHIPYARD_ALERT_WEBHOOK": hook.hook_url,
        }
        first = run_monitor(load(project), env=env)
        again = run_monitor(load(project), env=env)
        (project.root / "LICENSE").unlink()  # health fails differently now
        changed = run_monitor(load(project), env=env)
        set_floor(project, 0)
        cleared = run_monitor(load(project), env=env)
    assert github.errors == []
    assert hook.errors == []

    assert first.exit_code is ExitCode.GATE_FAILED
    assert [i["title"] for i in github.issues] == ["[shipyard monitor] health needs attention"]
    issue = github.issues[0]
    assert issue["labels"] == ["shipyard-monitor"]
    comments = [c["body"] for c in github.comments[issue["number"]]]
    assert len(comments) == 2  # the changed failure, then the all-clear
    assert "SY011" in comments[0]
    assert "clear again" in comments[1]
    assert issue["state"] == "closed"
    assert cleared.exit_code is ExitCode.OK

    texts = [m["text"] for m in hook.messages]
    assert len(texts) == 3  # raised, changed, cleared: the unchanged rerun sent nothing
    assert texts[0].startswith(":rotating_light: *widget*: health failed")
    assert "clear again" in texts[2]
    alerts_again = {p.stage: p for p in again.parts}["alerts"]
    assert alerts_again.reason == "1 active, 0 sent"
    assert {p.stage: p for p in changed.parts}["alerts"].status is Status.PASSED

    # Neither secret is ever written or printed.
    out = capsys.readouterr()
    state = Path(os.environ["SHIPYARD_STATE_DIR"])
    for path, text in every_text(project.root / ".shipyard", state):
        assert TOKEN not in text, path
        assert SECRET not in text, path
    assert TOKEN not in out.out + out.err + caplog.text
    assert SECRET not in out.out + out.err + caplog.text
    assert "HTTP Request: GET" in caplog.text  # httpx does log, just never the webhook


def test_a_failing_webhook_is_reported_without_its_url(project: Project, index: SimpleIndex):
    set_floor(project, 100)
    with Webhook(SECRET) as hook:
        hook.answer = 500
        report = run_monitor(load(project), env={"SHIPYARD_ALERT_WEBHOOK": hook.hook_url})
    alerts = {p.stage: p for p in report.parts}["alerts"]
    assert alerts.status is Status.WARNED
    assert alerts.reason == "health: webhook answered HTTP 500"
    assert SECRET not in report.json_path.read_text()


def test_invoke_monitor_runs_every_part_and_reports_the_missing_audit(
    project: Project, index: SimpleIndex
):
    (project.root / "tasks.py").write_text("from shipyard.flows import ns  # noqa: F401\n")
    env = {k: v for k, v in os.environ.items() if k != "GITHUB_TOKEN"}
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "monitor"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )

    assert done.returncode == 0, done.stderr
    data = json.loads((project.root / ".shipyard/reports/monitor.json").read_text())
    parts = {p["stage"]: p for p in data["parts"]}
    assert parts["freshness"]["status"] == "warned"
    # This sample has no noxfile, so its audit session cannot run: said, not hidden.
    assert parts["security"]["status"] == "skipped"
    assert "`nox -s audit` exited" in parts["security"]["reason"]
    assert "shipyard monitor" in done.stderr


def test_a_failed_push_is_reported_without_the_remotes_credentials(
    project: Project, index: SimpleIndex
):
    url = f"http://shipyard:{TOKEN}@127.0.0.1:{closed_port()}/remote.git"
    git(project.root, "remote", "set-url", "origin", url)
    report = run_monitor(load(project), apply=True, env={})

    updates = {p.stage: p for p in report.parts}["updates"]
    assert updates.status is Status.FAILED
    assert all(f.rule == "updates.failed" for f in updates.findings)
    assert "git push" in updates.findings[0].message
    assert report.exit_code is ExitCode.GATE_FAILED
    for path, text in every_text(project.root / ".shipyard"):
        assert TOKEN not in text, path

"""Secrets in the tree and in git history, with the real detect-secrets."""

from __future__ import annotations

import dataclasses
import json
import subprocess
from pathlib import Path

import pytest

from helpers.audit import (
    commit_all,
    init_repo,
    load,
    make_project,
    shared_tool_venv,
    tool_env,
)
from shipyard.report import Status, write_result
from shipyard.stages.audit import run_audit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def audit_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_tool_venv(tmp_path_factory)


# Built at run time so that this file holds no key a scanner would find.
FAKE_KEY = "AKIA" + "QZ7XW3PLM2RT9KVB"
OTHER_KEY = "AKIA" + "MV4TY8NC6RB2XWQH"
SECRETS_ONLY = '[tool.shipyard.audit]\nchecks = ["secrets"]\n'


def every_output(root: Path) -> list[Path]:
    return [p for p in (root / ".shipyard").rglob("*") if p.is_file()]


def test_key_added_then_deleted_is_found_in_history_and_never_shown(tmp_path, audit_bin, capfd):
    root = init_repo(tmp_path / "repo")
    make_project(root, audit=SECRETS_ONLY)
    commit_all(root, "start")
    (root / "deploy.py").write_text(f'REGION = "eu"\nAWS_KEY = "{FAKE_KEY}"\n', encoding="utf-8")
    added = commit_all(root, "add deploy settings")
    (root / "deploy.py").unlink()
    (root / "blob.bin").write_bytes(bytes(range(256)) * 4)
    (root / "latin1.txt").write_bytes("caf\xe9 cr\xe8me\n".encode("latin-1"))
    commit_all(root, "remove the key; add a binary file and non-UTF-8 text")

    result = run_audit(load(root), tool_env=tool_env(audit_bin))
    write_result(result, root / ".shipyard" / "reports")

    secrets = [f for f in result.findings if f.tool == "detect-secrets"]
    aws = [f for f in secrets if f.rule == "secret/aws-access-key"]
    assert len(aws) == 1
    assert (aws[0].path, aws[0].line, aws[0].extra["commit"]) == ("deploy.py", 2, added)
    assert aws[0].extra["in_tree"] is False
    assert len(aws[0].extra["fingerprint"]) == 40
    assert result.status is Status.FAILED
    assert "secret(s)" in result.reason
    assert result.metrics["secrets.commits"] == 3
    outputs = every_output(root)
    assert {p.name for p in outputs} >= {"audit.json", "audit.sarif", "audit.md"}
    for path in outputs:
        assert FAKE_KEY not in path.read_text(encoding="utf-8", errors="replace"), path
    captured = capfd.readouterr()
    assert FAKE_KEY not in captured.out + captured.err


def test_baseline_secrets_pass_and_suppression_by_fingerprint(tmp_path, audit_bin):
    root = init_repo(tmp_path / "repo")
    make_project(root, audit=SECRETS_ONLY)
    (root / "known.py").write_text(f'KEY = "{OTHER_KEY}"\n', encoding="utf-8")
    commit_all(root, "a key the team accepted")
    baseline = subprocess.run(
        [str(audit_bin / "detect-secrets"), "scan"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (root / ".secrets.baseline").write_text(baseline, encoding="utf-8")
    (root / "new.py").write_text(f'KEY = "{FAKE_KEY}"\n', encoding="utf-8")
    commit_all(root, "baseline, and a new key")

    first = run_audit(load(root), tool_env=tool_env(audit_bin))
    (finding,) = [f for f in first.findings if f.tool == "detect-secrets"]
    assert finding.path == "new.py"
    assert first.metrics["secrets.known"] == 1

    fingerprint = finding.extra["fingerprint"]
    audit = SECRETS_ONLY + (
        f'[[tool.shipyard.audit.suppress]]\nfingerprint = "{fingerprint}"\n'
        'reason = "a test key of the sandbox account"\n'
    )
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text(encoding="utf-8").replace(SECRETS_ONLY, audit),
        encoding="utf-8",
    )
    second = run_audit(load(root), tool_env=tool_env(audit_bin))
    assert second.status is Status.PASSED
    assert second.metrics["audit.suppressed"] == 1
    baseline_data = json.loads(baseline)
    assert "known.py" in baseline_data["results"]


def test_repository_without_commits_is_a_note(tmp_path, audit_bin):
    root = init_repo(tmp_path / "repo")
    make_project(root, audit=SECRETS_ONLY)

    result = run_audit(load(root), tool_env=tool_env(audit_bin))

    notes = [f.message for f in result.findings if f.tool == "shipyard"]
    assert notes == ["git history not scanned: no commits yet"]
    assert result.status is Status.WARNED


def test_directory_outside_git_scans_every_file(tmp_path, audit_bin):
    root = make_project(tmp_path / "plain", audit=SECRETS_ONLY)
    (root / "settings.py").write_text(f'KEY = "{FAKE_KEY}"\n', encoding="utf-8")

    result = run_audit(load(root), tool_env=tool_env(audit_bin))

    assert [f.path for f in result.findings if f.tool == "detect-secrets"] == ["settings.py"]
    assert any("not a git repository" in f.message for f in result.findings)


def test_this_repository_has_no_secret_outside_its_baseline(tmp_path, audit_bin):
    # `nox -s audit` on this repository runs the same scan: a new test fixture that reads as a
    # key belongs in .secrets.baseline (`detect-secrets scan --baseline .secrets.baseline`).
    repo = Path(__file__).resolve().parents[2]
    loaded = load(repo)
    only_secrets = dataclasses.replace(loaded.audit, checks=("secrets",))
    configured = dataclasses.replace(loaded, audit=only_secrets, reports_dir=tmp_path)

    result = run_audit(configured, tool_env=tool_env(audit_bin))

    found = [f"{f.path}:{f.line} {f.rule}" for f in result.findings if f.tool == "detect-secrets"]
    assert found == []
    assert result.metrics["secrets.known"] > 0

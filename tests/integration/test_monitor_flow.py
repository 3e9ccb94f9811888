"""`invoke monitor` through the real invoke command."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.monitor import make_project

pytestmark = pytest.mark.slow


def invoke(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (root / "tasks.py").write_text("from shipyard.flows import ns  # noqa: F401\n")
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_TOKEN", "GH_TOKEN")}
    return subprocess.run(
        [sys.executable, "-m", "invoke", *args],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_invoke_monitor_exits_6_when_the_index_is_unreachable(tmp_path: Path):
    project = make_project(tmp_path, f"http://127.0.0.1:{closed_port()}/simple/")
    done = invoke(project.root, "monitor")

    assert done.returncode == 6, done.stderr
    assert "unreachable" in done.stderr
    data = json.loads((project.root / ".shipyard/reports/monitor.json").read_text())
    assert data["verdict"] == "The network was unreachable: nothing was checked."


def test_invoke_monitor_names_a_bad_key_and_exits_2(tmp_path: Path):
    project = make_project(tmp_path, "http://127.0.0.1:1/simple/", extra="cooldown = 3\n")
    done = invoke(project.root, "monitor", "--apply")

    assert done.returncode == 2
    assert "tool.shipyard.monitor.cooldown" in done.stderr
    assert "Did you mean 'tool.shipyard.monitor.cooldown-days'?" in done.stderr
    assert "Traceback" not in done.stderr


def test_sy001_passes_on_generated_workflows_and_fails_once_they_drift(sample_project):
    from shipyard import cli, config  # noqa: PLC0415
    from shipyard.monitor import checks, facts  # noqa: PLC0415

    root = sample_project()
    assert cli.main(["--root", str(root), "workflows"]) == 0
    known = facts.gather(root, config=config.load(root))
    assert checks.SY001.check(known) == ""

    ci = root / ".github/workflows/ci.yml"
    ci.write_text(ci.read_text().replace("nox -s", "nox --no-venv -s", 1))
    known = facts.gather(root, config=config.load(root))
    message = checks.SY001.check(known)
    assert message == "out of date: ci.yml; run `shipyard workflows` to regenerate."


def test_sy001_on_a_project_without_workflows_is_one_line_and_prints_no_diff(
    sample_project, capfd: pytest.CaptureFixture[str]
) -> None:
    from shipyard import config  # noqa: PLC0415
    from shipyard.monitor import checks, facts  # noqa: PLC0415

    root = sample_project()
    known = facts.gather(root, config=config.load(root))
    message = checks.SY001.check(known)
    assert message == (
        "no shipyard-generated workflows in .github/workflows; `shipyard workflows` writes "
        "ci.yml, security.yml."
    )
    out, err = capfd.readouterr()
    assert "+++ b/.github/workflows" not in out + err

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from shipyard import cli, config
from shipyard.report import Status
from shipyard.stages import bench
from shipyard.tools import ToolEnv

PYPROJECT = """
[project]
name = "demo"
version = "1.0"

[tool.shipyard.bench]
history = "repo"
pytest-args = ["--benchmark-max-time=0.05", "--benchmark-min-rounds=20"]
"""

SUITE = """
import time

def test_sleepy(benchmark):
    benchmark(time.sleep, {delay})
"""


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "benchmarks").mkdir()
    (tmp_path / "benchmarks" / "test_b.py").write_text(SUITE.format(delay=0.001), "utf-8")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "one")
    return tmp_path


@pytest.mark.slow
def test_first_run_records_then_a_slowdown_fails_the_gate(project: Path) -> None:
    tools = ToolEnv.current()
    first = bench.run_bench(config.load(project), tools)
    assert first.status is Status.PASSED
    assert "no baseline yet" in first.reason
    assert list((project / ".shipyard" / "bench-history").glob("*.jsonl"))

    # Three times slower on a branch: the merge-base run is the baseline.
    git(project, "checkout", "-q", "-b", "slow")
    (project / "benchmarks" / "test_b.py").write_text(SUITE.format(delay=0.003), "utf-8")
    second = bench.run_bench(config.load(project), tools)
    assert second.status is Status.FAILED, second.reason
    assert "merge-base" in second.reason
    assert any(f.rule == "bench-critical" for f in second.findings)
    report = (project / ".shipyard" / "reports" / "bench" / "bench.md").read_text(encoding="utf-8")
    assert "critical" in report
    data = json.loads((project / ".shipyard" / "reports" / "bench" / "compare.json").read_text())
    assert data["comparisons"][0]["verdict"] == "critical"


@pytest.mark.slow
def test_cli_compare_two_files_and_other_machines_do_not_gate(tmp_path: Path, capsys) -> None:
    def write(name: str, values: list[float], cpus: str) -> Path:
        machine = {"os": "Linux", "arch": "x86_64", "python": "3.12", "cpu": "X", "cpus": cpus}
        data = {"machine": machine, "benchmarks": [{"name": "a", "unit": "ms", "samples": values}]}
        path = tmp_path / name
        path.write_text(json.dumps(data), encoding="utf-8")
        return path

    base = write("a.json", [1.0, 1.01, 1.02, 1.0, 1.01, 1.02], "2")
    slow = write("b.json", [1.5, 1.51, 1.52, 1.5, 1.51, 1.52], "2")
    elsewhere = write("c.json", [1.5, 1.51, 1.52, 1.5, 1.51, 1.52], "8")
    assert cli.main(["--root", str(tmp_path), "bench", "compare", str(base), str(slow)]) == 1
    assert "critical" in capsys.readouterr().out
    assert cli.main(["--root", str(tmp_path), "bench", "compare", str(base), str(elsewhere)]) == 0
    assert "not gated: machines differ (cpus" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text('{"benchmarks": [', encoding="utf-8")
    assert cli.main(["--root", str(tmp_path), "bench", "compare", str(base), str(bad)]) == 2
    assert "bad.json" in capsys.readouterr().err


@pytest.mark.slow
def test_baseline_from_a_worktree_of_another_ref(project: Path) -> None:
    git(project, "checkout", "-q", "-b", "feature")
    (project / "benchmarks" / "test_b.py").write_text(SUITE.format(delay=0.002), "utf-8")
    git(project, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "two")
    out = project / "baseline.json"
    run, where = bench.make_baseline(config.load(project), ToolEnv.current(), "main", output=out)
    main_sha = subprocess.run(
        ["git", "rev-parse", "main"], cwd=project, capture_output=True, text=True, check=True
    ).stdout.strip()
    assert run.commit == main_sha
    assert "bench-history" in where
    saved = json.loads(out.read_text(encoding="utf-8"))
    assert saved["commit"] == main_sha
    # The worktree measured main's 1 ms sleep, not the feature's 2 ms.
    (only,) = run.benchmarks.values()
    assert float(only.median_exact()) < 0.0019
    assert sys.executable

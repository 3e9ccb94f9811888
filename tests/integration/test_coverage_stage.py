"""The coverage stage on real coverage.py data files, including ones from other machines."""

from __future__ import annotations

from pathlib import Path

import coverage
import pytest

from shipyard import config
from shipyard.report import Status
from shipyard.stages.coverage import run_coverage
from shipyard.tools import ToolEnv

SOURCE = "def f(x):\n    if x:\n        return 1\n    return 2\n"


def make(tmp_path: Path, floor: str) -> config.Config:
    (tmp_path / "src" / "pkg").mkdir(parents=True)
    (tmp_path / "src" / "pkg" / "mod.py").write_text(SOURCE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "pkg"\nversion = "1"\n[tool.shipyard.gates]\ncoverage = {floor}\n'
    )
    return config.load(tmp_path)


def record(data_dir: Path, target: str, path: str, lines: set[int]) -> None:
    data = coverage.CoverageData(basename=str(data_dir / f".coverage.{target}"))
    data.add_lines({path: lines})
    data.write()


def test_runs_from_linux_macos_and_windows_combine_onto_local_paths(tmp_path: Path) -> None:
    cfg = make(tmp_path, "100")
    data_dir = cfg.reports / "coverage"
    data_dir.mkdir(parents=True)
    # Lines 1, 2, 4 ran on Linux CI, line 3 on Windows: together every line ran.
    record(data_dir, "cp311-linux_x86_64", "/home/runner/work/pkg/pkg/src/pkg/mod.py", {1, 2, 4})
    record(data_dir, "cp311-windows_amd64", r"D:\a\pkg\pkg\src\pkg\mod.py", {1, 2, 3})

    result = run_coverage(cfg, ToolEnv.current())

    assert result.status is Status.PASSED, result.reason
    assert result.metrics["coverage.percent"] == 100.0
    xml = (data_dir / "coverage.xml").read_text()
    assert 'filename="pkg/mod.py"' in xml or 'filename="src/pkg/mod.py"' in xml
    assert "runner" not in xml
    assert "D:" not in xml


@pytest.mark.parametrize(("floor", "status"), [("75", Status.PASSED), ("75.01", Status.FAILED)])
def test_floor_is_compared_on_the_exact_fraction(
    tmp_path: Path, floor: str, status: Status
) -> None:
    cfg = make(tmp_path, floor)
    data_dir = cfg.reports / "coverage"
    data_dir.mkdir(parents=True)
    record(data_dir, "cp311-linux_x86_64", str(tmp_path / "src/pkg/mod.py"), {1, 2, 3})
    result = run_coverage(cfg, ToolEnv.current())
    assert result.metrics["coverage.percent"] == 75.0
    assert result.status is status
    if status is Status.FAILED:
        assert result.reason == "coverage 75.00 % is below the floor gates.coverage = 75.01 %"


def test_no_data_is_a_failure_that_says_what_to_run(tmp_path: Path) -> None:
    result = run_coverage(make(tmp_path, "80"), ToolEnv.current())
    assert result.status is Status.FAILED
    assert "run the test session first" in result.reason

"""shipyard's own hot paths, for `nox -s bench` (pytest-benchmark).

Each benchmark times one thing every `nox -s ci` run does: reading the
config, expanding the build matrix, rendering the stage summary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shipyard import config, matrix
from shipyard.report import Finding, Severity, StageResult, Status, render_markdown

ROOT = Path(__file__).resolve().parents[1]

PYPROJECT = """
[project]
name = "demo"
version = "1.0"
requires-python = ">=3.10"

[tool.shipyard.matrix]
python = ["3.10", "3.11", "3.12", "3.13"]
platforms = ["linux_x86_64", "macos_arm64", "windows_amd64"]

[tool.shipyard.gates]
coverage = 85

[tool.shipyard.bench.thresholds]
"*slow*" = { warn = 25, fail = 50 }
"""


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT, encoding="utf-8")
    (tmp_path / "src" / "demo").mkdir(parents=True)
    (tmp_path / "src" / "demo" / "__init__.py").write_text("", encoding="utf-8")
    return tmp_path


def test_config_load(benchmark: Any, project: Path) -> None:
    loaded = benchmark(config.load, project)
    assert loaded.gates.coverage == 85


def test_config_load_this_repo(benchmark: Any) -> None:
    loaded = benchmark(config.load, ROOT)
    assert loaded.project is not None


def test_matrix_expansion(benchmark: Any, project: Path) -> None:
    loaded = config.load(project)
    plan = benchmark(matrix.plan, loaded)
    assert plan.ids


def test_report_rendering(benchmark: Any) -> None:
    findings = tuple(
        Finding(rule=f"R{i}", message=f"message {i} | with a pipe", severity=Severity.LOW)
        for i in range(200)
    )
    results = [
        StageResult(stage=f"stage{i}", status=Status.WARNED, reason="r", findings=findings)
        for i in range(5)
    ]
    text = benchmark(render_markdown, results)
    assert text.count("\n") > 1000

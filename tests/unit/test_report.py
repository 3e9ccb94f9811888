from __future__ import annotations

import io
import json
import os
from fractions import Fraction
from pathlib import Path

import pytest
from rich.console import Console

from shipyard.report import (
    Finding,
    Severity,
    StageResult,
    Status,
    append_step_summary,
    read_result,
    render_markdown,
    render_table,
    worst_status,
    write_atomic,
    write_result,
)
from shipyard.stages.coverage import covered_fraction


def sample() -> StageResult:
    return StageResult(
        stage="lint",
        status=Status.FAILED,
        reason="2 finding(s)",
        duration=1.25,
        findings=(
            Finding(rule="F401", message="unused | import", path="a.py", line=3, tool="ruff"),
            Finding(rule="format", message="not formatted", path="b.py"),
        ),
        metrics={"lint.findings": 2},
        artifacts=("x.json",),
    )


def test_result_round_trips_through_versioned_json(tmp_path: Path) -> None:
    path = write_result(sample(), tmp_path)
    assert path == tmp_path / "lint.json"
    data = json.loads(path.read_text())
    assert data["schema"] == 1
    assert data["status"] == "failed"
    back = read_result(path)
    assert back.findings == sample().findings
    assert (back.stage, back.status, back.reason, back.metrics) == (
        "lint",
        Status.FAILED,
        "2 finding(s)",
        {"lint.findings": 2},
    )


def test_unknown_schema_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.json"
    path.write_text(json.dumps({"schema": 99, "stage": "x", "status": "passed"}))
    with pytest.raises(ValueError, match="schema 99"):
        read_result(path)


def test_markdown_escapes_pipes_and_lists_findings() -> None:
    text = render_markdown([sample()])
    assert "| lint | ✕ failed | 1.2s | 2 finding(s) |" in text
    assert "unused \\| import" in text
    assert "| medium | F401 | a.py:3 |" in text


def test_step_summary_is_appended_only_when_set(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert append_step_summary("x") is None
    target = tmp_path / "summary.md"
    target.write_text("before\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(target))
    append_step_summary("after\n")
    assert target.read_text() == "before\nafter\n"


def test_worst_status_order() -> None:
    assert worst_status([Status.PASSED, Status.SKIPPED]) is Status.PASSED
    assert worst_status([Status.WARNED, Status.FAILED, Status.PASSED]) is Status.FAILED
    assert worst_status([]) is Status.SKIPPED


def test_unknown_severity_ranks_as_high() -> None:
    assert Severity.UNKNOWN.rank == Severity.HIGH.rank
    assert Severity.CRITICAL.rank > Severity.HIGH.rank > Severity.LOW.rank


def test_coverage_fraction_is_exact() -> None:
    # 79.995 % would round to 80.00 % but is below an 80 % floor.
    totals = {"covered_lines": 15999, "num_statements": 20000}
    fraction = covered_fraction(totals)
    assert fraction == Fraction(15999, 20000)
    assert fraction * 100 < 80
    assert covered_fraction({"num_statements": 0}) is None


def test_write_atomic_keeps_an_existing_mode_and_gives_new_files_the_usual_one(
    tmp_path: Path,
) -> None:
    script = tmp_path / "run.sh"
    script.write_text("old")
    script.chmod(0o755)
    write_atomic(script, "new")
    assert script.read_text() == "new"
    assert script.stat().st_mode & 0o777 == 0o755
    fresh = tmp_path / "fresh.txt"
    write_atomic(fresh, "x")
    umask = os.umask(0)
    os.umask(umask)
    assert fresh.stat().st_mode & 0o777 == 0o666 & ~umask
    assert not list(tmp_path.glob(".*.tmp"))


def test_terminal_table_shows_reasons_in_brackets_as_text() -> None:
    reason = "no target: widen build or narrow skip in [tool.shipyard.matrix]."
    result = StageResult(stage="test", status=Status.FAILED, reason=reason, duration=1.0)
    out = Console(record=True, width=200, file=io.StringIO())
    out.print(render_table([result]))
    assert "narrow skip in [tool.shipyard.matrix]." in out.export_text()

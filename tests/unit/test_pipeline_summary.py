"""The ci summary's rows: the same for `nox -s ci` and `invoke ci`."""

from __future__ import annotations

import time
from pathlib import Path

from shipyard.report import DID_NOT_RUN, StageResult, Status, collect, write_result


def test_rows_follow_the_graph_then_other_fresh_results(tmp_path: Path) -> None:
    since = time.time()
    write_result(StageResult(stage="old", status=Status.PASSED, finished_at=since - 10), tmp_path)
    write_result(StageResult(stage="workflows", status=Status.FAILED), tmp_path)
    write_result(StageResult(stage="lint", status=Status.PASSED), tmp_path)
    known = {"check": StageResult(stage="check", status=Status.SKIPPED, reason="--skip")}
    rows = collect(["lint", "test", "check"], tmp_path, since, known=known)
    assert [(r.stage, r.status, r.reason) for r in rows] == [
        ("lint", Status.PASSED, ""),
        ("test", Status.SKIPPED, DID_NOT_RUN),
        ("check", Status.SKIPPED, "--skip"),
        ("workflows", Status.FAILED, ""),
    ]


def test_an_optional_row_gives_way_to_the_results_under_its_name(tmp_path: Path) -> None:
    since = time.time()
    write_result(StageResult(stage="test-x86_64-unknown-linux-gnu", status=Status.PASSED), tmp_path)
    rows = collect(["test", "coverage"], tmp_path, since, optional=["test"])
    assert [r.stage for r in rows] == ["coverage", "test-x86_64-unknown-linux-gnu"]
    # With nothing under its name, the row says it did not run.
    assert [r.stage for r in collect(["test"], tmp_path / "none", since, optional=["test"])] == [
        "test"
    ]

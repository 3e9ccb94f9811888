"""The real sessions, through the real nox, on sample projects made in temp dirs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from helpers.projects import run_nox
from shipyard.report import read_result

pytestmark = pytest.mark.slow

MYPY = """
[tool.mypy]
strict = true
"""


def results(root: Path) -> dict[str, dict[str, object]]:
    reports = root / ".shipyard" / "reports"
    return {p.stem: read_result(p).to_json() for p in reports.glob("*.json")}


def test_src_layout_passes_every_stage(sample_project) -> None:
    root = sample_project(layout="src", tool=MYPY)
    done = run_nox(root, "-s", "ci")
    assert done.returncode == 0, done.stderr[-3000:]
    found = results(root)
    assert found["lint"]["status"] == "passed"
    test_stage = next(k for k in found if k.startswith("test-cp311-"))
    assert found[test_stage]["status"] == "passed"
    assert found[test_stage]["metrics"]["test.tests"] == 1
    assert found["coverage"]["status"] == "passed"
    assert found["coverage"]["metrics"]["coverage.percent"] == 100.0
    summary = (root / ".shipyard/reports/summary.md").read_text()
    assert "| lint | ✓ passed |" in summary
    assert "| coverage | ✓ passed |" in summary
    assert (root / ".shipyard/reports/coverage/coverage.xml").is_file()
    assert (root / ".shipyard/reports/coverage/htmlcov/index.html").is_file()


def test_flat_layout_without_mypy_config_skips_mypy_visibly(sample_project) -> None:
    root = sample_project(layout="flat")
    done = run_nox(root, "-s", "ci")
    assert done.returncode == 0, done.stderr[-3000:]
    lint = results(root)["lint"]
    assert lint["status"] == "passed"
    assert "mypy skipped: the project does not configure mypy" in lint["reason"]


def test_coverage_under_the_floor_fails_ci_with_both_numbers(sample_project) -> None:
    root = sample_project(
        tool="[tool.shipyard.gates]\ncoverage = 90\n",
        files={
            "src/sample/extra.py": """
                def unused(x: int) -> int:
                    if x > 0:
                        return x
                    return -x
            """
        },
    )
    done = run_nox(root, "-s", "ci")
    assert done.returncode == 1
    coverage = results(root)["coverage"]
    assert coverage["status"] == "failed"
    assert "below the floor gates.coverage = 90 %" in coverage["reason"]
    assert coverage["metrics"]["coverage.floor"] == 90.0
    assert coverage["metrics"]["coverage.percent"] < 90
    # The summary still covers every stage, and the gate failure is named.
    assert "coverage: coverage" in done.stderr
    assert "| lint | ✓ passed |" in (root / ".shipyard/reports/summary.md").read_text()


def test_lint_error_fails_the_lint_session(sample_project) -> None:
    root = sample_project(files={"src/sample/bad.py": "import os\n"})
    done = run_nox(root, "-s", "lint")
    assert done.returncode == 1
    lint = results(root)["lint"]
    assert lint["status"] == "failed"
    rules = {(f["rule"], f["path"]) for f in lint["findings"]}
    assert ("F401", "src/sample/bad.py") in rules


def test_type_error_fails_lint_when_mypy_is_configured(sample_project) -> None:
    root = sample_project(
        tool=MYPY,
        files={"src/sample/typed.py": 'def f() -> int:\n    return "no"\n'},
    )
    done = run_nox(root, "-s", "lint")
    assert done.returncode == 1
    findings = results(root)["lint"]["findings"]
    assert any(
        f["tool"] == "mypy" and f["rule"] == "return-value" and f["line"] == 2 for f in findings
    ), findings


def test_no_tests_collected_is_a_failure(sample_project) -> None:
    root = sample_project(files={"tests/test_core.py": "# nothing here\n"})
    done = run_nox(root, "-s", "test")
    assert done.returncode == 1
    test_stage = next(v for k, v in results(root).items() if k.startswith("test-"))
    assert test_stage["reason"] == "no tests collected in tests/"


def test_bad_config_stops_nox_with_one_paragraph(sample_project) -> None:
    root = sample_project(tool="[tool.shipyard.gates]\ncoverag = 80\n")
    done = run_nox(root, "-s", "lint")
    assert done.returncode == 2
    assert "key 'tool.shipyard.gates.coverag'" in done.stderr
    assert "Did you mean 'tool.shipyard.gates.coverage'" in done.stderr
    assert "Traceback" not in done.stderr


def test_second_run_reuses_environments_until_metadata_changes(sample_project) -> None:
    root = sample_project()
    # As in many CI images: nothing a run imports is compiled unless the install did it.
    first = run_nox(root, "-s", "test", env={"PYTHONDONTWRITEBYTECODE": "1"})
    assert first.returncode == 0, first.stderr[-3000:]
    assert "skipping installs" not in first.stderr
    compiled = root.glob(".nox/test*/lib/python3*/site-packages/_pytest/__pycache__/*.pyc")
    assert any(compiled), "the session's installs left pytest uncompiled"

    second = run_nox(root, "-s", "test")
    assert second.returncode == 0
    assert "environment up to date; skipping installs" in second.stderr

    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('version = "0.1.0"', 'version = "0.2.0"'))
    third = run_nox(root, "-s", "test")
    assert third.returncode == 0
    assert "skipping installs" not in third.stderr


def test_nox_lists_sessions_by_their_own_names(sample_project) -> None:
    root = sample_project()
    done = run_nox(root, "--list", "--json")
    names = {s["session"] for s in json.loads(done.stdout)}
    assert {"lint", "coverage", "ci"} <= names
    assert any(n.startswith("test") for n in names)


def test_bench_session_without_a_suite_is_a_visible_skip(sample_project) -> None:
    root = sample_project()
    done = run_nox(root, "-s", "bench")
    assert done.returncode == 0, done.stderr[-3000:]
    bench = results(root)["bench"]
    assert bench["status"] == "skipped"
    assert "'benchmarks' does not exist" in bench["reason"]
    assert not (root / ".nox" / "bench" / ".shipyard-fingerprint").exists()


def test_bench_session_runs_a_real_suite_with_this_shipyard(sample_project) -> None:
    root = sample_project(
        files={
            "benchmarks/test_speed.py": """
                from sample.core import add


                def test_add(benchmark) -> None:
                    assert benchmark(add, 1, 2) == 3
            """
        }
    )
    done = run_nox(root, "-s", "bench")
    assert done.returncode == 0, done.stderr[-3000:]
    bench = results(root)["bench"]
    assert bench["status"] in ("passed", "warned"), bench
    assert "no baseline" in bench["reason"] or "new" in bench["reason"], bench

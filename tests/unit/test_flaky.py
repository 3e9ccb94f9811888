"""Flaky tests: read from the JUnit XML pytest-rerunfailures leaves behind."""

from __future__ import annotations

from pathlib import Path

from shipyard.report import Severity
from shipyard.stages import test
from shipyard.stages.toolchains import python

# Written by pytest 9 with pytest-rerunfailures 16 (`--reruns 1`): one <testcase>
# per attempt, the outcome on the last one only.
RECORDED = """<?xml version="1.0" encoding="utf-8"?>
<testsuites name="pytest tests">
  <testsuite name="pytest" errors="0" failures="1" skipped="0" tests="6" time="0.314">
    <testcase classname="test_f" name="test_flaky" time="0.001"/>
    <testcase classname="test_f" name="test_flaky" time="0.001"/>
    <testcase classname="test_f" name="test_ok" time="0.001"/>
    <testcase classname="test_f" name="test_bad" time="0.001"/>
    <testcase classname="test_f" name="test_bad" time="0.001">
      <failure message="assert 1 == 2">test_f.py:8: AssertionError</failure>
    </testcase>
    <testcase classname="test_g" name="test_setup_flaky" time="0.001"/>
    <testcase classname="test_g" name="test_setup_flaky" time="0.000"/>
    <testcase classname="test_g" name="test_p[1]" time="0.000"/>
    <testcase classname="test_g" name="test_p[2]" time="0.000"/>
  </testsuite>
</testsuites>
"""


def test_tests_passing_only_on_rerun_are_flaky(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(RECORDED)
    counts, findings = test._read_junit(path)
    assert counts == {"tests": 6, "failures": 1, "errors": 0, "skipped": 0, "flaky": 2}
    flaky = [f for f in findings if f.rule == "flaky"]
    assert [f.message for f in flaky] == [
        "test_f::test_flaky: failed, then passed on rerun",
        "test_g::test_setup_flaky: failed, then passed on rerun",
    ]
    assert all(f.severity is Severity.LOW for f in flaky)
    # The test that failed twice is a failure, not a flaky test.
    failed = [f for f in findings if f.rule == "test-failure"]
    assert [f.message for f in failed] == ["test_f::test_bad: assert 1 == 2"]


def test_no_rerun_no_flaky(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    path.write_text(
        '<testsuite tests="2" failures="0" errors="0" skipped="0">'
        '<testcase classname="t" name="a"/><testcase classname="t" name="a[1]"/></testsuite>'
    )
    counts, findings = test._read_junit(path)
    assert counts["flaky"] == 0
    assert findings == []


def test_the_session_installs_the_plugin_and_reruns_once() -> None:
    assert any(r.startswith("pytest-rerunfailures") for r in test.REQUIREMENTS)
    assert python.RERUNS == ("--reruns", "1")

"""The scheduler with real child processes standing in for `nox -s` (Python one-liners)."""

from __future__ import annotations

import io
import json
import sys
import textwrap
import time
from collections.abc import Mapping
from pathlib import Path

import pytest
from rich.console import Console

from helpers.pipeline import alive
from shipyard.graph import Graph, Stage
from shipyard.output import StageOutput
from shipyard.report import Status
from shipyard.scheduler import Run, exit_code

# A stage: log its start and end, write its result unless told not to, exit with `code`.
STAGE = """
import json, os, sys, time
name, reports, log = sys.argv[1], sys.argv[2], sys.argv[3]
spec = json.loads(sys.argv[4])
with open(log, "a") as fh:
    fh.write(f"start {name} {time.time()}\\n")
print(f"hello from {name}", flush=True)
time.sleep(spec.get("sleep", 0))
if "status" in spec:
    result = {"schema": 1, "stage": name, "status": spec["status"], "reason": spec["status"],
              "duration": spec.get("sleep", 0), "finished_at": time.time()}
    with open(os.path.join(reports, name + ".json"), "w") as fh:
        json.dump(result, fh)
for extra in spec.get("extra", []):
    result = {"schema": 1, "stage": extra, "status": "failed", "finished_at": time.time()}
    with open(os.path.join(reports, extra + ".json"), "w") as fh:
        json.dump(result, fh)
for line in spec.get("say", []):
    print(line, flush=True)
with open(log, "a") as fh:
    fh.write(f"end {name} {time.time()}\\n")
sys.exit(spec.get("code", 0))
"""


def stage(name: str, *needs: str) -> Stage:
    return Stage(name=name, group=name, session=name, report=name, needs=needs)


class Harness:
    def __init__(self, tmp_path: Path, specs: Mapping[str, dict[str, object]]) -> None:
        self.reports = tmp_path / "reports"
        self.reports.mkdir()
        self.log = tmp_path / "log.txt"
        self.log.touch()
        self.script = tmp_path / "stage.py"
        self.script.write_text(textwrap.dedent(STAGE))
        self.specs = specs
        self.buffer = io.StringIO()
        self.root = tmp_path

    def argv(self, node: Stage) -> list[str]:
        spec = json.dumps(self.specs.get(node.name, {"status": "passed"}))
        return [sys.executable, str(self.script), node.name, str(self.reports), str(self.log), spec]

    def run(self, graph: Graph, *, jobs: int = 2, fail_fast: bool = False, github: bool = False):
        console = Console(file=self.buffer, width=200, no_color=True)
        runner = Run(
            graph,
            self.argv,
            root=self.root,
            reports=self.reports,
            jobs=jobs,
            output=StageOutput(console, graph.names, github=github),
            fail_fast=fail_fast,
        )
        return {o.stage: o for o in runner.execute()}

    def events(self) -> list[tuple[str, str, float]]:
        rows = [line.split() for line in self.log.read_text().splitlines()]
        return sorted(((kind, name, float(t)) for kind, name, t in rows), key=lambda e: e[2])

    def most_at_once(self) -> int:
        now = most = 0
        for kind, _, _ in self.events():
            now += 1 if kind == "start" else -1
            most = max(most, now)
        return most

    def time_of(self, kind: str, name: str) -> float:
        return next(t for k, n, t in self.events() if (k, n) == (kind, name))


def test_at_most_n_at_a_time_and_needs_first(tmp_path: Path) -> None:
    specs = {n: {"status": "passed", "sleep": 0.4} for n in ("a", "b", "c", "d")}
    harness = Harness(tmp_path, specs)
    graph = Graph((stage("a"), stage("b"), stage("c"), stage("d", "a", "b")))
    outcomes = harness.run(graph, jobs=2)
    assert {n: o.result.status for n, o in outcomes.items()} == dict.fromkeys("abcd", Status.PASSED)
    assert harness.most_at_once() == 2
    assert harness.time_of("start", "d") >= max(
        harness.time_of("end", "a"), harness.time_of("end", "b")
    )
    assert exit_code(list(outcomes.values())) == 0
    out = harness.buffer.getvalue()
    assert "a | hello from a" in out
    assert "d | ✓ passed" in out


def test_the_longest_chain_starts_first(tmp_path: Path) -> None:
    harness = Harness(tmp_path, {})
    graph = Graph((stage("short"), stage("long"), stage("after", "long"), stage("last", "after")))
    harness.run(graph, jobs=1)
    assert next(n for k, n, _ in harness.events() if k == "start") == "long"


def test_a_failure_cancels_its_dependents_and_independent_stages_finish(tmp_path: Path) -> None:
    specs = {
        "lint": {"status": "failed", "code": 1},
        "test": {"status": "passed", "sleep": 0.5},
        "bench": {"status": "passed"},
        "report": {"status": "passed"},
    }
    harness = Harness(tmp_path, specs)
    graph = Graph((stage("lint"), stage("test"), stage("bench", "lint"), stage("report", "bench")))
    outcomes = harness.run(graph)
    assert outcomes["lint"].result.status is Status.FAILED
    assert outcomes["test"].result.status is Status.PASSED
    assert outcomes["bench"].result.status is Status.SKIPPED
    assert outcomes["bench"].result.reason == "cancelled: needs lint, which failed"
    assert outcomes["report"].result.reason == (
        "cancelled: needs lint, which failed (needed through bench)"
    )
    assert outcomes["bench"].returncode is None
    assert exit_code(list(outcomes.values())) == 1


def test_fail_fast_stops_every_running_stage(tmp_path: Path) -> None:
    specs = {"quick": {"status": "failed", "code": 1, "sleep": 0.3}, "slow": {"sleep": 60}}
    harness = Harness(tmp_path, specs)
    graph = Graph((stage("quick"), stage("slow"), stage("later", "slow")))
    start = time.monotonic()
    outcomes = harness.run(graph, fail_fast=True)
    assert time.monotonic() - start < 15
    assert outcomes["slow"].result.status is Status.SKIPPED
    assert outcomes["slow"].result.reason == "stopped: --fail-fast after quick failed"
    assert outcomes["later"].result.reason == "not started: --fail-fast after quick failed"
    assert ("end", "slow") not in {(k, n) for k, n, _ in harness.events()}


def test_no_result_file_is_read_from_the_exit_code_and_output(tmp_path: Path) -> None:
    specs = {
        "skips": {"say": ["nox > Session skips-3.14 skipped: Python interpreter 3.14 not found."]},
        "missing": {
            "code": 3,
            "say": ["shipyard: 'hadolint' was not found", "nox > Session x failed."],
        },
        "silent": {},
    }
    harness = Harness(tmp_path, specs)
    outcomes = harness.run(Graph((stage("skips"), stage("missing"), stage("silent"))))
    assert outcomes["skips"].result.status is Status.SKIPPED
    assert outcomes["skips"].result.reason == "Python interpreter 3.14 not found."
    assert outcomes["missing"].result.status is Status.FAILED
    assert outcomes["missing"].result.reason == (
        "`nox -s` exited with code 3: shipyard: 'hadolint' was not found"
    )
    assert outcomes["silent"].result.reason == "wrote no result; see its output"
    assert exit_code(list(outcomes.values())) == 3


def test_a_result_from_an_earlier_run_is_not_this_runs(tmp_path: Path) -> None:
    harness = Harness(tmp_path, {"a": {}})
    stale = {"schema": 1, "stage": "a", "status": "passed", "finished_at": time.time() - 60}
    (harness.reports / "a.json").write_text(json.dumps(stale))
    outcomes = harness.run(Graph((stage("a"),)))
    assert outcomes["a"].result.status is Status.SKIPPED


def test_a_passing_result_with_a_failing_exit_is_a_failure(tmp_path: Path) -> None:
    harness = Harness(tmp_path, {"a": {"status": "passed", "code": 1}})
    outcomes = harness.run(Graph((stage("a"),)))
    assert outcomes["a"].result.status is Status.FAILED
    assert "exited with code 1 after the stage passed" in outcomes["a"].result.reason


def test_a_failed_extra_result_is_its_own_row_not_the_stages(tmp_path: Path) -> None:
    # The lint session also writes the workflow drift check's result.
    harness = Harness(tmp_path, {"lint": {"status": "passed", "code": 1, "extra": ["drift"]}})
    outcomes = harness.run(Graph((stage("lint"), stage("bench", "lint"))))
    assert outcomes["lint"].result.status is Status.PASSED
    assert outcomes["bench"].result.status is Status.PASSED


@pytest.mark.slow
def test_something_left_running_by_a_stage_is_ended(tmp_path: Path) -> None:
    # The stage starts a grandchild that keeps its stdout open, then exits.
    pid_file = tmp_path / "grandchild.pid"
    leave = (
        "import subprocess, sys; "
        "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']); "
        f"open({str(pid_file)!r}, 'w').write(str(p.pid))"
    )
    harness = Harness(tmp_path, {})
    start = time.monotonic()
    runner = Run(
        Graph((stage("leaves"),)),
        lambda _: [sys.executable, "-c", leave],
        root=tmp_path,
        reports=harness.reports,
        jobs=1,
        output=StageOutput(Console(file=io.StringIO()), ["leaves"], github=False),
    )
    runner.execute()
    assert time.monotonic() - start < 10
    pid = int(pid_file.read_text())
    assert not alive(pid)


def test_on_github_actions_each_stage_is_one_group(tmp_path: Path) -> None:
    specs = {"a": {"status": "passed", "say": ["a-line"]}, "b": {"status": "failed", "code": 1}}
    harness = Harness(tmp_path, specs)
    harness.run(Graph((stage("a"), stage("b"))), github=True)
    out = harness.buffer.getvalue()
    a_group = out[out.index("::group::a: ✓ passed") :]
    a_group = a_group[: a_group.index("::endgroup::")]
    assert "hello from a" in a_group
    assert "a-line" in a_group
    assert "b | " not in out
    assert "::group::b: ✕ failed" in out
    assert "::error title=shipyard b::failed" in out


@pytest.mark.parametrize(("codes", "expected"), [((1, 3), 3), ((1, 1), 1), ((2,), 2)])
def test_exit_code_prefers_a_stage_s_own_code(
    tmp_path: Path, codes: tuple[int, ...], expected: int
) -> None:
    specs = {f"s{i}": {"code": code} for i, code in enumerate(codes)}
    harness = Harness(tmp_path, specs)
    outcomes = harness.run(Graph(tuple(stage(n) for n in specs)))
    assert exit_code(list(outcomes.values())) == expected

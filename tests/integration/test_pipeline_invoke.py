"""`invoke ci -j N` for real: invoke, nox and the tools, on sample projects in temp dirs."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from helpers.pipeline import TASKS, alive, descendants, run_invoke
from helpers.projects import run_nox
from shipyard import matrix
from shipyard.errors import ConfigError

pytestmark = pytest.mark.slow

TEST = "test-cp311-linux_x86_64"

CHECK = """
[tool.shipyard.stages.check]
commands = ["python -c \\"print('custom stage ran')\\""]
needs = ["lint"]
description = "A custom check after lint"
"""


def summary_rows(root: Path) -> dict[str, str]:
    """Stage -> status from the summary markdown both doors write."""
    text = (root / ".shipyard/reports/summary.md").read_text()
    rows = re.findall(r"^\| (\S+) \| \S+ (\w+) \| [\d.]+s \| (.*) \|$", text, re.MULTILINE)
    return {stage: status for stage, status, _ in rows}


def summary_reasons(root: Path) -> dict[str, str]:
    text = (root / ".shipyard/reports/summary.md").read_text()
    rows = re.findall(r"^\| (\S+) \| \S+ (\w+) \| [\d.]+s \| (.*) \|$", text, re.MULTILINE)
    return {stage: reason for stage, _, reason in rows}


def project(sample_project, tool: str = CHECK, files: dict[str, str] | None = None) -> Path:
    return sample_project(tool=tool, files={"tasks.py": TASKS, **(files or {})})


def test_invoke_ci_runs_the_graph_with_the_summary_nox_ci_prints(sample_project) -> None:
    root = project(sample_project)
    done = run_invoke(root, "ci", "-j", "2")
    assert done.returncode == 0, done.stderr[-3000:]
    err = done.stderr
    # Output is prefixed per stage; the custom stage starts only once lint passed.
    assert "check                   | custom stage ran" in err
    assert err.index("lint                    | ✓ passed") < err.index(
        "check                   | started"
    )
    assert err.index(f"{TEST} | ✓ passed") < err.index("coverage                | started")
    invoked = summary_rows(root)
    ours = {"lint": "passed", TEST: "passed", "coverage": "passed", "check": "passed"}
    assert ours.items() <= invoked.items()
    # Built-in stages whose sessions exist (audit, bench...) are in it too, and nothing else.
    assert set(invoked) - set(ours) <= {"audit", "bench", "docker", "workflows"}
    assert "shipyard ci" in err

    # The custom stage is a nox session of its own, listed with its description.
    listing = json.loads(run_nox(root, "--list", "--json").stdout)
    assert {"session": "check", "description": "A custom check after lint"}.items() <= next(
        e for e in listing if e["session"] == "check"
    ).items()

    # `nox -s ci` runs the same stages, the custom one included, into the same table.
    nox = run_nox(root, "-s", "ci")
    assert nox.returncode == 0, nox.stderr[-3000:]
    assert "Running session check" in nox.stderr
    assert summary_rows(root) == invoked
    assert list(summary_rows(root)) == list(invoked)


def test_a_failure_cancels_its_dependents_while_independent_stages_finish(sample_project) -> None:
    root = project(sample_project, files={"src/sample/bad.py": "import os\n"})
    done = run_invoke(root, "ci", "-j", "2")
    assert done.returncode == 1
    rows = summary_rows(root)
    assert rows["lint"] == "failed"
    assert rows[TEST] == "passed"
    assert rows["check"] == "skipped"
    assert summary_reasons(root)["check"] == "cancelled: needs lint, which failed"
    assert "custom stage ran" not in done.stderr
    # The closing line names what failed, as `nox -s ci` ends.
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith("gate failed: lint: "), last


def test_plan_only_and_skip(sample_project) -> None:
    root = project(sample_project)
    plan = run_invoke(root, "ci", "--plan", "--skip", "coverage", "-j", "3")
    assert plan.returncode == 0, plan.stderr
    out = plan.stdout
    assert re.search(r"check\s+│ lint\s+│ nox -s check\s+│ yes", out), out
    assert re.search(rf"coverage\s+│ {TEST}\s+│ nox -s coverage\s+│ skipped \(--skip\)", out), out
    assert re.search(rf"{TEST}\s+│ -\s+│ nox -s test-3.11\s+│ yes", out), out
    assert re.search(r"(\d+) of (\d+) stages run, at most 3 at a time", " ".join(out.split()))
    assert not (root / ".nox").exists()

    # -j takes a whole number of 1 or more: anything else is a usage error, before any run.
    for bad in ("abc", "0", "-3"):
        refused = run_invoke(root, "ci", "-j", bad, *([] if bad == "-3" else ["--plan"]))
        assert refused.returncode == 2, refused.stderr
        assert f"-j takes a whole number of 1 or more (stages run at once), not '{bad}'" in (
            refused.stderr
        )
        assert "Traceback" not in refused.stderr
    assert not (root / ".nox").exists()

    only = run_invoke(root, "ci", "--only", "lint,check")
    assert only.returncode == 0, only.stderr[-3000:]
    rows = summary_rows(root)
    assert {
        "lint": "passed",
        TEST: "skipped",
        "coverage": "skipped",
        "check": "passed",
    }.items() <= (rows.items())
    assert summary_reasons(root)[TEST] == "not selected (--only)"
    assert all(
        summary_reasons(root)[name] == "not selected (--only)"
        for name in rows
        if name not in {"lint", "check", "workflows"}
    )

    unknown = run_invoke(root, "ci", "--only", "lnt")
    assert unknown.returncode == 2
    assert "--only lnt: no such stage. Did you mean 'lint'?" in unknown.stderr


def test_plan_says_a_target_without_its_interpreter_is_skipped(sample_project) -> None:
    found = matrix.find_pythons(reversed(matrix.SUPPORTED_PYTHONS))
    missing = next((v for v, where in found.items() if where is None), None)
    if missing is None:
        pytest.skip("every supported Python is installed here")
    tool = f'[tool.shipyard.matrix]\npython = ["3.11", "{missing}"]\n'
    root = project(sample_project, tool=tool)
    plan = run_invoke(root, "ci", "--plan")
    assert plan.returncode == 0, plan.stderr
    lacking = f"test-cp{missing.replace('.', '')}-linux_x86_64"
    why = f"skipped: no python {missing} interpreter here"
    assert re.search(rf"{lacking}\s+│ -\s+│ nox -s test-{missing}\s+│ {why}", plan.stdout)
    assert re.search(rf"{TEST}\s+│ -\s+│ nox -s test-3.11\s+│ yes", plan.stdout), plan.stdout
    assert lacking not in " ".join(plan.stdout.split()).split("Critical path")[1]

    # Where CI is set, nox fails a session whose interpreter is missing: the plan says so.
    on_ci = run_invoke(root, "ci", "--plan", env={"CI": "true"})
    assert on_ci.returncode == 0, on_ci.stderr
    assert f"fails: no python {missing} interpreter here, and CI is set" in on_ci.stdout


def test_plan_says_bench_and_docker_skip_without_a_suite_or_image_variants(
    sample_project,
) -> None:
    root = project(sample_project, tool="")
    plan = run_invoke(root, "ci", "--plan")
    assert plan.returncode == 0, plan.stderr
    out = plan.stdout
    assert re.search(r"bench\s+│ lint\s+│ nox -s bench\s+│ skipped: no benchmark suite", out), out
    assert re.search(r"│ nox -s docker\s+│ skipped: no image variants: none of", out), out
    critical = " ".join(out.split()).split("Critical path")[1]
    assert "docker" not in critical
    assert "bench" not in critical

    # With a suite, bench runs; with only an on-request variant, a plain run builds nothing.
    tool = "[tool.shipyard.docker.variants.gpu]\non-request = true\n"
    files = {"benchmarks/test_speed.py": "def test_speed(benchmark): benchmark(sum, [1])\n"}
    files["docker/Dockerfile.gpu"] = "FROM scratch\n"
    root = sample_project(name="other", tool=tool, files={"tasks.py": TASKS, **files})
    plan = run_invoke(root, "ci", "--plan")
    assert plan.returncode == 0, plan.stderr
    assert re.search(r"bench\s+│ lint\s+│ nox -s bench\s+│ yes", plan.stdout), plan.stdout
    assert "skipped: every image variant is on-request" in plan.stdout


def test_github_actions_groups_output_per_stage(sample_project, tmp_path: Path) -> None:
    root = project(sample_project)
    step_summary = tmp_path / "step-summary.md"
    env = {"GITHUB_ACTIONS": "true", "GITHUB_STEP_SUMMARY": str(step_summary)}
    done = run_invoke(root, "ci", "--only", "lint", "--only", "check", env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    group = done.stderr[done.stderr.index("::group::check: ✓ passed") :]
    assert "custom stage ran" in group[: group.index("::endgroup::")]
    assert "check                   |" not in done.stderr
    assert "| check | ✓ passed |" in step_summary.read_text()


def test_flaky_tests_pass_on_rerun_and_are_reported(sample_project, tmp_path: Path) -> None:
    marker = tmp_path / "failed-once"
    flaky = f"""
        from pathlib import Path


        def test_sometimes() -> None:
            marker = Path({str(marker)!r})
            if not marker.exists():
                marker.write_text("x")
                raise AssertionError("first attempt fails")
    """
    root = project(sample_project, tool="", files={"tests/test_flaky.py": flaky})
    done = run_invoke(root, "ci", "--only", "test")
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((root / f".shipyard/reports/{TEST}.json").read_text())
    assert result["status"] == "warned"
    assert result["metrics"]["test.flaky"] == 1
    assert "1 flaky (passed only on rerun): tests.test_flaky::test_sometimes" in result["reason"]
    assert [f["rule"] for f in result["findings"]] == ["flaky"]
    assert summary_rows(root)[TEST] == "warned"


# -- stopping ---------------------------------------------------------------------------------

SLOW = """
[tool.shipyard.stages.slow]
commands = ["python -c \\"import time; print('slow started', flush=True); time.sleep(300)\\""]
"""


def wait_for(predicate, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    pytest.fail("timed out")


def test_ctrl_c_stops_every_child_and_leaves_no_orphans(sample_project, tmp_path: Path) -> None:
    slow_test = "import time\n\n\ndef test_slow() -> None:\n    time.sleep(300)\n"
    root = project(sample_project, tool=SLOW, files={"tests/test_slow.py": slow_test})
    log = tmp_path / "invoke.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "invoke", "ci", "-j", "5"],
            cwd=root,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        # Both long stages are running their tools: the sleeping Python and pytest.
        wait_for(
            lambda: "slow started" in log.read_text() and "collected 2 items" in log.read_text()
        )
        assert "pytest" in _cmdlines(proc.pid)
        children = descendants(proc.pid)
        assert len(children) >= 4
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 130
    finally:
        if proc.poll() is None:
            proc.kill()
    survivors = [pid for pid in children if alive(pid)]
    assert survivors == [], survivors
    text = log.read_text()
    assert "interrupted: stopping every stage" in text
    rows = summary_reasons(root)
    assert rows["slow"] == "stopped: interrupted"
    assert rows["coverage"] == "not started: interrupted"


def _cmdlines(pid: int) -> str:
    found = []
    for child in descendants(pid):
        try:
            found.append(Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ").decode())
        except OSError:
            continue
    return "\n".join(found)


def test_fail_fast_stops_the_stages_still_running(sample_project) -> None:
    root = project(sample_project, tool=SLOW, files={"src/sample/bad.py": "import os\n"})
    start = time.monotonic()
    done = run_invoke(root, "ci", "-j", "6", "--fail-fast")
    assert done.returncode == 1
    assert time.monotonic() - start < 240
    reasons = summary_reasons(root)
    assert summary_rows(root)["lint"] == "failed"
    assert reasons["slow"] == "stopped: --fail-fast after lint failed"
    assert "--fail-fast: lint failed; stopping every stage" in done.stderr


# -- bad input --------------------------------------------------------------------------------


def test_a_cycle_is_named_before_anything_runs(sample_project) -> None:
    tool = """
    [tool.shipyard.stages.a]
    commands = ["true"]
    needs = ["b"]
    [tool.shipyard.stages.b]
    commands = ["true"]
    needs = ["a"]
    """
    root = project(sample_project, tool=tool)
    done = run_invoke(root, "ci")
    assert done.returncode == 2
    assert "dependency cycle among custom stages: " in done.stderr
    assert "Traceback" not in done.stderr
    nox = run_nox(root, "--list")
    assert nox.returncode == 2
    assert "dependency cycle among custom stages" in nox.stderr


def test_needs_on_an_unknown_stage_and_a_shared_report_name(sample_project) -> None:
    root = project(
        sample_project, tool='[tool.shipyard.stages.a]\ncommands = ["true"]\nneeds = ["tset"]\n'
    )
    done = run_invoke(root, "ci", "--plan")
    assert done.returncode == 2
    assert "key 'tool.shipyard.stages.a.needs'" in done.stderr
    assert "Did you mean 'test'?" in done.stderr

    shared = """
    [tool.shipyard.stages.a]
    commands = ["true"]
    report = "checks"
    [tool.shipyard.stages.checks]
    commands = ["true"]
    """
    (root / "pyproject.toml").write_text(
        (root / "pyproject.toml").read_text().split("[tool.shipyard")[0]
        + shared.replace("    ", "")
    )
    done = run_invoke(root, "ci")
    assert done.returncode == 2
    assert "stages 'a' and 'checks' both write their result to checks.json" in done.stderr


def test_a_matrix_error_is_exit_2_with_its_key_not_a_failed_nox_list(sample_project) -> None:
    root = project(sample_project, tool='[tool.shipyard.matrix]\nplatforms = ["linux_arm"]\n')
    done = run_invoke(root, "ci", "--plan")
    assert done.returncode == 2, done.stderr
    assert "key 'tool.shipyard.matrix.platforms[0]': unknown architecture 'arm'" in done.stderr
    assert "nox --list" not in done.stderr


def test_a_noxfile_nox_cannot_load_is_a_config_error(tmp_path: Path) -> None:
    # nox exits 2 when it cannot load the noxfile (here: a nox version it does not meet).
    (tmp_path / "noxfile.py").write_text('import nox\n\nnox.needs_version = ">=9999"\n')
    with pytest.raises(ConfigError, match=r"failed with exit code 2: .*9999"):
        matrix.nox_sessions(tmp_path)


def test_a_command_not_on_path_exits_3_naming_it(sample_project) -> None:
    tool = '[tool.shipyard.stages.schema]\ncommands = ["true", "no-such-tool-xyz --check"]\n'
    root = project(sample_project, tool=tool)
    done = run_invoke(root, "ci")
    assert done.returncode == 3
    assert "stage 'schema': command 'no-such-tool-xyz' was not found on PATH" in done.stderr
    assert not (root / ".nox").exists()

    alone = run_nox(root, "-s", "schema")
    assert alone.returncode == 3
    assert "command 'no-such-tool-xyz' was not found" in alone.stderr


def test_a_command_missing_from_the_stage_venv_exits_3(sample_project) -> None:
    tool = '[tool.shipyard.stages.schema]\ncommands = ["no-such-tool-xyz"]\nrequirements = []\n'
    root = project(sample_project, tool=tool)
    done = run_invoke(root, "ci", "--only", "schema")
    assert done.returncode == 3
    assert "command 'no-such-tool-xyz' was not found in" in done.stderr
    assert summary_rows(root)["schema"] == "failed"

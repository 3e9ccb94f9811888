"""The pipeline graph: built-in needs, custom stages, selection and bad input."""

from __future__ import annotations

import itertools
import textwrap
from pathlib import Path

import pytest

from shipyard import config, graph
from shipyard.errors import ConfigError, UsageError
from shipyard.matrix import Target

ALL = ("lint", "audit", "test", "coverage", "bench", "docker", "ci")
SEED = ("lint", "test", "coverage", "ci")


def load(tmp_path: Path, tool: str = "") -> config.Config:
    (tmp_path / "src").mkdir(exist_ok=True)
    text = '[project]\nname = "demo"\nversion = "1"\n' + textwrap.dedent(tool)
    (tmp_path / "pyproject.toml").write_text(text)
    return config.load(tmp_path)


def target(python: str) -> Target:
    return Target(python=python, os="linux", arch="x86_64", runner="ubuntu-latest")


def test_builtin_needs_as_the_design_says(tmp_path: Path) -> None:
    specs = {s.name: s.needs for s in graph.stage_specs(load(tmp_path), ALL)}
    assert specs == {
        "lint": (),
        "audit": (),
        "test": (),
        "coverage": ("test",),
        "bench": ("lint",),
        "docker": ("test", "audit"),
    }


def test_a_stage_without_its_session_is_left_out_and_so_are_needs_on_it(tmp_path: Path) -> None:
    # Before the audit, bench and docker sessions exist, the graph is the seed's.
    specs = graph.stage_specs(load(tmp_path), SEED)
    assert [s.name for s in specs] == ["lint", "test", "coverage"]
    with_docker = graph.stage_specs(load(tmp_path), (*SEED, "docker"))
    assert {s.name: s.needs for s in with_docker}["docker"] == ("test",)


def test_stages_left_out_of_the_pipeline_leave_the_graph(tmp_path: Path) -> None:
    cfg = load(tmp_path, '[tool.shipyard]\npipeline = ["lint", "test", "coverage"]\n')
    assert cfg.pipeline == ("lint", "test", "coverage")
    specs = graph.stage_specs(cfg, ALL)
    assert {s.name: s.needs for s in specs} == {"lint": (), "test": (), "coverage": ("test",)}
    no_audit = load(tmp_path, '[tool.shipyard]\npipeline = ["test", "docker"]\n')
    assert {s.name: s.needs for s in graph.stage_specs(no_audit, ALL)}["docker"] == ("test",)


def test_coverage_in_the_pipeline_needs_test(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, '[tool.shipyard]\npipeline = ["lint", "coverage"]\n')
    assert caught.value.key == "tool.shipyard.pipeline"
    assert "'test' in the list too" in str(caught.value)


def test_a_stage_listed_twice_in_the_pipeline(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, '[tool.shipyard]\npipeline = ["lint", "lint", "test"]\n')
    assert caught.value.key == "tool.shipyard.pipeline"
    assert "expected each stage once ('lint' is listed twice)" in str(caught.value)


def test_an_unknown_stage_in_the_pipeline(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, '[tool.shipyard]\npipeline = ["lint", "audti"]\n')
    assert caught.value.key == "tool.shipyard.pipeline[1]"
    assert "audit" in str(caught.value)


def test_every_test_target_is_its_own_node_and_coverage_needs_them_all(tmp_path: Path) -> None:
    pipeline = graph.build(load(tmp_path), ALL, targets=[target("3.11"), target("3.12")])
    tests = ("test-cp311-linux_x86_64", "test-cp312-linux_x86_64")
    assert pipeline.names == ("lint", "audit", *tests, "coverage", "bench", "docker")
    assert pipeline["coverage"].needs == tests
    assert pipeline["docker"].needs == (*tests, "audit")
    assert pipeline["test-cp312-linux_x86_64"].target == target("3.12")
    assert pipeline["test-cp311-linux_x86_64"].report == "test-cp311-linux_x86_64"


def test_no_target_here_leaves_one_test_node(tmp_path: Path) -> None:
    pipeline = graph.build(load(tmp_path), SEED, targets=[])
    assert pipeline["coverage"].needs == ("test",)
    assert pipeline["test"].placeholder
    assert not graph.build(load(tmp_path), SEED, targets=[target("3.11")]).stages[1].placeholder


CUSTOM = """
[tool.shipyard.stages.migrations]
commands = ["alembic check"]
needs = ["test"]
requirements = ["alembic"]

[tool.shipyard.stages.docs]
commands = ["mkdocs build --strict"]
needs = ["release-notes"]
report = "docs-build"
description = "Build the docs"

[tool.shipyard.stages.release-notes]
commands = ["towncrier check"]
"""


def test_custom_stages_join_the_graph_after_what_they_need(tmp_path: Path) -> None:
    cfg = load(tmp_path, CUSTOM)
    pipeline = graph.build(cfg, SEED, targets=[target("3.11")])
    names = pipeline.names
    assert names.index("release-notes") < names.index("docs")
    assert pipeline["migrations"].needs == ("test-cp311-linux_x86_64",)
    assert pipeline["docs"].report == "docs-build"
    assert pipeline["docs"].custom
    assert pipeline["docs"].description == "Build the docs"
    specs = {s.name: s for s in graph.stage_specs(cfg, SEED)}
    assert specs["migrations"].needs == ("test",)
    assert specs["migrations"].custom


def test_dependents_are_transitive(tmp_path: Path) -> None:
    pipeline = graph.build(load(tmp_path, CUSTOM), ALL, targets=[target("3.11")])
    assert pipeline.dependents("release-notes") == ("docs",)
    assert set(pipeline.dependents("test-cp311-linux_x86_64")) == {
        "coverage",
        "docker",
        "migrations",
    }
    assert pipeline.dependents("audit") == ("docker",)


def test_critical_path_and_bottom_levels(tmp_path: Path) -> None:
    pipeline = graph.build(load(tmp_path), ALL, targets=[target("3.11")])
    durations = {
        "lint": 10,
        "audit": 30,
        "test-cp311-linux_x86_64": 60,
        "coverage": 5,
        "bench": 20,
        "docker": 50,
    }
    took, path = pipeline.critical_path(durations)
    assert (took, path) == (110, ("test-cp311-linux_x86_64", "docker"))
    levels = pipeline.bottom_levels(durations)
    assert levels["test-cp311-linux_x86_64"] == 110
    assert levels["lint"] == 30
    assert levels["audit"] == 80


def test_estimates_prefer_last_times(tmp_path: Path) -> None:
    pipeline = graph.build(load(tmp_path, CUSTOM), SEED, targets=[])
    estimates = pipeline.estimates({"lint": 3.0, "coverage": 0.0})
    assert estimates["lint"] == 3.0
    assert estimates["coverage"] == 0.0  # a stage that skipped at once last time
    assert estimates["test"] == graph.DEFAULT_ESTIMATES["test"]
    assert estimates["docs"] > 0


def test_resolve_names_and_groups(tmp_path: Path) -> None:
    pipeline = graph.build(load(tmp_path), SEED, targets=[target("3.11"), target("3.12")])
    assert pipeline.resolve(["test"], flag="--only") == {
        "test-cp311-linux_x86_64",
        "test-cp312-linux_x86_64",
    }
    assert pipeline.resolve(["lint", "test-cp312-linux_x86_64"], flag="--skip") == {
        "lint",
        "test-cp312-linux_x86_64",
    }
    with pytest.raises(UsageError, match=r"--only lnt: no such stage\. Did you mean 'lint'\?"):
        pipeline.resolve(["lnt"], flag="--only")


def test_keep_drops_needs_on_stages_left_out(tmp_path: Path) -> None:
    pipeline = graph.build(load(tmp_path), SEED, targets=[target("3.11")])
    kept = pipeline.keep(["lint", "coverage"])
    assert kept.names == ("lint", "coverage")
    assert kept["coverage"].needs == ()


def test_session_id_comes_from_the_listing(tmp_path: Path) -> None:
    pipeline = graph.build(load(tmp_path), SEED, targets=[target("3.12")])
    listing = [
        {"name": "lint", "session": "lint", "python": None},
        {"name": "test", "session": "test-3.11", "python": "3.11"},
        {"name": "test", "session": "test-3.12", "python": "3.12"},
    ]
    assert graph.session_id(pipeline["lint"], listing) == "lint"
    assert graph.session_id(pipeline["test-cp312-linux_x86_64"], listing) == "test-3.12"
    with pytest.raises(UsageError, match="no session 'coverage'"):
        graph.session_id(pipeline["coverage"], listing)


# -- bad input ------------------------------------------------------------------------------


def bad(tmp_path: Path, tool: str, sessions: tuple[str, ...] = SEED) -> ConfigError:
    cfg = load(tmp_path, tool)
    with pytest.raises(ConfigError) as info:
        graph.stage_specs(cfg, sessions)
    assert info.value.code == 2
    assert str(tmp_path / "pyproject.toml") in str(info.value)
    return info.value


def test_a_cycle_among_custom_stages_is_named(tmp_path: Path) -> None:
    error = bad(
        tmp_path,
        """
        [tool.shipyard.stages.a]
        commands = ["true"]
        needs = ["c"]
        [tool.shipyard.stages.b]
        commands = ["true"]
        needs = ["a"]
        [tool.shipyard.stages.c]
        commands = ["true"]
        needs = ["b", "lint"]
        """,
    )
    assert error.key == "tool.shipyard.stages"
    text = str(error)
    assert "dependency cycle among custom stages:" in text
    cycle = text.split("stages: ")[1].rstrip(".").split(" -> ")
    assert cycle[0] == cycle[-1]
    assert set(cycle) == {"a", "b", "c"}
    # Read in the direction of `needs`: each stage needs the next one.
    needs = {"a": "c", "b": "a", "c": "b"}
    assert all(needs[x] == y for x, y in itertools.pairwise(cycle))


def test_a_stage_needing_itself_is_a_cycle(tmp_path: Path) -> None:
    error = bad(tmp_path, '[tool.shipyard.stages.a]\ncommands = ["true"]\nneeds = ["a"]\n')
    assert "cycle among custom stages: a -> a" in str(error)


def test_needs_naming_an_unknown_stage(tmp_path: Path) -> None:
    error = bad(tmp_path, '[tool.shipyard.stages.a]\ncommands = ["true"]\nneeds = ["lnt"]\n')
    assert error.key == "tool.shipyard.stages.a.needs"
    assert "'lnt' is not a stage of this pipeline. Did you mean 'lint'?" in str(error)


def test_needs_a_builtin_stage_whose_session_is_missing(tmp_path: Path) -> None:
    error = bad(tmp_path, '[tool.shipyard.stages.a]\ncommands = ["true"]\nneeds = ["audit"]\n')
    assert "'audit' is a built-in stage, but the noxfile has no 'audit' session" in str(error)


def test_needs_a_builtin_stage_left_out_of_the_pipeline(tmp_path: Path) -> None:
    text = '[tool.shipyard]\npipeline = ["lint"]\n'
    text += '[tool.shipyard.stages.a]\ncommands = ["true"]\nneeds = ["audit"]\n'
    error = bad(tmp_path, text)
    assert error.key == "tool.shipyard.stages.a.needs"
    assert "'audit' is a built-in stage left out of tool.shipyard.pipeline" in str(error)


def test_two_stages_writing_the_same_report(tmp_path: Path) -> None:
    error = bad(
        tmp_path,
        """
        [tool.shipyard.stages.a]
        commands = ["true"]
        report = "checks"
        [tool.shipyard.stages.checks]
        commands = ["true"]
        """,
    )
    assert error.key == "tool.shipyard.stages.checks.report"
    assert "stages 'a' and 'checks' both write their result to checks.json" in str(error)


@pytest.mark.parametrize("report", ["lint", "coverage", "test-cp311-linux_x86_64", "summary"])
def test_a_report_name_of_shipyards_own_stages(tmp_path: Path, report: str) -> None:
    error = bad(tmp_path, f'[tool.shipyard.stages.a]\ncommands = ["true"]\nreport = "{report}"\n')
    assert f"would write its result to {report}.json" in str(error)


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("lint", "'lint' is a built-in stage"),
        ("docker", "'docker' is a built-in stage"),
        ("ci", "'ci' is the session that runs the whole pipeline"),
        ("test-db", "names starting with 'test-'"),
        ("Bad Name", "cannot name a stage"),
    ],
)
def test_names_a_custom_stage_cannot_take(tmp_path: Path, name: str, said: str) -> None:
    error = bad(tmp_path, f'[tool.shipyard.stages."{name}"]\ncommands = ["true"]\n')
    assert said in str(error)


def test_commands_are_required_and_must_split(tmp_path: Path) -> None:
    error = bad(tmp_path, "[tool.shipyard.stages.a]\nneeds = []\n")
    assert error.key == "tool.shipyard.stages.a.commands"
    error = bad(tmp_path, '[tool.shipyard.stages.a]\ncommands = ["echo \'open"]\n')
    assert error.key == "tool.shipyard.stages.a.commands[0]"
    assert "No closing quotation" in str(error)


def test_unknown_keys_in_a_stage_table(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"Did you mean 'tool\.shipyard\.stages\.a\.needs'"):
        load(tmp_path, '[tool.shipyard.stages.a]\ncommands = ["true"]\nneed = ["lint"]\n')

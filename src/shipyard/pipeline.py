"""`invoke ci`: the pipeline graph, what runs of it, running it, and its summary.

The flow in flows.py only reads its options and calls `prepare`, then `plan`
or `run`. The graph comes from the config and the sessions the noxfile
really has (`nox --list --json`), so it is the graph `nox -s ci` runs too.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from shipyard import config as config_mod
from shipyard import graph as graph_mod
from shipyard import matrix, validate
from shipyard.errors import ExitCode
from shipyard.graph import Graph, Stage
from shipyard.output import StageOutput
from shipyard.report import StageResult, Status, collect, console, failed_gates, summarize
from shipyard.scheduler import (
    WROTE_NOTHING,
    Interrupted,
    Run,
    exit_code,
    last_durations,
    write_timings,
)
from shipyard.stages.custom import check_commands
from shipyard.tools import ToolEnv

__all__ = ["Prepared", "default_jobs", "plan", "prepare", "print_plan", "run"]

_PLAIN_WIDTH = 200


def default_jobs() -> int:
    """The number of cores this process may use."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@dataclasses.dataclass(frozen=True, kw_only=True)
class Prepared:
    """The whole graph, the part of it that runs, and why the rest does not."""

    config: config_mod.Config
    graph: Graph
    selected: Graph
    #: Stages left out, with the reason shown in the summary.
    left_out: Mapping[str, str]
    listing: Sequence[Mapping[str, Any]]

    def argv(self, stage: Stage) -> list[str]:
        return [sys.executable, "-m", "nox", "-s", graph_mod.session_id(stage, self.listing)]


def prepare(root: Path, *, only: Sequence[str] = (), skip: Sequence[str] = ()) -> Prepared:
    """Read the config and the sessions, build the graph and apply `--only` and `--skip`."""
    config = config_mod.load(root)
    # A bad matrix or custom stage is a config error (exit 2), found before nox is asked.
    listing = validate.nox_sessions(config)
    here, _ = matrix.runnable_here(matrix.plan(config))
    graph = graph_mod.build(config, [str(e["name"]) for e in listing], targets=here)

    chosen = graph.resolve(_words(only), flag="--only") if only else set(graph.names)
    skipped = graph.resolve(_words(skip), flag="--skip") if skip else set()
    left_out = {n: "not selected (--only)" for n in graph.names if n not in chosen}
    left_out |= {n: "skipped (--skip)" for n in graph.names if n in skipped}
    selected = graph.keep(n for n in graph.names if n not in left_out)
    for stage in selected.stages:
        if stage.custom and _runs_from_path(config, stage):
            check_commands(config, stage.session, ToolEnv())
    return Prepared(
        config=config, graph=graph, selected=selected, left_out=left_out, listing=listing
    )


def _words(values: Sequence[str]) -> list[str]:
    # `--only lint,test` and `--only lint --only test` mean the same.
    return [w for value in values for w in value.replace(",", " ").split()]


def _runs_from_path(config: config_mod.Config, stage: Stage) -> bool:
    spec = config.stages[stage.session]
    return spec.requirements is None and not spec.install_project


# -- --plan --------------------------------------------------------------------------------


def _missing_interpreters(prepared: Prepared) -> dict[str, str]:
    """The selected test targets whose Python this machine lacks, with what becomes of them.

    nox skips such a session, or fails it when CI is set (its
    --error-on-missing-interpreters default); the interpreters are looked for
    as the test session and `shipyard doctor` look for them.
    """
    targets = {s.name: s.target for s in prepared.selected.stages if s.target is not None}
    found = matrix.find_pythons(t.python for t in targets.values())
    on_ci = "CI" in os.environ
    return {
        name: (
            f"fails: no python {t.python} interpreter here, and CI is set"
            if on_ci
            else f"skipped: no python {t.python} interpreter here"
        )
        for name, t in targets.items()
        if found[t.python] is None
    }


def _nothing_to_run(prepared: Prepared) -> dict[str, str]:
    """The selected bench and docker stages that would only skip, with why.

    Their sessions skip for the same reasons, and the workflow generator writes
    no job for them.
    """
    # Imported here, as the sessions do: the bench and docker packages cost every start.
    from shipyard.stages import toolchains  # noqa: PLC0415
    from shipyard.stages.bench.measure import missing_suite  # noqa: PLC0415
    from shipyard.stages.docker.meta import nothing_to_build  # noqa: PLC0415

    config = prepared.config
    names = {s.name for s in prepared.selected.stages if not s.custom}
    why = {}
    if "bench" in names:
        why["bench"] = missing_suite(config, toolchains.for_config(config))
    if "docker" in names:
        why["docker"] = nothing_to_build(config)
    return {name: f"skipped: {reason}" for name, reason in why.items() if reason}


def plan(prepared: Prepared, *, jobs: int) -> Table:
    """The graph as a table: each stage, what it needs, its command, and whether it runs."""
    missing = _missing_interpreters(prepared) | _nothing_to_run(prepared)
    running = prepared.selected.keep(n for n in prepared.selected.names if n not in missing)
    last = last_durations(prepared.graph, prepared.config.reports)
    estimates = prepared.graph.estimates(last)
    took, path = running.critical_path(estimates)
    total = sum(estimates[s.name] for s in running.stages)
    caption = (
        f"{len(running.stages)} of {len(prepared.graph.stages)} stages run, "
        f"at most {jobs} at a time. Critical path {' -> '.join(path) or '-'}: ~{took:.0f}s "
        f"of ~{total:.0f}s of work (last run's times where known)."
    )
    table = Table(title="shipyard ci --plan", title_justify="left", caption=caption)
    for column in ("stage", "needs", "command", "runs"):
        table.add_column(column, overflow="fold")
    for stage in prepared.graph.stages:
        command = " ".join(prepared.argv(stage)[1:]).replace("-m nox", "nox", 1)
        runs = prepared.left_out.get(stage.name) or missing.get(stage.name, "yes")
        needs = ", ".join(stage.needs) or "-"
        table.add_row(escape(stage.name), escape(needs), escape(command), escape(runs))
    return table


def print_plan(prepared: Prepared, *, jobs: int) -> None:
    """Print the plan to stdout; unwrapped when it goes to a file or a pipe."""
    out = console(stderr=False)
    if not out.is_terminal:
        out.width = _PLAIN_WIDTH
    out.print(plan(prepared, jobs=jobs))


# -- running -------------------------------------------------------------------------------


def run(prepared: Prepared, *, jobs: int, fail_fast: bool = False) -> int:
    """Run the selected stages in parallel, print the ci summary, return the exit code."""
    config, selected = prepared.config, prepared.selected
    started = time.time()
    out = console()
    durations = last_durations(selected, config.reports)
    runner = Run(
        selected,
        prepared.argv,
        root=config.root,
        reports=config.reports,
        jobs=jobs,
        output=StageOutput(out, selected.names),
        fail_fast=fail_fast,
        estimates=selected.estimates(durations),
    )
    interrupted = False
    try:
        outcomes = runner.execute()
    except Interrupted as exc:
        outcomes, interrupted = exc.outcomes, True
    write_timings(outcomes, config.reports, jobs=jobs, wall=time.time() - started)

    # A placeholder that wrote nothing of its own leaves its row to the results it wrote.
    known: dict[str, StageResult] = {
        o.result.stage: o.result
        for o in outcomes
        if not (selected[o.stage].placeholder and o.result.reason == WROTE_NOTHING)
    }
    for name, why in prepared.left_out.items():
        stage = prepared.graph[name]
        known[stage.report] = StageResult(stage=stage.report, status=Status.SKIPPED, reason=why)
    names = [s.report for s in prepared.graph.stages]
    optional = [s.report for s in prepared.graph.stages if s.placeholder]
    results = collect(names, config.reports, started, known=known, optional=optional)
    summary = summarize(results, config.reports)
    out.print(f"summary written to {os.path.relpath(summary)}", markup=False)
    if interrupted:
        return ExitCode.INTERRUPTED
    # A result a session wrote besides its stage's own (the workflows check) counts too.
    failed = failed_gates(results)
    if failed is not None:
        # The same closing line as `nox -s ci`'s, where the eye lands last.
        console(stderr=True).print(failed, markup=False, highlight=False, soft_wrap=True)
    return exit_code(outcomes) or (ExitCode.GATE_FAILED if failed else ExitCode.OK)

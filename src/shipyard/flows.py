"""The invoke collection: flows that compose the nox sessions with the steps that are not.

A project's tasks.py imports it: `from shipyard.flows import *`.
"""

from __future__ import annotations

from pathlib import Path

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from shipyard import pipeline
from shipyard.errors import ExitCode, ShipyardError

__all__ = ["ns"]


@task(
    iterable=["only", "skip"],
    help={
        "jobs": "stages run at once (default: the number of cores)",
        "only": "run only these stages (a name, or `test` for every test target); repeatable",
        "skip": "leave these stages out; repeatable",
        "fail-fast": "stop every stage at the first failure",
        "plan": "print the graph and what would run, then stop",
    },
)
def ci(  # noqa: PLR0917 - invoke turns each parameter into a flag
    c: Context,  # noqa: ARG001 - invoke passes it
    jobs: int = 0,
    only: list[str] | None = None,
    skip: list[str] | None = None,
    fail_fast: bool = False,
    plan: bool = False,
) -> None:
    """Run the pipeline as a graph, stages in parallel: the stages and summary of `nox -s ci`."""
    jobs = jobs or pipeline.default_jobs()
    try:
        prepared = pipeline.prepare(Path.cwd(), only=only or (), skip=skip or ())
        if plan:
            pipeline.print_plan(prepared, jobs=jobs)
            return
        code = pipeline.run(prepared, jobs=jobs, fail_fast=fail_fast)
    except ShipyardError as exc:
        msg = f"shipyard: error: {exc}"
        raise Exit(msg, code=int(exc.code)) from None
    except KeyboardInterrupt:
        raise Exit("shipyard: interrupted", code=ExitCode.INTERRUPTED) from None
    if code != ExitCode.OK:
        raise Exit(code=code)


ns = Collection(ci)

"""The invoke collection: flows that compose the nox sessions with the steps that are not.

A project's tasks.py imports it: `from shipyard.flows import *`.
"""

from __future__ import annotations

import sys
from pathlib import Path

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

__all__ = ["ns"]


def _nox(*sessions: str) -> list[str]:
    argv = [sys.executable, "-m", "nox"]
    for name in sessions:
        argv += ["-s", name]
    return argv


@task(help={"sessions": "comma-separated nox sessions to run instead of the whole pipeline"})
def ci(c: Context, sessions: str = "") -> None:
    """Run the pipeline: the same stages and summary as `nox -s ci`."""
    names = [s for s in sessions.split(",") if s] or ["ci"]
    result = c.run(" ".join(_nox(*names)), warn=True, pty=False)
    if result is None or result.exited != 0:
        raise Exit(code=result.exited if result is not None else 1)


@task(
    help={
        "apply": "push update branches and open or update one pull request per group",
        "root": "project root (default: the current directory)",
    }
)
def monitor(c: Context, apply: bool = False, root: str = ".") -> None:  # noqa: ARG001
    """Check health, dependency freshness, performance and security; alert when needed.

    Exits 1 when something needs a person, 6 when the network is unreachable.
    """
    from shipyard import config  # noqa: PLC0415
    from shipyard.errors import ShipyardError  # noqa: PLC0415
    from shipyard.monitor.run import run_monitor  # noqa: PLC0415
    from shipyard.report import console, render_table  # noqa: PLC0415

    try:
        report = run_monitor(config.load(Path(root)), apply=apply)
    except ShipyardError as exc:
        msg = f"shipyard: error: {exc}"
        raise Exit(msg, code=int(exc.code)) from None
    out = console()
    out.print(render_table(report.parts, title="shipyard monitor"))
    out.print(f"report: {report.markdown_path}")
    if report.exit_code:
        raise Exit(code=int(report.exit_code))


ns = Collection(ci, monitor)

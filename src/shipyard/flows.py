"""The invoke collection: flows that compose the nox sessions with the steps that are not.

A project's tasks.py imports it: `from shipyard.flows import *`.
"""

from __future__ import annotations

import sys

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


ns = Collection(ci)

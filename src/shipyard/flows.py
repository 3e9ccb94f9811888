"""The invoke collection: flows that compose the nox sessions with the steps that are not.

A project's tasks.py imports it: `from shipyard.flows import *`.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

from invoke.collection import Collection
from invoke.context import Context
from invoke.exceptions import Exit
from invoke.tasks import task

from shipyard import config, pipeline
from shipyard.errors import ExitCode, NothingToRelease, ShipyardError, UsageError
from shipyard.report import (
    StageResult,
    Status,
    append_step_summary,
    render_markdown,
    write_result,
)

if TYPE_CHECKING:
    from shipyard.release import ReleaseOutcome

__all__ = ["ns"]


def _nox(*sessions: str) -> list[str]:
    argv = [sys.executable, "-m", "nox"]
    for name in sessions:
        argv += ["-s", name]
    return argv


def _jobs(text: str) -> int:
    """`-j`'s value: a whole number of 1 or more; empty means one stage per core."""
    if not text.strip():
        return pipeline.default_jobs()
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        msg = f"-j takes a whole number of 1 or more (stages run at once), not {text!r}."
        raise UsageError(msg)
    return jobs


@task(
    iterable=["only", "skip"],
    help={
        "jobs": "stages run at once, 1 or more (default: the number of cores)",
        "only": "run only these stages (a name, or `test` for every test target); repeatable",
        "skip": "leave these stages out; repeatable",
        "fail-fast": "stop every stage at the first failure",
        "plan": "print the graph and what would run, then stop",
    },
)
def ci(  # noqa: PLR0917 - invoke turns each parameter into a flag
    c: Context,  # noqa: ARG001 - invoke passes it
    # A string, not an int: invoke would meet `-j abc` with a traceback; _jobs says why.
    jobs: str = "",
    only: list[str] | None = None,
    skip: list[str] | None = None,
    fail_fast: bool = False,
    plan: bool = False,
) -> None:
    """Run the pipeline as a graph, stages in parallel: the stages and summary of `nox -s ci`."""
    try:
        at_once = _jobs(jobs)
        prepared = pipeline.prepare(Path.cwd(), only=only or (), skip=skip or ())
        if plan:
            pipeline.print_plan(prepared, jobs=at_once)
            return
        code = pipeline.run(prepared, jobs=at_once, fail_fast=fail_fast)
    except ShipyardError as exc:
        msg = f"shipyard: error: {exc}"
        raise Exit(msg, code=int(exc.code)) from None
    except KeyboardInterrupt:
        raise Exit("shipyard: interrupted", code=ExitCode.INTERRUPTED) from None
    if code != ExitCode.OK:
        raise Exit(code=code)


@task(
    help={
        "apply": "push update branches and open or update one pull request per group",
        "root": "project root (default: the current directory)",
    }
)
def monitor(c: Context, apply: bool = False, root: str = ".") -> None:
    """Check health, dependency freshness, performance and security; alert when needed.

    Exits 1 when something needs a person, 6 when the network is unreachable.
    """
    from shipyard import config  # noqa: PLC0415
    from shipyard.errors import ShipyardError  # noqa: PLC0415
    from shipyard.monitor.run import run_monitor, security_from_audit  # noqa: PLC0415
    from shipyard.report import console, render_table  # noqa: PLC0415

    def audit() -> StageResult:
        since = time.time()
        with c.cd(root):
            done = c.run(" ".join(_nox("audit")), warn=True, pty=False)
        return security_from_audit(project, since=since, exit_code=done.exited if done else 1)

    try:
        project = config.load(Path(root))
        report = run_monitor(project, apply=apply, audit=audit)
    except ShipyardError as exc:
        msg = f"shipyard: error: {exc}"
        raise Exit(msg, code=int(exc.code)) from None
    out = console()
    out.print(render_table(report.parts, title="shipyard monitor"))
    out.print(f"report: {report.markdown_path}", markup=False)
    if report.exit_code:
        raise Exit(code=int(report.exit_code))


def _say(line: str) -> None:
    sys.stderr.write(f"release: {line}\n")


def _report_failure(
    resolved: config.Config, exc: ShipyardError, outcome: ReleaseOutcome | None, *, ci: bool
) -> None:
    """release.json for a real run that stopped: the step, why, and what was done before;
    or, when it stopped before any step (nothing to release, a bad option), just why."""
    if outcome is not None:
        result = outcome.result()
    else:
        nothing = isinstance(exc, NothingToRelease)
        result = StageResult(
            stage="release",
            status=Status.SKIPPED if nothing else Status.FAILED,
            reason=" ".join(str(exc).split()),
            metrics={"exit_code": int(exc.code)},
        )
    write_result(result, resolved.reports)
    if ci:
        append_step_summary(render_markdown([result], title="release"))


@task(
    help={
        "dry_run": "print the plan and the changelog section; write nothing",
        "ci": "the release workflow's run: a missing token is an error, not a skip",
        "pre": "make a pre-release with this label: alpha, beta or rc",
        "step": "run only these steps (comma-separated) of the release at HEAD: "
        "preflight, version, changelog, commit, tag, wheels, build, push, publish, github, "
        "images",
        "target": "the build-matrix target (like cp312-linux_x86_64) the wheels step builds for",
    }
)
def release(  # noqa: PLR0917 - invoke makes each parameter an option
    c: Context,
    dry_run: bool = False,
    ci: bool = False,
    pre: str = "",
    step: str = "",
    target: str = "",
) -> None:
    """Release: next version from the commits, changelog, bump, tag, build, publish.

    Safe to run again after any failure: finished steps are found done and skipped.
    """
    from shipyard.release import run_release  # noqa: PLC0415 - git and httpx only when asked

    only = [name.strip() for name in step.split(",") if name.strip()] or None
    resolved: config.Config | None = None
    stopped: list[ReleaseOutcome] = []
    try:
        resolved = config.load(Path(c.cwd))
        outcome = run_release(
            resolved,
            pre=pre or None,
            dry_run=dry_run,
            ci=ci,
            only=only,
            target=target or None,
            log=_say,
            stopped=stopped.append,
        )
    except ShipyardError as exc:
        sys.stderr.write(f"release: error: {exc}\n")
        if resolved is not None and not dry_run:
            _report_failure(resolved, exc, stopped[0] if stopped else None, ci=ci)
        raise Exit(code=int(exc.code)) from None
    if dry_run:
        sys.stdout.write(outcome.text())
        # A dry run fails as the real run would: at the same step, with the same exit code.
        failed = next((s for s in outcome.steps if s.status is Status.FAILED), None)
        if failed is not None:
            sys.stderr.write(f"release: error: {failed.name}: {failed.detail}\n")
        if outcome.exit_code:
            raise Exit(code=int(outcome.exit_code))
        return
    result = outcome.result()
    write_result(result, resolved.reports)
    _say(f"{outcome.plan.tag}: done" if only is None else f"{outcome.plan.tag}: {step} done")
    if ci:
        markdown = render_markdown([result], title="release")
        append_step_summary(f"{markdown}\n{outcome.plan.section}")


ns = Collection(ci, release, monitor)

"""Running the pipeline graph: each stage its own `nox -s` process, at most N at a time.

A stage starts as soon as every stage it needs has finished without failing;
among ready stages, the one heading the longest chain of work goes first. A
failed stage cancels the stages that need it while independent ones finish;
with `fail_fast` it stops everything. Children run in their own process
groups, so stopping one (or all, on Ctrl-C) terminates, then kills, its whole
tree and leaves no orphans behind.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import queue
import re
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import FrameType

from shipyard.graph import Graph, Stage
from shipyard.output import StageOutput
from shipyard.report import StageResult, Status, fresh_results, read_result, write_atomic

__all__ = [
    "WROTE_NOTHING",
    "Interrupted",
    "Outcome",
    "Run",
    "exit_code",
    "last_durations",
    "stop_group",
    "timings_path",
    "write_timings",
]

#: Seconds a stopped stage's process group gets between SIGTERM and SIGKILL.
GRACE = 5.0
_POLL = 0.2
#: The reason of a stage whose process passed without writing its result.
WROTE_NOTHING = "wrote no result; see its output"
_NOX_SKIPPED = re.compile(r"Session (?P<session>\S+) skipped: (?P<why>.+)$")
_NOX_NOISE = re.compile(r"^nox > (Session \S+ (failed|was successful)|Ran multiple sessions).*")


class Interrupted(Exception):
    """Ctrl-C or SIGTERM arrived; every child was stopped. `outcomes` hold what finished."""

    def __init__(self, outcomes: Sequence[Outcome]) -> None:
        super().__init__("interrupted")
        self.outcomes = list(outcomes)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outcome:
    """How one stage ended: its result (read from its file, or made up when it wrote none)."""

    stage: str
    result: StageResult
    #: The nox process's exit code; None when it never started.
    returncode: int | None = None
    #: Seconds since the run started, when the stage started and ended.
    started: float = 0.0
    ended: float = 0.0


@dataclasses.dataclass(kw_only=True)
class _Child:
    stage: Stage
    proc: subprocess.Popen[str]
    started_at: float  # wall clock, compared with the result's finished_at
    started: float  # seconds since the run started
    lines: list[str] = dataclasses.field(default_factory=list)
    exited_at: float | None = None
    eof: bool = False


def timings_path(reports: Path) -> Path:
    """Where a parallel run keeps each stage's process times (not a stage result)."""
    return reports / "pipeline" / "timings.json"


def write_timings(outcomes: Sequence[Outcome], reports: Path, *, jobs: int, wall: float) -> Path:
    """Record when each stage's process started and ended, for the next run's plan."""
    stages = {
        o.stage: {
            "started": round(o.started, 3),
            "ended": round(o.ended, 3),
            "returncode": o.returncode,
            "status": o.result.status.value,
        }
        for o in outcomes
        if o.returncode is not None
    }
    path = timings_path(reports)
    data = {"jobs": jobs, "wall": round(wall, 3), "stages": stages}
    write_atomic(path, json.dumps(data, indent=2, sort_keys=True) + "\n")
    return path


def last_durations(graph: Graph, reports: Path) -> dict[str, float]:
    """How long each stage took last time: its process time from the last parallel run,
    else the duration in its result file."""
    found = {}
    for stage in graph.stages:
        with contextlib.suppress(OSError, ValueError, KeyError):
            found[stage.name] = read_result(reports / f"{stage.report}.json").duration
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError, AttributeError):
        data = json.loads(timings_path(reports).read_text(encoding="utf-8"))
        for name, times in data["stages"].items():
            if name in graph.names:
                found[name] = float(times["ended"]) - float(times["started"])
    return found


def stop_group(proc: subprocess.Popen[str], *, grace: float = GRACE) -> None:
    """Terminate the process group `proc` leads, then kill what is left after `grace` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if proc.poll() is not None and not _group_alive(proc.pid):
                return
            time.sleep(0.05)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=grace)


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def exit_code(outcomes: Sequence[Outcome]) -> int:
    """0 when nothing failed; else the first failed stage's own code (2-6), or 1."""
    failed = [o for o in outcomes if o.result.status is Status.FAILED]
    if not failed:
        return 0
    for outcome in failed:
        if outcome.returncode is not None and 2 <= outcome.returncode <= 6:  # noqa: PLR2004
            return outcome.returncode
    return 1


@contextlib.contextmanager
def _sigterm_as_interrupt() -> Iterator[None]:
    # A cancelled CI job sends SIGTERM: stop the children the same way as on Ctrl-C.
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


class Run:
    """One run of a graph. `argv(stage)` is the command that runs a stage (`nox -s ...`)."""

    def __init__(
        self,
        graph: Graph,
        argv: Callable[[Stage], Sequence[str]],
        *,
        root: Path,
        reports: Path,
        jobs: int,
        output: StageOutput,
        fail_fast: bool = False,
        estimates: Mapping[str, float] | None = None,
    ) -> None:
        self.graph = graph
        self.argv = argv
        self.root = root
        self.reports = reports
        self.jobs = max(1, jobs)
        self.output = output
        self.fail_fast = fail_fast
        self.priority = graph.bottom_levels(estimates or graph.estimates({}))
        self.waiting = list(graph.stages)
        self.running: dict[str, _Child] = {}
        self.outcomes: dict[str, Outcome] = {}
        self.events: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self.clock = time.perf_counter()
        self.stopping = ""
        self.readers: list[threading.Thread] = []

    def now(self) -> float:
        return time.perf_counter() - self.clock

    # -- the loop --------------------------------------------------------------------------

    def execute(self) -> list[Outcome]:
        """Run every stage; return their outcomes in graph order. Raises Interrupted."""
        with _sigterm_as_interrupt(), self.output.live():
            try:
                while self.waiting or self.running:
                    self._start_ready()
                    self._drain()
                    self.output.status(
                        {n: self.now() - c.started for n, c in self.running.items()},
                        done=len(self.outcomes),
                        total=len(self.graph.stages),
                    )
            except KeyboardInterrupt:
                self._interrupt()
            finally:
                for reader in self.readers:
                    reader.join(timeout=GRACE)
        return [self.outcomes[n] for n in self.graph.names]

    def _interrupt(self) -> None:
        # A second Ctrl-C must not cut the clean-up short and leave children behind.
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self.output.message("interrupted: stopping every stage")
            self._stop_running("stopped: interrupted")
            self._skip_waiting("not started: interrupted")
        finally:
            signal.signal(signal.SIGINT, previous)
        raise Interrupted([self.outcomes[n] for n in self.graph.names if n in self.outcomes])

    def _ready(self) -> list[Stage]:
        ready = [s for s in self.waiting if all(n in self.outcomes for n in s.needs)]
        return sorted(ready, key=lambda s: -self.priority.get(s.name, 0.0))

    def _start_ready(self) -> None:
        for stage in self._ready():
            if len(self.running) >= self.jobs:
                return
            self.waiting.remove(stage)
            self._spawn(stage)

    def _spawn(self, stage: Stage) -> None:
        argv = list(self.argv(stage))
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        proc = subprocess.Popen(
            argv,
            cwd=self.root,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
        child = _Child(stage=stage, proc=proc, started_at=time.time(), started=self.now())
        self.running[stage.name] = child
        self.output.started(stage.name, "nox " + " ".join(argv[-2:]))
        reader = threading.Thread(target=self._read, args=(stage.name, proc), daemon=True)
        reader.start()
        self.readers.append(reader)

    def _read(self, name: str, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None  # noqa: S101 - Popen was given stdout=PIPE
        with proc.stdout:
            for line in proc.stdout:
                self.events.put((name, line.rstrip("\n")))
        self.events.put((name, None))

    def _drain(self) -> None:
        try:
            name, line = self.events.get(timeout=_POLL)
        except queue.Empty:
            self._reap_lingering()
            return
        while True:
            self._event(name, line)
            try:
                name, line = self.events.get_nowait()
            except queue.Empty:
                break
        self._reap_lingering()

    def _event(self, name: str, line: str | None) -> None:
        child = self.running.get(name)
        if child is None:
            return
        if line is not None:
            child.lines.append(line)
            self.output.line(name, line)
            return
        child.eof = True
        child.proc.wait()
        self._finish(child)

    def _reap_lingering(self) -> None:
        # A child that exited while something it started still holds the pipe open:
        # end that leftover group, so the stage finishes and nothing outlives the run.
        for child in list(self.running.values()):
            if child.proc.poll() is None:
                continue
            if child.exited_at is None:
                child.exited_at = self.now()
            elif self.now() - child.exited_at > 1.0:
                stop_group(child.proc, grace=1.0)

    # -- when a stage ends -----------------------------------------------------------------

    def _finish(self, child: _Child) -> None:
        del self.running[child.stage.name]
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(child.proc.pid, signal.SIGKILL)  # anything it left behind
        result = self._result(child)
        self._record(child, result)
        if result.status is not Status.FAILED:
            return
        failed = child.stage.name
        dependents = self.graph.dependents(failed)
        for name in dependents:
            stage = self.graph[name]
            if stage not in self.waiting:
                continue
            self.waiting.remove(stage)
            through = ", ".join(n for n in stage.needs if n in dependents)
            via = "" if failed in stage.needs else f" (needed through {through})"
            self._record_skip(stage, f"cancelled: needs {failed}, which failed{via}")
        if self.fail_fast and not self.stopping:
            self.stopping = child.stage.name
            self.output.message(f"--fail-fast: {child.stage.name} failed; stopping every stage")
            self._stop_running(f"stopped: --fail-fast after {child.stage.name} failed")
            self._skip_waiting(f"not started: --fail-fast after {child.stage.name} failed")

    def _record(self, child: _Child, result: StageResult) -> None:
        outcome = Outcome(
            stage=child.stage.name,
            result=result,
            returncode=child.proc.returncode,
            started=child.started,
            ended=self.now(),
        )
        self.outcomes[child.stage.name] = outcome
        self.output.finished(child.stage.name, result, child.lines)

    def _record_skip(self, stage: Stage, why: str) -> None:
        result = StageResult(stage=stage.report, status=Status.SKIPPED, reason=why)
        self.outcomes[stage.name] = Outcome(stage=stage.name, result=result)
        self.output.finished(stage.name, result, [])

    def _stop_running(self, why: str) -> None:
        children = list(self.running.values())
        for child in children:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(child.proc.pid, signal.SIGTERM)
        for child in children:
            stop_group(child.proc)
            del self.running[child.stage.name]
            result = StageResult(
                stage=child.stage.report,
                status=Status.SKIPPED,
                reason=why,
                duration=self.now() - child.started,
            )
            self._record(child, result)

    def _skip_waiting(self, why: str) -> None:
        for stage in list(self.waiting):
            self.waiting.remove(stage)
            self._record_skip(stage, why)

    def _other_failed(self, child: _Child) -> bool:
        # A session may write more than its own stage's result (lint also checks the
        # workflows): a failure there has its own row in the summary.
        ours = {s.report for s in self.graph.stages}
        return any(
            r.status is Status.FAILED and r.stage not in ours
            for r in fresh_results(self.reports, child.started_at)
        )

    def _result(self, child: _Child) -> StageResult:
        """The stage's fresh result file; or, when it wrote none, what its output says."""
        stage, code = child.stage, child.proc.returncode
        duration = self.now() - child.started
        path = self.reports / f"{stage.report}.json"
        written: StageResult | None = None
        with contextlib.suppress(OSError, ValueError, KeyError):
            written = read_result(path)
        if written is not None and written.finished_at >= child.started_at:
            if code != 0 and written.ok and not self._other_failed(child):
                why = f"`nox -s` exited with code {code} after the stage {written.status.value}"
                return dataclasses.replace(written, status=Status.FAILED, reason=why)
            return written
        if code == 0:
            skipped = [m["why"] for line in child.lines if (m := _NOX_SKIPPED.search(line))]
            why = skipped[-1] if skipped else WROTE_NOTHING
            return StageResult(stage=stage.report, status=Status.SKIPPED, reason=why)
        said = [ln for ln in child.lines if ln.strip() and not _NOX_NOISE.match(ln)]
        last = f": {said[-1].strip()[:200]}" if said else ""
        return StageResult(
            stage=stage.report,
            status=Status.FAILED,
            reason=f"`nox -s` exited with code {code}{last}",
            duration=duration,
        )

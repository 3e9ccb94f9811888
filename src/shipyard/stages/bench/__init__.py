"""The bench stage: benchmarks against a baseline, with a statistical two-tier gate.

`run_bench` measures the suite, finds a baseline (in the configured order:
the merge-base's run on this machine kind, a committed file, the default
branch's latest run), compares every benchmark, reruns the unconfirmed ones
once, records the run in the history and returns the stage result. Only a
critical regression against a comparable baseline fails the stage.
"""

from __future__ import annotations

import dataclasses
import json
import time
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

from shipyard import paths
from shipyard.config import Config
from shipyard.report import Finding, Severity, StageResult, Status, write_atomic
from shipyard.stages.bench import formats, history
from shipyard.stages.bench.compare import (
    Comparison,
    Thresholds,
    Verdict,
    compare_one,
    compare_runs,
    sort,
    thresholds_for,
)
from shipyard.stages.bench.measure import current_branch, git, measure, worktree
from shipyard.stages.bench.render import render_markdown
from shipyard.tools import ToolEnv

__all__ = [
    "Baseline",
    "compare_files",
    "find_baseline",
    "make_baseline",
    "run_bench",
    "store_for",
]

_SEVERITY = {
    Verdict.CRITICAL: Severity.CRITICAL,
    Verdict.WARNING: Severity.MEDIUM,
    Verdict.UNCONFIRMED: Severity.LOW,
    Verdict.REMOVED: Severity.LOW,
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Baseline:
    run: formats.BenchRun
    #: Where it came from, for people: "history run of merge-base abc1234".
    source: str
    #: Why it cannot gate (machine differences); empty when comparable.
    differences: tuple[str, ...] = ()

    @property
    def comparable(self) -> bool:
        return not self.differences


def store_for(config: Config) -> history.DirStore | history.BranchStore | None:
    where = config.bench.history
    if where == "off":
        return None
    if where == "branch":
        return history.BranchStore(config.root, config.bench.history_branch)
    if where == "repo":
        return history.DirStore(config.root / config.bench.history_path)
    return history.DirStore(paths.state_dir() / "bench" / _project_name(config))


def _project_name(config: Config) -> str:
    return config.project.name if config.project else config.root.resolve().name


def _lines(config: Config) -> Thresholds:
    return Thresholds(warn=config.gates.bench_warn, fail=config.gates.bench_fail)


def _overrides(config: Config) -> dict[str, tuple[Decimal | None, Decimal | None]]:
    return {glob: (t.warn, t.fail) for glob, t in config.bench.thresholds.items()}


def _from_history(
    config: Config, past: history.History, kind: str, machine: dict[str, str]
) -> Baseline | None:
    default = config.bench.default_branch
    if kind == "merge-base":
        base = git(config.root, "merge-base", "HEAD", default) or git(
            config.root, "merge-base", "HEAD", f"origin/{default}"
        )
        record = history.latest(past.records, commit=base) if base else None
        source = f"history run of merge-base {base[:12]}" if base else ""
    else:
        record = history.latest(past.records, branch=default)
        source = f"latest history run on {default}"
    if record is None:
        return None
    run = record.run.renamed(config.bench.renames)
    return Baseline(
        run=run, source=source, differences=tuple(history.differences(machine, run.machine))
    )


def find_baseline(
    config: Config, machine: dict[str, str], past: history.History
) -> tuple[Baseline | None, list[str]]:
    """The first comparable baseline in the configured order, else the first found at all."""
    found: list[Baseline] = []
    tried: list[str] = []
    for kind in config.bench.baseline:
        if kind == "file":
            path = config.root / config.bench.baseline_file
            if not path.exists():
                tried.append(f"no baseline file {config.bench.baseline_file}")
                continue
            run = formats.load(path).renamed(config.bench.renames)
            diffs = history.differences(machine, run.machine)
            found.append(
                Baseline(
                    run=run, source=f"file {config.bench.baseline_file}", differences=tuple(diffs)
                )
            )
        else:
            baseline = _from_history(config, past, kind, machine)
            if baseline is None:
                tried.append(f"no {kind} run in the history")
                continue
            found.append(baseline)
        if found[-1].comparable:
            return found[-1], tried
    return (found[0] if found else None), tried


def _rerun_unconfirmed(
    config: Config,
    tools: ToolEnv,
    current: formats.BenchRun,
    baseline: formats.BenchRun,
    comparisons: list[Comparison],
) -> list[Comparison]:
    todo = [c for c in comparisons if c.verdict is Verdict.UNCONFIRMED]
    selectors = [s for c in todo if (s := current.benchmarks[c.name].selector)]
    if not todo or not config.bench.rerun:
        return comparisons
    rerun = measure(config, tools, selectors=selectors)
    decided = {}
    for comp in todo:
        again = rerun.benchmarks.get(comp.name)
        if again is None:
            continue
        pooled = current.benchmarks[comp.name].pooled(again)
        new = compare_one(
            comp.name,
            pooled,
            baseline.benchmarks[comp.name],
            comp.thresholds,
            confidence=config.bench.confidence,
            statistic=config.bench.statistic,
        )
        note = f"rerun once; decided on {len(pooled.samples)} pooled rounds"
        decided[comp.name] = dataclasses.replace(new, note=note)
    return sort([decided.get(c.name, c) for c in comparisons])


def _findings(comparisons: Sequence[Comparison]) -> tuple[Finding, ...]:
    out = []
    for comp in comparisons:
        if comp.verdict not in _SEVERITY and not comp.note:
            continue
        change = "" if comp.decided_on is None else f" {comp.decided_on:+.2f} %"
        out.append(
            Finding(
                rule=f"bench-{comp.verdict.value}",
                message=f"{comp.name}: {comp.verdict.value}{change} {comp.note}".strip(),
                severity=_SEVERITY.get(comp.verdict, Severity.INFO),
                tool="shipyard-bench",
                extra=comp.to_json(),
            )
        )
    return tuple(out)


def _status(comparisons: Sequence[Comparison], baseline: Baseline) -> tuple[Status, str]:
    verdicts = [c.verdict for c in comparisons]
    counts = {v: verdicts.count(v) for v in Verdict if verdicts.count(v)}
    summary = ", ".join(f"{n} {v.value}" for v, n in counts.items())
    if not baseline.comparable:
        why = "; ".join(baseline.differences)
        return Status.PASSED, f"not gated: the baseline ran on another machine ({why}); {summary}"
    if Verdict.CRITICAL in counts:
        return Status.FAILED, f"critical regression against {baseline.source}: {summary}"
    if Verdict.WARNING in counts:
        return Status.WARNED, f"slower against {baseline.source}: {summary}"
    return Status.PASSED, f"against {baseline.source}: {summary}"


def _write_reports(
    config: Config, run: formats.BenchRun, comparisons: Sequence[Comparison], markdown: str
) -> list[str]:
    reports = config.reports / "bench"  # <reports>/*.json are stage results only
    data = {"comparisons": [c.to_json() for c in comparisons], "run": formats.to_generic(run)}
    write_atomic(reports / "bench.md", markdown)
    write_atomic(reports / "compare.json", json.dumps(data, indent=2) + "\n")
    return [str((reports / n).relative_to(config.root)) for n in ("bench.md", "compare.json")]


def _record(config: Config, run: formats.BenchRun, branch: str | None) -> str:
    store = store_for(config)
    if store is None:
        return ""
    where = store.append(history.Record(run=run, time=time.time(), branch=branch))
    return f"; recorded in {where}"


def run_bench(config: Config, tools: ToolEnv) -> StageResult:
    """Measure, compare with the best baseline, rerun the unconfirmed, record, report."""
    start = time.perf_counter()
    run = measure(config, tools)
    machine = dict(run.machine or {})
    store = store_for(config)
    past = store.read(machine) if store else history.History(records=())
    baseline, tried = find_baseline(config, machine, past)
    notes = past.problems()

    if baseline is None:
        recorded = _record(config, run, current_branch(config.root))
        reason = (
            f"no baseline yet ({'; '.join(tried)}); {len(run.benchmarks)} benchmark(s){recorded}"
        )
        markdown = render_markdown([], baseline=None, notes=[reason, *notes])
        artifacts = _write_reports(config, run, [], markdown)
        return StageResult(
            stage="bench",
            status=Status.PASSED,
            reason=reason,
            duration=time.perf_counter() - start,
            artifacts=tuple(artifacts),
        )

    lines, overrides = _lines(config), _overrides(config)
    comparisons = compare_runs(
        run,
        baseline.run,
        lines=lambda name: thresholds_for(name, lines, overrides),
        confidence=config.bench.confidence,
        statistic=config.bench.statistic,
    )
    comparisons = _rerun_unconfirmed(config, tools, run, baseline.run, comparisons)
    status, reason = _status(comparisons, baseline)
    reason += _record(config, run, current_branch(config.root))
    markdown = render_markdown(comparisons, baseline=baseline.source, notes=[*notes])
    return StageResult(
        stage="bench",
        status=status,
        reason=reason,
        duration=time.perf_counter() - start,
        findings=_findings(comparisons),
        metrics={f"bench.{v.value}": sum(c.verdict is v for c in comparisons) for v in Verdict},
        artifacts=tuple(_write_reports(config, run, comparisons, markdown)),
    )


def compare_files(
    config: Config, baseline: Path, current: Path
) -> tuple[list[Comparison], list[str]]:
    """`shipyard bench compare A B`: every benchmark of two result files, and machine notes."""
    base = formats.load(baseline).renamed(config.bench.renames)
    cur = formats.load(current).renamed(config.bench.renames)
    lines, overrides = _lines(config), _overrides(config)
    comparisons = compare_runs(
        cur,
        base,
        lines=lambda name: thresholds_for(name, lines, overrides),
        confidence=config.bench.confidence,
        statistic=config.bench.statistic,
    )
    diffs = history.differences(cur.machine, base.machine)
    return comparisons, diffs


def make_baseline(
    config: Config, tools: ToolEnv, ref: str, *, output: Path | None = None
) -> tuple[formats.BenchRun, str]:
    """`shipyard bench baseline --ref REF`: run the suite on REF in a worktree, on this machine."""
    with worktree(config.root, ref) as (tree, sha):
        sources = [tree / p for p in config.source_paths() if (tree / p).is_dir()]
        env = {"PYTHONPATH": ":".join(str(p) for p in sources)} if sources else None
        run = measure(config, tools, root=tree, env=env)
    run = dataclasses.replace(run, commit=sha)
    where = ""
    store = store_for(config)
    if store is not None:
        where = str(store.append(history.Record(run=run, time=time.time(), branch=None)))
    if output is not None:
        write_atomic(output, json.dumps(formats.to_generic(run), indent=2) + "\n")
        where = f"{where} and {output}" if where else str(output)
    return run, where

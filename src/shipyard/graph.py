"""The pipeline as a graph: which stage needs which, and the order they can run in.

The graph comes from one place. `BUILTIN_NEEDS` says what shipyard's own
stages need; `[tool.shipyard.stages.<name>]` adds a project's custom stages.
A built-in stage is part of the graph only when the noxfile has its session,
so the graph follows the sessions that exist. The test stage is one node per
target this machine runs (`test-cp312-linux_x86_64`), each its own process.

Nothing here runs anything: `nox -s ci`, `invoke ci -j N`, `--plan` and the
workflow generator all read the same graph.
"""

from __future__ import annotations

import dataclasses
import difflib
import graphlib
import re
import shlex
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from shipyard import matrix
from shipyard.config import Config, StageConfig
from shipyard.errors import ConfigError, UsageError
from shipyard.matrix import Target

__all__ = [
    "BUILTIN_NEEDS",
    "Graph",
    "Stage",
    "StageSpec",
    "build",
    "session_id",
    "split_command",
    "stage_specs",
]

#: shipyard's stages in their preferred order, and the stages each needs to pass first.
BUILTIN_NEEDS: Mapping[str, tuple[str, ...]] = {
    "lint": (),
    "audit": (),
    "test": (),
    "coverage": ("test",),
    "bench": ("lint",),
    "docker": ("test", "audit"),
}

#: Rough stage durations (seconds) used to order ready stages before a first run has times.
DEFAULT_ESTIMATES: Mapping[str, float] = {
    "lint": 20,
    "audit": 30,
    "test": 60,
    "coverage": 5,
    "bench": 60,
    "docker": 120,
}
_CUSTOM_ESTIMATE = 10.0

#: Session and file names a custom stage cannot take.
_RESERVED = {
    "ci": "the session that runs the whole pipeline",
    "summary": "the ci summary's file",
    "workflows": "the workflow drift check's result (written by the lint session)",
}
_NAME = re.compile(r"[a-z][a-z0-9_-]*")
_TABLE = "tool.shipyard.stages"


@dataclasses.dataclass(frozen=True, kw_only=True)
class StageSpec:
    """One stage as the config and the sessions define it (test is one, whatever the targets)."""

    name: str
    needs: tuple[str, ...] = ()
    custom: bool = False
    description: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Stage:
    """One node: a stage, or one target of the test stage. Runs as one nox session."""

    name: str
    #: The spec it comes from: `test` for every test target, else its own name.
    group: str
    #: The `name` of its nox session in `nox --list --json`.
    session: str
    #: Its result is `<reports>/<report>.json`.
    report: str
    needs: tuple[str, ...] = ()
    target: Target | None = None
    custom: bool = False
    description: str = ""
    #: The test stage when no Python target runs here: its results come under other
    #: names (a Rust toolchain's `test-<triple>`) or not at all (it says it skipped).
    placeholder: bool = False


@dataclasses.dataclass(frozen=True)
class Graph:
    """The stages in a dependency order: every stage comes after the stages it needs."""

    stages: tuple[Stage, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.stages)

    def __getitem__(self, name: str) -> Stage:
        for stage in self.stages:
            if stage.name == name:
                return stage
        raise KeyError(name)

    def dependents(self, name: str) -> tuple[str, ...]:
        """Every stage that needs `name`, directly or through others, in graph order."""
        found = {name}
        for stage in self.stages:
            if found.intersection(stage.needs):
                found.add(stage.name)
        return tuple(n for n in self.names if n in found and n != name)

    def resolve(self, words: Iterable[str], *, flag: str) -> set[str]:
        """Stage names for `words`; a group name (`test`) stands for all its stages."""
        groups = {s.group for s in self.stages}
        chosen: set[str] = set()
        for word in words:
            matches = {s.name for s in self.stages if word in (s.name, s.group)}
            if not matches:
                known = sorted(set(self.names) | groups)
                close = difflib.get_close_matches(word, known, n=1)
                hint = f" Did you mean '{close[0]}'?" if close else ""
                msg = f"{flag} {word}: no such stage.{hint} Stages: {', '.join(known)}."
                raise UsageError(msg)
            chosen |= matches
        return chosen

    def keep(self, names: Iterable[str]) -> Graph:
        """The graph of only `names`; needs on the stages left out are dropped."""
        kept = set(names)
        return Graph(
            tuple(
                dataclasses.replace(s, needs=tuple(n for n in s.needs if n in kept))
                for s in self.stages
                if s.name in kept
            )
        )

    def estimates(self, last: Mapping[str, float]) -> dict[str, float]:
        """Each stage's expected duration: its last one when known, else a rough default."""
        return {
            s.name: last[s.name]
            if s.name in last
            else DEFAULT_ESTIMATES.get(s.group, _CUSTOM_ESTIMATE)
            for s in self.stages
        }

    def bottom_levels(self, durations: Mapping[str, float]) -> dict[str, float]:
        """For each stage, the longest chain of durations from its start to the pipeline's end."""
        level: dict[str, float] = {}
        for stage in reversed(self.stages):
            after = [level[s.name] for s in self.stages if stage.name in s.needs]
            level[stage.name] = durations.get(stage.name, 0.0) + max(after, default=0.0)
        return level

    def critical_path(self, durations: Mapping[str, float]) -> tuple[float, tuple[str, ...]]:
        """The longest chain of `durations` through the graph, and its stages."""
        best: dict[str, tuple[float, tuple[str, ...]]] = {}
        for stage in self.stages:
            before = max(
                (best[n] for n in stage.needs if n in best), key=lambda b: b[0], default=(0.0, ())
            )
            best[stage.name] = (
                before[0] + durations.get(stage.name, 0.0),
                (*before[1], stage.name),
            )
        return max(best.values(), key=lambda b: b[0], default=(0.0, ()))


# -- the stages the config and the sessions define ----------------------------------------


def split_command(name: str, index: int, command: str, config: Config) -> list[str]:
    """One command line of a custom stage as an argv, or a ConfigError naming it."""
    key = f"{_TABLE}.{name}.commands[{index}]"
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        msg = f"cannot split {command!r} into words: {exc}."
        raise ConfigError(msg, path=config.pyproject, key=key) from None
    if not argv:
        msg = "expected a command, found an empty string."
        raise ConfigError(msg, path=config.pyproject, key=key)
    return argv


def _check_name(name: str, config: Config) -> None:
    key = f"{_TABLE}.{name}"
    if not _NAME.fullmatch(name):
        msg = (
            f"{name!r} cannot name a stage: expected lowercase letters, digits, '-' and '_', "
            "starting with a letter (it becomes a nox session and a file name)."
        )
    elif name in BUILTIN_NEEDS:
        msg = f"'{name}' is a built-in stage; give the custom stage another name."
    elif name in _RESERVED:
        msg = f"'{name}' is {_RESERVED[name]}; give the custom stage another name."
    elif name.startswith("test-"):
        msg = "names starting with 'test-' belong to the test stage's targets."
    else:
        return
    raise ConfigError(msg, path=config.pyproject, key=key)


def _check_reports(stages: Mapping[str, StageConfig], config: Config) -> None:
    owners: dict[str, str] = {}
    for name, spec in stages.items():
        report = spec.report or name
        key = f"{_TABLE}.{name}.report"
        reserved = report in BUILTIN_NEEDS or report in _RESERVED or report.startswith("test-")
        if not _NAME.fullmatch(report) or reserved:
            msg = (
                f"stage '{name}' would write its result to {report}.json, a name shipyard's own "
                "stages use or that is not a plain file name; choose another `report`."
            )
            raise ConfigError(msg, path=config.pyproject, key=key)
        if report in owners:
            msg = (
                f"stages '{owners[report]}' and '{name}' both write their result to "
                f"{report}.json; give one of them another `report`."
            )
            raise ConfigError(msg, path=config.pyproject, key=key)
        owners[report] = name


def _check_needs(name: str, spec: StageConfig, known: Sequence[str], config: Config) -> None:
    for need in spec.needs:
        if need in known:
            continue
        key = f"{_TABLE}.{name}.needs"
        if need in BUILTIN_NEEDS and need not in config.pipeline:
            msg = f"'{need}' is a built-in stage left out of tool.shipyard.pipeline."
        elif need in BUILTIN_NEEDS:
            msg = f"'{need}' is a built-in stage, but the noxfile has no '{need}' session."
        else:
            close = difflib.get_close_matches(need, known, n=1)
            hint = f" Did you mean '{close[0]}'?" if close else ""
            msg = f"'{need}' is not a stage of this pipeline.{hint} Stages: {', '.join(known)}."
        raise ConfigError(msg, path=config.pyproject, key=key)


def _check_cycles(stages: Mapping[str, StageConfig], config: Config) -> None:
    sorter = graphlib.TopologicalSorter({n: s.needs for n, s in stages.items()})
    try:
        sorter.prepare()
    except graphlib.CycleError as exc:
        cycle: list[str] = list(exc.args[1])
        # graphlib lists the cycle from its end; show it in the direction `needs` points.
        shown = " -> ".join(reversed(cycle))
        msg = f"dependency cycle among custom stages: {shown}."
        raise ConfigError(msg, path=config.pyproject, key=_TABLE) from None


def _in_order(specs: Sequence[StageSpec]) -> tuple[StageSpec, ...]:
    # Kahn's algorithm keeping the declared order among stages that are ready together.
    placed: list[StageSpec] = []
    done: set[str] = set()
    waiting = list(specs)
    while waiting:
        ready = next(s for s in waiting if done.issuperset(s.needs))
        waiting.remove(ready)
        placed.append(ready)
        done.add(ready.name)
    return tuple(placed)


def stage_specs(config: Config, sessions: Iterable[str]) -> tuple[StageSpec, ...]:
    """The pipeline's stages and what each needs, in an order that respects `needs`.

    `sessions` are the noxfile's session names (`name` in `nox --list --json`).
    Built-in stages without a session are left out, and so are needs on them;
    custom stages are checked (names, needs, cycles, report files) here.
    """
    present = set(sessions).difference(n for n in BUILTIN_NEEDS if n not in config.pipeline)
    builtin = [
        StageSpec(name=name, needs=tuple(n for n in needs if n in present))
        for name, needs in BUILTIN_NEEDS.items()
        if name in present
    ]
    for name in config.stages:
        _check_name(name, config)
    _check_reports(config.stages, config)
    known = [s.name for s in builtin] + list(config.stages)
    for name, spec in config.stages.items():
        _check_needs(name, spec, known, config)
        if not spec.commands:
            msg = "a custom stage needs at least one command, like commands = ['alembic check']."
            raise ConfigError(msg, path=config.pyproject, key=f"{_TABLE}.{name}.commands")
        for index, command in enumerate(spec.commands):
            split_command(name, index, command, config)
    _check_cycles(config.stages, config)
    custom = [
        StageSpec(name=name, needs=spec.needs, custom=True, description=spec.description)
        for name, spec in config.stages.items()
    ]
    return _in_order([*builtin, *custom])


def build(config: Config, sessions: Iterable[str], *, targets: Sequence[Target]) -> Graph:
    """The graph of stages to run here: the test stage becomes one node per target in `targets`."""
    specs = stage_specs(config, sessions)
    test_nodes = [f"test-{t.id}" for t in targets] or ["test"]
    nodes: list[Stage] = []
    for spec in specs:
        needs = tuple(
            node for need in spec.needs for node in (test_nodes if need == "test" else [need])
        )
        if spec.name == "test" and targets:
            nodes += [
                Stage(name=node, group="test", session="test", report=node, needs=needs, target=t)
                for node, t in zip(test_nodes, targets, strict=True)
            ]
            continue
        custom = config.stages.get(spec.name)
        report = (custom.report if custom else None) or spec.name
        nodes.append(
            Stage(
                name=spec.name,
                group=spec.name,
                session=spec.name,
                report=report,
                needs=needs,
                custom=spec.custom,
                description=spec.description,
                placeholder=spec.name == "test",
            )
        )
    return Graph(tuple(nodes))


def session_id(stage: Stage, listing: Sequence[Mapping[str, Any]]) -> str:
    """What `nox -s` takes to run `stage`, read from `nox --list --json` entries."""
    if stage.target is not None:
        return matrix.session_for(listing, stage.target, name=stage.session)
    for entry in listing:
        if entry.get("name") == stage.session:
            return str(entry["session"])
    msg = f"the noxfile has no session {stage.session!r} for stage {stage.name!r}."
    raise UsageError(msg)

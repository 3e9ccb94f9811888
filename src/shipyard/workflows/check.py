"""Writing the generated workflows, and the drift check comparing them with the files on disk.

A file is shipyard's when its first line is the generated header. Such a file
is rewritten whole, except what follows the hand-edits marker at its end,
which is carried over as it is. Any other workflow file is the project's own:
it is left alone unless `force` is given.
"""

from __future__ import annotations

import dataclasses
import difflib
import enum
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from shipyard.config import Config
from shipyard.errors import ConfigError
from shipyard.report import Finding, Severity, StageResult, Status, write_atomic
from shipyard.workflows import generate

__all__ = [
    "Change",
    "Kind",
    "apply",
    "describe",
    "drift",
    "is_generated",
    "managed",
    "plan",
    "unified_diff",
    "workflow_dir",
]

_FIRST_LINE = f"# {generate.HEADER[0]}"


class Kind(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    REMOVE = "remove"
    SAME = "same"
    HAND_WRITTEN = "hand-written"

    @property
    def drifts(self) -> bool:
        return self in (Kind.CREATE, Kind.UPDATE, Kind.REMOVE)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Change:
    """What writing one workflow file would do."""

    path: Path
    kind: Kind
    old: str | None  # the file on disk, None when absent
    new: str | None  # the file shipyard wants, None when it goes away or is left alone

    @property
    def name(self) -> str:
        return self.path.name


def is_generated(text: str) -> bool:
    return text.split("\n", 1)[0].rstrip("\r") == _FIRST_LINE


def _hand_edits(text: str) -> str:
    """What follows the marker line, as it is; empty when there is no marker."""
    _, found, tail = text.partition("\n" + generate.MARKER)
    if not found:
        return ""
    return tail.partition("\n")[2]


def workflow_dir(config: Config) -> Path:
    """The workflows directory; an error when that path is something else than a directory."""
    path = config.root / config.workflows.dir
    if path.exists() and not path.is_dir():
        msg = (
            "is not a directory, so no workflow can be written there. Move the file away, "
            "or point [tool.shipyard.workflows] dir elsewhere."
        )
        raise ConfigError(msg, path=path)
    return path


def _workflow_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for p in directory.iterdir() if p.suffix in (".yml", ".yaml") and p.is_file())


def _read(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text ({exc.reason})."
        raise ConfigError(msg, path=path) from None


def managed(config: Config) -> bool:
    """Whether any file in the workflows directory was made by shipyard."""
    return any(is_generated(_read(p) or "") for p in _workflow_files(workflow_dir(config)))


def plan(config: Config, rendered: Mapping[str, str], *, force: bool = False) -> list[Change]:
    """What writing `rendered` (file name to text) into the workflows directory would do."""
    directory = workflow_dir(config)
    changes = []
    for name, text in sorted(rendered.items()):
        path = directory / name
        old = _read(path)
        if old is not None and not is_generated(old) and not force:
            changes.append(Change(path=path, kind=Kind.HAND_WRITTEN, old=old, new=None))
            continue
        new = text + (_hand_edits(old) if old is not None and is_generated(old) else "")
        kind = Kind.CREATE if old is None else Kind.SAME if old == new else Kind.UPDATE
        changes.append(Change(path=path, kind=kind, old=old, new=new))
    for path in _workflow_files(directory):
        old = _read(path) or ""
        if path.name not in rendered and is_generated(old):
            changes.append(Change(path=path, kind=Kind.REMOVE, old=old, new=None))
    return changes


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def unified_diff(changes: Sequence[Change], root: Path) -> str:
    """One unified diff of every drifting file, with paths relative to `root`."""
    parts = []
    for change in changes:
        if not change.kind.drifts:
            continue
        name = _relative(change.path, root)
        before = (change.old or "").splitlines(keepends=True)
        after = (change.new or "").splitlines(keepends=True)
        old_name = f"a/{name}" if change.old is not None else "/dev/null"
        new_name = f"b/{name}" if change.new is not None else "/dev/null"
        lines = difflib.unified_diff(before, after, old_name, new_name)
        parts.append("".join(line if line.endswith("\n") else line + "\n" for line in lines))
    return "".join(parts)


_SAID = {
    Kind.CREATE: "wrote {path}",
    Kind.UPDATE: "updated {path}",
    Kind.REMOVE: "removed {path} (shipyard no longer generates it)",
    Kind.SAME: "{path} is up to date",
    Kind.HAND_WRITTEN: (
        "left {path} alone: shipyard did not write it (it has no generated header); "
        "`shipyard workflows --force` replaces it"
    ),
}
_CHECKED = {
    Kind.CREATE: "{path} is missing",
    Kind.UPDATE: "{path} differs from what shipyard generates",
    Kind.REMOVE: "{path} is no longer generated and would be removed",
}


def describe(change: Change, root: Path, *, checking: bool = False) -> str:
    """One line saying what happened (or, when `checking`, what would) to a file."""
    said = (_CHECKED if checking else {}).get(change.kind, _SAID[change.kind])
    return said.format(path=_relative(change.path, root))


def apply(changes: Sequence[Change]) -> None:
    """Write, create and remove files as planned; hand-written files stay untouched."""
    for change in changes:
        if change.kind in (Kind.CREATE, Kind.UPDATE) and change.new is not None:
            write_atomic(change.path, change.new)
        elif change.kind is Kind.REMOVE:
            change.path.unlink(missing_ok=True)


def drift(config: Config, inputs: generate.Inputs | None = None) -> StageResult:
    """The drift check as a stage: failed, with the diff on stderr, when files differ."""
    start = time.perf_counter()
    inputs = inputs if inputs is not None else generate.gather(config)
    changes = plan(config, generate.render(config, inputs))
    drifted = [c for c in changes if c.kind.drifts]
    findings = tuple(
        Finding(
            rule=f"workflow-{c.kind.value}",
            message=f"{c.name} differs from what `shipyard workflows` generates ({c.kind.value})",
            severity=Severity.MEDIUM,
            path=_relative(c.path, config.root),
            tool="shipyard",
        )
        for c in drifted
    )
    duration = time.perf_counter() - start
    if not drifted:
        reason = f"{len(changes)} workflow file(s) match what shipyard generates"
        return StageResult(
            stage="workflows", status=Status.PASSED, reason=reason, duration=duration
        )
    sys.stderr.write(unified_diff(changes, config.root))
    names = ", ".join(c.name for c in drifted)
    reason = f"out of date: {names}; run `shipyard workflows` to regenerate"
    return StageResult(
        stage="workflows",
        status=Status.FAILED,
        reason=reason,
        duration=duration,
        findings=findings,
    )

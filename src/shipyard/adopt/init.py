"""`shipyard init`: adopt a project where it stands.

The plan is made in a scratch copy of the project (links to its files, plus
the pyproject.toml, noxfile.py and tasks.py it will have), so the workflows
are generated from exactly what will be on disk. The plan is then shown as a
diff (`--dry-run`) or written, each file atomically, after checking that
every directory it writes to takes writes.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import enum
import os
import shutil
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.markup import escape
from rich.table import Table

from shipyard import config, matrix
from shipyard.adopt import pyproject
from shipyard.adopt.detect import Detected, detect
from shipyard.adopt.table import desired
from shipyard.errors import ConfigError, ShipyardError
from shipyard.report import write_atomic
from shipyard.workflows import check, generate

__all__ = ["NOXFILE", "TASKS", "FileChange", "Kind", "Plan", "apply", "diff", "make_plan"]

NOXFILE = (
    '"""The pipeline: shipyard\'s sessions, configured in pyproject.toml."""\n'
    "\n"
    "from shipyard import sessions  # noqa: F401\n"
)
TASKS = (
    '"""The flows: `invoke ci`, `invoke release` and `invoke monitor`, from shipyard."""\n'
    "\n"
    "from shipyard.flows import ns  # noqa: F401\n"
)

#: What a fresh .gitignore holds besides shipyard's own entries.
_PYTHON_IGNORES = ("__pycache__/", "*.py[cod]", "*.egg-info/", "build/", "dist/", ".venv/")

#: Entries of the root that the scratch copy gets as files of its own, or not at all.
_NOT_LINKED = {"pyproject.toml", "noxfile.py", "tasks.py", ".git", ".nox", ".shipyard", ".github"}


class Kind(enum.StrEnum):
    CREATE = "create"
    UPDATE = "update"
    SAME = "same"
    KEPT = "kept"

    @property
    def writes(self) -> bool:
        return self in (Kind.CREATE, Kind.UPDATE)


@dataclasses.dataclass(frozen=True, kw_only=True)
class FileChange:
    """What `shipyard init` does to one file; `path` is relative to the project root."""

    path: Path
    kind: Kind
    old: str | None
    new: str | None
    note: str = ""
    #: Whether `note` is a warning; a kept file that uses shipyard already is only reported.
    warns: bool = True


@dataclasses.dataclass(frozen=True, kw_only=True)
class Plan:
    root: Path
    detected: Detected
    pythons: tuple[str, ...]
    #: The keys added to [tool.shipyard], nested as in TOML.
    added: Mapping[str, Any]
    changes: tuple[FileChange, ...]
    warnings: tuple[str, ...]
    #: What was left as it is, and is fine so.
    infos: tuple[str, ...] = ()

    @property
    def writes(self) -> tuple[FileChange, ...]:
        return tuple(c for c in self.changes if c.kind.writes)


# -- one file each -------------------------------------------------------------------------


def _read(path: Path) -> str | None:
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            return fh.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read it ({exc})."
        raise ConfigError(msg, path=path) from None


def _imports(source: str, module: str) -> bool:
    """Whether Python `source` imports `module` (`shipyard.sessions`), in any of its forms.

    Mentioning shipyard is not enough: only the import defines the sessions (or flows).
    """
    package, _, name = module.rpartition(".")
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):  # nox or invoke cannot read it either
        return False
    for node in ast.walk(tree):
        if isinstance(node, ast.Import) and any(a.name == module for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and node.level == 0:
            if node.module == module:
                return True
            if node.module == package and any(a.name == name for a in node.names):
                return True
    return False


def _thin_file(
    root: Path, name: str, text: str, line: str, module: str, *, force: bool
) -> FileChange:
    """noxfile.py or tasks.py: written when absent, replaced only with `force`."""
    path = Path(name)
    old = _read(root / path)
    if old is None:
        return FileChange(path=path, kind=Kind.CREATE, old=None, new=text)
    if old == text:
        return FileChange(path=path, kind=Kind.SAME, old=old, new=text)
    if force:
        return FileChange(path=path, kind=Kind.UPDATE, old=old, new=text, note="--force")
    if _imports(old, module):
        note = "exists and uses shipyard already"
        return FileChange(path=path, kind=Kind.KEPT, old=old, new=None, note=note, warns=False)
    note = f"exists and is not shipyard's; add `{line}` to it, or use --force to replace it"
    return FileChange(path=path, kind=Kind.KEPT, old=old, new=None, note=note)


def _ignored(lines: Sequence[str], entry: str) -> bool:
    bare = entry.strip("/")
    forms = {bare, f"{bare}/", f"/{bare}", f"/{bare}/", f"{bare}/*", f"/{bare}/*"}
    return any(line.strip() in forms for line in lines)


def _gitignore(root: Path, reports_dir: Path) -> FileChange:
    """Keep shipyard's reports (and, in a fresh file, Python's usual litter) out of git."""
    path = Path(".gitignore")
    old = _read(root / path)
    ours = [".shipyard/"]
    if reports_dir.parts and reports_dir.parts[0] != ".shipyard":
        ours.append(f"{reports_dir.parts[0]}/")
    if old is None:
        text = "# Python\n" + "".join(f"{e}\n" for e in _PYTHON_IGNORES)
        text += "\n# shipyard's reports\n" + "".join(f"{e}\n" for e in ours)
        return FileChange(path=path, kind=Kind.CREATE, old=None, new=text)
    lines = old.splitlines()
    missing = [e for e in ours if not _ignored(lines, e)]
    if not missing:
        return FileChange(path=path, kind=Kind.SAME, old=old, new=old)
    nl = "\r\n" if "\r\n" in old else "\n"
    head = old if not old or old.endswith("\n") else old + nl
    gap = nl if head.strip() else ""
    new = head + gap + f"# shipyard's reports{nl}" + "".join(f"{e}{nl}" for e in missing)
    return FileChange(path=path, kind=Kind.UPDATE, old=old, new=new)


def _pyproject_change(old: str, new: str, added: Mapping[str, Any]) -> FileChange:
    path = Path("pyproject.toml")
    if new == old:
        return FileChange(path=path, kind=Kind.SAME, old=old, new=new)
    keys = ", ".join(_dotted_keys(added))
    return FileChange(
        path=path, kind=Kind.UPDATE, old=old, new=new, note=f"[tool.shipyard]: {keys}"
    )


def _dotted_keys(table: Mapping[str, Any], prefix: str = "") -> list[str]:
    keys = []
    for key, value in table.items():
        if isinstance(value, Mapping):
            keys += _dotted_keys(value, f"{prefix}{key}.")
        else:
            keys.append(f"{prefix}{key}")
    return keys


# -- the scratch copy and the workflows ------------------------------------------------------


@contextmanager
def _scratch(root: Path, files: Mapping[str, str | None]) -> Iterator[Path]:
    """A temporary copy of `root`: links to its entries, `files` written as they will be."""
    with tempfile.TemporaryDirectory(prefix="shipyard-init-") as tmp:
        scratch = Path(tmp)
        for entry in root.iterdir():
            if entry.name in _NOT_LINKED:
                continue
            link = scratch / entry.name
            try:
                link.symlink_to(entry.resolve(), target_is_directory=entry.is_dir())
            except OSError:  # no symlinks here (Windows without the privilege)
                if entry.is_dir():
                    shutil.copytree(entry, link, symlinks=True)
                else:
                    shutil.copy2(entry, link)
        for name, text in files.items():
            if text is not None:
                (scratch / name).write_text(text, encoding="utf-8", newline="")
        yield scratch


def _real(message: str, scratch: Path, root: Path) -> str:
    """`message` naming the project's own files instead of the scratch copy's."""
    for form in sorted({str(scratch.resolve()), str(scratch)}, key=len, reverse=True):
        message = message.replace(form, str(root.resolve()))
    return message


def _load(scratch: Path, root: Path) -> tuple[config.Config, tuple[str, ...]]:
    """The config and Pythons the project will have; errors name the real file, not the copy."""
    try:
        loaded = config.load(scratch)
        return loaded, matrix.python_versions(loaded)
    except ConfigError as exc:
        raise ConfigError(_real(str(exc), scratch, root)) from None


def workflow_changes(scratch_config: config.Config, root: Path, *, force: bool) -> list[FileChange]:
    """The generated workflows, planned against the files in `root` (the one call into them)."""
    rendered = generate.render(scratch_config, generate.gather(scratch_config))
    real = dataclasses.replace(scratch_config, root=root, pyproject=root / "pyproject.toml")
    kinds = {
        check.Kind.CREATE: Kind.CREATE,
        check.Kind.UPDATE: Kind.UPDATE,
        check.Kind.SAME: Kind.SAME,
        check.Kind.HAND_WRITTEN: Kind.KEPT,
    }
    changes = []
    for change in check.plan(real, rendered, force=force):
        kind = kinds.get(change.kind)
        if kind is None:  # a stale generated file: `shipyard workflows` removes those
            continue
        note = "--force" if kind is Kind.UPDATE and force else ""
        if kind is Kind.KEPT:
            note = "exists and is not shipyard's; --force replaces it"
        path = change.path.relative_to(root)
        changes.append(FileChange(path=path, kind=kind, old=change.old, new=change.new, note=note))
    return changes


# -- the plan --------------------------------------------------------------------------------


def make_plan(root: Path, *, force: bool = False, workflows: bool = True) -> Plan:
    """Everything `shipyard init` would write in `root`; nothing is written."""
    text, data = pyproject.read(root)
    detected = detect(root, data)
    table, notes = desired(root, data, detected)
    new_pyproject, added = pyproject.merge(text, table, path=root / "pyproject.toml")
    noxfile = _thin_file(
        root, "noxfile.py", NOXFILE, NOXFILE.splitlines()[-1], "shipyard.sessions", force=force
    )
    tasks = _thin_file(
        root, "tasks.py", TASKS, TASKS.splitlines()[-1], "shipyard.flows", force=force
    )
    warnings = [*detected.warnings, *notes]
    if not detected.git:
        warnings.append(
            "not a git repository: init works, but release, monitor and the secret scan of "
            "the history need one (`git init`)"
        )

    # The project as it will be: its config, its Pythons, its workflows.
    files = {
        "pyproject.toml": new_pyproject,
        "noxfile.py": noxfile.new or noxfile.old,
        "tasks.py": tasks.new or tasks.old,
    }
    changes = [_pyproject_change(text, new_pyproject, added), noxfile, tasks]
    with _scratch(root, files) as scratch:
        loaded, pythons = _load(scratch, root)
        if workflows:
            try:
                changes += workflow_changes(loaded, root, force=force)
            except ShipyardError as exc:
                warnings.append(f"workflows not written: {_real(str(exc), scratch, root)}")
    changes.append(_gitignore(root, loaded.reports_dir))
    kept = [c for c in changes if c.kind is Kind.KEPT]
    warnings += [f"{c.path.as_posix()} {c.note}" for c in kept if c.warns]
    return Plan(
        root=root,
        detected=detected,
        pythons=pythons,
        added=added,
        changes=tuple(changes),
        warnings=tuple(warnings),
        infos=tuple(f"{c.path.as_posix()} {c.note}" for c in kept if not c.warns),
    )


def diff(plan: Plan) -> str:
    """One unified diff of every file the plan writes."""
    parts: list[str] = []
    for change in plan.writes:
        name = change.path.as_posix()
        before = (change.old or "").splitlines(keepends=True)
        after = (change.new or "").splitlines(keepends=True)
        old_name = f"a/{name}" if change.old is not None else "/dev/null"
        parts += difflib.unified_diff(before, after, old_name, f"b/{name}")
    return "".join(line if line.endswith("\n") else line + "\n" for line in parts)


# -- writing -----------------------------------------------------------------------------------


def _writable(directory: Path) -> None:
    """Raise a ConfigError unless a file can be made in `directory` (or where it would go)."""
    while not directory.exists():
        directory = directory.parent
    try:
        fd, probe = tempfile.mkstemp(dir=directory, prefix=".shipyard-init-", suffix=".probe")
    except OSError as exc:
        msg = f"cannot write in {directory} ({exc.strerror}); nothing was written."
        raise ConfigError(msg) from None
    os.close(fd)
    Path(probe).unlink()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def apply(plan: Plan) -> list[Path]:
    """Write the plan's files, each atomically; every directory is checked first."""
    for directory in sorted({(plan.root / c.path).parent for c in plan.writes}):
        _writable(directory)
    written: list[Path] = []
    for change in plan.writes:
        path = plan.root / change.path
        mode = path.stat().st_mode & 0o7777 if path.exists() else 0o666 & ~_umask()
        try:
            write_atomic(path, change.new or "")
            path.chmod(mode)  # a temp file is made 0600; keep the file's own mode
        except OSError as exc:
            done = ", ".join(p.as_posix() for p in written) or "nothing"
            msg = f"cannot write it ({exc.strerror}); written before this: {done}."
            raise ConfigError(msg, path=path) from None
        written.append(change.path)
    return written


# -- showing ---------------------------------------------------------------------------------


def summary(plan: Plan) -> Table:
    """What was detected, as a two-column grid."""
    found = plan.detected
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold")
    grid.add_column(overflow="fold")
    packages = ", ".join(found.packages) or "none found"
    rows = [
        ("project", f"{found.name} ({plan.root.resolve()})"),
        ("layout", f"{found.layout} (packages: {packages})"),
        ("tests", found.tests.as_posix() + "/" if found.tests else "none found"),
        ("backend", found.backend),
    ]
    where = (
        f" (from {found.requires_python_from} {found.requires_python!r})"
        if found.requires_python
        else ""
    )
    rows += [
        ("pythons", ", ".join(plan.pythons) + where),
        ("benchmarks", ", ".join(found.benchmarks) or "none"),
        ("dockerfiles", ", ".join(p.as_posix() for p in found.dockerfiles) or "none"),
        ("git", "yes" if found.git else "not a git repository"),
    ]
    for name, value in rows:  # names and paths are the project's text, not markup
        grid.add_row(name, escape(value))
    return grid


def changes_table(plan: Plan, *, dry_run: bool) -> Table:
    grid = Table.grid(padding=(0, 2))
    words = {
        Kind.CREATE: "create",
        Kind.UPDATE: "update",
        Kind.SAME: "unchanged",
        Kind.KEPT: "keep",
    }
    if dry_run:
        words = {**words, Kind.CREATE: "would create", Kind.UPDATE: "would update"}
    for change in plan.changes:
        # A note names tables ("[tool.shipyard]: tests"): plain text, not rich markup.
        grid.add_row(words[change.kind], escape(change.path.as_posix()), escape(change.note))
    return grid


def next_commands(plan: Plan) -> list[tuple[str, str]]:
    """(command, what it does) to run after `shipyard init`."""
    commands = [("shipyard doctor", "what this machine can run, and why not")]
    noxfile = next(c for c in plan.changes if c.path == Path("noxfile.py"))
    if noxfile.kind is Kind.KEPT and noxfile.warns:
        # A noxfile of the project's own, kept: until it imports shipyard, nox has no ci.
        commands.append(
            (
                f"add `{NOXFILE.splitlines()[-1]}` to noxfile.py",
                "its sessions join yours; then `nox -s ci` runs the whole pipeline",
            )
        )
    else:
        commands.append(
            ("nox -s ci", "the whole pipeline here: lint, test, coverage and the summary")
        )
    written = [c.path.as_posix() for c in plan.writes]
    if plan.detected.git and written:
        add = " ".join(sorted(written))
        commands.append((f'git add {add} && git commit -m "Adopt shipyard"', "keep it"))
    elif not plan.detected.git:
        commands.append(("git init", "release, monitor and the history scan need a repository"))
    return commands

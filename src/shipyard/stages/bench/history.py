"""Benchmark history: one JSON line per run, one file per machine fingerprint.

Two runs are comparable only on the same machine kind: OS, architecture,
Python minor version, CPU model and CPU count (`fingerprint`). The store is
a directory (the platformdirs state dir, or a path in the repository) or a
git branch. File appends hold a lock file and write one `O_APPEND` line, so
concurrent writers never interleave; a branch append is a commit made with
plumbing and a compare-and-swap `update-ref`, retried on a race.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from filelock import FileLock

from shipyard.errors import ConfigError, ToolMissing
from shipyard.stages.bench.formats import Benchmark, BenchRun

__all__ = [
    "BranchStore",
    "DirStore",
    "History",
    "Record",
    "comparable",
    "differences",
    "fingerprint",
    "parse_lines",
]

SCHEMA = 1
FINGERPRINT_KEYS = ("os", "arch", "python", "cpu", "cpus")


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def fingerprint(*, python: str | None = None) -> dict[str, str]:
    """This machine's kind: what must match for two timings to be compared.

    `python` is the benchmarks' interpreter ("3.12") when it is not the running one.
    """
    return {
        "os": platform.system(),
        "arch": platform.machine(),
        "python": python or f"{sys.version_info.major}.{sys.version_info.minor}",
        "cpu": _cpu_model(),
        "cpus": str(os.cpu_count() or 0),
    }


def differences(a: Mapping[str, str] | None, b: Mapping[str, str] | None) -> list[str]:
    """What differs between two fingerprints, as `key: a != b`; unknown when either is None."""
    if a is None or b is None:
        return ["machine unknown (the results carry no machine fingerprint)"]
    return [
        f"{key}: {a.get(key, '?')!r} != {b.get(key, '?')!r}"
        for key in FINGERPRINT_KEYS
        if a.get(key) != b.get(key)
    ]


def comparable(a: Mapping[str, str] | None, b: Mapping[str, str] | None) -> bool:
    return not differences(a, b)


def file_name(machine: Mapping[str, str]) -> str:
    digest = hashlib.sha256(json.dumps(dict(machine), sort_keys=True).encode()).hexdigest()[:12]
    name = f"{machine['os']}-{machine['arch']}-py{machine['python']}".lower()
    return f"{re.sub(r'[^a-z0-9.]+', '-', name)}-{digest}.jsonl"


#: Rounds kept per benchmark and run; longer runs keep an evenly spaced subset.
MAX_KEPT = 500


def _kept(samples: Sequence[float]) -> list[float]:
    step = -(-len(samples) // MAX_KEPT)
    return list(samples[::step])


@dataclasses.dataclass(frozen=True, kw_only=True)
class Record:
    """One run in the history."""

    run: BenchRun
    time: float
    branch: str | None = None

    @property
    def commit(self) -> str | None:
        return self.run.commit

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "time": self.time,
            "commit": self.run.commit,
            "branch": self.branch,
            "machine": dict(self.run.machine or {}),
            "format": self.run.format,
            "benchmarks": {
                name: {"unit": b.unit, "samples": _kept(b.samples), "spread": b.spread}
                for name, b in self.run.benchmarks.items()
            },
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Record:
        benchmarks = {
            name: Benchmark(
                name=name,
                unit=entry["unit"],
                samples=tuple(float(s) for s in entry["samples"]),
                spread=entry.get("spread"),
            )
            for name, entry in data["benchmarks"].items()
        }
        run = BenchRun(
            benchmarks=benchmarks,
            format=str(data.get("format", "history")),
            source="history",
            machine=data.get("machine") or None,
            commit=data.get("commit"),
        )
        return cls(run=run, time=float(data["time"]), branch=data.get("branch"))


@dataclasses.dataclass(frozen=True, kw_only=True)
class History:
    """The readable records of one machine's file, and the lines that could not be read."""

    records: tuple[Record, ...]
    #: `(line number, reason)` for every damaged line, kept in the file untouched.
    damaged: tuple[tuple[int, str], ...] = ()
    source: str = ""

    def problems(self) -> list[str]:
        return [f"{self.source}:{line}: damaged line skipped ({why})" for line, why in self.damaged]


def parse_lines(text: str, source: str) -> History:
    records: list[Record] = []
    damaged: list[tuple[int, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            records.append(Record.from_json(data))
        except json.JSONDecodeError as exc:
            damaged.append((number, f"invalid JSON: {exc.msg} at column {exc.colno}"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            damaged.append((number, f"not a history record: {exc!r}"))
    return History(records=tuple(records), damaged=tuple(damaged), source=source)


def _line(record: Record) -> str:
    return json.dumps(record.to_json(), sort_keys=True, separators=(",", ":")) + "\n"


class DirStore:
    """History files in a directory: `<dir>/<fingerprint file>.jsonl`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, machine: Mapping[str, str]) -> Path:
        return self.directory / file_name(machine)

    def read(self, machine: Mapping[str, str]) -> History:
        path = self.path(machine)
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return History(records=(), source=str(path))
        return parse_lines(text, str(path))

    def append(self, record: Record) -> Path:
        """Append one line; safe with concurrent writers, and after a torn last line."""
        path = self.path(record.run.machine or fingerprint())
        path.parent.mkdir(parents=True, exist_ok=True)
        data = _line(record).encode()
        with FileLock(str(path) + ".lock", timeout=60):
            fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                size = os.fstat(fd).st_size
                if size and not _ends_with_newline(path, size):
                    data = b"\n" + data  # keep a torn last line on its own line
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
        return path


def _ends_with_newline(path: Path, size: int) -> bool:
    with path.open("rb") as fh:
        fh.seek(size - 1)
        return fh.read(1) == b"\n"


class BranchStore:
    """History files on a git branch of `repo`, committed without touching the work tree."""

    def __init__(self, repo: Path, branch: str) -> None:
        self.repo = repo
        self.branch = branch

    def _git(self, *args: str, env: Mapping[str, str] | None = None, check: bool = True) -> str:
        try:
            done = subprocess.run(
                ["git", *args],
                cwd=self.repo,
                capture_output=True,
                text=True,
                env={**os.environ, **(env or {})},
                check=False,
                timeout=60,
            )
        except FileNotFoundError:
            raise ToolMissing("git is needed for the bench history branch.") from None
        if check and done.returncode != 0:
            msg = f"git {' '.join(args)} failed: {done.stderr.strip()}"
            raise ConfigError(msg, path=self.repo)
        return done.stdout if done.returncode == 0 else ""

    def _tip(self) -> str | None:
        out = self._git("rev-parse", "--verify", "-q", f"refs/heads/{self.branch}", check=False)
        return out.strip() or None

    def read(self, machine: Mapping[str, str]) -> History:
        name = file_name(machine)
        source = f"{self.branch}:{name}"
        if self._tip() is None:
            return History(records=(), source=source)
        text = self._git("show", f"refs/heads/{self.branch}:{name}", check=False)
        return parse_lines(text, source)

    def append(self, record: Record, *, attempts: int = 5) -> str:
        name = file_name(record.run.machine or fingerprint())
        for _ in range(attempts):
            tip = self._tip()
            old = self._git("show", f"{tip}:{name}", check=False) if tip else ""
            if old and not old.endswith("\n"):
                old += "\n"
            if self._commit(tip, name, old + _line(record)):
                return f"{self.branch}:{name}"
            time.sleep(0.05)
        msg = f"could not append to branch {self.branch!r}: it kept moving under concurrent writers"
        raise ConfigError(msg, path=self.repo)

    def _commit(self, tip: str | None, name: str, text: str) -> bool:
        with tempfile.TemporaryDirectory() as tmp:
            env = {"GIT_INDEX_FILE": str(Path(tmp) / "index")}
            if tip:
                self._git("read-tree", tip, env=env)
            blob_file = Path(tmp) / "blob"
            blob_file.write_text(text, encoding="utf-8")
            blob = self._git("hash-object", "-w", str(blob_file)).strip()
            self._git("update-index", "--add", "--cacheinfo", f"100644,{blob},{name}", env=env)
            tree = self._git("write-tree", env=env).strip()
            parents = ["-p", tip] if tip else []
            identity = {
                "GIT_AUTHOR_NAME": "shipyard",
                "GIT_AUTHOR_EMAIL": "shipyard@localhost",
                "GIT_COMMITTER_NAME": "shipyard",
                "GIT_COMMITTER_EMAIL": "shipyard@localhost",
            }
            message = f"bench: record {name}"
            commit = self._git("commit-tree", tree, *parents, "-m", message, env=identity).strip()
        expected = tip or "0" * 40
        self._git("update-ref", f"refs/heads/{self.branch}", commit, expected, check=False)
        return self._tip() == commit


def latest(
    records: Sequence[Record], *, commit: str | None = None, branch: str | None = None
) -> Record | None:
    """The newest record matching `commit` (a full or short sha) and/or `branch`."""
    for record in sorted(records, key=lambda r: r.time, reverse=True):
        if commit is not None and not (record.commit or "").startswith(commit):
            continue
        if branch is not None and record.branch != branch:
            continue
        return record
    return None


def series(records: Sequence[Record]) -> Iterator[tuple[str, list[tuple[Record, Benchmark]]]]:
    """Each benchmark's runs in time order."""
    by_name: dict[str, list[tuple[Record, Benchmark]]] = {}
    for record in sorted(records, key=lambda r: r.time):
        for name, bench in record.run.benchmarks.items():
            by_name.setdefault(name, []).append((record, bench))
    yield from sorted(by_name.items())

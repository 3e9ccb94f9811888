"""Running the tools a stage needs, from a given environment.

A `ToolEnv` is where a stage's tools live: the bin directory of a nox
session's virtualenv, or the current PATH. Stages take one as input, so a
test can hand them the running interpreter's environment and call them
directly, with no nox in between.
"""

from __future__ import annotations

import dataclasses
import os
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from shipyard.errors import ToolMissing

__all__ = ["Completed", "ToolEnv"]

#: No single tool run may take longer than this (seconds) unless the caller says so.
DEFAULT_TIMEOUT = 3600.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class ToolEnv:
    """Where tools are looked up and with which environment variables they run."""

    bin_dir: Path | None = None
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    #: The interpreter's version as "3.12" when known.
    python_version: str | None = None

    @classmethod
    def current(cls) -> ToolEnv:
        """The interpreter running shipyard, and its scripts directory."""
        return cls(
            bin_dir=Path(sys.executable).parent,
            python_version=f"{sys.version_info.major}.{sys.version_info.minor}",
        )

    def _path(self) -> str:
        path = self.env.get("PATH", os.environ.get("PATH", ""))
        return os.pathsep.join([str(self.bin_dir), path]) if self.bin_dir else path

    def which(self, name: str) -> str | None:
        return shutil.which(name, path=self._path())

    def python(self) -> str:
        found = self.which("python") or self.which("python3")
        return found or sys.executable

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str] | None = None,
        stream: bool = False,
        merge_stderr: bool = False,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> Completed:
        """Run `argv`; a missing program is a ToolMissing error (exit 3) naming it.

        With `stream`, the output goes to the terminal as it comes and is not captured.
        With `merge_stderr`, stderr is captured into stdout, in the order it was written.
        """
        program = self.which(argv[0])
        if program is None:
            where = f" in {self.bin_dir}" if self.bin_dir else ""
            msg = (
                f"'{argv[0]}' was not found{where} or on PATH; install it, or run the nox session."
            )
            raise ToolMissing(msg)
        # A tool never inherits the caller's own coverage measurement.
        outer = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
        full_env = {**outer, **self.env, **(env or {}), "PATH": self._path()}
        full_env.pop("PYTHONHOME", None)
        if self.bin_dir is not None and (self.bin_dir.parent / "pyvenv.cfg").exists():
            full_env["VIRTUAL_ENV"] = str(self.bin_dir.parent)
        captured = subprocess.PIPE if not stream else None
        proc = subprocess.run(
            [program, *argv[1:]],
            cwd=cwd,
            env=full_env,
            text=True,
            stdout=captured,
            stderr=subprocess.STDOUT if merge_stderr and not stream else captured,
            timeout=timeout,
            check=False,
        )
        return Completed(
            argv=tuple(argv),
            returncode=proc.returncode,
            stdout=proc.stdout or "",
            stderr=proc.stderr or "",
        )

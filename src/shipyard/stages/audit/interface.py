"""What every audit check is: one ABC, its error base, and the records they share.

A check runs one kept tool (pip-audit, bandit, detect-secrets, cyclonedx-bom) or
one kept library (license-expression) on the right inputs, and turns its output
into `Finding`s. Tools run in the *tool environment*: a virtual environment the
audit session made, reached only through its `bin/` directory, never imported.
"""

from __future__ import annotations

import abc
import dataclasses
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from shipyard.errors import ExitCode, ShipyardError, ToolMissing
from shipyard.report import Finding, Severity

if TYPE_CHECKING:
    from shipyard.config import Config

__all__ = [
    "AuditError",
    "Check",
    "CheckReport",
    "Context",
    "Distribution",
    "Rule",
    "ToolEnv",
    "ToolFailed",
    "note",
]

#: The tool name of findings that are shipyard's own remarks (skips, warnings).
NOTE_TOOL = "shipyard"


class AuditError(ShipyardError):
    """Base of the errors raised by audit checks."""

    code = ExitCode.TOOL_MISSING


class ToolFailed(AuditError):
    """A tool ran but failed, or wrote output shipyard cannot read."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Distribution:
    """One installed distribution of the tool environment, from its metadata."""

    name: str
    version: str
    requires: tuple[str, ...] = ()
    license_expression: str | None = None
    license: str | None = None
    classifiers: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True)
class ToolEnv:
    """A virtual environment holding the audit tools and the project, seen from outside."""

    bin_dir: Path

    @property
    def python(self) -> Path:
        name = "python.exe" if sys.platform == "win32" else "python"
        return self.bin_dir / name

    def tool(self, name: str) -> Path:
        """The path of console script `name`, or ToolMissing saying how to get it."""
        suffix = ".exe" if sys.platform == "win32" else ""
        path = self.bin_dir / f"{name}{suffix}"
        if not path.exists():
            msg = (
                f"'{name}' is not installed in the tool environment {self.bin_dir}. "
                "The audit session installs it; outside the session run "
                f"`{self.python} -m pip install {name}`."
            )
            raise ToolMissing(msg)
        return path

    def run(
        self, argv: Sequence[str | Path], *, cwd: Path, timeout: float, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run `argv` with this environment's `bin/` first on PATH; never raise on exit codes."""
        env = dict(os.environ)
        env["PATH"] = os.pathsep.join([str(self.bin_dir), env.get("PATH", "")])
        env["VIRTUAL_ENV"] = str(self.bin_dir.parent)
        env.pop("PYTHONPATH", None)
        env["PYTHONIOENCODING"] = "utf-8"
        args = [str(a) for a in argv]
        try:
            return subprocess.run(
                args,
                cwd=cwd,
                env=env,
                input=stdin,
                capture_output=True,
                text=True,
                encoding="utf-8",
                errors="replace",
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            msg = f"`{Path(args[0]).name}` ran longer than {timeout:.0f} s (audit.timeout)."
            raise ToolFailed(msg) from None
        except FileNotFoundError:
            msg = f"cannot run {args[0]}: no such file."
            raise ToolMissing(msg) from None

    def run_script(self, script: Path, *args: str, cwd: Path, timeout: float) -> Any:
        """Run a helper script with this environment's python; return its JSON stdout."""
        proc = self.run([self.python, script, *args], cwd=cwd, timeout=timeout)
        if proc.returncode != 0:
            msg = f"{script.name} failed in {self.bin_dir} (exit {proc.returncode}): {tail(proc)}"
            raise ToolFailed(msg)
        try:
            return json.loads(proc.stdout)
        except json.JSONDecodeError:
            msg = f"{script.name} printed no JSON: {tail(proc)}"
            raise ToolFailed(msg) from None


def tail(proc: subprocess.CompletedProcess[str], lines: int = 5) -> str:
    """The last lines a tool printed, for an error message."""
    text = (proc.stderr or proc.stdout or "").strip().splitlines()
    return " | ".join(text[-lines:]) or "(no output)"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Context:
    """What a check is given: the config, the tool environment and where to write."""

    config: Config
    env: ToolEnv
    #: The installed distributions of the tool environment (probed once per audit).
    distributions: Sequence[Distribution]
    #: The marker environment of the tool environment's interpreter (PEP 508).
    markers: Mapping[str, str]

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def timeout(self) -> float:
        return float(self.config.audit.timeout)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rule:
    """What a rule id means, for SARIF's rule table."""

    id: str
    name: str
    help_uri: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class CheckReport:
    """What one check produced."""

    check: str
    #: The tool that found things, and its version, as SARIF names the run.
    tool: str
    tool_version: str | None = None
    tool_uri: str | None = None
    findings: Sequence[Finding] = ()
    rules: Sequence[Rule] = ()
    metrics: Mapping[str, float | int | str] = dataclasses.field(default_factory=dict)
    artifacts: Sequence[Path] = ()


def note(check: str, message: str) -> Finding:
    """A remark about the audit itself (a skipped input, a malformed file), not a finding."""
    return Finding(
        rule=f"audit/{check}", message=message, severity=Severity.INFO, tool=NOTE_TOOL
    )


class Check(abc.ABC):
    """One audit check. Subclasses name themselves and run on a `Context`."""

    #: The name used in `audit.checks`, metrics and messages.
    name: ClassVar[str]

    @abc.abstractmethod
    def run(self, context: Context) -> CheckReport:
        """Run the check; raise an `AuditError` when its tool cannot do its job."""
        raise NotImplementedError

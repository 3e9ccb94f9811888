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
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from shipyard.errors import ExitCode, ShipyardError, ToolMissing
from shipyard.report import Finding, Severity
from shipyard.tools import Completed, ToolEnv

if TYPE_CHECKING:
    from shipyard.config import Config
    from shipyard.stages.toolchains.interface import Toolchain

__all__ = [
    "ARTIFACTS_DIR",
    "AuditError",
    "Check",
    "CheckReport",
    "Context",
    "Distribution",
    "Rule",
    "ToolFailed",
    "failure",
    "note",
    "require",
    "run",
    "run_script",
]

#: The folder under the reports dir that holds the audit's artifacts (SARIF, markdown, tools').
ARTIFACTS_DIR = "audit"

#: What the audit session installs into its environment besides the project.
TOOL_PACKAGES = ("pip-audit", "bandit", "detect-secrets", "unidiff", "cyclonedx-bom")

#: The tool name of findings that are shipyard's own remarks (skips, warnings).
NOTE_TOOL = "shipyard"

#: The rule of the finding that stands for a check that could not do its job.
CHECK_FAILED = "audit/check-failed"


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


def require(context: Context, tool: str) -> None:
    """ToolMissing, saying how to get it, unless `tool` is in the tool environment."""
    if context.env.which(tool) is None:
        where = f" in {context.env.bin_dir}" if context.env.bin_dir else ""
        msg = (
            f"'{tool}' is not installed{where}. The audit session installs it; "
            f"elsewhere run `pip install {' '.join(TOOL_PACKAGES)}` in the tool environment."
        )
        raise ToolMissing(msg)


def run(context: Context, argv: Sequence[str | Path]) -> Completed:
    """Run a tool of the tool environment; a missing tool is ToolMissing, a hang ToolFailed."""
    args = [str(a) for a in argv]
    require(context, args[0])
    try:
        return context.env.run(args, cwd=context.root, timeout=context.timeout)
    except subprocess.TimeoutExpired:
        msg = f"`{Path(args[0]).name}` ran longer than {context.timeout:.0f} s (audit.timeout)."
        raise ToolFailed(msg) from None


def run_script(context: Context, script: Path, *args: str) -> Any:
    """Run a helper script with the tool environment's python; return its JSON output."""
    proc = run(context, [context.env.python(), str(script), *args])
    if proc.returncode != 0:
        msg = f"{script.name} failed (exit {proc.returncode}): {tail(proc)}"
        raise ToolFailed(msg)
    try:
        return json.loads(proc.stdout)
    except json.JSONDecodeError:
        msg = f"{script.name} printed no JSON: {tail(proc)}"
        raise ToolFailed(msg) from None


def tail(proc: Completed, lines: int = 5) -> str:
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
    #: The project's toolchains (configured or detected); may be empty.
    toolchains: Sequence[Toolchain] = ()

    @property
    def python(self) -> bool:
        """Whether the project is a Python one, its distribution in the tool environment.

        A project with no toolchain detected is audited as Python, as it always was.
        """
        return not self.toolchains or any(t.name == "python" for t in self.toolchains)

    @property
    def root(self) -> Path:
        return self.config.root

    @property
    def out_dir(self) -> Path:
        """Where the audit writes its artifacts: `<reports>/audit/` (stage results stay above)."""
        return self.config.reports / ARTIFACTS_DIR

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
    #: Why the check did not run for this project; said in the stage's reason, not a finding.
    skipped: str | None = None


def note(check: str, message: str) -> Finding:
    """A remark about the audit itself (a skipped input, a malformed file), not a finding."""
    return Finding(rule=f"audit/{check}", message=message, severity=Severity.INFO, tool=NOTE_TOOL)


def failure(check: str, error: ShipyardError) -> Finding:
    """A check that could not run, as a finding of its own: it fails the gate, not the audit."""
    return Finding(
        rule=CHECK_FAILED,
        message=f"{check} check failed: {error}",
        severity=Severity.HIGH,
        tool=NOTE_TOOL,
        extra={"check": check},
    )


class Check(abc.ABC):
    """One audit check. Subclasses name themselves and run on a `Context`."""

    #: The name used in `audit.checks`, metrics and messages.
    name: ClassVar[str]

    @abc.abstractmethod
    def run(self, context: Context) -> CheckReport:
        """Run the check; raise an `AuditError` when its tool cannot do its job."""
        raise NotImplementedError

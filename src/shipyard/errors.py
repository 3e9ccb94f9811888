"""The errors shipyard reports to people, each owning its exit code.

Every door (the CLI, the nox sessions, the invoke flows) catches
`ShipyardError` once, prints its message as one paragraph and exits with its
code. Nothing below the doors calls `sys.exit`.
"""

from __future__ import annotations

import enum
from pathlib import Path

__all__ = [
    "ConfigError",
    "ExitCode",
    "GateFailed",
    "NoTargetsError",
    "NothingToRelease",
    "ShipyardError",
    "ToolMissing",
    "Unreachable",
    "UsageError",
]


class ExitCode(enum.IntEnum):
    """Exit codes, documented in the README's table."""

    OK = 0
    GATE_FAILED = 1
    CONFIG = 2
    TOOL_MISSING = 3
    NO_TARGETS = 4
    NOTHING_TO_RELEASE = 5
    UNREACHABLE = 6
    INTERRUPTED = 130


class ShipyardError(Exception):
    """Base of every error shown to a person; `code` is the exit code."""

    code: ExitCode = ExitCode.CONFIG

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(ShipyardError):
    """Bad command-line usage."""

    code = ExitCode.CONFIG


class ConfigError(ShipyardError):
    """`[tool.shipyard]` (or another input file) is missing, malformed or invalid."""

    code = ExitCode.CONFIG

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        key: str | None = None,
    ) -> None:
        self.path = path
        self.key = key
        where = []
        if path is not None:
            where.append(str(path))
        if key is not None:
            where.append(f"key '{key}'")
        prefix = f"{': '.join(where)}: " if where else ""
        super().__init__(f"{prefix}{message}")


class GateFailed(ShipyardError):
    """A gate crossed its line; the message says which number crossed which line."""

    code = ExitCode.GATE_FAILED


class ToolMissing(ShipyardError):
    """A tool, interpreter or engine the stage needs is not available."""

    code = ExitCode.TOOL_MISSING


class NoTargetsError(ShipyardError):
    """The matrix configuration selects no target at all."""

    code = ExitCode.NO_TARGETS


class NothingToRelease(ShipyardError):
    """No releasable change since the last release."""

    code = ExitCode.NOTHING_TO_RELEASE


class Unreachable(ShipyardError):
    """A network service every part needed could not be reached."""

    code = ExitCode.UNREACHABLE

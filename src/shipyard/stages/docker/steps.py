"""Running one step of a build on the host, and what a failed step reports."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = ["TAIL_LINES", "StepFailed", "run_step", "tail"]

#: How much of a failing tool's output a finding keeps.
TAIL_LINES = 25


class StepFailed(Exception):
    """A build step failed; `output` is the tail of what the tool said."""

    def __init__(self, message: str, output: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.output = output


def tail(text: str, lines: int = TAIL_LINES) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


def run_step(
    argv: Sequence[str], *, cwd: Path, what: str, env: Mapping[str, str] | None = None
) -> None:
    try:
        done = subprocess.run(
            list(argv),
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
    except FileNotFoundError:
        msg = f"{what}: '{argv[0]}' was not found"
        raise StepFailed(msg) from None
    except subprocess.TimeoutExpired:
        msg = f"{what}: did not finish within 30 minutes"
        raise StepFailed(msg) from None
    if done.returncode != 0:
        msg = f"{what}: `{' '.join(argv[:4])} ...` exited with {done.returncode}"
        raise StepFailed(msg, tail(done.stderr or done.stdout))

"""What a parallel run shows while it runs: each stage's output, and a live status line.

Locally every line is shown as it comes, prefixed with its stage. On GitHub
Actions a stage's lines are held back and shown as one `::group::` when it
ends, so the log reads stage by stage. On a terminal a status line at the
bottom says which stages are running and for how long.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence

from rich.console import Console
from rich.live import Live
from rich.text import Text

from shipyard.report import StageResult, Status

__all__ = ["StageOutput"]

_COLOURS = ("cyan", "magenta", "blue", "green", "yellow", "bright_cyan", "bright_magenta")
#: A stage running longer than this (seconds) shows its time in the status line.
LONG = 5.0


class StageOutput:
    """Prefixed (or grouped) stage output on `console`, with a live status line on a tty."""

    def __init__(
        self, console: Console, names: Sequence[str], *, github: bool | None = None
    ) -> None:
        self.console = console
        self.github = os.environ.get("GITHUB_ACTIONS") == "true" if github is None else github
        self.width = min(max((len(n) for n in names), default=0), 28)
        self.colours = {n: _COLOURS[i % len(_COLOURS)] for i, n in enumerate(names)}
        self._live: Live | None = None

    @contextlib.contextmanager
    def live(self) -> Iterator[None]:
        """Show the status line while inside, on a terminal only (and never on CI logs)."""
        if not self.console.is_terminal or self.github:
            yield
            return
        live = Live(Text(""), console=self.console, transient=True, auto_refresh=False)
        with live:
            self._live = live
            try:
                yield
            finally:
                self._live = None

    def _print(self, text: Text | str) -> None:
        self.console.print(text, markup=False, highlight=False, soft_wrap=True)

    def _prefix(self, name: str) -> Text:
        return Text(f"{name[: self.width]:<{self.width}} | ", style=self.colours.get(name, ""))

    def line(self, name: str, line: str) -> None:
        """One line a stage printed: shown now, or held for its group on GitHub Actions."""
        if self.github:
            return
        self._print(self._prefix(name) + Text.from_ansi(line))

    def started(self, name: str, command: str) -> None:
        if not self.github:
            self._print(self._prefix(name) + Text(f"started: {command}", style="dim"))

    def finished(self, name: str, result: StageResult, lines: Sequence[str]) -> None:
        """The stage ended: its verdict line, or its whole group on GitHub Actions."""
        verdict = f"{result.status.mark} {result.status.value}"
        timing = f" in {result.duration:.1f}s" if result.duration else ""
        why = f" ({result.reason})" if result.reason else ""
        if not self.github:
            self._print(
                self._prefix(name) + Text(f"{verdict}{timing}{why}", style=result.status.style)
            )
            return
        self._print(f"::group::{name}: {verdict}{timing}")
        for line in lines:
            self._print(line)
        self._print("::endgroup::")
        if result.status is Status.FAILED:
            self._print(f"::error title=shipyard {name}::{_escape(result.reason or 'failed')}")
        elif result.status is Status.WARNED:
            self._print(f"::warning title=shipyard {name}::{_escape(result.reason or 'warned')}")

    def message(self, text: str) -> None:
        self._print(Text(text, style="bold"))

    def status(self, running: Mapping[str, float], *, done: int, total: int) -> None:
        """Refresh the status line: the running stages, the long ones with their time."""
        if self._live is None:
            return
        shown = [f"{n} {t:.0f}s" if t >= LONG else n for n, t in running.items()]
        text = f"{done}/{total} done · running: {', '.join(shown) or '-'}"
        self._live.update(Text(text, style="dim"), refresh=True)


def _escape(text: str) -> str:
    # Workflow commands end at a newline; keep the message on one line.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")

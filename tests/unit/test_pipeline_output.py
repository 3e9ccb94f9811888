"""What a parallel run shows: prefixed lines, GitHub groups, the live status line."""

from __future__ import annotations

import io

from rich.console import Console

from shipyard.output import StageOutput
from shipyard.report import StageResult, Status


def console(*, terminal: bool) -> tuple[Console, io.StringIO]:
    buffer = io.StringIO()
    return Console(file=buffer, force_terminal=terminal, width=120, no_color=True), buffer


def test_lines_are_prefixed_with_their_stage_padded_to_the_longest_name() -> None:
    out, buffer = console(terminal=False)
    shown = StageOutput(out, ["lint", "coverage"], github=False)
    shown.line("lint", "All checks passed! [bold]not markup[/]")
    shown.finished("lint", StageResult(stage="lint", status=Status.WARNED, reason="1 flaky"), [])
    assert buffer.getvalue().splitlines() == [
        "lint     | All checks passed! [bold]not markup[/]",
        "lint     | ! warned (1 flaky)",
    ]


def test_the_status_line_shows_on_a_terminal_with_the_long_stages_times() -> None:
    out, buffer = console(terminal=True)
    shown = StageOutput(out, ["lint", "test"], github=False)
    with shown.live():
        shown.status({"test": 12.4, "lint": 1.0}, done=1, total=3)
    assert "1/3 done · running: test 12s, lint" in buffer.getvalue()


def test_no_status_line_off_a_terminal_or_on_github_actions() -> None:
    for terminal, github in ((False, False), (True, True)):
        out, buffer = console(terminal=terminal)
        shown = StageOutput(out, ["test"], github=github)
        with shown.live():
            shown.status({"test": 30.0}, done=0, total=1)
        assert "running" not in buffer.getvalue()


def test_github_annotations_stay_on_one_line() -> None:
    out, buffer = console(terminal=False)
    shown = StageOutput(out, ["audit"], github=True)
    result = StageResult(stage="audit", status=Status.FAILED, reason="2 findings\n100% sure")
    shown.finished("audit", result, ["line one"])
    assert buffer.getvalue().splitlines() == [
        "::group::audit: ✕ failed",
        "line one",
        "::endgroup::",
        "::error title=shipyard audit::2 findings%0A100%25 sure",
    ]

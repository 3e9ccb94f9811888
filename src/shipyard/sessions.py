"""The nox sessions. A project's noxfile imports them: `from shipyard.sessions import *`.

Each session installs what its stage needs (only when something it depends on
changed), calls the stage, writes the stage result and fails when the gate
does. Under `nox -s ci` a failed gate is left for the `ci` session to report,
so the summary always covers every stage.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

import nox

from shipyard import __version__
from shipyard import config as config_mod
from shipyard.errors import ShipyardError
from shipyard.report import (
    StageResult,
    Status,
    append_step_summary,
    console,
    read_result,
    render_markdown,
    render_table,
    write_atomic,
    write_result,
)
from shipyard.stages import coverage, lint, test
from shipyard.tools import ToolEnv

__all__ = ["ci", "coverage_session", "lint_session", "test_session"]

#: Stages `nox -s ci` runs, in order. Later stages append themselves here.
CI_STAGES = ["lint", "test", "coverage"]

_RUN_STARTED = time.time()
_BACKEND = "uv|virtualenv"
_FINGERPRINT = ".shipyard-fingerprint"


def _load() -> config_mod.Config:
    return config_mod.load(Path.cwd())


def _config_or_exit() -> config_mod.Config:
    # The noxfile is imported before any session runs: a bad config stops here, in one paragraph.
    try:
        return _load()
    except ShipyardError as exc:
        sys.stderr.write(f"shipyard: {exc}\n")
        raise SystemExit(int(exc.code)) from None


_CONFIG = _config_or_exit()


# Replaced by shipyard.matrix once the build matrix (issue 3) lands.
_SUPPORTED_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")


def _test_pythons(config: config_mod.Config) -> tuple[str, ...]:
    from packaging.specifiers import SpecifierSet  # noqa: PLC0415

    if config.python:
        return config.python
    spec = SpecifierSet(config.project.requires_python or "" if config.project else "")
    return tuple(v for v in _SUPPORTED_PYTHONS if spec.contains(f"{v}.0"))


def _host_target_id(python: str) -> str:
    import platform  # noqa: PLC0415

    system = {"darwin": "macos", "win32": "windows"}.get(sys.platform, "linux")
    return f"cp{python.replace('.', '')}-{system}_{platform.machine().lower()}"


# -- installing, once ---------------------------------------------------------------------


def _project_files(root: Path) -> dict[str, object]:
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    state: dict[str, object] = {k: data.get(k) for k in ("project", "build-system")}
    for name in ("setup.cfg", "setup.py"):
        path = root / name
        if path.is_file():
            state[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


def install(
    session: nox.Session,
    requirements: Sequence[str],
    *,
    project_extras: Sequence[str] | None = (),
) -> None:
    """Install `requirements` (and the project, editable) unless nothing changed since last time.

    `project_extras=None` leaves the project out. The fingerprint covers the
    requirements, the project's metadata and the interpreter.
    """
    venv = Path(session.virtualenv.location)
    pyvenv = venv / "pyvenv.cfg"
    fingerprint = hashlib.sha256(
        json.dumps(
            {
                "requirements": list(requirements),
                "extras": None if project_extras is None else list(project_extras),
                "project": _project_files(Path.cwd()) if project_extras is not None else None,
                "interpreter": pyvenv.read_text(encoding="utf-8") if pyvenv.is_file() else "",
                "shipyard": __version__,
            },
            sort_keys=True,
            default=str,
        ).encode()
    ).hexdigest()
    marker = venv / _FINGERPRINT
    if marker.is_file() and marker.read_text(encoding="utf-8").strip() == fingerprint:
        session.log("environment up to date; skipping installs")
        return
    marker.unlink(missing_ok=True)
    if requirements:
        session.install(*requirements)
    if project_extras is not None:
        extras = f"[{','.join(project_extras)}]" if project_extras else ""
        session.install("-e", f".{extras}")
    write_atomic(marker, fingerprint + "\n")


def tool_env(session: nox.Session) -> ToolEnv:
    version = session.python if isinstance(session.python, str) else None
    env = {k: v for k, v in session.env.items() if v is not None}
    return ToolEnv(bin_dir=Path(session.bin), env=env, python_version=version)


# -- recording results --------------------------------------------------------------------


def _part_of_ci(session: nox.Session) -> bool:
    selected = session._runner.global_config.sessions or nox.options.sessions or ()  # noqa: SLF001
    return "ci" in selected


def record(session: nox.Session, stage: str, run: Callable[[], StageResult]) -> StageResult:
    """Run one stage, write its result, and fail the session when its gate failed."""
    start = time.perf_counter()
    try:
        result = run()
    except ShipyardError as exc:
        result = StageResult(
            stage=stage,
            status=Status.FAILED,
            reason=str(exc),
            duration=time.perf_counter() - start,
        )
    write_result(result, _CONFIG.reports)
    for finding in result.findings[:50]:
        where = f"{finding.location}: " if finding.location else ""
        session.log(f"{where}[{finding.rule}] {finding.message}")
    line = f"{result.stage}: {result.status.value}" + (
        f" ({result.reason})" if result.reason else ""
    )
    if result.ok:
        session.log(line)
    elif _part_of_ci(session):
        session.warn(f"{line}; the ci summary reports it")
    else:
        session.error(line)
    return result


# -- the sessions -------------------------------------------------------------------------


@nox.session(name="lint", venv_backend=_BACKEND, reuse_venv=True)
def lint_session(session: nox.Session) -> None:
    """ruff format --check, ruff check and mypy (when configured), with the project's config."""
    install(session, [*lint.REQUIREMENTS, *_CONFIG.lint.requirements])
    record(session, "lint", lambda: lint.run_lint(_CONFIG, tool_env(session)))


@nox.session(
    name="test",
    python=list(_test_pythons(_CONFIG)),
    download_python="never",
    venv_backend=_BACKEND,
    reuse_venv=True,
)
def test_session(session: nox.Session) -> None:
    """pytest once per Python, with coverage measured in the same run."""
    install(
        session,
        [*test.REQUIREMENTS, *_CONFIG.test.requirements],
        project_extras=test.test_extras(_CONFIG),
    )
    target = _host_target_id(str(session.python))
    record(
        session,
        f"test-{target}",
        lambda: test.run_tests(
            _CONFIG, tool_env(session), target=target, extra_args=tuple(session.posargs)
        ),
    )


@nox.session(name="coverage", venv_backend=_BACKEND, reuse_venv=True)
def coverage_session(session: nox.Session) -> None:
    """Combine the test runs' coverage, write terminal/XML/HTML reports, apply the floor."""
    install(session, coverage.REQUIREMENTS, project_extras=None)
    record(session, "coverage", lambda: coverage.run_coverage(_CONFIG, tool_env(session)))


def summarize(results: Sequence[StageResult], reports: Path) -> Path:
    """Show every result as one table, write it as markdown, and add it to the step summary."""
    console().print(render_table(results, title="shipyard ci"))
    markdown = render_markdown(results, title="shipyard ci")
    path = reports / "summary.md"
    write_atomic(path, markdown)
    append_step_summary(markdown)
    return path


def fresh_results(reports: Path, since: float) -> list[StageResult]:
    """The stage results in `reports` written at or after `since`, oldest first."""
    results = []
    for path in reports.glob("*.json"):
        try:
            result = read_result(path)
        except (ValueError, KeyError, json.JSONDecodeError):
            continue
        if result.finished_at >= since:
            results.append(result)
    return sorted(results, key=lambda r: r.finished_at)


@nox.session(name="ci", venv_backend="none", requires=CI_STAGES)
def ci(session: nox.Session) -> None:
    """Every stage in order, then one summary; fails when any gate failed."""
    results = fresh_results(_CONFIG.reports, _RUN_STARTED)
    ran = {r.stage.split("-", 1)[0] for r in results}
    for stage in CI_STAGES:
        if stage not in ran:
            why = "did not run (interpreter or tool missing; see the log above)"
            results.append(StageResult(stage=stage, status=Status.SKIPPED, reason=why))
    summary = summarize(results, _CONFIG.reports)
    session.log(f"summary written to {os.path.relpath(summary)}")
    failed = [r for r in results if r.status is Status.FAILED]
    if failed:
        session.error("gate failed: " + "; ".join(f"{r.stage}: {r.reason}" for r in failed))

"""The nox sessions. A project's noxfile imports them: `from shipyard.sessions import *`.

Each session installs what its stage needs (only when something it depends on
changed), calls the stage, writes the stage result and fails when the gate
does. Under `nox -s ci` a failed gate is left for the `ci` session to report,
so the summary always covers every stage.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

import nox

from shipyard import __version__, graph, matrix
from shipyard import config as config_mod
from shipyard.errors import ExitCode, ShipyardError, ToolMissing
from shipyard.report import (
    StageResult,
    Status,
    collect,
    failed_gates,
    fresh_results,
    read_result,
    summarize,
    write_atomic,
    write_result,
)
from shipyard.stages import coverage, custom, lint, test, toolchains
from shipyard.stages.toolchains.interface import Requirements, SessionStage, Toolchain
from shipyard.tools import ToolEnv
from shipyard.workflows import check as workflows_check

__all__ = [
    "audit_session",
    "bench_session",
    "ci",
    "coverage_session",
    "docker_session",
    "fresh_results",
    "lint_session",
    "summarize",
    "test_session",
]

#: The sessions `nox -s ci` runs, in order. Filled from the pipeline graph (`graph.py`,
#: the one place that says which stage needs which) once every session is defined.
CI_STAGES = ["lint", "test", "coverage", "audit", "docker", "bench"]

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


def _plan_or_exit(config: config_mod.Config) -> matrix.Plan:
    try:
        return matrix.plan(config)
    except ShipyardError as exc:
        sys.stderr.write(f"shipyard: {exc}\n")
        raise SystemExit(int(exc.code)) from None


def _toolchains_or_exit(config: config_mod.Config) -> tuple[Toolchain, ...]:
    try:
        return toolchains.for_config(config)
    except ShipyardError as exc:
        sys.stderr.write(f"shipyard: {exc}\n")
        raise SystemExit(int(exc.code)) from None


_TOOLCHAINS = _toolchains_or_exit(_CONFIG)
_PYTHON = any(t.name == "python" for t in _TOOLCHAINS)
# The Python matrix exists only for Python; other toolchains bring their own targets.
_PLAN = _plan_or_exit(_CONFIG) if _PYTHON else matrix.Plan(targets=())
_HERE, _LEFT_OUT = matrix.runnable_here(_PLAN)


def _test_pythons() -> list[str] | None:
    # No target runs here: one session under the current Python, which says so and skips.
    return list(dict.fromkeys(t.python for t in _HERE)) or None


# -- installing, once ---------------------------------------------------------------------


def _project_files(root: Path) -> dict[str, object]:
    data = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    state: dict[str, object] = {k: data.get(k) for k in ("project", "build-system")}
    for name in ("setup.cfg", "setup.py"):
        path = root / name
        if path.is_file():
            state[name] = hashlib.sha256(path.read_bytes()).hexdigest()
    return state


# uv installs without compiling bytecode (pip compiles at install). Where
# PYTHONDONTWRITEBYTECODE is set, as in many CI images, every later run would then
# compile pytest, coverage and mypy from source again: measured here, 0.4 s a test run.
_INSTALL_ENV = {"UV_COMPILE_BYTECODE": "1"}


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
                "install_env": _INSTALL_ENV,
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
        session.install(*requirements, env=_INSTALL_ENV)
    if project_extras is not None:
        extras = f"[{','.join(project_extras)}]" if project_extras else ""
        session.install("-e", f".{extras}", env=_INSTALL_ENV)
    write_atomic(marker, fingerprint + "\n")


def shipyard_requirement(extra: str) -> str:
    """This shipyard (its version, or the local checkout it came from) with `extra`."""
    try:
        direct = json.loads(
            importlib.metadata.distribution("shipyard").read_text("direct_url.json") or "{}"
        )
    except importlib.metadata.PackageNotFoundError:
        direct = {}
    url = direct.get("url", "")
    if url.startswith("file://"):
        return f"shipyard[{extra}] @ {url}"
    return f"shipyard[{extra}]=={__version__}"


def requirements(stage: SessionStage) -> Requirements:
    """What the `stage` session installs for every toolchain of the project, together."""
    wanted = [t.requirements(_CONFIG, stage) for t in _TOOLCHAINS]
    extras = [r.project_extras for r in wanted if r.project_extras is not None]
    return Requirements(
        packages=tuple(dict.fromkeys(p for r in wanted for p in r.packages)),
        project_extras=tuple(dict.fromkeys(e for x in extras for e in x)) if extras else None,
    )


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
    """Each toolchain's linters: ruff and mypy (when configured), or cargo fmt, clippy, rustdoc.

    When shipyard wrote .github/workflows, also checks they match what it would write now.
    """
    wanted = requirements("lint")
    install(session, wanted.packages, project_extras=wanted.project_extras)
    record(session, "lint", lambda: lint.run_lint(_CONFIG, tool_env(session), chain=_TOOLCHAINS))
    if workflows_check.managed(_CONFIG):
        record(session, "workflows", lambda: workflows_check.drift(_CONFIG))


def _python_tests(session: nox.Session) -> bool:
    """pytest for the target of this session's Python on this machine; False when none."""
    for warning in _PLAN.warnings:
        session.warn(warning)
    if _LEFT_OUT:
        session.log(matrix.left_out_message(_LEFT_OUT))
    target = matrix.local_target(_PLAN, str(session.python))
    if target is None:
        return False
    session.env.update(target.env)
    install(
        session,
        [*test.REQUIREMENTS, *_CONFIG.test.requirements, *target.requirements],
        project_extras=test.test_extras(_CONFIG),
    )
    record(
        session,
        f"test-{target.id}",
        lambda: test.run_tests(
            _CONFIG, tool_env(session), target=target.id, extra_args=tuple(session.posargs)
        ),
    )
    return True


def _toolchain_tests(session: nox.Session, toolchain: Toolchain) -> bool:
    """A toolchain's tests (not parametrised by Python) for each of its targets here."""
    here = matrix.host()
    cells = toolchain.cells(_CONFIG)
    local = [c for c in cells if (c.os, c.arch) == here]
    others = [c.id for c in cells if (c.os, c.arch) != here]
    if others:
        session.log(f"{toolchain.name}: left out target(s) of another OS/arch: {', '.join(others)}")
    if not local:
        return False
    wanted = toolchain.requirements(_CONFIG, "test")
    install(session, wanted.packages, project_extras=wanted.project_extras)
    for cell in local:
        run = functools.partial(
            test.run_tests,
            _CONFIG,
            tool_env(session),
            target=cell.id,
            extra_args=tuple(session.posargs),
            toolchain=toolchain,
        )
        record(session, f"test-{cell.id}", run)
    return True


@nox.session(
    name="test",
    python=_test_pythons(),
    download_python="never",
    venv_backend=_BACKEND,
    reuse_venv=True,
)
def test_session(session: nox.Session) -> None:
    """The tests once per target this machine can run (pytest with coverage, cargo test...).

    Toolchains not parametrised by Python run in the session of the first local Python.
    """
    ran = _python_tests(session) if _PYTHON else False
    if not _PYTHON or (_HERE and str(session.python) == _HERE[0].python):
        for toolchain in _TOOLCHAINS:
            if toolchain.name != "python":
                ran = _toolchain_tests(session, toolchain) or ran
    if not ran:
        os_name, arch = matrix.host()
        session.skip(f"no target of the build matrix runs on {os_name}/{arch}")


@nox.session(name="coverage", venv_backend=_BACKEND, reuse_venv=True)
def coverage_session(session: nox.Session) -> None:
    """Combine (Python) or measure (Rust) coverage, write the reports, apply the floor."""
    wanted = requirements("coverage")
    install(session, wanted.packages, project_extras=wanted.project_extras)
    record(
        session,
        "coverage",
        lambda: coverage.run_coverage(_CONFIG, tool_env(session), chain=_TOOLCHAINS),
    )


@nox.session(name="audit", venv_backend=_BACKEND, reuse_venv=True)
def audit_session(session: nox.Session) -> None:
    """Vulnerable dependencies, bandit, secrets in tree and history, licences and an SBOM."""
    # Imported here, as bench and docker are: httpx and the SPDX tables cost every other
    # nox start (one a stage under `invoke ci`) about a tenth of a second.
    from shipyard.stages import audit  # noqa: PLC0415

    install(session, audit.REQUIREMENTS, project_extras=requirements("audit").project_extras)
    record(session, "audit", lambda: audit.run_audit(_CONFIG, tool_env=tool_env(session)))


@nox.session(name="docker", venv_backend=_BACKEND, reuse_venv=True)
def docker_session(session: nox.Session) -> None:
    """The image variants: wheels built here, images built and checked on the engine, pushed.

    Arguments after `--` pick variants (`nox -s docker -- minimal`); `--push` pushes.
    """
    from shipyard.stages.docker import run_docker  # noqa: PLC0415
    from shipyard.stages.docker.meta import variant_settings  # noqa: PLC0415

    # The session's interpreter builds the wheels the images install (uv's venvs have no
    # pip); a project without variants is skipped by the stage, with nothing installed.
    if variant_settings(_CONFIG):
        install(session, ["pip"], project_extras=None)
    env = tool_env(session)
    variants = tuple(a for a in session.posargs if not a.startswith("-"))
    push = True if "--push" in session.posargs else None
    record(
        session,
        "docker",
        lambda: run_docker(
            _CONFIG,
            variants=variants,
            push=push,
            python=env.python(),
            python_version=env.python_version,
            log=session.log,
        ),
    )


@nox.session(name="bench", venv_backend=_BACKEND, reuse_venv=True)
def bench_session(session: nox.Session) -> None:
    """The benchmarks against their baseline: two-tier statistical gate, history, report.

    The stage runs inside the session's environment, which holds shipyard[bench]
    (numpy, scipy, ruptures, matplotlib) next to pytest-benchmark and the project.
    """
    from shipyard.stages.bench.measure import REQUIREMENTS, missing_suite  # noqa: PLC0415

    why = missing_suite(_CONFIG, _TOOLCHAINS)
    if why is not None:
        record(
            session, "bench", lambda: StageResult(stage="bench", status=Status.SKIPPED, reason=why)
        )
        return
    bench = _CONFIG.bench
    pytest_suite = (_CONFIG.root / bench.path).exists()
    others = [t for t in _TOOLCHAINS if t.name != "python" and t.has_benchmarks(_CONFIG)]
    own = _CONFIG.project is not None and _CONFIG.project.name == "shipyard"
    extras = ("bench",) if own else requirements("bench").project_extras
    # pytest-benchmark only for a pytest suite; cargo bench and the like come from PATH.
    wanted = [*(REQUIREMENTS if pytest_suite or not others else ()), *bench.requirements]
    if not own:
        wanted.append(shipyard_requirement("bench"))
    install(session, wanted, project_extras=extras)

    def run() -> StageResult:
        session.run("python", "-m", "shipyard", "bench", "run", success_codes=[0, 1])
        return read_result(_CONFIG.reports / "bench.json")

    record(session, "bench", run)


# -- custom stages: [tool.shipyard.stages.<name>] ------------------------------------------


def _custom_tools(session: nox.Session, *, venv: bool) -> ToolEnv:
    if venv:
        return tool_env(session)
    # No virtualenv: the commands come from PATH, as in the shell that started nox.
    return ToolEnv(env={k: v for k, v in session.env.items() if v is not None})


def _define_custom(name: str, spec: config_mod.StageConfig) -> None:
    venv = spec.requirements is not None or spec.install_project
    report = spec.report or name

    def run(session: nox.Session) -> None:
        if venv:
            extras: tuple[str, ...] | None = () if spec.install_project else None
            install(session, spec.requirements or (), project_extras=extras)
        tools = _custom_tools(session, venv=venv)
        try:
            custom.check_commands(_CONFIG, name, tools)
        except ToolMissing as exc:
            write_result(
                StageResult(stage=report, status=Status.FAILED, reason=str(exc)), _CONFIG.reports
            )
            if _part_of_ci(session):
                session.warn(f"{report}: failed ({exc}); the ci summary reports it")
                return
            sys.stderr.write(f"shipyard: {exc}\n")
            raise SystemExit(int(ExitCode.TOOL_MISSING)) from None
        record(session, report, lambda: custom.run_custom(_CONFIG, name, tools))

    run.__doc__ = spec.description or "Custom stage: " + "; ".join(spec.commands)
    backend = _BACKEND if venv else "none"
    nox.session(name=name, venv_backend=backend, reuse_venv=True)(run)


for _name, _spec in _CONFIG.stages.items():
    _define_custom(_name, _spec)


# -- the whole pipeline ---------------------------------------------------------------------


def _pipeline_or_exit() -> tuple[graph.StageSpec, ...]:
    # Needs, cycles and report names of custom stages are checked once every session exists.
    try:
        return graph.stage_specs(_CONFIG, nox.registry.get())
    except ShipyardError as exc:
        sys.stderr.write(f"shipyard: {exc}\n")
        raise SystemExit(int(exc.code)) from None


CI_STAGES[:] = [spec.name for spec in _pipeline_or_exit()]


@nox.session(name="ci", venv_backend="none", requires=CI_STAGES)
def ci(session: nox.Session) -> None:
    """Every stage in an order that respects their needs, then one summary."""
    pipeline = graph.build(_CONFIG, nox.registry.get(), targets=_HERE)
    names = [s.report for s in pipeline.stages]
    optional = [s.report for s in pipeline.stages if s.placeholder]
    results = collect(names, _CONFIG.reports, _RUN_STARTED, optional=optional)
    summary = summarize(results, _CONFIG.reports)
    session.log(f"summary written to {os.path.relpath(summary)}")
    failed = failed_gates(results)
    if failed is not None:
        session.error(failed)

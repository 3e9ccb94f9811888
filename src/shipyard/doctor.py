"""`shipyard doctor`: what this machine can run, and why not.

Each check looks at one thing the stages need (an interpreter, uv, git, the
Docker engine, a directory) and says what it found. Each stage of the
project's noxfile is then judged from the checks it needs. Interpreters are
found the way nox finds them (`matrix.find_pythons`); the Docker engine is asked
through python-on-whales, with a time limit.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import tempfile
import threading
import tomllib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from rich.console import Group
from rich.markup import escape
from rich.table import Table

from shipyard import config, matrix, paths, validate
from shipyard.adopt.detect import backend_name
from shipyard.errors import ConfigError, ExitCode, NoTargetsError, ShipyardError
from shipyard.report import Status, worst_status
from shipyard.stages import toolchains
from shipyard.stages.docker.meta import variant_settings

__all__ = ["Check", "Diagnosis", "StageCheck", "diagnose", "render"]

#: What each stage needs, by check group; a stage not listed needs a virtualenv backend only.
NEEDS: Mapping[str, tuple[str, ...]] = {
    "lint": ("venv",),
    "test": ("venv", "python"),
    "coverage": ("venv",),
    "audit": ("venv", "git"),
    "bench": ("venv", "dirs"),
    "docker": ("docker",),
}
_DEFAULT_STAGES = ("lint", "test", "coverage")
_RUN_TIMEOUT = 30.0


@dataclasses.dataclass(frozen=True, kw_only=True)
class Check:
    """One thing looked at: `group` ties it to the stages that need it."""

    group: str
    name: str
    status: Status
    detail: str
    #: What a failure of this check is called in the table: a tool is missing, a file invalid.
    failure: str = "missing"

    def to_json(self) -> dict[str, str]:
        return {
            "group": self.group,
            "name": self.name,
            "status": self.status.value,
            "detail": self.detail,
        }


@dataclasses.dataclass(frozen=True, kw_only=True)
class StageCheck:
    stage: str
    status: Status
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"stage": self.stage, "status": self.status.value, "reason": self.reason}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Diagnosis:
    checks: tuple[Check, ...]
    stages: tuple[StageCheck, ...]
    #: What stops the noxfile from loading the config (its sessions were not listed).
    invalid: ShipyardError | None = None

    @property
    def ok(self) -> bool:
        """The config is valid and every configured stage can run here."""
        return self.invalid is None and all(s.status is not Status.FAILED for s in self.stages)

    @property
    def exit_code(self) -> ExitCode:
        """0 when ok; the config error's own code (2, or 4 for no target); else 3."""
        if self.invalid is not None:
            return self.invalid.code
        return ExitCode.OK if self.ok else ExitCode.TOOL_MISSING

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "invalid": None if self.invalid is None else str(self.invalid),
            "checks": [c.to_json() for c in self.checks],
            "stages": [s.to_json() for s in self.stages],
        }


def _check(group: str, name: str, status: Status, detail: str, failure: str = "missing") -> Check:
    return Check(group=group, name=name, status=status, detail=detail, failure=failure)


def _run(argv: Sequence[str], cwd: Path | None = None) -> subprocess.CompletedProcess[str] | None:
    try:
        return subprocess.run(
            argv, cwd=cwd, capture_output=True, text=True, timeout=_RUN_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None


# -- the project ---------------------------------------------------------------------------


def _project(root: Path) -> tuple[config.Config, list[Check], ConfigError | None]:
    """The config (the defaults when there is none or it is invalid), its row, its error."""
    if not (root / "pyproject.toml").is_file():
        detail = f"no pyproject.toml in {root.resolve()}; shipyard's defaults assumed"
        row = _check("project", "project", Status.WARNED, detail)
        return config.Config(root=root), [row], None
    try:
        loaded = config.load(root)
    except ConfigError as exc:
        # The rest of the machine is still worth showing, judged on the defaults.
        row = _check("project", "project", Status.FAILED, str(exc), failure="invalid")
        return config.Config(root=root), [row], exc
    name = loaded.project.name if loaded.project else root.resolve().name
    detail = f"{name} ({loaded.pyproject.resolve()})"
    return loaded, [_check("project", "project", Status.PASSED, detail)], None


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Sessions:
    stages: tuple[str, ...]
    check: Check
    invalid: ShipyardError | None = None


def _stages(root: Path, loaded: config.Config) -> _Sessions:
    """The stages the project's noxfile defines (`nox --list --json`), `ci` left out.

    The config is checked here first, as the noxfile checks it: an invalid one
    fails the row with its key rather than with nox's exit code.
    """
    if not (root / "noxfile.py").is_file():
        detail = "no noxfile.py (`shipyard init` writes one); judging lint, test and coverage"
        return _Sessions(
            stages=_DEFAULT_STAGES, check=_check("project", "noxfile", Status.WARNED, detail)
        )
    try:
        listing = validate.nox_sessions(loaded)
    except (ConfigError, NoTargetsError) as exc:
        row = _check("project", "noxfile", Status.FAILED, str(exc), failure="invalid")
        return _Sessions(stages=_DEFAULT_STAGES, check=row, invalid=exc)
    except ShipyardError as exc:
        row = _check("project", "noxfile", Status.FAILED, str(exc))
        return _Sessions(stages=_DEFAULT_STAGES, check=row)
    names = dict.fromkeys(str(e.get("name")) for e in listing if e.get("name") != "ci")
    detail = f"sessions: {', '.join(names) or 'none'}"
    return _Sessions(stages=tuple(names), check=_check("project", "noxfile", Status.PASSED, detail))


# -- interpreters and tools ------------------------------------------------------------------


def _pythons(loaded: config.Config, *, on_ci: bool) -> list[Check]:
    try:
        plan = matrix.plan(loaded)
    except ShipyardError as exc:
        return [_check("python", "build matrix", Status.FAILED, str(exc), failure="invalid")]
    here, left_out = matrix.runnable_here(plan)
    versions = list(dict.fromkeys(t.python for t in here))
    checks = []
    if not versions:
        os_name, arch = matrix.host()
        detail = f"no target of the build matrix runs on {os_name}/{arch}"
        checks.append(_check("python", "targets here", Status.FAILED, detail))
    found = matrix.find_pythons(versions)
    missing = Status.FAILED if on_ci else Status.WARNED
    for version, where in found.items():
        if where is not None:
            checks.append(_check("python", f"python {version}", Status.PASSED, where))
        else:
            why = (
                "not found; CI fails its test session"
                if on_ci
                else "not found; its test session is skipped here"
            )
            checks.append(_check("python", f"python {version}", missing, why))
    if found and not any(found.values()):
        detail = "no interpreter of the matrix is installed"
        checks.append(_check("python", "any python", Status.FAILED, detail))
    if left_out:
        platforms = ", ".join(dict.fromkeys(t.platform for t in left_out))
        detail = f"{len(left_out)} target(s) run on other machines only ({platforms})"
        checks.append(_check("info", "other machines", Status.SKIPPED, detail))
    return checks


def _version_of(argv: Sequence[str]) -> str | None:
    done = _run(argv)
    if done is None or done.returncode != 0:
        return None
    said = (done.stdout or done.stderr).strip()
    return said.splitlines()[0] if said else "?"


def _uv() -> str | None:
    """uv, found where nox finds it: next to nox (the `uv` package), else on PATH."""
    try:
        from uv import find_uv_bin  # noqa: PLC0415

        return str(find_uv_bin())
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


def _tools(root: Path, loaded: config.Config) -> list[Check]:
    checks = []
    uv = _uv()
    uv_version = _version_of([uv, "--version"]) if uv else None
    has_virtualenv = importlib.util.find_spec("virtualenv") is not None
    if uv_version:
        checks.append(_check("venv", "uv", Status.PASSED, f"{uv_version} ({uv})"))
    elif has_virtualenv:
        detail = "not found; nox falls back to virtualenv (slower installs)"
        checks.append(_check("venv", "uv", Status.WARNED, detail))
    else:
        detail = "neither uv nor virtualenv is installed: nox cannot make environments"
        checks.append(_check("venv", "uv", Status.FAILED, detail))
    for package in ("nox", "invoke"):
        try:
            detail = importlib.metadata.version(package)
            checks.append(_check("venv", package, Status.PASSED, detail))
        except importlib.metadata.PackageNotFoundError:
            detail = f"not installed; `pip install {package}`"
            checks.append(_check("venv", package, Status.FAILED, detail))
    checks += _git(root)
    if backend_name(_pyproject_data(loaded), root) == "maturin":
        for tool in ("cargo", "rustc"):
            version = _version_of([tool, "--version"]) if shutil.which(tool) else None
            status = Status.PASSED if version else Status.FAILED
            detail = version or "not found; the maturin backend compiles the project with it"
            checks.append(_check("python", tool, status, detail))
    return checks


def _pyproject_data(loaded: config.Config) -> dict[str, Any]:
    path = loaded.root / "pyproject.toml"
    return tomllib.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _git(root: Path) -> list[Check]:
    version = _version_of(["git", "--version"]) if shutil.which("git") else None
    if version is None:
        return [_check("git", "git", Status.FAILED, "not found on PATH")]
    inside = _run(["git", "rev-parse", "--is-inside-work-tree"], cwd=root)
    if inside is None or inside.stdout.strip() != "true":
        detail = f"{version}; {root.resolve()} is not a git repository"
        return [_check("git", "git", Status.WARNED, detail)]
    return [_check("git", "git", Status.PASSED, version)]


# -- the Docker engine ---------------------------------------------------------------------------


def _within(timeout: float, probe: Callable[[], list[Check]]) -> list[Check] | None:
    """`probe()` in a daemon thread: None when it has not answered in `timeout` seconds."""
    box: list[list[Check]] = []

    def work() -> None:
        box.append(probe())

    thread = threading.Thread(target=work, name="shipyard-doctor-docker", daemon=True)
    thread.start()
    thread.join(timeout)
    return box[0] if box else None


def _docker_probe() -> list[Check]:
    try:
        from python_on_whales import DockerClient  # noqa: PLC0415
        from python_on_whales.exceptions import DockerException  # noqa: PLC0415
    except ImportError:  # shipyard's minimal image leaves the Docker client out
        detail = "not usable: python-on-whales is not installed (shipyard's minimal image?)"
        return [_check("docker", "docker engine", Status.FAILED, detail)]

    client = DockerClient()
    try:
        info = client.system.info()
    except DockerException as exc:
        lines = (exc.stderr or "").strip().splitlines()
        why = lines[-1] if lines else f"`docker info` exited with {exc.return_code}"
        return [_check("docker", "docker engine", Status.FAILED, f"not reachable: {why}")]
    except Exception as exc:  # noqa: BLE001 - no docker CLI, or one python-on-whales cannot read
        return [_check("docker", "docker engine", Status.FAILED, f"not usable: {exc}")]
    engine = f"Docker {info.server_version}, {info.os_type}/{info.architecture}"
    checks = [_check("docker", "docker engine", Status.PASSED, engine)]
    try:
        installed = client.buildx.is_installed()
        builder = client.buildx.inspect() if installed else None
    except DockerException as exc:
        detail = f"not usable: {(exc.stderr or '').strip()[:200]}"
        return [
            *checks,
            _check("docker", "docker buildx", Status.WARNED, detail),
        ]
    if builder is None:
        detail = "not installed; the legacy builder builds for the engine's platform only"
        return [
            *checks,
            _check("docker", "docker buildx", Status.WARNED, detail),
        ]
    platforms = sorted({p for node in builder.nodes or () for p in node.platforms or ()})
    checks.append(
        _check(
            "docker",
            "docker buildx",
            Status.PASSED,
            f"builder {builder.name} ({builder.driver})",
        )
    )
    checks.append(
        _check(
            "docker",
            "docker platforms",
            Status.PASSED,
            ", ".join(platforms) or "?",
        )
    )
    return checks


def _docker(timeout: float) -> list[Check]:
    if shutil.which("docker") is None:
        detail = "the `docker` command is not on PATH"
        return [_check("docker", "docker engine", Status.FAILED, detail)]
    found = _within(timeout, _docker_probe)
    if found is None:
        host = os.environ.get("DOCKER_HOST", "the default socket")
        detail = f"no answer from {host} within {timeout:g} s; is the daemon up?"
        return [_check("docker", "docker engine", Status.FAILED, detail)]
    return found


# -- directories ----------------------------------------------------------------------------------


def _writable_dir(name: str, path: Path) -> Check:
    """Whether files can be made in `path`, or in the nearest parent when it does not exist yet."""
    path = path.absolute()
    existing = next((p for p in (path, *path.parents) if p.is_dir()), path.anchor)
    try:
        fd, probe = tempfile.mkstemp(dir=existing, prefix=".shipyard-doctor-")
        os.close(fd)
        Path(probe).unlink()
    except OSError as exc:
        return _check("dirs", name, Status.FAILED, f"{path}: {exc.strerror}")
    state = "" if path.is_dir() else " (made on first use)"
    return _check("dirs", name, Status.PASSED, f"{path}{state}")


def _dirs(loaded: config.Config) -> list[Check]:
    return [
        _writable_dir("cache dir", paths.cache_dir()),
        _writable_dir("state dir", paths.state_dir()),
        _writable_dir("reports dir", loaded.reports),
    ]


# -- the verdict -----------------------------------------------------------------------------------


def _test_reason(relevant: Sequence[Check]) -> list[str]:
    pythons = [c for c in relevant if c.name.startswith("python ")]
    found = [c.name.removeprefix("python ") for c in pythons if c.status is Status.PASSED]
    missing = [c.name.removeprefix("python ") for c in pythons if c.status is not Status.PASSED]
    reasons = [f"runs on {', '.join(found)}"] if found else []
    if missing:
        reasons.append(f"no interpreter for {', '.join(missing)}")
    others = [c for c in relevant if not c.name.startswith("python ")]
    return reasons + [f"{c.name}: {c.detail}" for c in others if c.status is not Status.PASSED]


def _judge(stage: str, checks: Sequence[Check]) -> StageCheck:
    """A stage can run when none of the checks it needs failed."""
    needs = ("dirs", *NEEDS.get(stage, ("venv",)))
    relevant = [c for c in checks if c.group in needs and c.status is not Status.SKIPPED]
    status = worst_status([Status.PASSED, *(c.status for c in relevant)])
    if stage == "test":
        reasons = _test_reason(relevant)
    else:
        reasons = [f"{c.name}: {c.detail}" for c in relevant if c.status is not Status.PASSED]
    return StageCheck(stage=stage, status=status, reason="; ".join(reasons))


def _chain(loaded: config.Config) -> tuple[toolchains.Toolchain, ...]:
    """The project's toolchains; none when its config of them is invalid (shown above)."""
    try:
        return toolchains.for_config(loaded)
    except ShipyardError:
        return ()


def diagnose(root: Path, *, timeout: float = 5.0, on_ci: bool | None = None) -> Diagnosis:
    """Look at this machine for the project in `root`."""
    on_ci = bool(os.environ.get("CI")) if on_ci is None else on_ci
    loaded, checks, invalid = _project(root)
    if invalid is None:
        sessions = _stages(root, loaded)
    else:
        detail = "not listed: the noxfile stops on the config error above"
        row = _check("project", "noxfile", Status.FAILED, detail, failure="invalid")
        sessions = _Sessions(stages=_DEFAULT_STAGES, check=row, invalid=invalid)
    stages = sessions.stages
    checks.append(sessions.check)
    checks += _pythons(loaded, on_ci=on_ci)
    checks += _tools(root, loaded)
    checks += _docker(timeout)
    checks += _dirs(loaded)
    judged = [_judge(s, checks) for s in stages]
    # A stage with nothing to do is a visible skip, as its session says, whatever it needs.
    nothing = {}
    if not variant_settings(loaded):
        nothing["docker"] = "no image variants (no Dockerfiles, no [tool.shipyard.docker] variants)"
    if "bench" in stages:
        from shipyard.stages.bench.measure import missing_suite  # noqa: PLC0415

        why = missing_suite(loaded, _chain(loaded))
        if why is not None:
            nothing["bench"] = why
    judged = [
        StageCheck(stage=j.stage, status=Status.SKIPPED, reason=nothing[j.stage])
        if j.stage in nothing
        else j
        for j in judged
    ]
    return Diagnosis(checks=tuple(checks), stages=tuple(judged), invalid=sessions.invalid)


def render(diagnosis: Diagnosis) -> Group:
    """Two tables: what was found, and which stages can run.

    Details quote config and tool text ("[tool.shipyard.matrix]"): escaped, not markup.
    """
    found = Table(title="this machine", title_justify="left")
    for column in ("check", "status", "found"):
        found.add_column(column, overflow="fold")
    for check in diagnosis.checks:
        found.add_row(
            escape(check.name),
            f"[{check.status.style}]{check.status.mark} {_word(check)}[/]",
            escape(check.detail),
        )
    stages = Table(title="stages", title_justify="left")
    for column in ("stage", "can run", "why"):
        stages.add_column(column, overflow="fold")
    for stage in diagnosis.stages:
        stages.add_row(
            escape(stage.stage),
            f"[{stage.status.style}]{stage.status.mark} {_verdict(stage.status)}[/]",
            escape(stage.reason),
        )
    return Group(found, stages)


def _word(check: Check) -> str:
    return {"passed": "ok", "warned": "warning", "failed": check.failure, "skipped": "info"}[
        check.status.value
    ]


def _verdict(status: Status) -> str:
    return {"passed": "yes", "warned": "partly", "failed": "no", "skipped": "-"}[status.value]

"""The build matrix: the (Python, OS, arch) targets a project is built and tested on.

One plan, read from `[tool.shipyard.matrix]`, serves the test session, the
docker stage and the generated workflows alike. A target's id reads like
cibuildwheel's: `cp312-linux_x86_64`, `cp313t-macos_arm64` (free-threaded).
Each OS has one arch vocabulary; whatever `platform.machine()` or a person
writes is normalised into it.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
import json
import platform
import re
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import bracex
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from rich.markup import escape
from rich.table import Table

from shipyard.errors import ConfigError, ExitCode, NoTargetsError, ToolMissing, UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from pathlib import Path

    from shipyard.config import Config, MatrixOverride

__all__ = [
    "ARCHES",
    "DEFAULT_RUNNERS",
    "OSES",
    "SUPPORTED_PYTHONS",
    "Plan",
    "Selector",
    "Target",
    "find_pythons",
    "github_include",
    "host",
    "left_out_message",
    "local_target",
    "normalize_arch",
    "normalize_os",
    "nox_command",
    "nox_sessions",
    "parse_platform",
    "plan",
    "python_versions",
    "render_table",
    "runnable_here",
    "session_for",
]

#: The CPython minors shipyard knows how to test; requires-python picks from these.
SUPPORTED_PYTHONS = ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")

OSES = ("linux", "macos", "windows")

#: The canonical arch names of each OS, in plan order (the names its wheels use).
ARCHES: Mapping[str, tuple[str, ...]] = {
    "linux": ("x86_64", "aarch64"),
    "macos": ("x86_64", "arm64"),
    "windows": ("amd64", "arm64"),
}

#: GitHub's standard hosted runners (public repositories), per (OS, arch).
#: macos-13 was retired in December 2025; macos-15-intel is the last Intel image.
DEFAULT_RUNNERS: Mapping[tuple[str, str], str] = {
    ("linux", "x86_64"): "ubuntu-24.04",
    ("linux", "aarch64"): "ubuntu-24.04-arm",
    ("macos", "x86_64"): "macos-15-intel",
    ("macos", "arm64"): "macos-15",
    ("windows", "amd64"): "windows-2025",
    ("windows", "arm64"): "windows-11-arm",
}

_OS_ALIASES = {
    "linux": "linux",
    "linux2": "linux",
    "ubuntu": "linux",
    "macos": "macos",
    "macosx": "macos",
    "darwin": "macos",
    "osx": "macos",
    "mac": "macos",
    "windows": "windows",
    "win": "windows",
    "win32": "windows",
    "win64": "windows",
}

# Spellings of the two families seen in the wild: platform.machine() on each OS,
# sysconfig platforms, GitHub's runner.arch, Docker and Go names.
_X86_64 = ("x86_64", "x86-64", "amd64", "x64", "em64t", "intel64", "intel")
_ARM64 = ("aarch64", "arm64", "arm64e", "armv8", "armv8-a", "arm64-v8a")
_FAMILY = {**dict.fromkeys(_X86_64, 0), **dict.fromkeys(_ARM64, 1)}

_TABLE = "tool.shipyard.matrix"


# -- names ---------------------------------------------------------------------------------


def _did_you_mean(
    word: str, choices: Iterable[str], canonical: Mapping[str, str] | None = None
) -> str:
    """A " Did you mean 'x'?" sentence, naming the canonical spelling of the closest choice."""
    close = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.5)
    if not close:
        return ""
    return f" Did you mean '{(canonical or {}).get(close[0], close[0])}'?"


def normalize_os(name: str) -> str:
    """`Linux`, `darwin`, `win32`, `macOS`... as one of OSES."""
    key = name.strip().lower()
    if key in _OS_ALIASES:
        return _OS_ALIASES[key]
    hint = _did_you_mean(key, _OS_ALIASES, _OS_ALIASES)
    msg = f"unknown OS {name!r}; expected one of {', '.join(OSES)}.{hint}"
    raise ConfigError(msg)


def normalize_arch(os: str, machine: str) -> str:
    """`AMD64`, `x64`, `arm64`, `aarch64`... as the canonical arch name on `os`."""
    os = normalize_os(os)
    key = machine.strip().lower()
    family = _FAMILY.get(key)
    if family is None:
        known = ARCHES[os]
        hint = _did_you_mean(key, _FAMILY, {k: known[f] for k, f in _FAMILY.items()})
        msg = f"unknown architecture {machine!r} for {os}; expected {' or '.join(known)}.{hint}"
        raise ConfigError(msg)
    return ARCHES[os][family]


# An OS word, then maybe a version (macosx-11.0-arm64, macosx_11_0_arm64), then the arch.
_PLATFORM = re.compile(r"(?P<os>[a-z0-9]+?)[-_/ ](?:[0-9][0-9._]*[-_])?(?P<arch>[a-z0-9_-]+)")


def parse_platform(text: str) -> tuple[str, str]:
    """`linux_x86_64`, `linux-arm64`, `win-amd64`, `macosx-11.0-arm64` as (os, arch)."""
    expected = "platforms are written OS_ARCH, like 'linux_x86_64'"
    match = _PLATFORM.fullmatch(text.strip().lower())
    if match is None:
        choices = [f"{os}_{arch}" for os in OSES for arch in ARCHES[os]]
        msg = f"{text!r} is not a platform; {expected}.{_did_you_mean(text, choices)}"
        raise ConfigError(msg)
    try:
        os = normalize_os(match["os"])
    except ConfigError as exc:
        msg = f"{text!r} is not a platform: {exc.message} ({expected})"
        raise ConfigError(msg) from None
    return os, normalize_arch(os, match["arch"])


def host() -> tuple[str, str]:
    """(os, arch) of this interpreter; an unknown machine keeps its own lower-case name."""
    system = "linux" if sys.platform.startswith("linux") else sys.platform
    machine = platform.machine()
    try:
        os = normalize_os(system)
    except ConfigError:  # cygwin, freebsd...: no target of the matrix runs here
        return system, machine.lower()
    try:
        return os, normalize_arch(os, machine)
    except ConfigError:
        return os, machine.lower()


# -- targets -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True, order=True)
class Target:
    """One cell of the matrix."""

    python: str
    os: str
    arch: str
    runner: str
    # A dict cannot be hashed; the id already tells targets apart.
    env: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)
    requirements: tuple[str, ...] = ()

    @property
    def free_threaded(self) -> bool:
        return self.python.endswith("t")

    @property
    def platform(self) -> str:
        return f"{self.os}_{self.arch}"

    @property
    def id(self) -> str:
        return f"cp{self.python.replace('.', '')}-{self.platform}"

    def sort_key(self) -> tuple[int, int, tuple[int, ...], bool]:
        release = tuple(int(part) for part in self.python.rstrip("t").split("."))
        os_index = OSES.index(self.os)
        return os_index, ARCHES[self.os].index(self.arch), release, self.free_threaded

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "python": self.python,
            "os": self.os,
            "arch": self.arch,
            "runner": self.runner,
            "env": dict(self.env),
            "requirements": list(self.requirements),
        }


@dataclasses.dataclass(frozen=True)
class Selector:
    """One selector as written (`cp3{11,12}-*`) and the globs its braces expand to."""

    text: str
    globs: tuple[str, ...]

    @classmethod
    def parse(cls, text: str) -> Selector:
        return cls(text, tuple(bracex.expand(text.lower())))

    def __call__(self, target_id: str) -> bool:
        return any(fnmatch.fnmatchcase(target_id, glob) for glob in self.globs)


def _selectors(values: Iterable[str]) -> tuple[Selector, ...]:
    # Like cibuildwheel, one string may hold several selectors split by spaces.
    return tuple(Selector.parse(word) for value in values for word in value.split())


@dataclasses.dataclass(frozen=True, kw_only=True)
class Plan:
    """The targets in stable order, and what in the configuration looked wrong."""

    targets: tuple[Target, ...]
    warnings: tuple[str, ...] = ()

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.targets)

    def find(self, target_id: str) -> Target:
        """The target with this id, or a UsageError that suggests a close one."""
        for target in self.targets:
            if target.id == target_id.strip().lower():
                return target
        hint = _did_you_mean(target_id, self.ids)
        msg = f"no target {target_id!r} in the matrix.{hint} Targets: {', '.join(self.ids)}."
        raise UsageError(msg)


# -- planning ------------------------------------------------------------------------------


def _where(config: Config, key: str, exc: ConfigError) -> ConfigError:
    return ConfigError(exc.message, path=config.pyproject, key=f"{_TABLE}.{key}")


def _requires_python(config: Config) -> SpecifierSet | None:
    requires = config.project.requires_python if config.project else None
    if not requires:
        return None
    try:
        return SpecifierSet(requires)
    except InvalidSpecifier:
        msg = f"{requires!r} is not a version specifier; expected something like '>=3.11'."
        raise ConfigError(msg, path=config.pyproject, key="project.requires-python") from None


def _allows(spec: SpecifierSet, version: str) -> bool:
    # A minor counts when its first or a late release is allowed: `<=3.11`, `>=3.11.4`.
    plain = version.rstrip("t")
    return any(spec.contains(f"{plain}.{patch}", prereleases=True) for patch in (0, 99))


def python_versions(config: Config) -> tuple[str, ...]:
    """`matrix.python`, or the SUPPORTED_PYTHONS that `requires-python` allows."""
    spec = _requires_python(config)
    if config.matrix.python is not None:
        return tuple(dict.fromkeys(config.matrix.python))
    if spec is None:
        return SUPPORTED_PYTHONS
    return tuple(v for v in SUPPORTED_PYTHONS if _allows(spec, v))


def _python_warnings(config: Config, pythons: Sequence[str]) -> list[str]:
    spec = _requires_python(config) if config.matrix.python is not None else None
    warnings = []
    for version in pythons:
        if version.rstrip("t") not in SUPPORTED_PYTHONS:
            known = f"{SUPPORTED_PYTHONS[0]}-{SUPPORTED_PYTHONS[-1]}"
            warnings.append(f"Python {version} is outside the supported CPython {known}.")
        if spec is not None and not _allows(spec, version):
            warnings.append(f"Python {version} is outside requires-python '{spec}'.")
    return warnings


def _platforms(config: Config) -> tuple[tuple[str, str], ...]:
    found: dict[tuple[str, str], None] = {}
    for index, text in enumerate(config.matrix.platforms):
        try:
            found[parse_platform(text)] = None
        except ConfigError as exc:
            raise _where(config, f"platforms[{index}]", exc) from None
    return tuple(found)


def _runners(config: Config) -> dict[tuple[str, str], str]:
    runners = dict(DEFAULT_RUNNERS)
    for key, label in config.matrix.runners.items():
        try:
            runners[parse_platform(key)] = label
        except ConfigError as exc:
            raise _where(config, f"runners.{key}", exc) from None
    return runners


def _check_requirements(config: Config) -> None:
    for selector, override in config.matrix.overrides.items():
        for index, text in enumerate(override.requirements):
            try:
                Requirement(text)
            except InvalidRequirement as exc:
                key = f'overrides."{selector}".requirements[{index}]'
                msg = f"{text!r} is not a requirement ({exc})."
                raise ConfigError(msg, path=config.pyproject, key=f"{_TABLE}.{key}") from None


def _override(target: Target, overrides: Sequence[tuple[Selector, MatrixOverride]]) -> Target:
    """Apply every matching override in order: env keys and runner of later ones win."""
    env = dict(target.env)
    requirements = list(target.requirements)
    runner = target.runner
    for selector, override in overrides:
        if not selector(target.id):
            continue
        env.update(override.env)
        requirements += [r for r in override.requirements if r not in requirements]
        runner = override.runner or runner
    return dataclasses.replace(target, env=env, requirements=tuple(requirements), runner=runner)


def _unmatched(kind: str, selectors: Iterable[Selector], ids: Sequence[str]) -> list[str]:
    return [
        f"{kind} selector {s.text!r} matches no target."
        for s in selectors
        if not any(s(i) for i in ids)
    ]


def _no_targets(config: Config, pythons: Sequence[str], platforms: Sequence[str]) -> str:
    if not pythons:
        requires = config.project.requires_python if config.project else None
        return (
            f"the build matrix has no Python: requires-python {requires!r} allows none of "
            f"{', '.join(SUPPORTED_PYTHONS)}; set {_TABLE}.python."
        )
    return (
        "the build matrix selects no target: "
        f"python = {list(pythons)}, platforms = {list(platforms)}, "
        f"build = {list(config.matrix.build)}, skip = {list(config.matrix.skip)}. "
        f"Widen build or narrow skip in [{_TABLE}]."
    )


def plan(config: Config) -> Plan:
    """Every selected target of `config`, in stable order, with warnings about its selectors."""
    pythons = python_versions(config)
    platforms = _platforms(config)
    runners = _runners(config)
    _check_requirements(config)

    # Every combination first: selectors are judged against all of them.
    candidates = [
        Target(python=py, os=os, arch=arch, runner=runners[os, arch])
        for os, arch in platforms
        for py in pythons
    ]
    ids = [t.id for t in candidates]
    build = _selectors(config.matrix.build)
    skip = _selectors(config.matrix.skip)
    chosen = [
        t for t in candidates if any(s(t.id) for s in build) and not any(s(t.id) for s in skip)
    ]
    if not chosen:
        raise NoTargetsError(_no_targets(config, pythons, [f"{o}_{a}" for o, a in platforms]))

    overrides = [(Selector.parse(k), v) for k, v in config.matrix.overrides.items()]
    targets = sorted((_override(t, overrides) for t in chosen), key=Target.sort_key)
    warnings = [
        *_python_warnings(config, pythons),
        *_unmatched("build", build, ids),
        *_unmatched("skip", skip, ids),
        *_unmatched("override", [s for s, _ in overrides], [t.id for t in targets]),
    ]
    return Plan(targets=tuple(targets), warnings=tuple(warnings))


# -- where targets run ---------------------------------------------------------------------


def runnable_here(
    plan: Plan, *, here: tuple[str, str] | None = None
) -> tuple[tuple[Target, ...], tuple[Target, ...]]:
    """(the targets this machine can run, the ones it leaves out)."""
    os, arch = here or host()
    runnable = tuple(t for t in plan.targets if (t.os, t.arch) == (os, arch))
    left_out = tuple(t for t in plan.targets if (t.os, t.arch) != (os, arch))
    return runnable, left_out


def left_out_message(left_out: Sequence[Target], *, here: tuple[str, str] | None = None) -> str:
    """One line naming the targets this machine cannot run, or "" when there are none."""
    if not left_out:
        return ""
    os, arch = here or host()
    ids = ", ".join(t.id for t in left_out)
    return f"left out {len(left_out)} target(s) that need another OS/arch than {os}/{arch}: {ids}"


def local_target(plan: Plan, python: str, *, here: tuple[str, str] | None = None) -> Target | None:
    """The target this machine runs for `python`, if the plan has one."""
    runnable, _ = runnable_here(plan, here=here)
    return next((t for t in runnable if t.python == python), None)


def find_pythons(versions: Iterable[str]) -> dict[str, str | None]:
    """Each Python version's interpreter on this machine, found as nox finds them.

    python-discovery looks on PATH, in pyenv, uv and the Windows registry. A
    version maps to "3.12.3 at /usr/bin/python3.12", or to None when missing:
    its test session is skipped here (and fails where CI is set).
    """
    # Imported here: python-discovery costs every nox start 0.08 s, and only the plan
    # and the doctor look for interpreters.
    import concurrent.futures  # noqa: PLC0415

    import python_discovery  # noqa: PLC0415

    def find(version: str) -> str | None:
        found = python_discovery.get_interpreter(version)
        if found is None:
            return None
        release = ".".join(str(p) for p in found.version_info[:3])
        return f"{release} at {found.executable}"

    wanted = list(dict.fromkeys(versions))
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(wanted, pool.map(find, wanted), strict=True))


def github_include(plan: Plan) -> list[dict[str, str]]:
    """The `strategy.matrix.include` list of the generated workflows, in plan order."""
    return [
        {"id": t.id, "python": t.python, "os": t.os, "arch": t.arch, "runner": t.runner}
        for t in plan.targets
    ]


def render_table(plan: Plan, *, here: tuple[str, str] | None = None) -> Table:
    """The plan as a terminal table; the last column marks the targets this machine runs."""
    runnable, _ = runnable_here(plan, here=here)
    os, arch = here or host()
    title = f"build matrix: {len(plan.targets)} target(s), {len(runnable)} run here ({os}/{arch})"
    table = Table(title=title, title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("runner", no_wrap=True)
    table.add_column("env and requirements", overflow="fold")
    table.add_column("here")
    for target in plan.targets:
        extra = [f"{k}={v}" for k, v in target.env.items()] + list(target.requirements)
        mark = "yes" if target in runnable else ""
        table.add_row(escape(target.id), escape(target.runner), escape(" ".join(extra)), mark)
    return table


# -- reproducing a cell --------------------------------------------------------------------

_PLAIN_WORD = re.compile(r"[A-Za-z0-9_.+=:,@%/-]+")


def session_for(listing: Sequence[Mapping[str, Any]], target: Target, name: str = "test") -> str:
    """The nox session running `target`, picked from `nox --list --json` output.

    A session without Pythons runs every target; otherwise its Python must be the target's.
    """
    named = [entry for entry in listing if entry.get("name") == name]
    for entry in named:
        if entry.get("python") in (target.python, None):
            return str(entry["session"])
    if not named:
        sessions = ", ".join(sorted({str(e.get("name")) for e in listing})) or "none"
        msg = f"the noxfile has no session {name!r} (its sessions: {sessions})."
        raise ToolMissing(msg)
    pythons = ", ".join(str(e.get("python")) for e in named)
    msg = (
        f"the noxfile's {name!r} session has no Python {target.python} (it has {pythons}); "
        f"is {target.python} in {_TABLE}.python?"
    )
    raise ToolMissing(msg)


def nox_command(target: Target, session_name: str) -> str:
    """The command that runs `target`'s CI cell on a machine of its OS and arch.

    The session applies the target's env and requirements itself (it finds the
    target from its Python and the host), so CI's step and this line are the same.
    A session that is not parametrised by Python gets the target's with `--force-python`.
    """
    quoted = session_name if _PLAIN_WORD.fullmatch(session_name) else f'"{session_name}"'
    command = f"nox -s {quoted}"
    if not re.search(rf"-{re.escape(target.python)}(\(|$)", session_name):
        command += f" --force-python {target.python}"
    return command


def nox_sessions(root: Path, *, timeout: float = 120) -> list[dict[str, Any]]:
    """The sessions of `root`'s noxfile, as `nox --list --json` prints them."""
    noxfile = root / "noxfile.py"
    if not noxfile.is_file():
        msg = f"no noxfile.py in {root.resolve()}; `shipyard init` writes one."
        raise ToolMissing(msg)
    argv = [sys.executable, "-m", "nox", "--list", "--json", "--noxfile", str(noxfile)]
    try:
        done = subprocess.run(
            argv, cwd=root, capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        msg = f"`nox --list --json` did not finish in {timeout:.0f} s."
        raise ToolMissing(msg) from None
    if done.returncode != 0:
        said = " ".join(done.stderr.strip().splitlines()[-3:])
        msg = f"`nox --list --json` failed with exit code {done.returncode}: {said}"
        if done.returncode == ExitCode.CONFIG:
            # nox could not load the noxfile, or shipyard's sessions stopped on the config.
            raise ConfigError(msg.replace(": shipyard: ", ": ", 1))
        raise ToolMissing(msg)
    try:
        listing = json.loads(done.stdout)
    except json.JSONDecodeError:
        msg = f"`nox --list --json` printed no JSON: {done.stdout[:200]!r}"
        raise ToolMissing(msg) from None
    return [dict(entry) for entry in listing]

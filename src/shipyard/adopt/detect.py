"""What a project already is: its layout, packages, tests, build backend, Pythons and extras.

Each backend keeps its package locations in its own table; those are read
first, and shipyard's own defaults (`config.detect_sources`) fill the rest.
"""

from __future__ import annotations

import configparser
import dataclasses
import itertools
import os
import re
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from shipyard.adopt import poetry

__all__ = ["BACKENDS", "Detected", "detect"]

#: build-backend prefixes and the names shipyard gives them.
BACKENDS = {
    "hatchling.": "hatchling",
    "setuptools.": "setuptools",
    "flit_core.": "flit",
    "pdm.": "pdm",
    "poetry.core.": "poetry-core",
    "maturin": "maturin",
}

#: Names of extras and dependency groups that hold test requirements, best first.
TEST_GROUPS = ("test", "tests", "testing", "dev")

_SKIP_DIRS = {".git", ".nox", ".venv", "venv", ".tox", "node_modules", "build", "dist"}
_SCAN_LIMIT = 2000


@dataclasses.dataclass(frozen=True, kw_only=True)
class Detected:
    """The facts `shipyard init` found; `init` compares them with shipyard's defaults."""

    name: str
    backend: str
    #: Where the packages are, relative to the root (`src`, `.`, `lib`...).
    source_dir: Path
    #: Source paths the backend names explicitly (packages or modules), if it does.
    explicit_sources: tuple[Path, ...] | None
    packages: tuple[str, ...]
    tests: Path | None
    #: requires-python and where it was read (None when nothing says).
    requires_python: str | None
    requires_python_from: str | None
    #: Test extras found where shipyard's default does not look ([project] test/tests).
    test_extras: tuple[str, ...] | None
    test_requirements: tuple[str, ...]
    benchmarks: tuple[str, ...]
    dockerfiles: tuple[Path, ...]
    git: bool
    warnings: tuple[str, ...] = ()

    @property
    def layout(self) -> str:
        if self.source_dir == Path("src"):
            return "src"
        return "flat" if self.source_dir == Path() else f"{self.source_dir.as_posix()}/"


def _get(data: Any, *keys: str) -> Any:
    """`data[k1][k2]...`, or None where a level is missing or not a table."""
    for key in keys:
        if not isinstance(data, Mapping):
            return None
        data = data.get(key)
    return data


def _setup_cfg(root: Path) -> configparser.ConfigParser | None:
    path = root / "setup.cfg"
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read(path, encoding="utf-8")
    except configparser.Error:
        return None
    return parser


def backend_name(data: Mapping[str, Any], root: Path) -> str:
    backend = _get(data, "build-system", "build-backend")
    if not isinstance(backend, str):
        legacy = (root / "setup.py").is_file() or (root / "setup.cfg").is_file()
        return "setuptools" if legacy else "none"
    return next((name for prefix, name in BACKENDS.items() if backend.startswith(prefix)), backend)


# -- where the packages are ----------------------------------------------------------------


def _cfg_list(value: str) -> list[str]:
    return [v.strip() for v in re.split(r"[\n,]", value) if v.strip()]


def _setuptools_sources(data: Mapping[str, Any], cfg: configparser.ConfigParser | None) -> Any:
    """(source dir, explicit paths) from [tool.setuptools] or setup.cfg [options]."""
    tool = _get(data, "tool", "setuptools") or {}
    package_dir = tool.get("package-dir") or {}
    where = _get(tool, "packages", "find", "where")
    base = package_dir.get("") or (where[0] if where else None)
    names = tool.get("packages") if isinstance(tool.get("packages"), list) else None
    modules = tool.get("py-modules")
    if cfg is not None and cfg.has_section("options"):
        options = cfg["options"]
        mapping = dict(
            [*part.split("=", 1), ""][:2] for part in _cfg_list(options.get("package_dir", ""))
        )
        base = base or mapping.get("", "").strip() or None
        if cfg.has_option("options.packages.find", "where"):
            base = base or cfg["options.packages.find"]["where"].strip()
        packages = options.get("packages", "").strip()
        if packages and not packages.startswith("find"):
            names = names or _cfg_list(packages)
        modules = modules or _cfg_list(options.get("py_modules", "")) or None
    prefix = Path(base) if base else Path()
    explicit: list[Path] = []
    if names:
        explicit += [prefix / n.split(".")[0] for n in names]
    if modules:
        explicit += [prefix / f"{m}.py" for m in modules]
    return prefix, (tuple(dict.fromkeys(explicit)) or None)


Sources = tuple[Path | None, tuple[Path, ...] | None]


def _hatch(data: Mapping[str, Any], _cfg: Any, _name: str) -> Sources:
    paths = _get(data, "tool", "hatch", "build", "targets", "wheel", "packages")
    return None, tuple(Path(p) for p in paths) if paths else None


def _setuptools(data: Mapping[str, Any], cfg: Any, _name: str) -> Sources:
    prefix, explicit = _setuptools_sources(data, cfg)
    return (prefix if prefix != Path() else None), explicit


def _flit(data: Mapping[str, Any], _cfg: Any, _name: str) -> Sources:
    module = _get(data, "tool", "flit", "module", "name")
    return None, (Path(str(module).split(".")[0]),) if module else None


def _pdm(data: Mapping[str, Any], _cfg: Any, _name: str) -> Sources:
    package_dir = _get(data, "tool", "pdm", "build", "package-dir")
    return (Path(package_dir) if package_dir else None), None


def _poetry(data: Mapping[str, Any], _cfg: Any, _name: str) -> Sources:
    return poetry.sources(_get(data, "tool", "poetry", "packages"))


def _maturin(data: Mapping[str, Any], _cfg: Any, name: str) -> Sources:
    source = _get(data, "tool", "maturin", "python-source")
    module = _get(data, "tool", "maturin", "module-name") or name.replace("-", "_")
    if not source:
        return None, None
    return Path(source), (Path(source) / str(module).split(".")[0],)


#: Each backend's reader of (the directory it takes packages from, the paths it names).
_SOURCES: Mapping[str, Callable[[Mapping[str, Any], Any, str], Sources]] = {
    "hatchling": _hatch,
    "setuptools": _setuptools,
    "flit": _flit,
    "pdm": _pdm,
    "poetry-core": _poetry,
    "maturin": _maturin,
}


def _resolve(root: Path, path: Path) -> Path | None:
    """`path` if it is a package or module in `root`; `src/` is tried for a bare name."""
    for candidate in (path, Path("src") / path):
        if (root / candidate).exists():
            return candidate
        if (root / candidate.with_suffix(".py")).is_file():
            return candidate.with_suffix(".py")
    return None


def _top_packages(root: Path, directory: Path) -> tuple[str, ...]:
    base = root / directory
    if not base.is_dir():
        return ()
    names = [p.parent.name for p in base.glob("*/__init__.py")]
    names += [p.stem for p in base.glob("*.py") if directory != Path()]
    skip = {"tests", "test", "docs", "benchmarks", "setup", "noxfile", "tasks", "conftest"}
    return tuple(sorted(n for n in set(names) if n not in skip and not n.startswith((".", "_"))))


# -- tests, benchmarks, Dockerfiles -----------------------------------------------------------


def _walk(base: Path) -> Iterator[Path]:
    """Files under `base`, skipping virtualenvs, caches and VCS dirs; at most a few thousand."""
    count = 0
    stack = [base]
    while stack and count < _SCAN_LIMIT:
        directory = stack.pop()
        try:
            entries = sorted(directory.iterdir())
        except OSError:
            continue
        for entry in entries:
            if entry.is_dir() and not entry.is_symlink():
                if entry.name not in _SKIP_DIRS and not entry.name.endswith(".egg-info"):
                    stack.append(entry)
            elif entry.is_file():
                count += 1
                yield entry


def _is_test_file(path: Path) -> bool:
    return path.suffix == ".py" and (path.name.startswith("test_") or path.stem.endswith("_test"))


def _tests(root: Path, sources: Sequence[Path]) -> tuple[Path | None, list[str]]:
    for name in ("tests", "test"):
        if (root / name).is_dir():
            return Path(name), []
    inside = sorted(
        {
            p.parent.relative_to(root)
            for source in sources
            for p in _walk(root / source)
            if _is_test_file(p) and p.parent.name in ("tests", "test")
        }
    )
    if not inside:
        return None, ["no tests found (no tests/ or test/, none inside the package)"]
    if len(inside) == 1:
        return inside[0], []
    common = Path(os.path.commonpath([p.as_posix() for p in inside]))
    listed = ", ".join(p.as_posix() for p in inside)
    return common, [f"tests in several places ({listed}); using {common.as_posix()}"]


def _benchmarks(root: Path, tests: Path | None) -> tuple[str, ...]:
    found = []
    for name in ("benchmarks", "benchmark", "bench"):
        directory = root / name
        if directory.is_dir() and any(p.suffix == ".py" for p in _walk(directory)):
            found.append(f"{name}/")
    if (root / "asv.conf.json").is_file():
        found.append("asv.conf.json (airspeed velocity)")
    if tests is not None and (root / tests).is_dir():
        for path in _walk(root / tests):
            if not _is_test_file(path):
                continue
            text = path.read_text(encoding="utf-8", errors="replace")
            if re.search(r"\bbenchmark\s*\(|mark\.benchmark|benchmark\.pedantic", text):
                found.append(f"pytest-benchmark tests in {tests.as_posix()}/")
                break
    return tuple(found)


def _is_dockerfile(path: Path) -> bool:
    name = path.name.lower()
    return name == "dockerfile" or name.startswith("dockerfile.") or name.endswith(".dockerfile")


def _dockerfiles(root: Path) -> tuple[Path, ...]:
    found = [p for p in root.iterdir() if p.is_file() and _is_dockerfile(p)]
    for directory in ("docker", ".docker"):
        if (root / directory).is_dir():
            found += [p for p in _walk(root / directory) if _is_dockerfile(p)]
    return tuple(sorted(p.relative_to(root) for p in found))


# -- Pythons and test requirements -------------------------------------------------------------


def _requires_python(
    data: Mapping[str, Any], cfg: configparser.ConfigParser | None
) -> tuple[str | None, str | None]:
    spec = _get(data, "project", "requires-python")
    if isinstance(spec, str):
        return spec, "project.requires-python"
    if cfg is not None and cfg.has_option("options", "python_requires"):
        return cfg["options"]["python_requires"].strip(), "setup.cfg [options] python_requires"
    constraint = _get(data, "tool", "poetry", "dependencies", "python")
    if isinstance(constraint, str):
        return poetry.specifier(constraint), "tool.poetry.dependencies.python"
    return None, None


def _group(groups: Mapping[str, Any], name: str, seen: frozenset[str] = frozenset()) -> list[str]:
    """A PEP 735 dependency group, its `include-group` entries expanded."""
    found: list[str] = []
    for item in groups.get(name) or ():
        if isinstance(item, str):
            found.append(item)
        elif isinstance(item, Mapping) and item.get("include-group") not in seen | {name}:
            found += _group(groups, str(item.get("include-group")), seen | {name})
    return found


def _test_extras(
    data: Mapping[str, Any], cfg: configparser.ConfigParser | None
) -> tuple[str, ...] | None:
    """The extra holding test requirements, when shipyard's default (`test`, `tests`) misses it."""
    extras = _get(data, "project", "optional-dependencies") or {}
    cfg_extras = (
        cfg["options.extras_require"]
        if cfg is not None and cfg.has_section("options.extras_require")
        else {}
    )
    for group in TEST_GROUPS:
        if group in extras:
            return None if group in ("test", "tests") else (group,)
        if group in cfg_extras:
            return (group,)  # setup.cfg extras are not read by the default
    return None


def _test_requirements(data: Mapping[str, Any], name: str) -> tuple[tuple[str, ...], list[str]]:
    """Test requirements from dependency groups (PEP 735, pdm, uv, poetry); and warnings."""
    own = re.compile(rf"^{re.escape(name)}\b", re.IGNORECASE)
    candidates = [
        _get(data, "dependency-groups") or {},
        _get(data, "tool", "pdm", "dev-dependencies") or {},
        {"dev": _get(data, "tool", "uv", "dev-dependencies") or []},
    ]
    for groups, group in itertools.product(candidates, TEST_GROUPS):
        found = [r for r in _group(groups, group) if not r.startswith("-e") and not own.match(r)]
        if found:
            return tuple(found), []
    poetry_groups = _get(data, "tool", "poetry", "group") or {}
    for group in TEST_GROUPS:
        deps = _get(poetry_groups, group, "dependencies")
        if group == "dev" and not deps:
            deps = _get(data, "tool", "poetry", "dev-dependencies")
        if deps:
            requirements, skipped = poetry.requirements(deps)
            return requirements, [f"poetry dependency {s!r} has no PEP 508 form" for s in skipped]
    return (), []


# -- the whole picture ---------------------------------------------------------------------------


def _in_git(root: Path) -> bool:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "--is-inside-work-tree"],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0 and done.stdout.strip() == "true"


def _project_name(
    data: Mapping[str, Any], cfg: configparser.ConfigParser | None, root: Path
) -> str:
    name = _get(data, "project", "name") or _get(data, "tool", "poetry", "name")
    if not name and cfg is not None and cfg.has_option("metadata", "name"):
        name = cfg["metadata"]["name"]
    return str(name or root.resolve().name)


def detect(root: Path, data: Mapping[str, Any]) -> Detected:
    """Look at the project in `root` whose pyproject.toml holds `data`."""
    cfg = _setup_cfg(root)
    name = _project_name(data, cfg, root)
    backend = backend_name(data, root)
    warnings: list[str] = []

    # Where the code is: the backend's word first, then the usual places.
    reader = _SOURCES.get(backend)
    source_dir, explicit = reader(data, cfg, name) if reader else (None, None)
    if explicit is not None:
        resolved = [_resolve(root, p) for p in explicit]
        explicit = tuple(p for p in resolved if p is not None) or None
    if source_dir is None:
        source_dir = Path("src") if (root / "src").is_dir() else Path()
    packages = _top_packages(root, source_dir)
    if explicit:
        packages = tuple(sorted({p.stem for p in explicit}))
    if not packages:
        warnings.append(f"no package or module found in {source_dir.as_posix() or '.'}/")

    sources = list(explicit or [source_dir / p for p in packages] or [source_dir])
    tests, notes = _tests(root, sources)
    requires, requires_from = _requires_python(data, cfg)
    extras = _test_extras(data, cfg)
    optional = _get(data, "project", "optional-dependencies") or {}
    by_default = "test" in optional or "tests" in optional
    requirements, more = ((), []) if extras or by_default else _test_requirements(data, name)
    return Detected(
        name=name,
        backend=backend,
        source_dir=source_dir,
        explicit_sources=explicit,
        packages=packages,
        tests=tests,
        requires_python=requires,
        requires_python_from=requires_from,
        test_extras=extras,
        test_requirements=requirements,
        benchmarks=_benchmarks(root, tests),
        dockerfiles=_dockerfiles(root),
        git=_in_git(root),
        warnings=(*warnings, *notes, *more),
    )

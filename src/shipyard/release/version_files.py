"""Find where the project keeps its version; write the new one there and change nothing else.

The version lives in one of these places, looked at in this order:

- `[project].version` in pyproject.toml, when it is static;
- the files in `version-files`, when that is configured;
- nowhere but the git tags, when a VCS versioning plugin is configured
  (setuptools-scm, hatch-vcs, pdm-backend's scm source, ...);
- the one place the build backend reads it from: `[tool.poetry].version`,
  `[tool.hatch.version] path`, `[tool.setuptools.dynamic] version`,
  `[tool.pdm.version] path`, flit's module `__init__.py`, or setup.cfg's
  `[metadata] version` (a literal, `attr:` or `file:`).

TOML keys are rewritten through tomlkit, which keeps comments, quote style, key
order, dotted keys, CRLF line endings and tables out of order exactly as they
were. In other files only the span a pattern's `version` group matched
changes. Files are read and written as bytes-exact text (`newline=""`), and
every write is atomic.
"""

from __future__ import annotations

import configparser
import dataclasses
import re
import tomllib
from typing import TYPE_CHECKING, Any

import tomlkit
import tomlkit.exceptions
from tomlkit.items import String

from shipyard.errors import ConfigError
from shipyard.report import write_atomic

if TYPE_CHECKING:
    from collections.abc import Mapping
    from pathlib import Path

    from shipyard.config import ReleaseConfig

__all__ = [
    "DEFAULT_PATTERN",
    "VersionFile",
    "assignment_pattern",
    "bump_pyproject",
    "bump_text",
    "read_text",
    "read_version",
    "vcs_plugin",
    "version_changes",
    "version_files",
    "write_version",
]

_KEY = "tool.shipyard.release.version-files"


def assignment_pattern(names: str) -> str:
    """A pattern for `<name> = "1.2.3"` (any quotes, an optional `: str`); `names` is a regex."""
    return (
        rf"^\s*(?:{names})\s*(?::\s*str\s*)?=\s*"
        r"(?P<quote>['\"])(?P<version>[^'\"\r\n]+)(?P=quote)"
    )


#: What a bare `version-files` entry looks for: `__version__ = "1.2.3"` and kin.
DEFAULT_PATTERN = assignment_pattern("__version__|VERSION|version")
#: A file that holds nothing but the version (setuptools' `file:`, `{file = ...}`).
_WHOLE_FILE = r"\A\s*(?P<version>\S+)"
#: `version = 1.2.3` in setup.cfg's [metadata] section, not in any other section.
_SETUP_CFG = (
    r"^\[metadata\][ \t]*\r?$(?:\n(?!\[)[^\n]*)*?"
    r"\n(?i:version)[ \t]*[=:][ \t]*(?P<version>[^\s#;]+)"
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VersionFile:
    """One place holding the version: a TOML key of pyproject.toml, or a pattern in a file."""

    path: Path
    #: The TOML key, like ("project", "version"); empty for a pattern file.
    key: tuple[str, ...] = ()
    pattern: re.Pattern[str] | None = None
    #: How the place was found, for messages.
    origin: str = _KEY

    @property
    def is_toml(self) -> bool:
        return bool(self.key)


def read_text(path: Path) -> str:
    """The file's text with its line endings untouched."""
    return path.read_bytes().decode("utf-8")


def _file(path: Path, pattern: str, origin: str) -> VersionFile:
    return VersionFile(path=path, pattern=re.compile(pattern, re.MULTILINE), origin=origin)


def _get(table: Any, *keys: str) -> Any:
    """`table[k1][k2]...`, or None where a level is missing or not a table."""
    for key in keys:
        if not isinstance(table, dict):
            return None
        table = table.get(key)
    return table


def version_files(root: Path, config: ReleaseConfig) -> tuple[VersionFile, ...]:
    """Where the version lives; empty when the build backend takes it from the git tags."""
    pyproject = root / "pyproject.toml"
    data = tomllib.loads(read_text(pyproject))
    project = data.get("project")
    if isinstance(project, dict) and "version" in project:
        return (VersionFile(path=pyproject, key=("project", "version"), origin="[project]"),)
    if isinstance(project, dict) and "version" not in project.get("dynamic", ()):
        msg = (
            "[project] has no 'version' and does not list it in 'dynamic': "
            'set version = "0.1.0" there, or add "version" to dynamic.'
        )
        raise ConfigError(msg, path=pyproject, key="project.version")
    if config.version_files:
        return tuple(_configured(root, spec) for spec in config.version_files)
    if vcs_plugin(data) is not None:
        return ()
    found = _backend_file(root, data)
    if found is None:
        raise _not_found(root, pyproject, dynamic=isinstance(project, dict))
    return (found,)


def _configured(root: Path, spec: str) -> VersionFile:
    name, _, pattern = spec.partition(":")
    return _file(root / name, pattern or DEFAULT_PATTERN, _KEY)


# -- a version taken from the git tags ---------------------------------------------------

#: Build requirements that make the version from git.
_VCS_REQUIRES = (
    "setuptools-scm",
    "setuptools-git-versioning",
    "versioningit",
    "poetry-dynamic-versioning",
)
#: [tool.X] tables that turn such a plugin on.
_VCS_TABLES = {
    "setuptools_scm": "setuptools-scm",
    "setuptools-scm": "setuptools-scm",
    "setuptools-git-versioning": "setuptools-git-versioning",
    "versioningit": "versioningit",
}
#: `[tool.hatch.version] source` values that read git.
_HATCH_VCS_SOURCES = ("vcs", "versioningit", "uv-dynamic-versioning")


def _requirement_name(requirement: str) -> str:
    match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement)
    return re.sub(r"[-_.]+", "-", match[1]).lower() if match else ""


def vcs_plugin(data: Mapping[str, Any]) -> str | None:
    """The VCS versioning plugin pyproject.toml configures (version from the tags), or None."""
    requires = _get(data, "build-system", "requires") or []
    names = {_requirement_name(r) for r in requires if isinstance(r, str)}
    for name in _VCS_REQUIRES:
        if name in names:
            return name
    tool = data.get("tool") or {}
    for table, name in _VCS_TABLES.items():
        if table in tool:
            return name
    if _get(tool, "poetry-dynamic-versioning", "enable") is True:
        return "poetry-dynamic-versioning"
    source = _get(tool, "hatch", "version", "source")
    if source in _HATCH_VCS_SOURCES:
        return f"hatch's '{source}' version source"
    if _get(tool, "pdm", "version", "source") == "scm":
        return "pdm-backend's 'scm' version source"
    return None


# -- the one place the build backend reads ---------------------------------------------


def _backend_file(root: Path, data: Mapping[str, Any]) -> VersionFile | None:
    """The file (or key) the build backend takes the version from, when it is unambiguous."""
    pyproject, tool = root / "pyproject.toml", data.get("tool") or {}
    if isinstance(_get(tool, "poetry", "version"), str):
        return VersionFile(
            path=pyproject, key=("tool", "poetry", "version"), origin="[tool.poetry]"
        )
    hatch = _get(tool, "hatch", "version")
    if isinstance(hatch, dict) and isinstance(hatch.get("path"), str):
        pattern = hatch.get("pattern")
        return _file(
            root / hatch["path"],
            pattern if isinstance(pattern, str) else DEFAULT_PATTERN,
            "[tool.hatch.version] path",
        )
    dynamic = _get(tool, "setuptools", "dynamic", "version")
    if isinstance(dynamic, dict):
        return _setuptools_file(root, dynamic, _package_dirs(tool, root))
    pdm = _get(tool, "pdm", "version")
    if isinstance(pdm, dict) and pdm.get("source") == "file" and isinstance(pdm.get("path"), str):
        return _file(root / pdm["path"], DEFAULT_PATTERN, "[tool.pdm.version] path")
    if str(_get(data, "build-system", "build-backend") or "").startswith("flit"):
        return _flit_file(root, data)
    return _setup_cfg_file(root)


def _package_dirs(tool: Mapping[str, Any], root: Path) -> tuple[Path, ...]:
    """Where top-level packages may sit: the root package-dir if set, else `.` and `src`."""
    mapped = _get(tool, "setuptools", "package-dir", "")
    if isinstance(mapped, str):
        return (root / mapped,)
    return (root, root / "src")


def _module_file(module: str, bases: tuple[Path, ...]) -> Path | None:
    parts = module.split(".")
    for base in bases:
        for candidate in (
            base.joinpath(*parts, "__init__.py"),
            base.joinpath(*parts[:-1], f"{parts[-1]}.py"),
        ):
            if candidate.is_file():
                return candidate
    return None


def _attr_file(root: Path, attr: str, bases: tuple[Path, ...], origin: str) -> VersionFile:
    """The module file of `attr: pkg.__version__`, with a pattern for that attribute."""
    module, _, name = attr.strip().rpartition(".")
    path = _module_file(module, bases) if module else None
    if path is None:
        where = ", ".join(str(base.relative_to(root)) for base in bases)
        msg = (
            f"{origin} = attr: {attr.strip()}, but no module file for '{module}' was found "
            f"under {where}; set version-files to the file holding the version."
        )
        raise ConfigError(msg, path=root / "pyproject.toml", key=_KEY)
    return _file(path, assignment_pattern(re.escape(name)), f"{origin} = attr: {attr.strip()}")


def _setuptools_file(
    root: Path, dynamic: Mapping[str, Any], bases: tuple[Path, ...]
) -> VersionFile | None:
    origin = "[tool.setuptools.dynamic] version"
    if isinstance(dynamic.get("attr"), str):
        return _attr_file(root, dynamic["attr"], bases, origin)
    file = dynamic.get("file")
    if isinstance(file, list) and len(file) == 1:
        file = file[0]
    return _file(root / file, _WHOLE_FILE, origin) if isinstance(file, str) else None


def _flit_file(root: Path, data: Mapping[str, Any]) -> VersionFile | None:
    """flit reads `__version__` from the module named like the project (or [tool.flit.module])."""
    tool = data.get("tool") or {}
    name = (
        _get(tool, "flit", "module", "name")
        or _get(tool, "flit", "metadata", "module")
        or _get(data, "project", "name")
    )
    if not isinstance(name, str):
        return None
    module = re.sub(r"[-.]+", "_", name)
    path = _module_file(module, (root, root / "src"))
    if path is None:
        return None
    return _file(path, assignment_pattern("__version__"), "flit's module")


def _setup_cfg_file(root: Path) -> VersionFile | None:
    """setup.cfg's `[metadata] version`: the literal itself, or the `attr:` / `file:` it names."""
    path = root / "setup.cfg"
    if not path.is_file():
        return None
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(read_text(path))
    except (configparser.Error, UnicodeDecodeError) as exc:
        msg = f"cannot read it for the version: {exc}"
        raise ConfigError(msg, path=path) from None
    value = parser.get("metadata", "version", fallback="").strip()
    if not value:
        return None
    origin = "setup.cfg [metadata] version"
    kind, _, rest = value.partition(":")
    if kind.strip() == "attr":
        package_dir = parser.get("options", "package_dir", fallback="")
        mapped = re.search(r"^\s*=\s*(\S+)", package_dir, re.MULTILINE)
        bases = (root / mapped[1],) if mapped else (root, root / "src")
        return _attr_file(root, rest, bases, origin)
    if kind.strip() == "file":
        return _file(root / rest.strip().split(",")[0].strip(), _WHOLE_FILE, origin)
    return _file(path, _SETUP_CFG, origin)


def _example(root: Path) -> str:
    """A version-files value for this project, for the error message."""
    for found in sorted(root.glob("src/*/__init__.py")) + sorted(root.glob("*/__init__.py")):
        if found.parent.name not in {"tests", "test", "docs"}:
            return found.relative_to(root).as_posix()
    return "src/pkg/__init__.py"


def _not_found(root: Path, pyproject: Path, *, dynamic: bool) -> ConfigError:
    why = (
        "[project].version is dynamic and no VCS versioning plugin (setuptools-scm, hatch-vcs, "
        "pdm-backend's scm source, poetry-dynamic-versioning, versioningit) takes it from the "
        "git tags"
        if dynamic
        else "pyproject.toml has no [project] table"
    )
    msg = (
        f"cannot find the project's version: {why}. Looked in [project].version, "
        "[tool.poetry].version, [tool.hatch.version] path, [tool.setuptools.dynamic] version, "
        "[tool.pdm.version] path, flit's module __init__.py and setup.cfg [metadata] version. "
        "Name the file that holds it in [tool.shipyard.release], e.g. "
        f'version-files = ["{_example(root)}"] (or "path:regex" with a (?P<version>...) group).'
    )
    return ConfigError(msg, path=pyproject, key=_KEY)


def bump_pyproject(
    text: str, version: str, *, path: Path, key: tuple[str, ...] = ("project", "version")
) -> str:
    """`text` with the string at `key` (`[project].version`) set to `version`, all else kept."""
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        msg = f"invalid TOML: {exc}."
        raise ConfigError(msg, path=path) from None
    table: Any = doc
    for part in key[:-1]:
        table = table.get(part) if table is not None else None
    old = table.get(key[-1]) if table is not None else None
    if not isinstance(old, String):
        msg = f"expected a string version in [{'.'.join(key[:-1])}]."
        raise ConfigError(msg, path=path, key=".".join(key))
    table[key[-1]] = String.from_raw(version, type_=old.type)
    result = doc.as_string()
    _check_only_version_changed(text, result, version, path=path, key=key)
    return result


def _check_only_version_changed(
    before: str, after: str, version: str, *, path: Path, key: tuple[str, ...]
) -> None:
    """Refuse to write a pyproject whose data changed anywhere but the version."""
    old, new = tomllib.loads(before), tomllib.loads(after)
    table = old
    for part in key[:-1]:
        table = table.setdefault(part, {})
    table[key[-1]] = version
    if old != new:  # a tomlkit bug if it ever happens; never write such a file
        msg = "rewriting the version would change other data; edit the version by hand."
        raise ConfigError(msg, path=path, key=".".join(key))


def _no_version(file: VersionFile) -> ConfigError:
    assert file.pattern is not None  # noqa: S101 - TOML keys are checked when found
    if file.origin == _KEY:
        msg = f"no version found with the pattern {file.pattern.pattern!r}."
    else:
        msg = (
            f"{file.origin} points to this file, but it holds no literal version to bump "
            '(like __version__ = "1.2.3"); write one there, or set version-files to the file '
            'that holds it, e.g. version-files = ["pkg/_version.py"] or "path:regex" with a '
            "(?P<version>...) group."
        )
    return ConfigError(msg, path=file.path, key=_KEY)


def bump_text(text: str, version: str, *, file: VersionFile) -> str:
    """`text` with the pattern's `version` group replaced, everywhere it matches."""
    assert file.pattern is not None  # noqa: S101 - callers pass pattern files only
    matches = list(file.pattern.finditer(text))
    if not matches:
        raise _no_version(file)
    pieces, end = [], 0
    for match in matches:
        start, stop = match.span("version")
        pieces += [text[end:start], version]
        end = stop
    return "".join([*pieces, text[end:]])


def _missing(file: VersionFile) -> ConfigError:
    msg = "version file not found" + ("." if file.origin == _KEY else f" (from {file.origin}).")
    return ConfigError(msg, path=file.path, key=_KEY)


def _current(file: VersionFile) -> str:
    if not file.path.is_file():
        raise _missing(file)
    text = read_text(file.path)
    if file.is_toml:
        return str(_get(tomllib.loads(text), *file.key))
    assert file.pattern is not None  # noqa: S101 - a file is a TOML key or a pattern
    match = file.pattern.search(text)
    if match is None:
        raise _no_version(file)
    return match["version"]


def read_version(root: Path, config: ReleaseConfig) -> str | None:
    """The version the project says it has now (PEP 440), None when it lives in tags only.

    Every version file is read, so one that lost its version is an error here,
    before the release writes anything.
    """
    current = [_current(file) for file in version_files(root, config)]
    return current[0] if current else None


def version_changes(root: Path, config: ReleaseConfig, version: str) -> list[tuple[Path, str]]:
    """The version files that do not say `version` (PEP 440) yet, each with its new text.

    Reads only: the version step writes these, and a dry run shows them.
    """
    changes = []
    for file in version_files(root, config):
        if not file.path.is_file():
            raise _missing(file)
        text = read_text(file.path)
        if file.is_toml:
            new = bump_pyproject(text, version, path=file.path, key=file.key)
        else:
            new = bump_text(text, version, file=file)
        if new != text:
            changes.append((file.path, new))
    return changes


def write_version(root: Path, config: ReleaseConfig, version: str) -> list[Path]:
    """Set `version` (PEP 440) in every version file; return the files that changed."""
    changes = version_changes(root, config, version)
    for path, new in changes:
        write_atomic(path, new)
    return [path for path, _ in changes]

"""Write the new version where the project keeps it, and change nothing else.

`[project].version` in pyproject.toml is rewritten through tomlkit, which keeps
comments, quote style, key order, dotted keys, CRLF line endings and tables
out of order exactly as they were. When the version is dynamic, the files in
`version-files` are rewritten instead: only the span a pattern's `version`
group matched changes. Files are read and written as bytes-exact text
(`newline=""`), and every write is atomic.
"""

from __future__ import annotations

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
    from pathlib import Path

    from shipyard.config import ReleaseConfig

__all__ = [
    "DEFAULT_PATTERN",
    "VersionFile",
    "bump_pyproject",
    "bump_text",
    "read_text",
    "read_version",
    "version_files",
    "write_version",
]

#: What a bare `version-files` entry looks for: `__version__ = "1.2.3"` and kin.
DEFAULT_PATTERN = (
    r"^\s*(?:__version__|VERSION|version)\s*(?::\s*str\s*)?=\s*"
    r"(?P<quote>['\"])(?P<version>[^'\"\r\n]+)(?P=quote)"
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class VersionFile:
    """One place holding the version: pyproject's `[project].version`, or a pattern in a file."""

    path: Path
    pattern: re.Pattern[str] | None = None

    @property
    def is_pyproject(self) -> bool:
        return self.pattern is None


def read_text(path: Path) -> str:
    """The file's text with its line endings untouched."""
    return path.read_bytes().decode("utf-8")


def version_files(root: Path, config: ReleaseConfig) -> tuple[VersionFile, ...]:
    """Where the version lives; empty when the build backend takes it from the tag."""
    pyproject = root / "pyproject.toml"
    project = tomllib.loads(read_text(pyproject)).get("project", {})
    if "version" in project:
        return (VersionFile(path=pyproject),)
    if "version" not in project.get("dynamic", ()):
        msg = "[project] has no 'version' and does not list it in 'dynamic'."
        raise ConfigError(msg, path=pyproject, key="project.version")
    found = []
    for spec in config.version_files:
        name, _, pattern = spec.partition(":")
        compiled = re.compile(pattern or DEFAULT_PATTERN, re.MULTILINE)
        found.append(VersionFile(path=root / name, pattern=compiled))
    return tuple(found)


def bump_pyproject(text: str, version: str, *, path: Path) -> str:
    """`text` with `[project].version` set to `version`, all else kept byte for byte."""
    try:
        doc = tomlkit.parse(text)
    except tomlkit.exceptions.ParseError as exc:
        msg = f"invalid TOML: {exc}."
        raise ConfigError(msg, path=path) from None
    project: Any = doc.get("project")
    old = project.get("version") if project is not None else None
    if not isinstance(old, String):
        msg = "expected a string version in [project]."
        raise ConfigError(msg, path=path, key="project.version")
    new = String.from_raw(version, type_=old.type)
    project["version"] = new
    result = doc.as_string()
    _check_only_version_changed(text, result, version, path=path)
    return result


def _check_only_version_changed(before: str, after: str, version: str, *, path: Path) -> None:
    """Refuse to write a pyproject whose data changed anywhere but the version."""
    old, new = tomllib.loads(before), tomllib.loads(after)
    old.setdefault("project", {})["version"] = version
    if old != new:  # a tomlkit bug if it ever happens; never write such a file
        msg = "rewriting the version would change other data; edit the version by hand."
        raise ConfigError(msg, path=path, key="project.version")


def bump_text(text: str, version: str, *, file: VersionFile) -> str:
    """`text` with the pattern's `version` group replaced, everywhere it matches."""
    assert file.pattern is not None  # noqa: S101 - callers pass pattern files only
    matches = list(file.pattern.finditer(text))
    if not matches:
        msg = f"no version found with the pattern {file.pattern.pattern!r}."
        raise ConfigError(msg, path=file.path, key="tool.shipyard.release.version-files")
    pieces, end = [], 0
    for match in matches:
        start, stop = match.span("version")
        pieces += [text[end:start], version]
        end = stop
    return "".join([*pieces, text[end:]])


def _missing(file: VersionFile) -> ConfigError:
    msg = "version file not found."
    return ConfigError(msg, path=file.path, key="tool.shipyard.release.version-files")


def _current(file: VersionFile) -> str:
    if not file.path.is_file():
        raise _missing(file)
    text = read_text(file.path)
    if file.pattern is None:
        return str(tomllib.loads(text)["project"]["version"])
    match = file.pattern.search(text)
    if match is None:
        msg = f"no version found with the pattern {file.pattern.pattern!r}."
        raise ConfigError(msg, path=file.path, key="tool.shipyard.release.version-files")
    return match["version"]


def read_version(root: Path, config: ReleaseConfig) -> str | None:
    """The version the project says it has now (PEP 440), None when it lives in tags only."""
    files = version_files(root, config)
    return _current(files[0]) if files else None


def write_version(root: Path, config: ReleaseConfig, version: str) -> list[Path]:
    """Set `version` (PEP 440) in every version file; return the files that changed."""
    changed = []
    for file in version_files(root, config):
        if not file.path.is_file():
            raise _missing(file)
        text = read_text(file.path)
        if file.is_pyproject:
            new = bump_pyproject(text, version, path=file.path)
        else:
            new = bump_text(text, version, file=file)
        if new != text:
            write_atomic(file.path, new)
            changed.append(file.path)
    return changed

"""Reading pyproject.toml for `shipyard init`, and adding keys to it without touching the rest.

tomlkit renders the keys and values that are added; the insertion itself is
made on the text (after an existing table header, or as new tables at the
end), so every byte that was there stays where it was. The result is read
back with tomllib and must hold exactly the old data plus the new keys.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomlkit

from shipyard.errors import ConfigError

__all__ = ["merge", "minimal_pyproject", "missing_keys", "read"]

_AT = re.compile(r"\(at line (?P<line>\d+), column (?P<col>\d+)\)")
_TABLE = ("tool", "shipyard")


def read(root: Path) -> tuple[str, dict[str, Any]]:
    """The text of `<root>/pyproject.toml` and its data; clear errors for each way it goes wrong."""
    path = root / "pyproject.toml"
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            text = fh.read()
    except FileNotFoundError:
        msg = (
            "no pyproject.toml here. shipyard keeps the pipeline in [tool.shipyard] of "
            "pyproject.toml; create one, at least:\n\n"
            + minimal_pyproject(root)
            + "\nthen run `shipyard init` again."
        )
        raise ConfigError(msg, path=path) from None
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text ({exc.reason})."
        raise ConfigError(msg, path=path) from None
    except OSError as exc:
        msg = f"cannot read it ({exc.strerror})."
        raise ConfigError(msg, path=path) from None
    try:
        return text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(_syntax_error(str(exc), text), path=path) from None


def _syntax_error(message: str, text: str) -> str:
    """tomllib's message, led by the line and column, with the line itself and a caret."""
    where = _AT.search(message)
    if where is None:
        return f"invalid TOML: {message}."
    line, col = int(where["line"]), int(where["col"])
    what = message[: where.start()].strip()
    lines = text.splitlines()
    shown = lines[line - 1] if 0 < line <= len(lines) else ""
    gutter = f"{line:>5} | "
    caret = " " * (len(gutter) - 2) + "| " + " " * (col - 1) + "^"
    return f"invalid TOML at line {line}, column {col}: {what}.\n{gutter}{shown}\n{caret}"


def minimal_pyproject(root: Path) -> str:
    """The smallest pyproject.toml that lets shipyard run in `root`."""
    if (root / "setup.cfg").is_file() or (root / "setup.py").is_file():
        # The metadata stays in setup.cfg / setup.py; only the build system is declared.
        head = (
            '[build-system]\nrequires = ["setuptools>=61"]\n'
            'build-backend = "setuptools.build_meta"\n'
        )
    else:
        name = re.sub(r"[^a-z0-9]+", "-", root.resolve().name.lower()).strip("-") or "project"
        head = (
            '[build-system]\nrequires = ["hatchling"]\nbuild-backend = "hatchling.build"\n\n'
            f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        )
    return head + "\n[tool.shipyard]\n# Every key has a default; `shipyard config` prints them.\n"


# -- adding keys ---------------------------------------------------------------------------


def missing_keys(desired: Mapping[str, Any], existing: Mapping[str, Any]) -> dict[str, Any]:
    """The part of `desired` whose keys `existing` does not set (existing values always win)."""
    missing: dict[str, Any] = {}
    for key, value in desired.items():
        if key not in existing:
            missing[key] = value
        elif isinstance(value, Mapping) and isinstance(existing[key], Mapping):
            deeper = missing_keys(value, existing[key])
            if deeper:
                missing[key] = deeper
    return missing


def _tables(
    values: Mapping[str, Any], path: tuple[str, ...]
) -> list[tuple[tuple[str, ...], dict[str, Any]]]:
    """(table path, its plain keys) for `values` and every table under it, parents first."""
    plain = {k: v for k, v in values.items() if not isinstance(v, Mapping)}
    found = [(path, plain)] if plain else []
    for key, value in values.items():
        if isinstance(value, Mapping):
            found += _tables(value, (*path, key))
    return found


def _header_pattern(path: tuple[str, ...]) -> re.Pattern[str]:
    parts = [rf"(?:{re.escape(p)}|\"{re.escape(p)}\"|'{re.escape(p)}')" for p in path]
    return re.compile(
        r"^[ \t]*\[[ \t]*" + r"[ \t]*\.[ \t]*".join(parts) + r"[ \t]*\][ \t]*(?:#.*)?$"
    )


def _dotted(path: tuple[str, ...]) -> str:
    return ".".join(tomlkit.key(p).as_string() for p in path)


def _body(items: Mapping[str, Any], nl: str) -> list[str]:
    return [
        f"{tomlkit.key(k).as_string()} = {tomlkit.item(v).as_string()}{nl}"
        for k, v in items.items()
    ]


def _deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        old = merged.get(key)
        if isinstance(value, Mapping) and isinstance(old, Mapping):
            merged[key] = _deep_merge(old, value)
        else:
            merged[key] = value
    return merged


def _insert(text: str, missing: Mapping[str, Any], *, fresh: bool) -> str:
    """Add `missing` to `text`: under table headers that exist, else as tables at the end."""
    nl = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    at_end = []
    for table, items in _tables(missing, _TABLE):
        pattern = _header_pattern(table)
        index = next((i for i, ln in enumerate(lines) if pattern.match(ln.rstrip("\r\n"))), None)
        if index is None:
            at_end.append((table, items))
        else:
            lines[index + 1 : index + 1] = _body(items, nl)
    new = "".join(lines)
    if not at_end:
        return new

    # The other tables go at the end, after one blank line.
    if new and not new.endswith("\n"):
        new += nl
    if new.strip() and not new.endswith(nl + nl):
        new += nl
    blocks = [f"[{_dotted(table)}]{nl}" + "".join(_body(items, nl)) for table, items in at_end]
    if fresh:
        blocks[0] = (
            f"# shipyard: only what differs from its defaults (`shipyard config`){nl}" + blocks[0]
        )
    return new + nl.join(blocks)


def _owner(lines: list[str], table: tuple[str, ...]) -> tuple[tuple[str, ...], int]:
    """The deepest table of `table`'s path with a header in `lines`, and where its keys go.

    Without any, the document's root: its keys go before the first header.
    """
    for depth in range(len(table), 0, -1):
        pattern = _header_pattern(table[:depth])
        for index, line in enumerate(lines):
            if pattern.match(line.rstrip("\r\n")):
                return table[:depth], index + 1
    first = next((i for i, ln in enumerate(lines) if ln.lstrip().startswith("[")), len(lines))
    return (), first


def _dotted_keys(
    lines: list[str], missing: Mapping[str, Any], nl: str
) -> list[tuple[tuple[str, ...], int, list[str]]]:
    """(owning table, line index, key lines) for `missing` written as dotted keys.

    Each key goes under the deepest header of its path that exists, named from
    there: `shipyard.tests = ...` under `[tool]`, the form a [tool.shipyard]
    made of dotted keys has (a `[tool.shipyard]` header would declare it twice).
    """
    found = []
    for table, items in _tables(missing, _TABLE):
        owner, index = _owner(lines, table)
        rest = table[len(owner) :]
        body = [
            f"{_dotted((*rest, k))} = {tomlkit.item(v).as_string()}{nl}" for k, v in items.items()
        ]
        found.append((owner, index, body))
    return found


def _insert_dotted(text: str, missing: Mapping[str, Any]) -> str:
    nl = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    ordered = sorted(_dotted_keys(lines, missing, nl), key=lambda found: found[1])
    if ordered and ordered[-1][1] == len(lines) and lines and not lines[-1].endswith("\n"):
        lines[-1] += nl  # keys go after the last line, which has no line break
    # From the last insertion point up, so the earlier indices stay right (and keys
    # going to the same place keep their order).
    for _, index, body in ordered[::-1]:
        lines[index:index] = body
    return "".join(lines)


def _holds(new: str, expected: Mapping[str, Any]) -> bool:
    try:
        return tomllib.loads(new) == expected
    except tomllib.TOMLDecodeError:
        return False


def _inline_at(text: str) -> tuple[str, ...] | None:
    """The path of the inline table holding [tool.shipyard] (`tool.shipyard = {...}`), if any."""
    node: Any = tomlkit.parse(text)
    for depth in range(1, len(_TABLE) + 1):
        node = node.get(_TABLE[depth - 1]) if isinstance(node, Mapping) else None
        if isinstance(node, tomlkit.items.InlineTable):
            return _TABLE[:depth]
    return None


def _by_hand(text: str, missing: Mapping[str, Any]) -> str:
    """The keys to add, in the form of the keys already there."""
    inline = _inline_at(text)
    if inline is not None:
        keys = [
            f"{_dotted((*table[len(inline) :], k))} = {tomlkit.item(v).as_string()}"
            for table, items in _tables(missing, _TABLE)
            for k, v in items.items()
        ]
        return f"inside the braces of the inline table {_dotted(inline)}:\n" + ", ".join(keys)
    groups: dict[tuple[str, ...], list[str]] = {}
    for owner, _, body in _dotted_keys(text.splitlines(keepends=True), missing, "\n"):
        groups.setdefault(owner, []).extend(body)
    return "\n".join(
        (f"under [{_dotted(owner)}]:\n" if owner else "at the top, before any table:\n")
        + "".join(body)
        for owner, body in groups.items()
    )


def merge(text: str, desired: Mapping[str, Any], *, path: Path) -> tuple[str, dict[str, Any]]:
    """`text` with the keys of `desired` it lacks added under [tool.shipyard]; and those keys."""
    data = tomllib.loads(text)
    tool = data.get("tool", {})
    existing = tool.get("shipyard", {}) if isinstance(tool, Mapping) else {}
    missing = missing_keys(desired, existing if isinstance(existing, Mapping) else {})
    if not missing:
        return text, {}
    # Nothing else may have changed: each way of adding is read back.
    expected = _deep_merge(data, {"tool": {"shipyard": missing}})
    new = _insert(text, missing, fresh="shipyard" not in tool)
    if _holds(new, expected):
        return new, missing
    # Tables made of dotted keys (`[tool]` then `shipyard.gates.coverage = 90`) cannot
    # take a header of their own: the keys are added in their form instead.
    new = _insert_dotted(text, missing)
    if _holds(new, expected):
        return new, missing
    msg = (
        "[tool.shipyard] is written in a form shipyard cannot add keys to without "
        f"rewriting it. Add these by hand, {_by_hand(text, missing)}"
    )
    raise ConfigError(msg, path=path)

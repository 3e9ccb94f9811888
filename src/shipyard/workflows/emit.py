"""A small, deterministic YAML writer for workflow data.

Workflows are built as plain Python data (dicts in the order they should be
written, lists, strings, ints, bools) and written here the same way every
time. Strings are left plain only when every YAML reader (1.1 as well as 1.2)
reads them back as the same string; `3.10`, `on`, `yes` or `!cancelled()` are
quoted. `Commented` values (a pinned action's version, why a job may write)
carry a trailing comment.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any, Self

__all__ = ["Commented", "Inline", "Spaced", "dump", "scalar"]

#: How long a one-line `[a, b]` or `{k: v}` may get before it is written as a block
#: (a matrix target, `{id: cp313t-macos_x86_64, python: '3.13t', ...}`, fits).
FLOW_WIDTH = 120

_KEY = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*")
_PLAIN_START = re.compile(r"[A-Za-z$/]")
_FLOW_CHARS = frozenset(",[]{}")
# Read as booleans or null by YAML 1.1 or 1.2 readers, in any case.
_RESERVED = frozenset(
    ("y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"),
)


class Commented(str):
    """A string written with a trailing `# comment`."""

    __slots__ = ("comment",)
    comment: str

    def __new__(cls, value: str, comment: str) -> Self:
        self = super().__new__(cls, value)
        self.comment = comment
        return self


class Spaced(dict[str, Any]):
    """A mapping whose entries are separated by blank lines (the document, the jobs)."""


class Inline(dict[str, Any]):
    """A mapping of scalars written on one line, `{a: 1, b: x}`, when it fits."""


def _is_plain(text: str, *, flow: bool) -> bool:
    if not text or not _PLAIN_START.match(text) or text.lower() in _RESERVED:
        return False
    if text != text.strip() or "\n" in text or not text.isprintable():
        return False
    if ": " in text or " #" in text or text.endswith(":"):
        return False
    return not (flow and _FLOW_CHARS.intersection(text))


def _literal_ok(text: str) -> bool:
    lines = text.removesuffix("\n").split("\n")
    return (
        len(lines) > 1
        and not text.endswith("\n\n")
        and not lines[0].startswith(" ")
        and all(line.isprintable() and line == line.rstrip() and line for line in lines)
    )


def scalar(value: object, *, flow: bool = False) -> str:
    """One scalar as YAML text that reads back as the same value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if not isinstance(value, str):
        msg = f"cannot write {type(value).__name__} {value!r} as a YAML scalar"
        raise TypeError(msg)
    if _is_plain(value, flow=flow):
        text = value
    elif "\n" not in value and value.isprintable():
        text = "'" + value.replace("'", "''") + "'"
    else:
        text = json.dumps(value)  # a JSON string is a valid YAML double-quoted scalar
    if isinstance(value, Commented):
        text += f" # {value.comment}"
    return text


def _is_scalar(value: object) -> bool:
    return isinstance(value, (str, int, bool))


def _flow(value: object) -> str | None:
    """`value` on one line, or None when it is not a short collection of scalars."""
    if isinstance(value, Inline) and all(
        _is_scalar(v) and not isinstance(v, Commented) for v in value.values()
    ):
        text = "{" + ", ".join(f"{k}: {scalar(v, flow=True)}" for k, v in value.items()) + "}"
    elif isinstance(value, (list, tuple)) and value and all(_is_scalar(v) for v in value):
        if any(isinstance(v, Commented) for v in value):
            return None
        text = "[" + ", ".join(scalar(v, flow=True) for v in value) + "]"
    else:
        return None
    return text if len(text) <= FLOW_WIDTH else None


def _value(value: object, indent: int) -> tuple[str, list[str]]:
    """The text after `key:` (or `- `), and the lines that follow it."""
    if isinstance(value, str) and "\n" in value and _literal_ok(value):
        chomp = "" if value.endswith("\n") else "-"
        body = value.removesuffix("\n").split("\n")
        return f" |{chomp}", [" " * indent + line for line in body]
    if _is_scalar(value):
        return " " + scalar(value), []
    if isinstance(value, (Mapping, list, tuple)) and not value:
        return (" {}" if isinstance(value, Mapping) else " []"), []
    flow = _flow(value)
    if flow is not None:
        return " " + flow, []
    if isinstance(value, Mapping):
        return "", _mapping(value, indent)
    if isinstance(value, (list, tuple)):
        return "", _sequence(value, indent)
    msg = f"cannot write {type(value).__name__} {value!r} as YAML"
    raise TypeError(msg)


def _key(key: object) -> str:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        msg = f"workflow keys are plain words, not {key!r}"
        raise TypeError(msg)
    return key


def _mapping(mapping: Mapping[str, Any], indent: int) -> list[str]:
    lines: list[str] = []
    for index, (key, value) in enumerate(mapping.items()):
        if isinstance(mapping, Spaced) and index:
            lines.append("")
        head, rest = _value(value, indent + 2)
        lines.append(f"{' ' * indent}{_key(key)}:{head}")
        lines.extend(rest)
    return lines


def _sequence(items: Sequence[Any], indent: int) -> list[str]:
    lines: list[str] = []
    pad = " " * indent
    for item in items:
        if isinstance(item, Mapping) and item and _flow(item) is None:
            block = _mapping(item, indent + 2)
            lines.append(f"{pad}- {block[0].lstrip()}")
            lines.extend(block[1:])
            continue
        head, rest = _value(item, indent + 2)
        lines.append(f"{pad}-{head}")
        lines.extend(rest)
    return lines


def dump(document: Mapping[str, Any], *, header: Sequence[str] = ()) -> str:
    """The YAML text of `document`, with `header` lines as leading comments."""
    lines = [f"# {line}".rstrip() for line in header]
    if lines:
        lines.append("")
    lines.extend(_mapping(document, 0))
    return "\n".join(lines) + "\n"

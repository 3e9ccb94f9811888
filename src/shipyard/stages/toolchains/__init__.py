"""The toolchains a project is written for, detected or configured.

Every module of this package that defines `TOOLCHAIN` adds one: adding a
language is adding a module. `Cargo.toml` makes a project Rust, a
`pyproject.toml` with `[project]` (or a build system) makes it Python, both
make it both; `toolchain = [...]` in the config says so explicitly.
"""

from __future__ import annotations

import difflib
import functools
import importlib
import pkgutil
from collections.abc import Mapping
from typing import TYPE_CHECKING

from shipyard.errors import ConfigError
from shipyard.stages.toolchains.interface import Toolchain

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.config import Config

__all__ = ["Toolchain", "available", "detect", "for_config", "get", "names", "present"]


@functools.cache
def available() -> Mapping[str, Toolchain]:
    """Every toolchain shipyard knows, by name, in stage order."""
    found: list[Toolchain] = []
    for module in pkgutil.iter_modules(__path__):
        if module.name.startswith("_") or module.name == "interface":
            continue
        loaded = importlib.import_module(f"{__name__}.{module.name}")
        toolchain = getattr(loaded, "TOOLCHAIN", None)
        if isinstance(toolchain, Toolchain):
            found.append(toolchain)
    return {t.name: t for t in sorted(found, key=lambda t: (t.order, t.name))}


def names() -> tuple[str, ...]:
    return tuple(available())


def get(name: str) -> Toolchain:
    try:
        return available()[name]
    except KeyError:
        msg = f"no toolchain named {name!r}; known: {', '.join(names())}"
        raise ConfigError(msg) from None


def detect(root: Path) -> tuple[Toolchain, ...]:
    """The toolchains the files in `root` call for, in stage order."""
    return tuple(t for t in available().values() if t.detect(root))


def for_config(config: Config) -> tuple[Toolchain, ...]:
    """`toolchain = [...]` when set, else the detected ones; never none."""
    key = "tool.shipyard.toolchain"
    if config.toolchain is not None:
        chosen = []
        for index, name in enumerate(config.toolchain):
            if name not in available():
                close = difflib.get_close_matches(name, names(), n=1)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                msg = f"unknown toolchain {name!r}; expected one of {', '.join(names())}.{hint}"
                raise ConfigError(msg, path=config.pyproject, key=f"{key}[{index}]")
            chosen.append(available()[name])
        if not chosen:
            msg = f"expected at least one toolchain ({', '.join(names())})."
            raise ConfigError(msg, path=config.pyproject, key=key)
        return tuple(dict.fromkeys(sorted(chosen, key=lambda t: (t.order, t.name))))
    detected = detect(config.root)
    if not detected:
        markers = sorted({m for t in available().values() for m in t.markers})
        msg = (
            f"no toolchain detected in {config.root.resolve()}: none of {', '.join(markers)} "
            "calls for one; set the toolchain option."
        )
        raise ConfigError(msg, path=config.pyproject, key=key)
    return detected


def present(config: Config, root: Path | None = None) -> tuple[Toolchain, ...]:
    """`toolchain = [...]` when set, else those detected in `root` (default: the project's).

    Unlike `for_config`, finding none is no error: for stages that also serve
    projects no toolchain describes (a configured command, a bare directory).
    """
    if config.toolchain is not None:
        return for_config(config)
    return detect(config.root if root is None else root)

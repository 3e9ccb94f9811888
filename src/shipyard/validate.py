"""The whole configuration checked in this process, as the noxfile checks it when nox loads it.

Reading `[tool.shipyard]` checks each key; what spans keys or needs the
project's files (toolchains, the build matrix, custom stages, audit
suppressions) is checked when the noxfile is imported. Whatever asks nox for
its sessions checks here first, so a bad value stops it with its own exit code
and key instead of as a failed `nox --list`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from shipyard import graph, matrix
from shipyard.stages import toolchains

if TYPE_CHECKING:
    from shipyard.config import Config

__all__ = ["check", "nox_sessions"]


def check(config: Config) -> tuple[str, ...]:
    """Raise what the noxfile would stop on; return the build matrix's warnings."""
    chosen = toolchains.for_config(config)
    warnings: tuple[str, ...] = ()
    if any(t.name == "python" for t in chosen):
        warnings = tuple(matrix.plan(config).warnings)
    graph.stage_specs(config, graph.BUILTIN_NEEDS)
    # The audit package loads its every check (httpx, yaml): only when this runs, not on
    # every noxfile import that reaches here through the workflows drift check.
    from shipyard.stages.audit import suppress  # noqa: PLC0415

    suppress.rules(config.audit.suppress, pyproject=config.pyproject)
    return warnings


def nox_sessions(config: Config) -> list[dict[str, Any]]:
    """The noxfile's sessions (`nox --list --json`), once the config has passed `check`."""
    check(config)
    return matrix.nox_sessions(config.root)

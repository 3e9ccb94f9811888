"""Where shipyard keeps things: per-project reports, per-user cache and state.

Caches (tool downloads, advisory data) and state (bench history, monitor
memory) come from platformdirs and can be moved with `SHIPYARD_CACHE_DIR` and
`SHIPYARD_STATE_DIR`; `shipyard doctor` prints them.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

__all__ = ["cache_dir", "state_dir"]

_APP = "shipyard"


def cache_dir() -> Path:
    """Disposable data: may be deleted at any time and rebuilt."""
    override = os.environ.get("SHIPYARD_CACHE_DIR")
    return Path(override) if override else Path(platformdirs.user_cache_dir(_APP, appauthor=False))


def state_dir() -> Path:
    """Data worth keeping between runs (benchmark history, alert memory)."""
    override = os.environ.get("SHIPYARD_STATE_DIR")
    return Path(override) if override else Path(platformdirs.user_state_dir(_APP, appauthor=False))

"""Building configs with a `[tool.shipyard.matrix]` table for the matrix tests."""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from shipyard import config

if TYPE_CHECKING:
    from pathlib import Path


def matrix_config(
    root: Path, matrix: str = "", *, requires_python: str | None = ">=3.11"
) -> config.Config:
    """Write a pyproject.toml with this `[tool.shipyard.matrix]` body and load it."""
    requires = f'requires-python = "{requires_python}"\n' if requires_python else ""
    text = (
        f'[project]\nname = "demo"\nversion = "1.0"\n{requires}\n'
        f"[tool.shipyard.matrix]\n{textwrap.dedent(matrix)}"
    )
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(text, encoding="utf-8")
    return config.load(root)

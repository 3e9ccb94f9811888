"""Keep credentials out of everything the release flow prints, logs or reports."""

from __future__ import annotations

import os

__all__ = ["SECRET_VARIABLES", "github_token", "redact"]

#: Environment variables whose values must never be shown.
SECRET_VARIABLES = ("GITHUB_TOKEN", "GH_TOKEN", "TWINE_PASSWORD", "TWINE_USERNAME")


def github_token() -> str | None:
    """The GitHub token from `GITHUB_TOKEN`, else `GH_TOKEN`."""
    return os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or None


def redact(text: str, *extra: str) -> str:
    """`text` with every known secret value (and each of `extra`) replaced by `***`."""
    values = [os.environ.get(name, "") for name in SECRET_VARIABLES] + list(extra)
    # Longest first, so a secret that contains another is hidden whole.
    for value in sorted(filter(None, values), key=len, reverse=True):
        if len(value) >= 4:  # noqa: PLR2004 - hiding "x" would mangle every message
            text = text.replace(value, "***")
    return text

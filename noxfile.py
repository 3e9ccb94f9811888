"""This repository's pipeline: shipyard's own sessions, configured in pyproject.toml."""

from shipyard import sessions  # noqa: F401

"""This repository's flows: `invoke ci`, `invoke release`, `invoke monitor`."""

from shipyard.flows import ns  # noqa: F401

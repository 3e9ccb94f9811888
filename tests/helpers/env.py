"""Facts about the run, read once at import (before any fixture edits the environment)."""

from __future__ import annotations

import os

#: True when the suite itself runs on CI (`CI` set to anything but "" / "0" / "false").
#: The autouse fixture in conftest.py removes CI from each test's environment, so tests
#: that must fail rather than skip on CI (a missing Docker engine) read this instead.
ON_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")

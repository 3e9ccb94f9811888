"""The release flow: next version from conventional commits, changelog, bump, tag, publish.

`run_release` plans the release (`plan.py`) and runs its steps (`steps.py`);
every step checks the world first, so a rerun after any failure finishes the
job without making anything twice.
"""

from __future__ import annotations

from shipyard.release.plan import ReleasePlan, current_version, plan_release, render_plan
from shipyard.release.steps import STEPS, ReleaseOutcome, StepResult, run_release

__all__ = [
    "STEPS",
    "ReleaseOutcome",
    "ReleasePlan",
    "StepResult",
    "current_version",
    "plan_release",
    "render_plan",
    "run_release",
]

"""The docker stage: image variants built, checked and pushed through python-on-whales.

`run_docker` is the stage; `image_ref` is the one function that spells an
image reference. See docs/docker.md.
"""

from __future__ import annotations

from shipyard.stages.docker.stage import IMAGES_REPORT, run_docker
from shipyard.stages.docker.tags import GitRef, expand_tags, floating_tags, image_ref

__all__ = ["IMAGES_REPORT", "GitRef", "expand_tags", "floating_tags", "image_ref", "run_docker"]

"""Every action the generated workflows use, pinned to the commit of a real release.

This table is the only place a commit SHA is written. Each pin was found in
public workflows with the same version comment in at least two independent
places (file ids of the public code index in `seen_in`; the lookups are
described in docs/workflows.md). A Dependabot bump message, which GitHub
writes from the tag itself, counts as the strongest evidence and is named
first where one was found.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping

from shipyard.errors import ShipyardError
from shipyard.workflows.emit import Commented

__all__ = ["ACTIONS", "Action", "Uses", "uses"]

_SHA = re.compile(r"[0-9a-f]{40}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Action:
    repo: str
    sha: str
    version: str
    seen_in: tuple[str, ...]

    def __post_init__(self) -> None:
        if not _SHA.fullmatch(self.sha):
            msg = f"{self.repo}: pin {self.sha!r} is not a full 40-hex commit SHA"
            raise ValueError(msg)


class Uses(Commented):
    """A `uses:` value; its version is written as a trailing comment."""

    __slots__ = ()


ACTIONS: Mapping[str, Action] = {
    "checkout": Action(
        repo="actions/checkout",
        sha="08c6903cd8c0fde910a37f88322edcfb5dd907a8",
        version="v5.0.0",
        seen_in=("26521831401", "34080521586", "11386792266", "66535287980"),
    ),
    "setup-python": Action(
        repo="actions/setup-python",
        sha="e797f83bcb11b83ae66e0230d6156d7c80228e7c",
        version="v6.0.0",
        seen_in=("dependabot 5.6.0 -> 6.0.0: 19720682090", "28194011871", "61992255507"),
    ),
    "upload-artifact": Action(
        repo="actions/upload-artifact",
        sha="330a01c490aca151604b8cf639adc76d48f6c5d4",
        version="v5.0.0",
        seen_in=("52782147411", "19915447724", "33427164971", "70704561745"),
    ),
    "download-artifact": Action(
        repo="actions/download-artifact",
        sha="634f93cb2916e3fdff6788551b99b062d0335ce0",
        version="v5.0.0",
        seen_in=("56754222597", "68319551321", "71161783869"),
    ),
    "cache": Action(
        repo="actions/cache",
        sha="0400d5f644dc74513175e3cd8d07132dd4860809",
        version="v4.2.4",
        seen_in=("71415494252", "57080630404", "66538435094", "70713839598"),
    ),
    "codeql": Action(
        repo="github/codeql-action",
        sha="0499de31b99561a6d14a36a5f662c2a54f91beee",
        version="v4.31.2",
        seen_in=("dependabot 3.30.1 -> 4.31.2: 37981282077", "28782860392", "28194011871"),
    ),
    "dependency-review": Action(
        repo="actions/dependency-review-action",
        sha="40c09b7dc99638e5ddb0bfd91c1673effc064d8a",
        version="v4.8.1",
        seen_in=("34607917665", "4576584426", "63220198886"),
    ),
    "pypi-publish": Action(
        repo="pypa/gh-action-pypi-publish",
        sha="ed0c53931b1dc9bd32cbe73a98c7f6766f8a527e",
        version="v1.13.0",
        seen_in=("dependabot 1.12.4 -> 1.13.0: 19720682090", "52523640747", "53290011050"),
    ),
}


def uses(name: str, subpath: str = "") -> Uses:
    """The pinned `uses:` value of action `name` (with `subpath` for e.g. codeql's `init`)."""
    try:
        action = ACTIONS[name]
    except KeyError:
        msg = f"no pinned action named {name!r}; known: {', '.join(sorted(ACTIONS))}"
        raise ShipyardError(msg) from None
    path = f"{action.repo}/{subpath}" if subpath else action.repo
    return Uses(f"{path}@{action.sha}", action.version)

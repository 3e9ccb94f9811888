"""Run by the tool environment's python: print its distributions and marker environment.

This file is executed as a script in another interpreter. It imports nothing
from shipyard and only the standard library, so it works in any environment.
"""

from __future__ import annotations

import json
import os
import platform
import sys
from importlib import metadata


def marker_environment() -> dict[str, str]:
    """The PEP 508 marker variables of this interpreter."""
    info = sys.implementation.version
    impl_version = f"{info.major}.{info.minor}.{info.micro}"
    if info.releaselevel != "final":
        impl_version += info.releaselevel[0] + str(info.serial)
    return {
        "implementation_name": sys.implementation.name,
        "implementation_version": impl_version,
        "os_name": os.name,
        "platform_machine": platform.machine(),
        "platform_release": platform.release(),
        "platform_system": platform.system(),
        "platform_version": platform.version(),
        "python_full_version": platform.python_version(),
        "platform_python_implementation": platform.python_implementation(),
        "python_version": ".".join(platform.python_version_tuple()[:2]),
        "sys_platform": sys.platform,
    }


def field(dist: metadata.Distribution, name: str) -> str | None:
    values = dist.metadata.get_all(name) or []
    return str(values[0]) if values else None


def describe(dist: metadata.Distribution) -> dict[str, object]:
    classifiers = dist.metadata.get_all("Classifier") or []
    return {
        "name": field(dist, "Name"),
        "version": field(dist, "Version"),
        "requires": list(dist.requires or ()),
        "license_expression": field(dist, "License-Expression"),
        "license": field(dist, "License"),
        "classifiers": [str(c) for c in classifiers if str(c).startswith("License")],
    }


def main() -> None:
    seen = set()
    dists = []
    for dist in metadata.distributions():
        name = field(dist, "Name")
        if not name or name.lower() in seen:
            continue
        seen.add(name.lower())
        dists.append(describe(dist))
    json.dump({"markers": marker_environment(), "distributions": dists}, sys.stdout)


if __name__ == "__main__":
    main()

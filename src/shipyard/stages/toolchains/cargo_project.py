"""What a Cargo project holds: `cargo metadata`, Cargo.lock, its benches, lcov totals."""

from __future__ import annotations

import json
import os
import re
import tomllib
from collections import deque
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Any

from shipyard.config import Config
from shipyard.errors import ConfigError
from shipyard.stages.toolchains.interface import PackageLicence, Pin
from shipyard.tools import ToolEnv

__all__ = [
    "binaries",
    "has_benches",
    "lcov_fraction",
    "licences",
    "locked",
    "metadata",
    "read_json",
    "target_dir",
    "uses_libtest_bench",
]

#: Where crates.io's packages come from, as Cargo.lock writes it (git index or sparse).
_CRATES_IO = (
    "registry+https://github.com/rust-lang/crates.io-index",
    "sparse+https://index.crates.io/",
)


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        msg = f"unreadable JSON report ({exc})."
        raise ConfigError(msg, path=path) from None


def lcov_fraction(path: Path) -> Fraction | None:
    """Lines (and branches) hit over found, summed over every record of an lcov file."""
    totals = {"LH": 0, "LF": 0, "BRH": 0, "BRF": 0}
    for line in path.read_text(encoding="utf-8").splitlines():
        key, _, value = line.partition(":")
        if key in totals and value.strip().isdigit():
            totals[key] += int(value)
    measured = totals["LF"] + totals["BRF"]
    return Fraction(totals["LH"] + totals["BRH"], measured) if measured else None


# -- sources -------------------------------------------------------------------------------

_FEATURE_TEST = re.compile(r"#!\[feature\([^)]*\btest\b|#\[bench\]")


def _rust_files(root: Path) -> Iterator[Path]:
    for folder, dirs, files in os.walk(root):
        dirs[:] = [d for d in dirs if d != "target" and not d.startswith(".")]
        for name in files:
            if name.endswith(".rs"):
                yield Path(folder) / name


def has_benches(root: Path) -> bool:
    """A `benches/` directory, a `[[bench]]` target, or libtest `#[bench]` functions."""
    if (root / "benches").is_dir():
        return True
    try:
        manifest = tomllib.loads((root / "Cargo.toml").read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        manifest = {}
    return bool(manifest.get("bench")) or uses_libtest_bench(root)


def uses_libtest_bench(root: Path) -> bool:
    """Whether any source uses libtest's unstable `#[bench]` (and so needs nightly)."""
    for path in _rust_files(root):
        try:
            if _FEATURE_TEST.search(path.read_text(encoding="utf-8", errors="replace")):
                return True
        except OSError:
            continue
    return False


# -- cargo metadata ------------------------------------------------------------------------


def metadata(config: Config, tools: ToolEnv, *, deps: bool = False) -> dict[str, Any]:
    """`cargo metadata` of the project; a broken manifest is a ConfigError in cargo's words."""
    argv = ["cargo", "metadata", "--format-version", "1", *([] if deps else ["--no-deps"])]
    done = tools.run(argv, cwd=config.root, env={"CARGO_TERM_COLOR": "never"})
    if done.returncode != 0:
        said = " ".join(done.stderr.strip().splitlines()[-3:])
        msg = f"`cargo metadata` failed (exit {done.returncode}): {said}"
        raise ConfigError(msg, path=config.root / "Cargo.toml")
    data: dict[str, Any] = json.loads(done.stdout)
    return data


def target_dir(config: Config, tools: ToolEnv) -> Path:
    return Path(metadata(config, tools)["target_directory"])


def binaries(config: Config, tools: ToolEnv) -> tuple[str, ...]:
    """The `[[bin]]` targets of the workspace's packages."""
    data = metadata(config, tools)
    members = set(data.get("workspace_members") or ())
    return tuple(
        target["name"]
        for package in data["packages"]
        if package["id"] in members
        for target in package["targets"]
        if "bin" in target["kind"]
    )


def _spdx(expression: str | None) -> str | None:
    # crates.io's early `MIT/Apache-2.0` means a choice, as `OR` says it today.
    if not expression:
        return None
    return " OR ".join(part.strip() for part in expression.split("/"))


def _shipped(data: dict[str, Any]) -> set[str]:
    """Ids of the packages the workspace's builds link: normal and build deps, no dev-deps."""
    nodes = {node["id"]: node for node in (data.get("resolve") or {}).get("nodes") or ()}
    members = set(data.get("workspace_members") or ())
    seen: set[str] = set()
    queue = deque(members)
    while queue:
        node = nodes.get(queue.popleft())
        for dep in node.get("deps", ()) if node else ():
            kinds = {k.get("kind") for k in dep.get("dep_kinds") or ({"kind": None},)}
            if kinds <= {"dev"} or dep["pkg"] in seen:
                continue
            seen.add(dep["pkg"])
            queue.append(dep["pkg"])
    return seen - members


def licences(config: Config, tools: ToolEnv) -> tuple[PackageLicence, ...]:
    """The declared licence of every crate the builds link, from `cargo metadata`."""
    data = metadata(config, tools, deps=True)
    shipped = _shipped(data)
    return tuple(
        PackageLicence(
            name=package["name"],
            version=package["version"],
            expression=_spdx(package.get("license")),
            source=f"Cargo.toml of {package['name']} {package['version']}"
            + (f" (license-file {package['license_file']})" if package.get("license_file") else ""),
        )
        for package in sorted(data["packages"], key=lambda p: (p["name"], p["version"]))
        if package["id"] in shipped
    )


# -- Cargo.lock ----------------------------------------------------------------------------


def locked(root: Path) -> tuple[Pin, ...]:
    """The crates.io packages Cargo.lock pins; path and git packages have no advisories."""
    path = root / "Cargo.lock"
    if not path.is_file():
        return ()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = f"unreadable lock file ({exc})."
        raise ConfigError(msg, path=path) from None
    packages = data.get("package") or []
    if not isinstance(packages, list):
        raise ConfigError("expected [[package]] tables.", path=path)
    return tuple(
        Pin(
            name=str(p["name"]),
            version=str(p["version"]),
            ecosystem="crates.io",
            source="Cargo.lock",
        )
        for p in packages
        if isinstance(p, dict)
        and "name" in p
        and "version" in p
        and str(p.get("source", "")).startswith(_CRATES_IO)
    )

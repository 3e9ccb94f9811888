"""Build the release files: sdist and wheel with `python -m build`, `twine check`, SHA256SUMS.

Builds go to a temporary folder next to `dist-dir` and are moved in only when
complete, so `dist-dir` never holds half a file. When the version's sdist and
wheel are already there (an earlier run, or wheels gathered from the CI
matrix), nothing is rebuilt: their hashes may already be published.
`SOURCE_DATE_EPOCH` is set to the release commit's time so a rebuild on
another machine gives the same bytes where the build backend allows it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version

from shipyard.errors import GateFailed, ToolMissing
from shipyard.release.secrets import redact
from shipyard.report import write_atomic

__all__ = ["SUMS_NAME", "Artifacts", "build", "distributions", "require", "sha256", "write_sums"]

SUMS_NAME = "SHA256SUMS"
_TIMEOUT = 1800


@dataclasses.dataclass(frozen=True, kw_only=True)
class Artifacts:
    """The files of one release: distributions and the checksum file."""

    files: tuple[Path, ...]
    sums: Path
    built: bool

    @property
    def all(self) -> tuple[Path, ...]:
        return (*self.files, self.sums)


def require(module: str, *, purpose: str) -> None:
    """Raise ToolMissing unless `module` can be imported by this Python."""
    if importlib.util.find_spec(module) is None:
        msg = (
            f"'{module}' is not installed; {purpose} needs it. It comes with shipyard: "
            "reinstall it (pip install shipyard) in the environment that runs the release."
        )
        raise ToolMissing(msg)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _version_of(name: str) -> tuple[str, Version] | None:
    try:
        if name.endswith(".whl"):
            project, version, *_ = parse_wheel_filename(name)
            return project, version
        if name.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(name)
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def distributions(dist_dir: Path, name: str, version: str) -> tuple[Path, ...]:
    """The sdists and wheels of `name` `version` (PEP 440) in `dist_dir`, sorted."""
    if not dist_dir.is_dir():
        return ()
    wanted = (canonicalize_name(name), Version(version))
    return tuple(sorted(p for p in dist_dir.iterdir() if _version_of(p.name) == wanted))


def write_sums(dist_dir: Path, files: tuple[Path, ...]) -> Path:
    """`SHA256SUMS` in `sha256sum` format, covering `files`."""
    path = dist_dir / SUMS_NAME
    write_atomic(path, "".join(f"{sha256(f)}  {f.name}\n" for f in files))
    return path


def _run(argv: list[str], *, cwd: Path, label: str, env: dict[str, str] | None = None) -> None:
    done = subprocess.run(
        argv,
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=_TIMEOUT,
        check=False,
    )
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        msg = f"`{label}` failed (exit {done.returncode}):\n{redact(tail)}"
        raise GateFailed(msg)


def _build_into(
    root: Path, dist_dir: Path, kinds: list[str], *, epoch: int | None, isolation: bool
) -> None:
    require("build", purpose="building the sdist and wheel")
    dist_dir.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if epoch is not None:
        env["SOURCE_DATE_EPOCH"] = str(epoch)
    staging = Path(tempfile.mkdtemp(dir=dist_dir.parent, prefix=f".{dist_dir.name}-build-"))
    try:
        argv = [sys.executable, "-m", "build", *kinds, "--outdir", str(staging), str(root)]
        if not isolation:
            argv.append("--no-isolation")
        _run(argv, cwd=root, env=env, label="python -m build")
        for built in sorted(staging.iterdir()):
            built.replace(dist_dir / built.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def build(
    root: Path,
    dist_dir: Path,
    *,
    name: str,
    version: str,
    epoch: int | None = None,
    isolation: bool = True,
) -> Artifacts:
    """Make what is missing of the sdist and wheel of `version`, check all, write SHA256SUMS.

    Wheels already in `dist_dir` (from an earlier run, or gathered from the CI matrix's
    cibuildwheel jobs) are kept as they are; only a missing sdist or wheel is built.
    """
    files = distributions(dist_dir, name, version)
    need_sdist = not any(not f.name.endswith(".whl") for f in files)
    need_wheel = not any(f.name.endswith(".whl") for f in files)
    if need_sdist or need_wheel:
        # Both missing: build's default, the sdist first and the wheel from it.
        kinds = [] if need_sdist and need_wheel else ["--sdist" if need_sdist else "--wheel"]
        _build_into(root, dist_dir, kinds, epoch=epoch, isolation=isolation)
        files = distributions(dist_dir, name, version)
    if not files:
        msg = (
            f"the build made no distribution of {name} {version} in {dist_dir}; "
            "is [project].version (or the version file) what the tag says?"
        )
        raise GateFailed(msg)

    require("twine", purpose="checking the distributions")
    _run(
        [sys.executable, "-m", "twine", "--no-color", "check", *map(str, files)],
        cwd=root,
        label="twine check",
    )
    return Artifacts(files=files, sums=write_sums(dist_dir, files), built=need_sdist or need_wheel)

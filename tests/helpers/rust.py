"""Sample Cargo crates made in temp dirs, and the cargo environment the tests share."""

from __future__ import annotations

import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from helpers.projects import write_files

HAVE_CARGO = shutil.which("cargo") is not None
needs_cargo = pytest.mark.skipif(not HAVE_CARGO, reason="cargo is not installed")


def _has_nightly() -> bool:
    if not HAVE_CARGO or shutil.which("rustup") is None:
        return False
    done = subprocess.run(
        ["rustup", "run", "nightly", "rustc", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return done.returncode == 0


needs_nightly = pytest.mark.skipif(not _has_nightly(), reason="no nightly Rust toolchain")

LIB = """
//! A sample crate.

/// Adds two numbers.
pub fn add(a: u64, b: u64) -> u64 {
    a + b
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds() {
        assert_eq!(add(1, 2), 3);
    }
}
"""

INTEGRATION = """
#[test]
fn adds_from_outside() {
    assert_eq!(sample::add(2, 2), 4);
}
"""

NOXFILE = "from shipyard.sessions import *  # noqa: F403\n"


def cargo_toml(name: str = "sample", *, extra: str = "") -> str:
    return (
        f'[package]\nname = "{name}"\nversion = "0.1.0"\nedition = "2021"\n'
        f'license = "MIT"\n\n{textwrap.dedent(extra)}'
    )


def write_crate(root: Path, files: dict[str, str] | None = None, *, name: str = "sample") -> Path:
    """A library crate with one unit test, one integration test and a noxfile."""
    base = {
        "Cargo.toml": cargo_toml(name),
        "src/lib.rs": LIB,
        "tests/outside.rs": INTEGRATION.replace("sample::", f"{name}::"),
        "noxfile.py": NOXFILE,
    }
    write_files(root, {**base, **(files or {})})
    return root


def cargo_env(target_dir: Path) -> dict[str, str]:
    """Offline cargo with one target dir for the whole run: crates compile once."""
    return {"CARGO_TARGET_DIR": str(target_dir), "CARGO_NET_OFFLINE": "true"}


def apply_cargo_env(monkeypatch: pytest.MonkeyPatch, target_dir: Path) -> None:
    for key, value in cargo_env(target_dir).items():
        monkeypatch.setenv(key, value)
    # The tests choose the toolchain and the rustdoc flags themselves.
    for key in ("RUSTDOCFLAGS", "RUSTUP_TOOLCHAIN"):
        monkeypatch.delenv(key, raising=False)

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
    # The tests choose the toolchain, the rustdoc flags and whether they are on CI themselves
    # (on CI a missing coverage tool is an error, and rustup may install toolchains).
    for key in ("RUSTDOCFLAGS", "RUSTUP_TOOLCHAIN", "CI", "GITHUB_STEP_SUMMARY"):
        monkeypatch.delenv(key, raising=False)


def commit_all(root: Path) -> None:
    """Make `root` a git repository on `main` with everything in one commit."""
    identity = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
    for argv in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "add", "-A"],
        ["git", *identity, "-c", "commit.gpgsign=false", "commit", "-qm", "sample"],
    ):
        subprocess.run(argv, cwd=root, check=True, capture_output=True, timeout=60)


#: Source replacement: crates.io's packages come from `vendor/`, so cargo resolves and locks
#: them offline while Cargo.lock still names crates.io as their source.
VENDORED_CONFIG = """
[source.crates-io]
replace-with = "vendored"

[source.vendored]
directory = "vendor"
"""


def write_vendored_crate(
    root: Path, dependencies: dict[str, tuple[str, str]], files: dict[str, str] | None = None
) -> Path:
    """A crate depending on crates.io crates (name -> (version, licence)) vendored beside it.

    `cargo generate-lockfile` then writes a real Cargo.lock naming them as crates.io
    packages, with no network.
    """
    deps = "".join(f'{name} = "={version}"\n' for name, (version, _) in dependencies.items())
    crates: dict[str, str] = {}
    for name, (version, licence) in dependencies.items():
        crates[f"vendor/{name}/Cargo.toml"] = (
            f'[package]\nname = "{name}"\nversion = "{version}"\nedition = "2021"\n'
            f'license = "{licence}"\n'
        )
        crates[f"vendor/{name}/src/lib.rs"] = "//! Vendored.\n"
        crates[f"vendor/{name}/.cargo-checksum.json"] = '{"files": {}, "package": null}\n'
    base = {
        "Cargo.toml": cargo_toml(extra=f"[dependencies]\n{deps}"),
        ".cargo/config.toml": VENDORED_CONFIG,
        **crates,
    }
    write_crate(root, {**base, **(files or {})})
    subprocess.run(
        ["cargo", "generate-lockfile", "--offline"],
        cwd=root,
        check=True,
        capture_output=True,
        timeout=120,
    )
    return root


# -- benchmarks -----------------------------------------------------------------------------

#: A library whose `work` does `ROUNDS` dependent steps: time grows linearly with ROUNDS.
BENCHED_LIB = """
//! A sample crate with a benchmark.

/// Steps one call of [`work`] takes.
pub const ROUNDS: u64 = {rounds};

/// Adds two numbers.
pub fn add(a: u64, b: u64) -> u64 {{
    a + b
}}

/// A serial chain of multiply-adds: `rounds` steps that cannot overlap.
pub fn work(rounds: u64) -> u64 {{
    let mut acc = 1u64;
    for i in 0..rounds {{
        acc = acc
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(i ^ (acc >> 7));
    }}
    acc
}}

#[cfg(test)]
mod tests {{
    #[test]
    fn works() {{
        assert_ne!(super::work(3), 0);
    }}
}}
"""

#: A std-only `harness = false` benchmark: many short samples, as shipyard's generic JSON
#: in $SHIPYARD_BENCH_DIR. The bench gate's 10th percentile keeps the quiet ones.
HARNESS = """
//! Times `sample::work` in many short samples; writes shipyard's generic JSON.

use std::env;
use std::fs;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Instant;

const SAMPLES: usize = 300;
const CALLS: u32 = 50;

fn main() {
    for _ in 0..CALLS {
        black_box(sample::work(black_box(sample::ROUNDS)));
    }
    let mut samples = Vec::with_capacity(SAMPLES);
    for _ in 0..SAMPLES {
        let start = Instant::now();
        for _ in 0..CALLS {
            black_box(sample::work(black_box(sample::ROUNDS)));
        }
        let nanos = start.elapsed().as_secs_f64() * 1e9 / f64::from(CALLS);
        samples.push(format!("{nanos:.1}"));
    }
    let head = r#"{"benchmarks": [{"name": "work", "unit": "ns", "samples": ["#;
    let json = format!("{head}{}]}}]}}\\n", samples.join(", "));
    match env::var_os("SHIPYARD_BENCH_DIR") {
        Some(dir) => fs::write(PathBuf::from(dir).join("work.json"), json).expect("written"),
        None => print!("{json}"),
    }
}
"""

HARNESS_TARGET = '\n[[bench]]\nname = "work"\nharness = false\n'


def benched_files(rounds: int = 4000) -> dict[str, str]:
    """A crate whose `benches/work.rs` harness times `work(ROUNDS)`."""
    return {
        "Cargo.toml": cargo_toml(extra=HARNESS_TARGET),
        "src/lib.rs": BENCHED_LIB.format(rounds=rounds),
        "benches/work.rs": HARNESS,
    }


def slow_down(root: Path, *, by_percent: int = 25, rounds: int = 4000) -> None:
    """Make `work` do `by_percent` more steps: the injected regression."""
    lib = root / "src/lib.rs"
    slower = rounds * (100 + by_percent) // 100
    text = lib.read_text(encoding="utf-8")
    assert f"ROUNDS: u64 = {rounds};" in text
    lib.write_text(text.replace(f"ROUNDS: u64 = {rounds};", f"ROUNDS: u64 = {slower};"))


#: libtest's `#[bench]` on nightly, left out on stable (a build script sets `cfg(nightly)`),
#: so that stable clippy and tests still build every target.
NIGHTLY_BUILD_RS = """
//! Sets `cfg(nightly)` on a nightly compiler, where libtest's `#[bench]` exists.

use std::env;
use std::process::Command;

fn main() {
    println!("cargo::rustc-check-cfg=cfg(nightly)");
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    if let Ok(out) = Command::new(rustc).arg("--version").output() {
        if String::from_utf8_lossy(&out.stdout).contains("nightly") {
            println!("cargo::rustc-cfg=nightly");
        }
    }
}
"""

LIBTEST_BENCH = """
#![cfg_attr(nightly, feature(test))]
#[cfg(nightly)]
extern crate test;
{lib}
#[cfg(all(test, nightly))]
mod benches {{
    use test::{{black_box, Bencher}};

    #[bench]
    fn bench_work(b: &mut Bencher) {{
        b.iter(|| super::work(black_box(super::ROUNDS)));
    }}
}}
"""


def libtest_files(rounds: int = 4000) -> dict[str, str]:
    """A crate with one libtest `#[bench]` (run on nightly)."""
    lib = BENCHED_LIB.format(rounds=rounds).replace("\n//! A sample crate with a benchmark.\n", "")
    return {
        "build.rs": NIGHTLY_BUILD_RS,
        "src/lib.rs": "//! A sample crate with a libtest benchmark.\n"
        + LIBTEST_BENCH.format(lib=lib),
    }

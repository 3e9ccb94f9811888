"""Cargo crates through the real nox sessions and the stage functions, with real cargo.

The crates are made in temp dirs, have no dependencies from crates.io (it is not
reachable here) and share one CARGO_TARGET_DIR, so each compiles once per run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from helpers.projects import run_nox
from helpers.rust import apply_cargo_env, cargo_toml, needs_cargo, write_crate
from shipyard import config
from shipyard.report import Status, read_result
from shipyard.stages import coverage, lint, test
from shipyard.stages.toolchains import rust
from shipyard.tools import ToolEnv

pytestmark = [pytest.mark.slow, needs_cargo]


@pytest.fixture(scope="session")
def cargo_target(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cargo-target")


@pytest.fixture(autouse=True)
def _offline_cargo(monkeypatch: pytest.MonkeyPatch, cargo_target: Path) -> None:
    apply_cargo_env(monkeypatch, cargo_target)


@pytest.fixture(scope="session")
def host() -> str:
    done = subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True)
    return next(x.split(": ")[1] for x in done.stdout.splitlines() if x.startswith("host:"))


def results(root: Path) -> dict[str, dict[str, object]]:
    reports = root / ".shipyard" / "reports"
    return {p.stem: read_result(p).to_json() for p in reports.glob("*.json")}


def rules(result: dict[str, object]) -> set[tuple[str, str]]:
    findings = result["findings"]
    assert isinstance(findings, list)
    return {(f["tool"], f["rule"]) for f in findings}


# -- the nox sessions ---------------------------------------------------------------------

#: The sessions `nox -s ci` composes that a crate needs; `ci` itself also requires the audit
#: and bench sessions, whose installs need the network or a released shipyard (see docs/rust.md).
SESSIONS = ("lint", "test", "coverage")


def test_a_clean_crate_passes_lint_test_and_coverage(tmp_path: Path, host: str) -> None:
    root = write_crate(tmp_path / "clean")
    done = run_nox(root, "-s", *SESSIONS)
    assert done.returncode == 0, done.stderr[-3000:]
    found = results(root)
    assert found["lint"]["status"] == "passed"
    tested = found[f"test-{host}"]
    assert tested["status"] == "passed"
    assert tested["metrics"]["test.tests"] == 2  # one unit test, one integration test
    assert (root / f".shipyard/reports/junit-{host}.xml").is_file()
    # No pytest, no ruff: the session's virtualenv holds nothing for Rust.
    assert "ruff" not in done.stderr


def test_a_formatting_error_fails_lint(tmp_path: Path) -> None:
    root = write_crate(
        tmp_path / "unformatted",
        {"src/lib.rs": "//! Sample.\n\n/// Adds.\npub fn add(a: u64, b: u64) -> u64 { a+b }\n"},
    )
    done = run_nox(root, "-s", *SESSIONS)
    assert done.returncode == 1
    lint_result = results(root)["lint"]
    assert lint_result["status"] == "failed"
    assert ("rustfmt", "format") in rules(lint_result)
    assert "src/lib.rs:4: [format] file is not formatted" in done.stderr
    assert "lint: failed (1 finding(s), more than gates.lint-warnings = 0)" in done.stderr


def test_a_clippy_warning_fails_lint(tmp_path: Path) -> None:
    lib = "//! Sample.\n\n/// Adds.\npub fn add(a: u64, b: u64) -> u64 {\n    return a + b;\n}\n"
    root = write_crate(tmp_path / "clippy", {"src/lib.rs": lib})
    done = run_nox(root, "-s", *SESSIONS)
    assert done.returncode == 1
    lint_result = results(root)["lint"]
    assert lint_result["status"] == "failed"
    assert rules(lint_result) == {("clippy", "clippy::needless_return")}
    assert "src/lib.rs:5: [clippy::needless_return]" in done.stderr


def test_a_failing_test_fails_its_target(tmp_path: Path, host: str) -> None:
    failing = "#[test]\nfn adds_from_outside() {\n"
    failing += '    assert_eq!(sample::add(2, 2), 5, "off by one");\n}\n'
    root = write_crate(tmp_path / "failing", {"tests/outside.rs": failing})
    done = run_nox(root, "-s", *SESSIONS)
    assert done.returncode == 1
    tested = results(root)[f"test-{host}"]
    assert tested["status"] == "failed"
    assert tested["reason"] == "1 of 2 test(s) failed"
    (finding,) = tested["findings"]
    assert (finding["path"], finding["line"], finding["tool"]) == (
        "tests/outside.rs",
        3,
        "cargo test",
    )
    assert "off by one" in finding["message"]
    assert f"test-{host}: failed (1 of 2 test(s) failed)" in done.stderr
    assert results(root)["lint"]["status"] == "passed"


# -- the stages, called directly --------------------------------------------------------


def test_rustdoc_warnings_are_lint_findings(tmp_path: Path) -> None:
    lib = (
        "//! Sample.\n\n/// Links to [`Missing`].\n"
        "pub fn add(a: u64, b: u64) -> u64 {\n    a + b\n}\n"
    )
    root = write_crate(tmp_path / "docs", {"src/lib.rs": lib})
    result = lint.run_lint(config.load(root), ToolEnv())
    assert result.status is Status.FAILED
    (finding,) = result.findings
    assert (finding.tool, finding.rule, finding.path, finding.line) == (
        "rustdoc",
        "rustdoc::broken_intra_doc_links",
        "src/lib.rs",
        3,
    )


def test_a_compile_error_fails_the_tests_with_the_compiler_s_words(
    tmp_path: Path, host: str
) -> None:
    root = write_crate(
        tmp_path / "broken", {"tests/outside.rs": '#[test]\nfn t() { let x: u8 = "no"; }\n'}
    )
    result = test.run_tests(config.load(root), ToolEnv(), target=host)
    assert result.status is Status.FAILED
    assert result.reason == "cargo test could not build the tests: 1 compiler error(s)"
    assert [(f.rule, f.path, f.line) for f in result.findings] == [("E0308", "tests/outside.rs", 2)]


def test_a_crate_without_tests_fails_like_pytest_collecting_none(tmp_path: Path, host: str) -> None:
    root = write_crate(tmp_path / "untested", {"src/lib.rs": "//! Nothing.\n"})
    (root / "tests/outside.rs").unlink()
    result = test.run_tests(config.load(root), ToolEnv(), target=host)
    assert result.status is Status.FAILED
    assert result.reason.startswith("no tests ran")


def _without_coverage_tools(cfg: config.Config) -> tuple[config.Config, ToolEnv]:
    cargo = shutil.which("cargo")
    assert cargo is not None
    only_cargo = ToolEnv(env={"PATH": str(Path(cargo).parent)})
    forced = dataclasses.replace(cfg, rust=dataclasses.replace(cfg.rust, coverage="tarpaulin"))
    assert only_cargo.which("cargo-tarpaulin") is None
    return forced, only_cargo


def test_no_coverage_tool_is_a_visible_skip_here_and_an_error_on_ci(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cfg, tools = _without_coverage_tools(config.load(write_crate(tmp_path / "cov")))
    skipped = coverage.run_coverage(cfg, tools)
    assert skipped.status is Status.SKIPPED
    assert "cargo-llvm-cov" in skipped.reason
    assert "skipped here, an error on CI" in skipped.reason
    monkeypatch.setenv("CI", "true")
    failed = coverage.run_coverage(cfg, tools)
    assert failed.status is Status.FAILED
    assert "on CI a missing tool is an error" in failed.reason


@pytest.mark.skipif(
    shutil.which("cargo-llvm-cov") is None, reason="cargo-llvm-cov is not installed"
)
def test_llvm_cov_measures_and_the_floor_applies(tmp_path: Path) -> None:
    lib = (
        "//! Sample.\n\n/// Adds.\npub fn add(a: u64, b: u64) -> u64 {\n    a + b\n}\n\n"
        "/// Never called.\npub fn unused(a: u64) -> u64 {\n"
        "    if a > 3 {\n        a\n    } else {\n"
        "        a * 2\n    }\n}\n"
    )
    root = write_crate(
        tmp_path / "measured",
        {
            "src/lib.rs": lib,
            "Cargo.toml": cargo_toml() + "\n[package.metadata.shipyard.gates]\ncoverage = 90\n",
        },
    )
    result = coverage.run_coverage(config.load(root), ToolEnv())
    assert result.status is Status.FAILED, result.reason
    assert "below the floor gates.coverage = 90 %" in result.reason
    assert 0 < float(result.metrics["coverage.percent"]) < 90
    assert ".shipyard/reports/coverage/lcov.info" in result.artifacts


def test_release_assets_are_named_per_platform_with_checksums(tmp_path: Path, host: str) -> None:
    root = write_crate(
        tmp_path / "app",
        {"src/main.rs": 'fn main() {\n    println!("{}", sample::add(1, 2));\n}\n'},
    )
    cfg = config.load(root)
    cell = next(c for c in rust.TOOLCHAIN.cells(cfg) if c.id == host)
    (asset,) = rust.TOOLCHAIN.release_assets(cfg, ToolEnv(), cell=cell, out_dir=root / "dist")
    assert asset.path.name == rust.asset_name("sample", host)
    assert asset.sha256 == hashlib.sha256(asset.path.read_bytes()).hexdigest()
    checksum = asset.path.with_name(asset.path.name + ".sha256").read_text()
    assert checksum == f"{asset.sha256}  {asset.path.name}\n"
    ran = subprocess.run([str(asset.path)], capture_output=True, text=True, check=True)
    assert ran.stdout == "3\n"


def test_licences_come_from_cargo_metadata_without_dev_dependencies(tmp_path: Path) -> None:
    write_crate(tmp_path / "helper", name="helper")
    (tmp_path / "helper/Cargo.toml").write_text(
        cargo_toml("helper").replace('license = "MIT"', 'license = "MIT/Apache-2.0"')
    )
    write_crate(tmp_path / "only-tests", name="only_tests")
    deps = (
        '[dependencies]\nhelper = { path = "../helper" }\n\n'
        '[dev-dependencies]\nonly_tests = { path = "../only-tests" }\n'
    )
    root = write_crate(tmp_path / "app", {"Cargo.toml": cargo_toml(extra=deps)})
    found = rust.TOOLCHAIN.licences(config.load(root), ToolEnv())
    assert [(p.name, p.version, p.expression) for p in found] == [
        ("helper", "0.1.0", "MIT OR Apache-2.0")
    ]


def test_on_ci_rustup_installs_only_what_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("rustup") is None:
        pytest.skip("cargo is not managed by rustup here")
    cfg = config.load(write_crate(tmp_path / "ci"))
    monkeypatch.setenv("CI", "true")
    # clippy and rustfmt are there: nothing to fetch, so this works offline.
    rust.ensure_toolchain(cfg, ToolEnv(), components=("clippy", "rustfmt"))
    monkeypatch.setenv("CI", "")
    # Off CI nothing is installed, whatever is missing.
    rust.ensure_toolchain(cfg, ToolEnv(), components=("no-such-component",))

"""Cargo crates through the real nox sessions and the stage functions, with real cargo.

The crates are made in temp dirs, have no dependencies from crates.io (it is not
reachable here) and share one CARGO_TARGET_DIR, so each compiles once per run.
"""

from __future__ import annotations

import dataclasses
import hashlib
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from helpers.projects import run_nox
from helpers.rust import (
    apply_cargo_env,
    benched_files,
    cargo_toml,
    commit_all,
    needs_cargo,
    slow_down,
    write_crate,
)
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


# -- nox -s ci ----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def nox_envdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One set of session virtualenvs for every crate: each installs once per run."""
    return tmp_path_factory.mktemp("nox-envs")


@pytest.fixture
def ci(nox_envdir: Path, tmp_path: Path) -> Callable[[Path], subprocess.CompletedProcess[str]]:
    """`nox -s ci` in a crate, with the shared virtualenvs and a bench history of its own."""

    def run(root: Path, *sessions: str) -> subprocess.CompletedProcess[str]:
        args = [a for name in sessions or ("ci",) for a in ("-s", name)]
        env = {"SHIPYARD_STATE_DIR": str(tmp_path / "state")}
        return run_nox(root, "--envdir", str(nox_envdir), *args, env=env)

    return run


def summary(root: Path) -> dict[str, tuple[str, str]]:
    """The stage table of `.shipyard/reports/summary.md`: stage -> (status, details)."""
    lines = summary_text(root).splitlines()
    first = lines.index("| stage | status | time | details |")
    rows = {}
    for line in lines[first + 2 :]:
        if not line.startswith("|"):
            break
        stage, status, _, details = (c.strip() for c in line.strip("|").split("|"))
        rows[stage] = (status.split()[-1], details)
    return rows


def verdicts(root: Path) -> dict[str, str]:
    return {stage: status for stage, (status, _) in summary(root).items()}


def clean_except(host: str, changed: dict[str, str] | None = None) -> dict[str, str]:
    """A clean crate's ci verdicts, with the stages of `changed` differing."""
    coverage = shutil.which("cargo-llvm-cov") or shutil.which("cargo-tarpaulin")
    clean = {
        "lint": "passed",
        f"test-{host}": "passed",
        # Without cargo-llvm-cov or cargo-tarpaulin: a visible skip (off CI).
        "coverage": "passed" if coverage else "skipped",
        "audit": "passed",
        "bench": "skipped",
        "docker": "skipped",  # a crate with no Dockerfile has no image variants
    }
    return {**clean, **(changed or {})}


def test_a_clean_crate_passes_the_whole_ci(tmp_path: Path, host: str, ci) -> None:
    root = write_crate(tmp_path / "clean")
    commit_all(root)  # the secrets check reads the git history too
    done = ci(root)
    assert done.returncode == 0, done.stderr[-3000:]
    assert verdicts(root) == clean_except(host)
    found = results(root)
    assert found[f"test-{host}"]["metrics"]["test.tests"] == 2  # one unit, one integration
    assert (root / f".shipyard/reports/junit-{host}.xml").is_file()
    # Not a Python project: no ruff, no pytest, no SBOM of a Python environment.
    assert "ruff" not in done.stderr
    assert summary(root)["audit"][1].startswith("sbom skipped: cyclonedx-py describes Python")
    assert summary(root)["bench"][1].endswith("; no rust benchmarks")


def test_a_formatting_error_fails_lint_in_the_ci_summary(tmp_path: Path, host: str, ci) -> None:
    root = write_crate(
        tmp_path / "unformatted",
        {"src/lib.rs": "//! Sample.\n\n/// Adds.\npub fn add(a: u64, b: u64) -> u64 { a+b }\n"},
    )
    commit_all(root)
    done = ci(root)
    assert done.returncode == 1
    assert verdicts(root) == clean_except(host, {"lint": "failed"})
    assert summary(root)["lint"][1] == "1 finding(s), more than gates.lint-warnings = 0"
    assert ("rustfmt", "format") in rules(results(root)["lint"])
    assert "src/lib.rs:4: [format] file is not formatted" in done.stderr


def test_a_clippy_warning_fails_lint_in_the_ci_summary(tmp_path: Path, host: str, ci) -> None:
    lib = "//! Sample.\n\n/// Adds.\npub fn add(a: u64, b: u64) -> u64 {\n    return a + b;\n}\n"
    root = write_crate(tmp_path / "clippy", {"src/lib.rs": lib})
    commit_all(root)
    done = ci(root)
    assert done.returncode == 1
    assert verdicts(root) == clean_except(host, {"lint": "failed"})
    assert rules(results(root)["lint"]) == {("clippy", "clippy::needless_return")}
    assert "| clippy::needless_return | src/lib.rs:5 |" in summary_text(root)


def test_a_failing_test_fails_its_target_in_the_ci_summary(tmp_path: Path, host: str, ci) -> None:
    failing = "#[test]\nfn adds_from_outside() {\n"
    failing += '    assert_eq!(sample::add(2, 2), 5, "off by one");\n}\n'
    root = write_crate(tmp_path / "failing", {"tests/outside.rs": failing})
    commit_all(root)
    done = ci(root)
    assert done.returncode == 1
    assert verdicts(root) == clean_except(host, {f"test-{host}": "failed"})
    assert summary(root)[f"test-{host}"][1] == "1 of 2 test(s) failed"
    (finding,) = results(root)[f"test-{host}"]["findings"]
    assert (finding["path"], finding["line"], finding["tool"]) == (
        "tests/outside.rs",
        3,
        "cargo test",
    )
    assert "off by one" in finding["message"]


# Timing on a shared 2-core machine: one rerun when load swamped the 25 % (pytest-rerunfailures).
@pytest.mark.flaky(reruns=1)
def test_a_25_percent_slower_bench_fails_bench_in_the_ci_summary(
    tmp_path: Path, host: str, ci
) -> None:
    root = write_crate(tmp_path / "benched", benched_files())
    commit_all(root)
    # The baseline: this commit's run, recorded in the bench history.
    first = ci(root, "bench")
    assert first.returncode == 0, first.stderr[-3000:]
    assert results(root)["bench"]["reason"].startswith("no baseline yet")

    slow_down(root, by_percent=25)
    done = ci(root)

    assert done.returncode == 1
    assert verdicts(root) == clean_except(host, {"bench": "failed"})
    details = summary(root)["bench"][1]
    assert details.startswith("critical regression against history run of merge-base"), details
    assert "| critical | bench-critical |  | work: critical +" in summary_text(root)


def summary_text(root: Path) -> str:
    return (root / ".shipyard/reports/summary.md").read_text(encoding="utf-8")


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

"""The Rust toolchain: cargo fmt, clippy, rustdoc, cargo test, llvm-cov, cargo bench.

cargo and its tools come from PATH (rustup's proxies or a distribution's
cargo); the nox session's virtualenv is not used for them. `rust.toolchain`
picks a rustup toolchain through `RUSTUP_TOOLCHAIN`; libtest `#[bench]`
benchmarks run on `rust.nightly`. `CARGO_TARGET_DIR`, `CARGO_NET_OFFLINE` and
the other cargo variables of the environment are honoured.
"""

from __future__ import annotations

import os
import shutil
import sys
from fractions import Fraction
from pathlib import Path

from shipyard import matrix
from shipyard.config import Config
from shipyard.errors import ConfigError, ToolMissing
from shipyard.report import Finding, Severity, write_atomic
from shipyard.stages.toolchains import cargo_output, cargo_project
from shipyard.stages.toolchains.interface import (
    Asset,
    Cell,
    CoverageRun,
    LintReport,
    PackageLicence,
    Pin,
    Requirements,
    SessionStage,
    TestRun,
    Toolchain,
    on_ci,
    sha256_of,
)
from shipyard.tools import Completed, ToolEnv

__all__ = [
    "BENCH_DIR_VARIABLE",
    "TOOLCHAIN",
    "RustToolchain",
    "asset_name",
    "ensure_toolchain",
    "platform_of",
]

_TABLE = "tool.shipyard.rust"


# -- targets -------------------------------------------------------------------------------


def platform_of(triple: str) -> tuple[str, str]:
    """(os, arch) of a target triple, in the matrix's words: ('macos', 'arm64')."""
    parts = triple.split("-")
    if "linux" in parts[1:] or any(p.startswith("linux") for p in parts[1:]):
        os_name = "linux"
    elif "darwin" in parts[1:]:
        os_name = "macos"
    elif "windows" in parts[1:]:
        os_name = "windows"
    else:
        msg = f"{triple!r} is not a Linux, macOS or Windows target; no runner runs it."
        raise ConfigError(msg)
    return os_name, matrix.normalize_arch(os_name, parts[0])


def asset_name(binary: str, triple: str) -> str:
    """`tool-linux-x86_64`, `tool-macos-arm64`, `tool-windows-amd64.exe`."""
    os_name, arch = platform_of(triple)
    return f"{binary}-{os_name}-{arch}" + (".exe" if os_name == "windows" else "")


def _cells(config: Config) -> tuple[Cell, ...]:
    runners = dict(matrix.DEFAULT_RUNNERS)
    for key, label in config.matrix.runners.items():
        runners[matrix.parse_platform(key)] = label
    cells = []
    for index, triple in enumerate(dict.fromkeys(config.rust.targets)):
        try:
            os_name, arch = platform_of(triple)
        except ConfigError as exc:
            raise ConfigError(
                exc.message, path=config.pyproject, key=f"{_TABLE}.targets[{index}]"
            ) from None
        runner = runners.get((os_name, arch), "")
        cells.append(Cell(id=triple, os=os_name, arch=arch, runner=runner, triple=triple))
    return tuple(cells)


# -- running cargo -------------------------------------------------------------------------


def _env(config: Config, *, toolchain: str | None = None, **extra: str) -> dict[str, str]:
    env = {"CARGO_TERM_COLOR": "never", **extra}
    chosen = toolchain or config.rust.toolchain
    if chosen:
        env["RUSTUP_TOOLCHAIN"] = chosen
    return env


def _features(config: Config) -> list[str]:
    return ["--all-features"] if config.rust.features == "all" else []


def _tail(done: Completed, lines: int = 8) -> str:
    text = cargo_output.plain_lines(done.stdout + "\n" + done.stderr).strip().splitlines()
    return "\n".join(text[-lines:]) or f"exit code {done.returncode}"


def _failed(tool: str, done: Completed) -> Finding:
    # The tool itself failed (a missing component, a broken manifest): keep its words.
    message = f"`{' '.join(done.argv)}` failed: {_tail(done)}"
    return Finding(rule=tool, message=message, severity=Severity.HIGH, tool=tool)


def _installed(config: Config, tools: ToolEnv, name: str) -> list[str] | None:
    argv = ["rustup", "component", "list", "--installed", "--toolchain", name]
    done = tools.run(argv, cwd=config.root)
    return done.stdout.split() if done.returncode == 0 else None


def ensure_toolchain(
    config: Config, tools: ToolEnv, *, components: tuple[str, ...] = (), name: str | None = None
) -> None:
    """On CI, install the toolchain and its components with rustup when they are missing.

    Hosted runners have rustup and a stable toolchain, not every component; locally
    nothing is installed behind a person's back (a missing tool is then named).
    """
    if not on_ci({**os.environ, **tools.env}) or tools.which("rustup") is None:
        return
    name = name or config.rust.toolchain or "stable"
    have = _installed(config, tools, name)
    if have is not None and all(
        any(c.startswith(want.removesuffix("-preview") + "-") for c in have) for want in components
    ):
        return
    argv = ["rustup", "toolchain", "install", name, "--profile", "minimal", "--no-self-update"]
    argv += ["--component", ",".join(components)] if components else []
    done = tools.run(argv, cwd=config.root)
    if done.returncode != 0:
        msg = f"rustup could not install {name} ({', '.join(components) or 'no components'}): "
        raise ToolMissing(msg + _tail(done, 3))


def host_triple(tools: ToolEnv, config: Config) -> str | None:
    done = tools.run(["rustc", "-vV"], cwd=config.root, env=_env(config))
    for line in done.stdout.splitlines():
        if line.startswith("host:"):
            return line.split(":", 1)[1].strip()
    return None


# -- lint ----------------------------------------------------------------------------------


def _fmt(config: Config, tools: ToolEnv) -> list[Finding]:
    argv = ["cargo", "fmt", "--all", "--", "--check", "--color", "never"]
    done = tools.run(argv, cwd=config.root, env=_env(config))
    findings = cargo_output.fmt_findings(done.stdout, config.root)
    if done.returncode != 0 and not findings:
        findings.append(_failed("rustfmt", done))
    return findings


def _clippy(config: Config, tools: ToolEnv) -> list[Finding]:
    argv = ["cargo", "clippy", "--workspace", "--all-targets", *_features(config)]
    argv += ["--message-format=json", "--", "-D", "warnings", *config.rust.clippy_args]
    done = tools.run(argv, cwd=config.root, env=_env(config))
    findings = cargo_output.diagnostics(done.stdout, config.root, tool="clippy")
    if done.returncode != 0 and not findings:
        findings.append(_failed("clippy", done))
    return findings


def _doc(config: Config, tools: ToolEnv) -> list[Finding]:
    argv = ["cargo", "doc", "--workspace", "--no-deps", *_features(config)]
    argv += ["--message-format=json"]
    flags = " ".join([*os.environ.get("RUSTDOCFLAGS", "").split(), "-D", "warnings"])
    done = tools.run(argv, cwd=config.root, env=_env(config, RUSTDOCFLAGS=flags))
    findings = cargo_output.diagnostics(done.stdout, config.root, tool="rustdoc")
    if done.returncode != 0 and not findings:
        findings.append(_failed("rustdoc", done))
    return findings


# -- test ----------------------------------------------------------------------------------


def _test(
    config: Config, tools: ToolEnv, cell: Cell, junit: Path, extra_args: tuple[str, ...]
) -> TestRun:
    argv = ["cargo", "test", "--workspace", "--no-fail-fast", *_features(config)]
    if cell.triple and cell.triple != host_triple(tools, config):
        argv += ["--target", cell.triple]
    argv += ["--message-format=json", *config.rust.test_args, *extra_args]
    done = tools.run(argv, cwd=config.root, env=_env(config), merge_stderr=True)
    sys.stderr.write(cargo_output.plain_lines(done.stdout))

    # libtest's plain output, suite by suite, becomes the JUnit file the stage reads.
    suites = cargo_output.parse_libtest(done.stdout)
    cargo_output.write_junit(suites, junit)
    errors = [
        f
        for f in cargo_output.diagnostics(done.stdout, config.root, tool="rustc")
        if f.severity is Severity.HIGH
    ]
    cases = sum(len(s.cases) for s in suites)
    failure = None
    if errors:
        failure = f"cargo test could not build the tests: {len(errors)} compiler error(s)"
    elif done.returncode != 0 and not cases:
        failure = f"cargo test failed before running tests: {_tail(done, 3)}"
    elif done.returncode == 0 and not cases:
        failure = "no tests ran: cargo test found no #[test] functions or doc-tests"
    return TestRun(
        tool="cargo test",
        returncode=done.returncode,
        junit=junit,
        findings=tuple(errors),
        failure=failure,
    )


# -- coverage ------------------------------------------------------------------------------


def _coverage_tool(config: Config, tools: ToolEnv) -> str | None:
    wanted = (
        ("llvm-cov", "tarpaulin") if config.rust.coverage == "auto" else (config.rust.coverage,)
    )
    return next((name for name in wanted if tools.which(f"cargo-{name}")), None)


def _llvm_cov(config: Config, tools: ToolEnv, out: Path) -> CoverageRun:
    summary = out / "rust-coverage.json"
    argv = ["cargo", "llvm-cov", "--workspace", *_features(config), "--json", "--summary-only"]
    done = tools.run([*argv, "--output-path", str(summary)], cwd=config.root, env=_env(config))
    if done.returncode != 0 or not summary.is_file():
        return CoverageRun(failure=f"cargo llvm-cov failed: {_tail(done, 3)}")

    # The same profile data, reported again as lcov (and HTML): no second test run.
    artifacts = [summary]
    reports = [("--lcov", "--output-path", out / "lcov.info")]
    if config.coverage.html:
        reports.append(("--html", "--output-dir", out / "rust-html"))
    for kind, flag, path in reports:
        report = ["cargo", "llvm-cov", "report", kind, flag, str(path)]
        if tools.run(report, cwd=config.root, env=_env(config)).returncode == 0:
            artifacts.append(path)
    totals = cargo_project.read_json(summary)["data"][0]["totals"]
    covered = totals["lines"]["covered"] + totals.get("branches", {}).get("covered", 0)
    measured = totals["lines"]["count"] + totals.get("branches", {}).get("count", 0)
    fraction = Fraction(covered, measured) if measured else None
    return CoverageRun(fraction=fraction, artifacts=tuple(artifacts))


def _tarpaulin(config: Config, tools: ToolEnv, out: Path) -> CoverageRun:
    argv = ["cargo", "tarpaulin", "--workspace", *_features(config), "--skip-clean"]
    argv += ["--out", "Lcov", *(["--out", "Html"] if config.coverage.html else [])]
    done = tools.run([*argv, "--output-dir", str(out)], cwd=config.root, env=_env(config))
    lcov = out / "lcov.info"
    if done.returncode != 0 or not lcov.is_file():
        return CoverageRun(failure=f"cargo tarpaulin failed: {_tail(done, 3)}")
    return CoverageRun(fraction=cargo_project.lcov_fraction(lcov), artifacts=(lcov,))


def _coverage(config: Config, tools: ToolEnv) -> CoverageRun:
    tool = _coverage_tool(config, tools)
    if tool is None:
        msg = (
            "no Rust coverage tool: install cargo-llvm-cov (with rustup's llvm-tools-preview) "
            "or cargo-tarpaulin"
        )
        if on_ci({**os.environ, **tools.env}):
            return CoverageRun(failure=f"{msg} (on CI a missing tool is an error)")
        return CoverageRun(skipped=f"{msg}; skipped here, an error on CI")
    if tool == "llvm-cov":
        ensure_toolchain(config, tools, components=("llvm-tools-preview",))
    out = config.reports / "coverage"
    out.mkdir(parents=True, exist_ok=True)
    run = _llvm_cov(config, tools, out) if tool == "llvm-cov" else _tarpaulin(config, tools, out)
    relative = tuple(
        p.relative_to(config.root) for p in run.artifacts if p.is_relative_to(config.root)
    )
    return CoverageRun(fraction=run.fraction, failure=run.failure, artifacts=relative)


# -- bench ---------------------------------------------------------------------------------


#: The variable naming the directory a `harness = false` bench may write generic JSON into.
BENCH_DIR_VARIABLE = "SHIPYARD_BENCH_DIR"


def _cargo_bench(
    config: Config, tools: ToolEnv, extra_args: tuple[str, ...], harness_dir: Path, *, nightly: bool
) -> str:
    env = _env(
        config,
        toolchain=config.rust.nightly if nightly else None,
        **{BENCH_DIR_VARIABLE: str(harness_dir.resolve())},
    )
    argv = ["cargo", "bench", "--workspace", *_features(config), *extra_args]
    done = tools.run(argv, cwd=config.root, env=env, merge_stderr=True)
    sys.stderr.write(done.stdout)
    if done.returncode != 0:
        toolchain = f" (on {config.rust.nightly}, for #[bench])" if nightly else ""
        msg = f"cargo bench failed{toolchain}: {_tail(done, 5)}"
        raise ToolMissing(msg)
    return done.stdout


def _bench(
    config: Config, tools: ToolEnv, out_dir: Path, extra_args: tuple[str, ...]
) -> tuple[Path, ...]:
    # libtest's #[bench] needs nightly; Criterion (or any harness = false bench) runs on stable.
    nightly = cargo_project.uses_libtest_bench(config.root)
    ensure_toolchain(config, tools, name=config.rust.nightly if nightly else None)
    harness_dir = out_dir / "harness"
    shutil.rmtree(harness_dir, ignore_errors=True)
    harness_dir.mkdir(parents=True)
    for stale in out_dir.glob("libtest-bench*.txt"):
        stale.unlink()

    # libtest prints one median per benchmark and run: each run is one sample.
    found = []
    for run in range(1, config.rust.bench_runs + 1):
        output = _cargo_bench(config, tools, extra_args, harness_dir, nightly=nightly)
        if not cargo_output.has_bench_lines(output):
            break
        text = out_dir / f"libtest-bench-{run}.txt"
        write_atomic(text, output)
        found.append(text)

    # Then Criterion's directory, and what harness = false benches wrote (generic JSON).
    criterion = cargo_project.target_dir(config, tools) / "criterion"
    if any(criterion.rglob("new/estimates.json")):
        found.append(criterion)
    found += sorted(harness_dir.glob("*.json"))
    if not found:
        msg = (
            "cargo bench ran no benchmarks: no #[bench] lines, no Criterion output and no "
            f"generic JSON written into ${BENCH_DIR_VARIABLE}"
        )
        raise ToolMissing(msg)
    return tuple(found)


# -- release -------------------------------------------------------------------------------


def _release_assets(config: Config, tools: ToolEnv, cell: Cell, out_dir: Path) -> tuple[Asset, ...]:
    triple = cell.triple or cell.id
    binaries = config.rust.binaries or cargo_project.binaries(config, tools)
    if not binaries:
        msg = "the package has no binary to ship; add a [[bin]] or set rust.binaries"
        raise ConfigError(msg, path=config.pyproject, key=f"{_TABLE}.binaries")
    argv = ["cargo", "build", "--release", "--target", triple, *_features(config)]
    argv += ["--locked"] if (config.root / "Cargo.lock").is_file() else []
    argv += [arg for name in binaries for arg in ("--bin", name)]
    done = tools.run(argv, cwd=config.root, env=_env(config), stream=True)
    if done.returncode != 0:
        msg = f"cargo build --release --target {triple} failed (exit {done.returncode})"
        raise ToolMissing(msg)

    # Each binary under its platform's name, with a sha256sum-style checksum file beside it.
    built = cargo_project.target_dir(config, tools) / triple / "release"
    suffix = ".exe" if cell.os == "windows" else ""
    assets = []
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in binaries:
        source = built / f"{name}{suffix}"
        target = out_dir / asset_name(name, triple)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copy2(source, partial)
        partial.replace(target)
        digest = sha256_of(target)
        write_atomic(target.with_name(f"{target.name}.sha256"), f"{digest}  {target.name}\n")
        assets.append(Asset(path=target, sha256=digest, target=triple))
    return tuple(assets)


# -- the toolchain -------------------------------------------------------------------------


class RustToolchain(Toolchain):
    name = "rust"
    codeql = "rust"
    markers = ("Cargo.toml",)
    order = 20

    def detect(self, root: Path) -> bool:
        return (root / "Cargo.toml").is_file()

    def requirements(self, config: Config, stage: SessionStage) -> Requirements:  # noqa: ARG002
        # cargo's tools come from PATH; the session's virtualenv holds nothing of Rust's.
        return Requirements()

    def lint(self, config: Config, tools: ToolEnv) -> LintReport:
        ensure_toolchain(config, tools, components=("clippy", "rustfmt"))
        findings = [*_fmt(config, tools), *_clippy(config, tools), *_doc(config, tools)]
        return LintReport(findings=tuple(findings))

    def cells(self, config: Config) -> tuple[Cell, ...]:
        return _cells(config)

    def test(
        self,
        config: Config,
        tools: ToolEnv,
        *,
        cell: Cell,
        junit: Path,
        extra_args: tuple[str, ...],
    ) -> TestRun:
        return _test(config, tools, cell, junit, extra_args)

    def coverage(self, config: Config, tools: ToolEnv) -> CoverageRun:
        return _coverage(config, tools)

    def bench(
        self, config: Config, tools: ToolEnv, *, out_dir: Path, extra_args: tuple[str, ...] = ()
    ) -> tuple[Path, ...]:
        return _bench(config, tools, out_dir, extra_args)

    def has_benchmarks(self, config: Config) -> bool:
        return cargo_project.has_benches(config.root)

    def locked(self, config: Config) -> tuple[Pin, ...]:
        return cargo_project.locked(config.root)

    def licences(self, config: Config, tools: ToolEnv) -> tuple[PackageLicence, ...]:
        return cargo_project.licences(config, tools)

    def release_assets(
        self, config: Config, tools: ToolEnv, *, cell: Cell, out_dir: Path
    ) -> tuple[Asset, ...]:
        return _release_assets(config, tools, cell, out_dir)


TOOLCHAIN = RustToolchain()

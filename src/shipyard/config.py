"""`[tool.shipyard]` in pyproject.toml, read once into frozen, typed records.

Each option is declared once, as a dataclass field: its TOML key is the field
name in kebab-case, its type is the annotation, its help text and extra
checks live in the field's metadata. The loader, the validation messages and
the JSON schema shipped in the package are all derived from those fields.
"""

from __future__ import annotations

import configparser
import dataclasses
import datetime as dt
import difflib
import json
import re
import shlex
import tomllib
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import tomlkit

from shipyard.errors import ConfigError

__all__ = [
    "AuditConfig",
    "BenchConfig",
    "BenchThresholds",
    "Config",
    "CoverageConfig",
    "GatesConfig",
    "LicensePolicy",
    "LintConfig",
    "MatrixConfig",
    "MatrixOverride",
    "MonitorConfig",
    "ProjectMeta",
    "RustConfig",
    "StageConfig",
    "Suppression",
    "TestConfig",
    "load",
    "option",
    "schema",
    "to_json",
    "to_toml",
]

Check = Callable[[Any], str | None]


def option(
    default: Any = dataclasses.MISSING,
    *,
    help: str,  # noqa: A002
    check: Check | None = None,
    arguments: bool = False,
) -> Any:
    """Declare one option: its default, its help text and an optional extra check.

    `check` returns a sentence saying what is expected, or None when the value is fine.
    A list option takes a single string as a one-item list (`skip = "*-win32"`), except
    when `arguments` marks it a command's argument list: there "-x -q" is surely meant
    as two arguments, and is refused rather than passed on as one.
    """
    metadata = {"help": help, "check": check, "arguments": arguments}
    if isinstance(default, (list, dict, set)):
        frozen = tuple(default) if isinstance(default, (list, set)) else dict(default)
        return dataclasses.field(default_factory=lambda: frozen, metadata=metadata)
    if dataclasses.is_dataclass(default) or callable(default):
        factory = default if callable(default) else lambda: default
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def percent(value: Any) -> str | None:
    return None if 0 <= value <= 100 else "a percentage from 0 to 100"  # noqa: PLR2004


def non_negative(value: Any) -> str | None:
    return None if value >= 0 else "a number of 0 or more"


# -- the records -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class GatesConfig:
    coverage: Decimal = option(
        Decimal(80),
        help="Coverage floor in percent; compared on the exact fraction.",
        check=percent,
    )
    lint_warnings: int = option(
        0, help="How many lint findings are allowed before the lint gate fails.", check=non_negative
    )
    max_severity: Literal["info", "low", "medium", "high", "critical"] = option(
        "high", help="Audit findings of this severity or worse fail the audit gate."
    )
    bench_warn: Decimal = option(
        Decimal(10),
        help="A benchmark slowdown over this percent (and significant) warns.",
        check=non_negative,
    )
    bench_fail: Decimal = option(
        Decimal(20),
        help="A benchmark slowdown over this percent (and significant) fails the bench gate.",
        check=non_negative,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class LintConfig:
    ruff: bool = option(default=True, help="Run `ruff format --check` and `ruff check`.")
    mypy: bool | None = option(
        default=None,
        help="Run mypy. Default: only when the project configures mypy ([tool.mypy] or mypy.ini).",
    )
    requirements: tuple[str, ...] = option(
        [], help="Extra requirements for the lint session (mypy plugins, stubs...)."
    )
    extras: tuple[str, ...] = option(
        [], help="Extras of the project installed for lint, so mypy sees optional imports."
    )


# -- workflows ---------------------------------------------------------------------------


def _positive_minutes(value: Any) -> str | None:
    bad = [k for k, v in value.items() if not 1 <= v <= 360]  # noqa: PLR2004
    return f"minutes from 1 to 360 (GitHub's limit) for {', '.join(bad)}" if bad else None


@dataclasses.dataclass(frozen=True, kw_only=True)
class WorkflowsConfig:
    dir: Path = option(Path(".github/workflows"), help="Where `shipyard workflows` writes.")
    files: tuple[Literal["ci", "security", "release", "monitor"], ...] = option(
        ["ci", "security", "release", "monitor"],
        help="Workflows to generate (release and monitor also need their invoke flow).",
    )
    install: str = option(
        "shipyard",
        help="What `pip install` installs on the runners before nox or invoke runs "
        "(shipyard itself uses `.`, to test the commit being built).",
    )
    python: str = option("3.12", help="The Python that runs shipyard, nox and invoke in CI.")
    runner: str = option("ubuntu-24.04", help="Runner label of the jobs outside the matrix.")
    branches: tuple[str, ...] = option(["main", "develop"], help="Branches whose pushes run ci.")
    pull_request_branches: tuple[str, ...] = option(
        ["main"], help="Target branches of the pull requests that run ci."
    )
    default_branch: str = option(
        "main", help="The branch images are pushed from and security scans run on."
    )
    sessions: tuple[str, ...] | None = option(
        None,
        help="nox sessions that get a job in ci.yml. Default: what `nox -s ci` runs, each "
        "stage of tool.shipyard.pipeline that the noxfile has and every custom stage "
        "(tool.shipyard.stages), its `needs` mapped to jobs.",
    )
    timeouts: Mapping[str, int] = option(
        {},
        help="Minutes per job id (like `test = 60`), over shipyard's defaults.",
        check=_positive_minutes,
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class TestConfig:
    pytest_args: tuple[str, ...] = option(
        [], help="Extra arguments passed to pytest.", arguments=True
    )
    extras: tuple[str, ...] | None = option(
        None,
        help="Extras of the project installed for tests. Default: `test` or `tests` when defined.",
    )
    requirements: tuple[str, ...] = option([], help="Extra requirements for the test session.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class CoverageConfig:
    html: bool = option(default=True, help="Write an HTML report next to the XML one.")


# -- toolchains ----------------------------------------------------------------------------

_TRIPLE = re.compile(r"[a-z0-9_]+(-[a-z0-9_.]+){1,3}")


def _at_least_one(value: Any) -> str | None:
    return None if value >= 1 else "a whole number of at least 1"


def target_triples(value: Any) -> str | None:
    bad = [t for t in value if not _TRIPLE.fullmatch(t)]
    return (
        f"Rust target triples like 'x86_64-unknown-linux-gnu' ({bad[0]!r} is not one)"
        if bad
        else None
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class RustConfig:
    targets: tuple[str, ...] = option(
        [
            "x86_64-unknown-linux-gnu",
            "aarch64-unknown-linux-gnu",
            "x86_64-apple-darwin",
            "aarch64-apple-darwin",
            "x86_64-pc-windows-msvc",
        ],
        help="Target triples of the matrix and the release binaries; each runs on the runner "
        "of its OS and arch (matrix.runners).",
        check=target_triples,
    )
    toolchain: str = option("stable", help="The rustup toolchain CI installs and cargo uses.")
    nightly: str = option(
        "nightly",
        help="The rustup toolchain for libtest `#[bench]` benchmarks (they need nightly).",
    )
    features: Literal["all", "default"] = option(
        "all", help="Build, lint and test with `--all-features`, or with the default features."
    )
    clippy_args: tuple[str, ...] = option(
        [],
        help="Extra lints after `--`, like '-W clippy::pedantic' (`-D warnings` is always on).",
        arguments=True,
    )
    test_args: tuple[str, ...] = option(
        [], help="Extra arguments passed to `cargo test`.", arguments=True
    )
    coverage: Literal["auto", "llvm-cov", "tarpaulin"] = option(
        "auto",
        help="The coverage tool: cargo-llvm-cov or cargo-tarpaulin (auto: whichever is "
        "installed, llvm-cov first).",
    )
    binaries: tuple[str, ...] | None = option(
        None, help="Binaries shipped as release assets. Default: every `[[bin]]` of the package."
    )
    bench_runs: int = option(
        5,
        help="How often `cargo bench` runs when it prints libtest `#[bench]` lines: libtest "
        "prints one median per benchmark, so each run is one sample for the bench gate.",
        check=_at_least_one,
    )


# -- monitor -------------------------------------------------------------------------------


def _owner_repo(value: Any) -> str | None:
    ok = re.fullmatch(r"[\w.-]+/[\w.-]+", value) is not None
    return None if ok else "'owner/name', like 'shipyard-ci/shipyard'"


@dataclasses.dataclass(frozen=True, kw_only=True)
class MonitorConfig:
    index_url: str = option(
        "https://pypi.org/simple/",
        help="Package index compared against: a PEP 691 simple index (JSON or HTML pages), "
        "or with index-api = 'json' the base of a PyPI-style JSON API "
        "(https://pypi.org/pypi).",
    )
    index_api: Literal["simple", "json"] = option(
        "simple", help="How the index is read: the simple API or the PyPI JSON API."
    )
    crates_index_url: str = option(
        "https://index.crates.io/",
        help="The crates index Cargo.toml dependencies are compared against, read with "
        "Cargo's sparse protocol (a `sparse+` prefix is accepted).",
    )
    cooldown_days: int = option(
        7,
        help="A release younger than this many days is never proposed (named as in cooldown).",
        check=non_negative,
    )
    requirements: tuple[Path, ...] | None = option(
        None,
        help="Requirement and lock files checked besides pyproject.toml. Default: "
        "requirements*.txt, requirements/*.txt, pylock*.toml and uv.lock when present.",
    )
    ignore: tuple[str, ...] = option([], help="Dependencies never checked nor updated.")
    branch_prefix: str = option(
        "shipyard/deps", help="Prefix of the branches `monitor --apply` pushes updates on."
    )
    remote: str = option("origin", help="The git remote update branches are pushed to.")
    release_tag: str = option("v*", help="Glob matching release tags (`git tag --list`).")
    release_max_days: int = option(
        180,
        help="Health fails its release check past this many days since the last release tag.",
        check=non_negative,
    )
    health_floor: Decimal = option(
        Decimal(60),
        help="Health score (percent of checks passed) below which the health part fails.",
        check=percent,
    )
    alert_on: Literal["failed", "warned"] = option(
        "failed", help="Part status that raises an alert: only `failed`, or `warned` as well."
    )
    alert_webhook_env: str = option(
        "SHIPYARD_ALERT_WEBHOOK",
        help="Environment variable holding the alert webhook URL (Slack-compatible JSON). "
        "Unset or empty: no webhook.",
    )
    alert_issues: bool = option(
        default=True, help="Keep one GitHub issue per alert kind when a token is present."
    )
    alert_label: str = option("shipyard-monitor", help="Label put on alert issues.")
    token_env: str = option("GITHUB_TOKEN", help="Environment variable holding the GitHub token.")
    repository: str | None = option(
        None,
        help="GitHub repository as 'owner/name'. Default: $GITHUB_REPOSITORY, else the "
        "remote's URL.",
        check=_owner_repo,
    )
    github_api_url: str = option(
        "https://api.github.com",
        help="GitHub API root; $GITHUB_API_URL (set on GitHub Actions) takes precedence.",
    )
    timeout: float = option(
        10.0, help="Seconds allowed for each network request.", check=non_negative
    )


# -- matrix --------------------------------------------------------------------------------

_PYTHON_VERSION = re.compile(r"3\.(0|[1-9][0-9]*)(t?)")
_FREE_THREADED_SINCE = 13


def python_version_list(value: Any) -> str | None:
    for item in value:
        match = _PYTHON_VERSION.fullmatch(item)
        if match is None:
            return (
                f"Python versions like '3.12', or '3.13t' for free-threaded ({item!r} is not one)"
            )
        if match[2] and int(match[1]) < _FREE_THREADED_SINCE:
            return f"free-threaded versions from 3.13 on ({item!r} has no free-threaded build)"
    return None


@dataclasses.dataclass(frozen=True, kw_only=True)
class MatrixOverride:
    env: Mapping[str, str] = option({}, help="Environment variables set for matching targets.")
    requirements: tuple[str, ...] = option(
        [], help="Extra requirements installed for matching targets."
    )
    runner: str | None = option(None, help="GitHub runner label for matching targets.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class MatrixConfig:
    python: tuple[str, ...] | None = option(
        None,
        help="Python versions, like '3.12' or '3.13t' (free-threaded). "
        "Default: the supported CPython versions that requires-python allows.",
        check=python_version_list,
    )
    platforms: tuple[str, ...] = option(
        ["linux_x86_64", "linux_aarch64", "macos_x86_64", "macos_arm64", "windows_amd64"],
        help="Platforms as OS_ARCH: linux_x86_64, linux_aarch64, macos_x86_64, macos_arm64, "
        "windows_amd64, windows_arm64.",
    )
    build: tuple[str, ...] = option(
        ["*"], help="Selectors of the targets to build, like 'cp3{11,12}-*' (globs, braces)."
    )
    skip: tuple[str, ...] = option(
        [], help="Selectors of the targets to leave out; skip wins over build."
    )
    overrides: Mapping[str, MatrixOverride] = option(
        {},
        help="Tables keyed by a selector changing env, requirements or runner of the targets "
        "it matches; applied in order, later wins.",
    )
    runners: Mapping[str, str] = option(
        {}, help="Runner label per platform, like linux_aarch64 = 'ubuntu-24.04-arm'."
    )


# -- bench ---------------------------------------------------------------------------------


def _confidence(value: Any) -> str | None:
    return None if 50 <= value < 100 else "a confidence level from 50 to below 100 (percent)"  # noqa: PLR2004


@dataclasses.dataclass(frozen=True, kw_only=True)
class BenchThresholds:
    warn: Decimal | None = option(
        None, help="Warn line in percent for the matching benchmarks.", check=non_negative
    )
    fail: Decimal | None = option(
        None, help="Fail line in percent for the matching benchmarks.", check=non_negative
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class BenchConfig:
    path: Path = option(
        Path("benchmarks"), help="The pytest-benchmark suite: a directory or a test file."
    )
    results: Path | None = option(
        None,
        help="Read this results file (Rust libtest output, a Criterion directory, generic "
        "JSON) instead of running pytest-benchmark; `command` writes it.",
    )
    command: tuple[str, ...] = option(
        [],
        help="The command that writes `results`; run before reading it, and for a rerun.",
        arguments=True,
    )
    pytest_args: tuple[str, ...] = option(
        [], help="Extra arguments passed to pytest.", arguments=True
    )
    requirements: tuple[str, ...] = option([], help="Extra requirements for the bench session.")
    thresholds: Mapping[str, BenchThresholds] = option(
        {},
        help='Lines per benchmark by glob, like "*slow*" = { warn = 25, fail = 50 }; '
        "the first matching glob wins, gates.bench-warn/fail apply to the rest.",
    )
    statistic: Literal["p10", "median"] = option(
        "p10",
        help="What the verdict compares: the 10th percentile of the rounds (robust to a busy "
        "machine) or their median. Both median and min changes are always reported.",
    )
    confidence: Decimal = option(
        Decimal(99), help="Confidence level of the bootstrap interval, percent.", check=_confidence
    )
    rerun: bool = option(
        default=True, help="Rerun unconfirmed benchmarks once and decide on the pooled samples."
    )
    baseline: tuple[Literal["merge-base", "file", "default-branch"], ...] = option(
        ["merge-base", "file", "default-branch"],
        help="Where the baseline comes from, in order of preference.",
    )
    baseline_file: Path = option(
        Path("benchmarks/baseline.json"), help="A committed baseline results file."
    )
    default_branch: str = option("main", help="The branch merge-bases and trends are taken on.")
    history: Literal["state", "repo", "branch", "off"] = option(
        "state",
        help="Where runs are recorded: the user state dir, `history-path` in the repo, the git "
        "branch `history-branch`, or nowhere.",
    )
    history_path: Path = option(
        Path(".shipyard/bench-history"), help="History directory when history = 'repo'."
    )
    history_branch: str = option(
        "shipyard-bench-history", help="History branch when history = 'branch'."
    )
    renames: Mapping[str, str] = option(
        {}, help="Old benchmark name = new name, so history and baselines follow a rename."
    )
    trend_min_step: Decimal = option(
        Decimal(5), help="Smallest step (percent) `shipyard bench trend` reports.", check=percent
    )


# -- audit -------------------------------------------------------------------------------

AuditCheckName = Literal["vulns", "sast", "secrets", "licenses", "sbom"]
SeverityName = Literal["info", "low", "medium", "high", "critical"]


def iso_date(value: Any) -> str | None:
    expected = "a date written YYYY-MM-DD, like '2030-01-31'"
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return expected
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return expected
    return None


@dataclasses.dataclass(frozen=True, kw_only=True)
class LicensePolicy:
    allow: tuple[str, ...] = option(
        [
            "MIT",
            "MIT-0",
            "BSD-2-Clause",
            "BSD-3-Clause",
            "0BSD",
            "ISC",
            "Apache-2.0",
            "PSF-2.0",
            "Python-2.0",
            "Unlicense",
            "CC0-1.0",
            "Zlib",
            "BSL-1.0",
            "HPND",
            "MPL-2.0",
            "LGPL-2.1-*",
            "LGPL-3.0-*",
        ],
        help="SPDX ids (globs allowed) of licences that pass.",
    )
    deny: tuple[str, ...] = option(
        ["AGPL-*", "GPL-*", "SSPL-1.0"], help="SPDX ids (globs allowed) of licences that fail."
    )
    warn: tuple[str, ...] = option([], help="SPDX ids (globs allowed) of licences that warn.")
    unknown: Literal["allow", "warn", "deny"] = option(
        "warn", help="What a licence named by no list, or no licence at all, does."
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class Suppression:
    id: str | None = option(None, help="A vulnerability id or any of its aliases.")
    test: str | None = option(None, help="A bandit test id such as 'B602'.")
    path: str | None = option(None, help="With `test`: a glob of the files it applies to.")
    fingerprint: str | None = option(None, help="A secret's fingerprint (hashed_secret).")
    package: str | None = option(None, help="A package whose licence finding is accepted.")
    reason: str | None = option(None, help="Why the finding is accepted (required).")
    expires: str | None = option(
        None, help="Last day (YYYY-MM-DD) the suppression applies.", check=iso_date
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class AuditConfig:
    checks: tuple[AuditCheckName, ...] = option(
        ["vulns", "sast", "secrets", "licenses", "sbom"], help="The checks the audit runs."
    )
    service: Literal["pypi", "osv"] = option(
        "pypi", help="pip-audit's vulnerability service when no advisory-db is set."
    )
    osv_url: str | None = option(None, help="Another OSV API URL for pip-audit (service osv).")
    advisory_db: Path | None = option(
        None, help="A directory of OSV advisories (JSON or YAML): audit offline against it."
    )
    requirements: tuple[Path, ...] | None = option(
        None,
        help="Requirements or pylock files to audit. Default: requirements*.txt and pylock*.toml.",
    )
    sast_paths: tuple[Path, ...] | None = option(
        None, help="What bandit scans. Default: the project's sources (not tests)."
    )
    secrets_history: bool = option(
        default=True, help="Also scan every line added by every commit of the current branch."
    )
    secrets_baseline: Path = option(
        Path(".secrets.baseline"), help="A detect-secrets baseline; its known secrets pass."
    )
    licenses: LicensePolicy = option(LicensePolicy, help="The licence policy.")
    unknown_severity: SeverityName = option(
        "high", help="The severity a vulnerability without a CVSS vector counts as."
    )
    suppress: tuple[Suppression, ...] = option(
        [], help="Accepted findings, each with a reason and an optional expiry date."
    )
    timeout: int = option(900, help="Seconds each audit tool may run.", check=non_negative)


# -- release -----------------------------------------------------------------------------


def _one_version_field(value: Any) -> str | None:
    if isinstance(value, str) and value.count("{version}") == 1:
        return None
    return "a text with '{version}' exactly once"


def _version_file_specs(value: Any) -> str | None:
    for spec in value:
        path, _, pattern = spec.partition(":")
        if not path:
            return "entries like 'src/pkg/__init__.py' or 'path:regex with (?P<version>...)'"
        if not pattern:
            continue
        try:
            compiled = re.compile(pattern, re.MULTILINE)
        except re.error as exc:
            return f"a valid regular expression after ':' in {spec!r} ({exc})"
        if "version" not in compiled.groupindex:
            return f"a (?P<version>...) group in the pattern of {spec!r}"
    return None


Bump = Literal["major", "minor", "patch", "none"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReleaseConfig:
    tag_format: str = option(
        "v{version}",
        help="How release tags are named; {version} is the SemVer version.",
        check=_one_version_field,
    )
    branch: str = option("main", help="The only branch releases are made from.")
    remote: str = option("origin", help="The git remote the release commit and tag go to.")
    major_on_zero: bool = option(
        default=False,
        help="On 0.x, let a breaking change bump the major version (else the minor).",
    )
    types: Mapping[str, Bump] = option(
        {},
        help="Commit type -> bump, merged over feat=minor, fix/perf/revert=patch, others none.",
    )
    sections: Mapping[str, str] = option(
        {},
        help="Commit type -> changelog heading, merged over the built-in ones; '' hides a type.",
    )
    include_merges: bool = option(
        default=False,
        help="Parse merge commits too (skipped by default).",
    )
    changelog: Path = option(Path("CHANGELOG.md"), help="The Keep a Changelog file to update.")
    version_files: tuple[str, ...] = option(
        [],
        help="Files holding the version when it is not [project].version: 'path' "
        "(finds __version__ = '...') or 'path:regex' with a (?P<version>...) group; "
        "when unset, found from the build backend's settings.",
        check=_version_file_specs,
    )
    commit_message: str = option(
        "chore(release): {version}",
        help="Message of the release commit.",
        check=_one_version_field,
    )
    dist_dir: Path = option(Path("dist"), help="Where the sdist, wheels and SHA256SUMS go.")
    build_isolation: bool = option(
        default=True,
        help="Build in an isolated environment (python -m build); false uses the current one.",
    )
    wheels: Literal["auto", "build", "cibuildwheel"] = option(
        "auto",
        help="Who makes the wheels: 'build' (the build step's one wheel), 'cibuildwheel' "
        "(one per build-matrix target, in the release workflow's wheels jobs), or 'auto': "
        "cibuildwheel when the build compiles (maturin, scikit-build-core, meson-python, "
        "a setup.py with extension modules).",
    )
    publish: bool = option(
        default=True,
        help="Upload the sdist and wheels to the package index.",
    )
    repository_url: str = option(
        "https://upload.pypi.org/legacy/", help="Upload URL of the package index (twine)."
    )
    index_url: str | None = option(
        None,
        help="Simple index used to see what is already uploaded. Default: derived from "
        "repository-url (pypi.org/simple for PyPI, <repository-url>/simple otherwise).",
    )
    github: bool = option(
        default=True,
        help="Create a GitHub release with the built files attached.",
    )
    github_repository: str | None = option(
        None, help="owner/name on GitHub. Default: $GITHUB_REPOSITORY, else the remote's URL."
    )


# -- docker --


def _positive(value: Any) -> str | None:
    return None if value > 0 else "a number above 0"


@dataclasses.dataclass(frozen=True, kw_only=True)
class DockerVariantConfig:
    """One image variant, built from one Dockerfile."""

    dockerfile: Path | None = option(
        None, help="The Dockerfile. Default: `docker/Dockerfile.<variant>`."
    )
    context: Path = option(Path(), help="Build context, relative to the project root.")
    target: str | None = option(None, help="Build stage to stop at (`--target`).")
    platforms: tuple[str, ...] = option(
        [], help="Platforms like 'linux/arm64'. Default: the engine's own platform."
    )
    build_args: Mapping[str, str] = option({}, help="Extra `--build-arg` values.")
    base_image: str | None = option(
        None, help="Passed as the BASE_IMAGE build arg (every variant's Dockerfile takes one)."
    )
    wheels: tuple[str, ...] = option(
        ["."],
        help="Requirements built into wheels on the host and installed in the image with "
        "`--no-index` (`.` is the project; `.[extra]` works too). Empty: no wheels.",
    )
    prepare: tuple[str, ...] = option(
        [],
        help="A command run on the host before the build, in the project root "
        "(for example to build a static executable from the wheels).",
        arguments=True,
    )
    size_budget_mb: Decimal | None = option(
        None, help="Largest allowed image size in MB (10^6 bytes).", check=_positive
    )
    smoke: tuple[str, ...] = option(
        [],
        help="Arguments given to `docker run IMAGE ...`; it must exit 0. Empty: no smoke test.",
        arguments=True,
    )
    user: str = option(
        "non-root",
        help="Expected image user: 'non-root' (any user but root), 'any', or an exact user.",
    )
    healthcheck: bool = option(
        default=True,
        help="The image must declare a HEALTHCHECK, and a started container turn healthy.",
    )
    health_args: tuple[str, ...] = option(
        [],
        help="Arguments the container runs with during the health check "
        "(for a CLI image, something that keeps running). Default: the image's own command.",
        arguments=True,
    )
    tags: tuple[str, ...] = option(
        ["{sha}", "{branch}", "{version}", "{floating}"],
        help="Tag templates: {sha}, {branch} (or pr-N), {version}, {floating} (MAJOR.MINOR, "
        "MAJOR and latest, final releases only); other text is taken literally.",
    )
    on_request: bool = option(
        default=False,
        help="Built only when named (`nox -s docker -- gpu`), not by a plain `nox -s docker` "
        "or the ci.yml and release.yml jobs: for a variant that needs a base or hardware "
        "the runners lack.",
    )


def _minor_version(value: Any) -> str | None:
    return None if re.fullmatch(r"3\.\d+", value) else "a Python minor version like '3.11'"


@dataclasses.dataclass(frozen=True, kw_only=True)
class DockerConfig:
    image: str | None = option(None, help="Image name. Default: the project name.")
    registries: tuple[str, ...] = option(
        [], help="Registries (and namespaces) to push to, like 'ghcr.io/my-org'."
    )
    variants: Mapping[str, DockerVariantConfig] | None = option(
        None,
        help="The variants by name. Default: cpu, gpu and minimal, for each "
        "`docker/Dockerfile.<variant>` that exists.",
    )
    builder: Literal["auto", "buildx", "legacy"] = option(
        "auto", help="buildx when the plugin is present ('auto'), or force one builder."
    )
    network: str = option(
        "none", help="Network of RUN steps during builds; 'none' keeps builds offline."
    )
    cache_from: tuple[str, ...] = option([], help="buildx `--cache-from` sources.")
    cache_to: str | None = option(None, help="buildx `--cache-to` destination.")
    labels: Mapping[str, str] = option({}, help="Extra labels on every image.")
    push: bool = option(default=False, help="Push to the registries after the checks pass.")
    push_attempts: int = option(3, help="Tries per push before giving up.", check=_positive)
    python: str | None = option(
        None,
        help="The Python minor version the images run (their base image's, like '3.11'): the "
        "wheels they install are built for it, so the docker stage runs on it, and so do "
        "the docker job of ci.yml and the images job of release.yml. Default: any "
        "locally; workflows.python on GitHub.",
        check=_minor_version,
    )


def _pipeline_needs(value: Any) -> str | None:
    twice = next((stage for i, stage in enumerate(value) if stage in value[:i]), None)
    if twice is not None:
        return f"each stage once ({twice!r} is listed twice)"
    if "coverage" in value and "test" not in value:
        return "'test' in the list too: coverage combines the test runs' data"
    return None


# -- custom stages -------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class StageConfig:
    """One custom stage, `[tool.shipyard.stages.<name>]`: commands run as a nox session."""

    commands: tuple[str, ...] = option(
        [],
        help="Commands run in order, each a command line split like a shell would (no pipes, "
        "no globbing); the stage fails at the first that exits non-zero.",
    )
    needs: tuple[str, ...] = option(
        [],
        help="Stages that must pass first: built-in ones (lint, audit, test, coverage, bench, "
        "docker) or other custom stages.",
    )
    requirements: tuple[str, ...] | None = option(
        None,
        help="Run in the stage's own virtualenv with these installed. Default: no virtualenv; "
        "the commands come from PATH.",
    )
    install_project: bool = option(
        default=False, help="Install the project (editable) into the stage's virtualenv."
    )
    env: Mapping[str, str] = option({}, help="Environment variables set for the commands.")
    report: str | None = option(
        None, help="Name of the stage's result file under the reports dir. Default: its name."
    )
    description: str = option("", help="One line shown by `nox --list` and `invoke ci --plan`.")


@dataclasses.dataclass(frozen=True, kw_only=True)
class ProjectMeta:
    """What shipyard reads from `[project]` (derived; not set in `[tool.shipyard]`)."""

    name: str
    version: str | None
    requires_python: str | None
    dependencies: tuple[str, ...]
    optional_dependencies: Mapping[str, tuple[str, ...]]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Config:
    sources: tuple[Path, ...] | None = option(
        None, help="Source directories or modules. Default: `src/` if present, else packages."
    )
    tests: Path | None = option(None, help="Tests directory. Default: `tests/` or `test/`.")
    reports_dir: Path = option(
        Path(".shipyard/reports"), help="Where stage results and reports are written."
    )
    gates: GatesConfig = option(GatesConfig, help="The numbers the gates compare against.")
    lint: LintConfig = option(LintConfig, help="The lint stage.")
    test: TestConfig = option(TestConfig, help="The test stage.")
    coverage: CoverageConfig = option(CoverageConfig, help="The coverage stage.")
    audit: AuditConfig = option(AuditConfig, help="The audit stage.")
    matrix: MatrixConfig = option(
        MatrixConfig, help="The build matrix: Pythons, platforms, selectors and runners."
    )
    pipeline: tuple[Literal["lint", "audit", "test", "coverage", "bench", "docker"], ...] = option(
        ["lint", "audit", "test", "coverage", "bench", "docker"],
        help="shipyard's own stages in the pipeline: `nox -s ci`, `invoke ci` and the jobs "
        "of ci.yml. A stage left out still runs alone (`nox -s audit`); custom stages "
        "always join.",
        check=_pipeline_needs,
    )
    stages: Mapping[str, StageConfig] = option(
        {}, help="Custom stages by name; they join the pipeline graph, nox and the workflows."
    )
    workflows: WorkflowsConfig = option(
        WorkflowsConfig, help="The generated GitHub workflows (`shipyard workflows`)."
    )
    bench: BenchConfig = option(BenchConfig, help="The bench stage: benchmarks against a baseline.")
    toolchain: tuple[str, ...] | None = option(
        None,
        help="Toolchains the stages run: 'python', 'rust'. Default: detected "
        "(pyproject.toml with [project] -> python, Cargo.toml -> rust, both -> both).",
    )
    rust: RustConfig = option(RustConfig, help="The Rust toolchain (Cargo projects).")
    monitor: MonitorConfig = option(
        MonitorConfig, help="`invoke monitor`: health, freshness, alerts."
    )
    release: ReleaseConfig = option(ReleaseConfig, help="The release flow (`invoke release`).")
    docker: DockerConfig = option(DockerConfig, help="The docker stage: image variants.")

    # Derived from the file, not keys of the table.
    root: Path = dataclasses.field(default=Path(), metadata={"derived": True})
    pyproject: Path = dataclasses.field(default=Path("pyproject.toml"), metadata={"derived": True})
    project: ProjectMeta | None = dataclasses.field(default=None, metadata={"derived": True})

    @property
    def reports(self) -> Path:
        return self.root / self.reports_dir

    def source_paths(self) -> tuple[Path, ...]:
        return self.sources or ()


# -- reading -----------------------------------------------------------------------------

_TABLE = "tool.shipyard"


def _key(name: str) -> str:
    return name.replace("_", "-")


def _toml_fields(cls: type) -> dict[str, dataclasses.Field[Any]]:
    return {
        _key(f.name): f for f in dataclasses.fields(cls) if not f.metadata.get("derived", False)
    }


def _type_name(tp: Any) -> str:  # noqa: C901, PLR0911
    origin = typing.get_origin(tp)
    if tp is bool:
        return "true or false"
    if tp is int:
        return "an integer"
    if tp in (float, Decimal):
        return "a number"
    if tp is str:
        return "a string"
    if tp is Path:
        return "a path (string)"
    if origin is Literal:
        return "one of " + ", ".join(repr(a) for a in typing.get_args(tp))
    if origin is tuple:
        return f"a list of {_type_name(typing.get_args(tp)[0]).removeprefix('a ')}s"
    if origin in (dict, Mapping):
        return "a table"
    if dataclasses.is_dataclass(tp):
        return "a table"
    if origin in (types.UnionType, typing.Union):
        names = [_type_name(a) for a in typing.get_args(tp) if a is not type(None)]
        return " or ".join(names)
    return str(tp)


def _convert(value: Any, tp: Any, key: str, path: Path) -> Any:  # noqa: C901, PLR0911, PLR0912
    """Turn a raw TOML value into `tp`, or raise a ConfigError naming `key`."""

    def wrong() -> ConfigError:
        found = type(value).__name__
        if isinstance(value, (str, int, float, bool)):
            found = f"{value!r} ({found})"
        return ConfigError(f"expected {_type_name(tp)}, found {found}.", path=path, key=key)

    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        for arg in args:
            try:
                return _convert(value, arg, key, path)
            except ConfigError:
                if len(args) == 1:
                    raise
        raise wrong()
    if tp is bool:
        if not isinstance(value, bool):
            raise wrong()
        return value
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise wrong()
        return value
    if tp in (float, Decimal):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise wrong()
        return Decimal(str(value)) if tp is Decimal else float(value)
    if tp is str:
        if not isinstance(value, str):
            raise wrong()
        return value
    if tp is Path:
        if not isinstance(value, str) or not value:
            raise wrong()
        return Path(value)
    if origin is Literal:
        if value not in typing.get_args(tp):
            raise wrong()
        return value
    if origin is tuple:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise wrong()
        item = typing.get_args(tp)[0]
        return tuple(_convert(v, item, f"{key}[{i}]", path) for i, v in enumerate(value))
    if origin in (dict, Mapping):
        if not isinstance(value, dict):
            raise wrong()
        _, item = typing.get_args(tp)
        return {k: _convert(v, item, f"{key}.{k}", path) for k, v in value.items()}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        if not isinstance(value, dict):
            raise wrong()
        return build(tp, value, path=path, prefix=key)
    msg = f"unsupported option type {tp!r} for {key}"  # a shipyard bug, not a user error
    raise TypeError(msg)


def _one_string_for_arguments(text: str) -> str:
    """Why a string is refused where a command's arguments go, with the list it may mean."""
    try:
        words = shlex.split(text)
    except ValueError:  # an unclosed quote: show the shape, not a guess
        words = []
    example = json.dumps(words if len(words) > 1 else ["-x", "-q"])
    return (
        f"expected a list of arguments, like {example}, found {text!r} (str). "
        "A string is not split into arguments: write each one as its own list item."
    )


def build(cls: type[Any], table: Mapping[str, Any], *, path: Path, prefix: str = _TABLE) -> Any:
    """Build dataclass `cls` from a raw TOML table, strictly."""
    fields = _toml_fields(cls)
    hints = typing.get_type_hints(cls)
    for name in table:
        if name not in fields:
            close = difflib.get_close_matches(name, fields, n=1)
            if not close and "_" in name and _key(name) in fields:
                close = [_key(name)]
            hint = f" Did you mean '{prefix}.{close[0]}'?" if close else ""
            known = ", ".join(sorted(fields))
            msg = f"unknown key.{hint} Known keys here: {known}."
            raise ConfigError(msg, path=path, key=f"{prefix}.{name}")
    kwargs = {}
    for key, field in fields.items():
        if key not in table:
            continue
        full = f"{prefix}.{key}"
        if field.metadata.get("arguments") and isinstance(table[key], str):
            raise ConfigError(_one_string_for_arguments(table[key]), path=path, key=full)
        value = _convert(table[key], hints[field.name], full, path)
        check = field.metadata.get("check")
        problem = check(value) if check and value is not None else None
        if problem:
            msg = f"expected {problem}, found {table[key]!r}."
            raise ConfigError(msg, path=path, key=full)
        kwargs[field.name] = value
    return cls(**kwargs)


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        msg = (
            "no pyproject.toml here. shipyard reads its pipeline from [tool.shipyard] in "
            "pyproject.toml (or [package.metadata.shipyard] in a Cargo.toml); run "
            "`shipyard init` in the project's root, or pass --root."
        )
        raise ConfigError(msg, path=path) from None
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text ({exc.reason})."
        raise ConfigError(msg, path=path) from None
    except OSError as exc:  # a directory, or a root that is a file
        msg = f"cannot be read ({exc.strerror}); the project root must be a directory."
        raise ConfigError(msg, path=path) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # tomllib says "... (at line L, column C)"; keep its words, they name the spot.
        msg = f"invalid TOML: {_with_end_position(str(exc), text)}."
        raise ConfigError(msg, path=path) from None


def _with_end_position(message: str, text: str) -> str:
    """tomllib's message, with the line and column where the text ends when it says "end".

    An error at the end of the file (an unclosed array) has no line in tomllib's words.
    """
    end = "(at end of document)"
    if not message.endswith(end):
        return message
    lines = text.split("\n")
    if len(lines) > 1 and not lines[-1]:  # the final newline ends the last line; no new one
        lines.pop()
    where = f"(at end of document, line {len(lines)}, column {len(lines[-1]) + 1})"
    return message.removesuffix(end) + where


def _legacy_name(data: Mapping[str, Any], root: Path) -> str | None:
    """The name of a project whose metadata is not in [project]: poetry, flit 2, setup.cfg."""
    tool = data.get("tool") or {}
    for table in (tool.get("poetry") or {}, (tool.get("flit") or {}).get("metadata") or {}):
        name = table.get("name") or table.get("module")
        if isinstance(name, str) and name:
            return name
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser(interpolation=None)
        try:
            parser.read(setup_cfg, encoding="utf-8")
        except configparser.Error:
            return None
        name = parser.get("metadata", "name", fallback="").strip()
        return name or None
    return None


def _project_meta(data: Mapping[str, Any], root: Path) -> ProjectMeta:
    project = data.get("project") or {}
    optional = project.get("optional-dependencies") or {}
    return ProjectMeta(
        name=str(project.get("name") or _legacy_name(data, root) or root.resolve().name),
        version=project.get("version"),
        requires_python=project.get("requires-python"),
        dependencies=tuple(project.get("dependencies") or ()),
        optional_dependencies={k: tuple(v) for k, v in optional.items()},
    )


#: Where a Cargo project without a pyproject.toml keeps shipyard's table.
CARGO_TABLES = ("package.metadata.shipyard", "workspace.metadata.shipyard")


def _cargo_table(data: Mapping[str, Any]) -> tuple[str, Any]:
    for dotted in CARGO_TABLES:
        value: Any = data
        for part in dotted.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        if value is not None:
            return dotted, value
    return CARGO_TABLES[0], {}


def _cargo_meta(data: Mapping[str, Any], root: Path) -> ProjectMeta:
    package = data.get("package") or {}
    version = package.get("version")  # `version.workspace = true` is a table: unknown here
    return ProjectMeta(
        name=str(package.get("name") or root.resolve().name),
        version=version if isinstance(version, str) else None,
        requires_python=None,
        dependencies=(),
        optional_dependencies={},
    )


_NOT_PACKAGES = {"tests", "test", "docs", "doc", "benchmarks", "examples", "scripts", "build"}


def detect_sources(root: Path, project: ProjectMeta) -> tuple[Path, ...]:
    """`src/` when the project uses that layout, else its top-level packages or module."""
    if (root / "src").is_dir():
        return (Path("src"),)
    packages = sorted(
        Path(p.parent.name)
        for p in root.glob("*/__init__.py")
        if p.parent.name not in _NOT_PACKAGES and not p.parent.name.startswith(".")
    )
    if packages:
        return tuple(packages)
    module = re.sub(r"[-.]+", "_", project.name).lower() + ".py"
    return (Path(module),) if (root / module).is_file() else ()


def detect_tests(root: Path) -> Path | None:
    for name in ("tests", "test"):
        if (root / name).is_dir():
            return Path(name)
    return None


def load(root: Path | str = ".") -> Config:
    """Read `<root>/pyproject.toml` and return the resolved, validated config."""
    root = Path(root)
    path = root / "pyproject.toml"
    if not path.is_file() and (root / "Cargo.toml").is_file():
        # A Cargo project without Python keeps the table in its Cargo.toml.
        path = root / "Cargo.toml"
        data = _read_toml(path)
        prefix, table = _cargo_table(data)
        project = _cargo_meta(data, root)
    else:
        data = _read_toml(path)
        tool = data.get("tool", {})
        prefix, table = _TABLE, tool.get("shipyard", {}) if isinstance(tool, dict) else {}
        project = _project_meta(data, root)
    if not isinstance(table, dict):
        raise ConfigError("expected a table.", path=path, key=prefix)

    config: Config = build(Config, table, path=path, prefix=prefix)
    sources = config.sources
    if sources is None:
        sources = detect_sources(root, project)
    for source in sources:
        if not (root / source).exists():
            msg = f"'{source}' does not exist under {root.resolve()}; expected a source path."
            raise ConfigError(msg, path=path, key=f"{_TABLE}.sources")
    tests = config.tests if config.tests is not None else detect_tests(root)
    if config.tests is not None and not (root / config.tests).is_dir():
        msg = f"'{config.tests}' is not a directory under {root.resolve()}."
        raise ConfigError(msg, path=path, key=f"{_TABLE}.tests")
    return dataclasses.replace(
        config, root=root, pyproject=path, project=project, sources=sources, tests=tests
    )


# -- showing -----------------------------------------------------------------------------


def to_json(value: Any) -> Any:
    """The resolved config as plain JSON data, keys in kebab-case."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {_key(f.name): to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, (tuple, list)):
        return [to_json(v) for v in value]
    if isinstance(value, Path):
        return value.as_posix()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


#: Arrays longer than this on one line are written one item a line.
_TOML_LINE = 80


def _is_record(value: Any) -> bool:
    return dataclasses.is_dataclass(value) and not isinstance(value, type)


def _toml_value(value: Any) -> Any:
    """An option's value as a tomlkit item: long arrays one item a line, maps inline."""
    if isinstance(value, Mapping):
        inline = tomlkit.inline_table()
        inline.update({str(k): to_json(v) for k, v in value.items()})
        return inline
    plain = to_json(value)
    if isinstance(plain, list):
        array = tomlkit.array()
        array.extend(plain)
        return array.multiline(len(array.as_string()) > _TOML_LINE)
    return plain


def _toml_table(record: Any, *, super_table: bool = False) -> Any:
    """A record as a table: its own keys first, then its sub-tables, as TOML needs.

    TOML has no null: an unset option is written as a comment, so every option shows.
    """
    table = tomlkit.table(is_super_table=super_table)
    values = {_key(f.name): getattr(record, f.name) for f in _toml_fields(type(record)).values()}
    nested = {}
    for key, value in values.items():
        records = isinstance(value, Mapping) and value and all(map(_is_record, value.values()))
        listed = isinstance(value, tuple) and value and all(map(_is_record, value))
        if _is_record(value) or records or listed:
            nested[key] = value
        elif value is None:
            table.add(tomlkit.comment(f"{key}: unset"))
        else:
            table.add(key, _toml_value(value))
    for key, value in nested.items():
        if _is_record(value):
            table.add(key, _toml_table(value))
        elif isinstance(value, Mapping):  # named tables, like [tool.shipyard.stages.<name>]
            named = tomlkit.table(is_super_table=True)
            for name, item in value.items():
                named.add(name, _toml_table(item))
            table.add(key, named)
        else:  # an array of tables, like [[tool.shipyard.audit.suppress]]
            tables = tomlkit.aot()
            tables.extend(_toml_table(item) for item in value)
            table.add(key, tables)
    return table


def to_toml(config: Config) -> str:
    """The resolved table as TOML, under the name it has in its file, every option included.

    Options that are unset show as comments; loading the text gives the same config.
    """
    dotted = CARGO_TABLES[0] if config.pyproject.name == "Cargo.toml" else _TABLE
    *outer, name = dotted.split(".")
    item = _toml_table(config)
    for part in reversed(outer):
        wrapper = tomlkit.table(is_super_table=True)
        wrapper.add(name, item)
        item, name = wrapper, part
    document = tomlkit.document()
    document.add(name, item)
    return tomlkit.dumps(document)


def _schema_of(tp: Any) -> dict[str, Any]:  # noqa: C901, PLR0911
    origin = typing.get_origin(tp)
    if origin in (types.UnionType, typing.Union):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            return _schema_of(args[0])
        return {"anyOf": [_schema_of(a) for a in args]}
    if tp is bool:
        return {"type": "boolean"}
    if tp is int:
        return {"type": "integer"}
    if tp in (float, Decimal):
        return {"type": "number"}
    if tp in (str, Path):
        return {"type": "string"}
    if origin is Literal:
        return {"enum": list(typing.get_args(tp))}
    if origin is tuple:
        return {"type": "array", "items": _schema_of(typing.get_args(tp)[0])}
    if origin in (dict, Mapping):
        return {"type": "object", "additionalProperties": _schema_of(typing.get_args(tp)[1])}
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        hints = typing.get_type_hints(tp)
        props = {}
        for key, field in _toml_fields(tp).items():
            prop = _schema_of(hints[field.name])
            prop["description"] = field.metadata.get("help", "")
            props[key] = prop
        return {"type": "object", "additionalProperties": False, "properties": props}
    msg = f"unsupported option type {tp!r}"
    raise TypeError(msg)


def schema() -> dict[str, Any]:
    """The JSON schema of `[tool.shipyard]`, derived from the records above."""
    body = _schema_of(Config)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://github.com/shipyard-ci/shipyard/blob/main/src/shipyard/resources/shipyard.schema.json",
        "title": "[tool.shipyard]",
        "description": "shipyard's pipeline configuration in pyproject.toml",
        **body,
    }


def _default_text(field: dataclasses.Field[Any]) -> str:
    if field.default is not dataclasses.MISSING:
        value = field.default
    elif field.default_factory is not dataclasses.MISSING:
        value = field.default_factory()
    else:
        return ""
    if value is None:
        return "unset"
    return f"`{json.dumps(to_json(value))}`"


def reference_rows(cls: type[Any] = Config, prefix: str = "") -> list[tuple[str, str, str]]:
    """(key, default, help) for every option, nested tables flattened to dotted keys."""
    hints = typing.get_type_hints(cls)
    rows = []
    for key, field in _toml_fields(cls).items():
        tp = hints[field.name]
        name = f"{prefix}{key}"
        if isinstance(tp, type) and dataclasses.is_dataclass(tp):
            rows += reference_rows(tp, f"{name}.")
            continue
        if typing.get_origin(tp) in (dict, Mapping):
            item = typing.get_args(tp)[1]
            if isinstance(item, type) and dataclasses.is_dataclass(item):
                rows.append((f"{name}.<name>", "`{}`", field.metadata.get("help", "")))
                rows += reference_rows(item, f"{name}.<name>.")
                continue
        rows.append((name, _default_text(field), field.metadata.get("help", "")))
    return rows


def reference_markdown() -> str:
    """The README's configuration table, generated from the records."""
    lines = ["| key | default | meaning |", "| --- | --- | --- |"]
    lines += [
        f"| `{key}` | {default} | {text.replace('|', '/')} |"
        for key, default, text in reference_rows()
    ]
    return "\n".join(lines) + "\n"

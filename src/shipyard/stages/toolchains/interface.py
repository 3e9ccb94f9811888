"""What every stage asks of a toolchain: one ABC and the records it answers with.

A toolchain (Python, Rust...) knows which commands lint, test, measure
coverage, benchmark, list the locked dependencies and their licences, which
targets the matrix has and which files a release ships. The stages keep what
is common: the gates, the stage results, the reports. A new toolchain is one
new module in this package that defines `TOOLCHAIN`, an instance of a
`Toolchain` subclass.
"""

from __future__ import annotations

import abc
import dataclasses
import hashlib
import os
from collections.abc import Mapping
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar, Literal

from shipyard.errors import ToolMissing

if TYPE_CHECKING:
    from shipyard.config import Config
    from shipyard.report import Finding
    from shipyard.tools import ToolEnv

__all__ = [
    "Asset",
    "Cell",
    "CoverageRun",
    "LintReport",
    "PackageLicence",
    "Pin",
    "Requirements",
    "SessionStage",
    "TestRun",
    "Toolchain",
    "on_ci",
    "sha256_of",
]

#: The sessions whose installs a toolchain is asked for.
SessionStage = Literal["lint", "test", "coverage", "bench", "audit"]


def on_ci(env: Mapping[str, str] | None = None) -> bool:
    """Whether this run is CI's (`CI` set to anything but "", "0", "false", "no")."""
    value = (os.environ if env is None else env).get("CI", "")
    return value.strip().lower() not in ("", "0", "false", "no")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# -- records -------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, kw_only=True)
class Requirements:
    """What a session installs into its virtualenv for this toolchain."""

    packages: tuple[str, ...] = ()
    #: Extras of the project installed editable with them; None leaves the project out.
    project_extras: tuple[str, ...] | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class LintReport:
    findings: tuple[Finding, ...] = ()
    #: What was skipped or switched off, said in the stage's reason.
    notes: tuple[str, ...] = ()


@dataclasses.dataclass(frozen=True, kw_only=True)
class Cell:
    """One target of a toolchain's matrix: where it runs and what it is called."""

    id: str
    os: str
    arch: str
    runner: str
    #: The Python a Python target runs; None for toolchains not parametrised by Python.
    python: str | None = None
    #: The Rust target triple, for Rust targets.
    triple: str | None = None
    env: Mapping[str, str] = dataclasses.field(default_factory=dict)
    requirements: tuple[str, ...] = ()

    def github(self) -> dict[str, str]:
        """This cell as an entry of a workflow's `strategy.matrix.include`."""
        entry = {"id": self.id}
        if self.python is not None:
            entry["python"] = self.python
        if self.triple is not None:
            entry["target"] = self.triple
        return {**entry, "os": self.os, "arch": self.arch, "runner": self.runner}


@dataclasses.dataclass(frozen=True, kw_only=True)
class TestRun:
    """What running a test suite left: its exit code and a JUnit XML file."""

    tool: str
    returncode: int
    junit: Path
    artifacts: tuple[Path, ...] = ()
    #: Findings the JUnit file cannot hold, such as build errors.
    findings: tuple[Finding, ...] = ()
    #: Why the suite failed without (all of) its tests running; None when they ran.
    failure: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class CoverageRun:
    """Covered over measured, exactly, and the reports written; or why there is none."""

    fraction: Fraction | None = None
    artifacts: tuple[Path, ...] = ()
    #: Set when coverage could not be measured (a failed gate).
    failure: str | None = None
    #: Set when coverage was not measured on purpose or for want of a local tool.
    skipped: str | None = None


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pin:
    """One locked dependency, as an advisory database names it."""

    name: str
    version: str
    #: The OSV ecosystem: "PyPI", "crates.io"...
    ecosystem: str
    #: The lock file that names it, relative to the project root.
    source: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class PackageLicence:
    name: str
    version: str
    #: The declared licence as written (an SPDX expression for crates); None when undeclared.
    expression: str | None
    #: Where it was read ("Cargo.toml of serde 1.0.0", a licence file...).
    source: str


@dataclasses.dataclass(frozen=True, kw_only=True)
class Asset:
    """One release file and its checksum."""

    path: Path
    sha256: str
    target: str


# -- the toolchain -------------------------------------------------------------------------


class Toolchain(abc.ABC):
    """The commands of one language's tools, behind what the stages need of them."""

    #: The name used in `toolchain = [...]`, in stage names and in metrics.
    name: ClassVar[str]
    #: Files whose presence in the project root makes `detect` look closer.
    markers: ClassVar[tuple[str, ...]]
    #: Detection and stage order: lower first.
    order: ClassVar[int] = 50
    #: The CodeQL language of its sources, when CodeQL knows it.
    codeql: ClassVar[str | None] = None

    @abc.abstractmethod
    def detect(self, root: Path) -> bool:
        """Whether the project at `root` is (partly) written for this toolchain."""

    @abc.abstractmethod
    def requirements(self, config: Config, stage: SessionStage) -> Requirements:
        """What the `stage` session installs for this toolchain."""

    @abc.abstractmethod
    def lint(self, config: Config, tools: ToolEnv) -> LintReport:
        """Run the formatters and linters in check mode; every complaint is a finding."""

    @abc.abstractmethod
    def cells(self, config: Config) -> tuple[Cell, ...]:
        """The matrix: every target this toolchain's tests and builds run on."""

    @abc.abstractmethod
    def test(
        self,
        config: Config,
        tools: ToolEnv,
        *,
        cell: Cell,
        junit: Path,
        extra_args: tuple[str, ...],
    ) -> TestRun:
        """Run the test suite for `cell`, writing JUnit XML to `junit`."""

    @abc.abstractmethod
    def coverage(self, config: Config, tools: ToolEnv) -> CoverageRun:
        """Measure (or combine) coverage and write its reports."""

    def bench(
        self, config: Config, tools: ToolEnv, *, out_dir: Path, extra_args: tuple[str, ...] = ()
    ) -> tuple[Path, ...]:
        """Run the benchmarks; return the result files for the bench stage's parsers."""
        msg = f"the {self.name} toolchain has no benchmark runner"
        raise ToolMissing(msg)

    def has_benchmarks(self, config: Config) -> bool:
        """Whether the project has benchmarks this toolchain's `bench` runs."""
        return False

    def locked(self, config: Config) -> tuple[Pin, ...]:
        """The dependencies its lock files pin, for the advisory matcher."""
        return ()

    def licences(self, config: Config, tools: ToolEnv) -> tuple[PackageLicence, ...]:
        """The declared licence of every dependency, for the licence policy."""
        return ()

    def release_assets(
        self, config: Config, tools: ToolEnv, *, cell: Cell, out_dir: Path
    ) -> tuple[Asset, ...]:
        """Build the files a release ships for `cell` into `out_dir`."""
        msg = f"the {self.name} toolchain builds no per-target release assets"
        raise ToolMissing(msg)

"""The Python toolchain: ruff and mypy, pytest under coverage.py, coverage combine.

Tools run from the session's virtualenv (`ToolEnv`), with the project's own
configuration of each.
"""

from __future__ import annotations

import configparser
import contextlib
import json
import re
import sys
import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any

from packaging.version import Version

from shipyard import matrix
from shipyard.config import Config
from shipyard.errors import ToolMissing
from shipyard.report import Finding, Severity
from shipyard.stages.toolchains.interface import (
    Cell,
    CoverageRun,
    LintReport,
    Requirements,
    SessionStage,
    TestRun,
    Toolchain,
)
from shipyard.tools import Completed, ToolEnv

__all__ = [
    "COVERAGE_REQUIREMENTS",
    "LINT_REQUIREMENTS",
    "RERUNS",
    "TEST_REQUIREMENTS",
    "TOOLCHAIN",
    "PythonToolchain",
    "coverage_data_dir",
    "covered_fraction",
    "mypy_configured",
    "test_extras",
]

#: What the lint session installs besides the project.
LINT_REQUIREMENTS = ("ruff", "mypy")
#: What the test session installs besides the project and its test extras.
TEST_REQUIREMENTS = ("pytest", "coverage[toml]>=7.6", "pytest-rerunfailures>=14")

#: A failed test is run once more; one that passes then is reported as flaky.
RERUNS = ("--reruns", "1")
COVERAGE_REQUIREMENTS = ("coverage[toml]>=7.6",)

_NO_TESTS = 5  # pytest's exit code when it collected nothing
_RUFF_ERROR = 2  # ruff's exit code for an error of its own, or a file it cannot parse


# -- lint ----------------------------------------------------------------------------------

_MYPY_LINE = re.compile(
    r"^(?P<path>[^:\n]+):(?P<line>\d+):(?:\d+:)? (?P<kind>error|note): (?P<msg>.*?)"
    r"(?:  \[(?P<code>[a-z0-9-]+)\])?$",
    re.MULTILINE,
)


def mypy_configured(root: Path) -> bool:
    """Whether the project configures mypy itself (it then chose to be type-checked)."""
    for name in ("mypy.ini", ".mypy.ini"):
        if (root / name).is_file():
            return True
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        if "mypy" in data.get("tool", {}):
            return True
    setup_cfg = root / "setup.cfg"
    if setup_cfg.is_file():
        parser = configparser.ConfigParser()
        parser.read(setup_cfg, encoding="utf-8")
        return parser.has_section("mypy")
    return False


def _relative(filename: str, root: Path) -> str:
    path = Path(filename)
    if path.is_absolute():
        with contextlib.suppress(ValueError):
            path = path.relative_to(root.resolve())
    return path.as_posix()


def _ruff_failure(done: Completed) -> list[Finding]:
    # ruff itself failed (a syntax error, a bad config): keep its own words.
    text = (done.stderr or done.stdout).strip()
    return [Finding(rule="ruff", message=text, severity=Severity.HIGH, tool="ruff")]


def _ruff_json(done: Completed) -> list[dict[str, Any]] | None:
    """ruff's diagnostics, or None when ruff itself failed (a bad config, a crash)."""
    try:
        items = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        return None
    if not isinstance(items, list):
        return None
    # `ruff format` exits 2 on a file it cannot parse, and still lists it (invalid-syntax).
    listed = bool(items) and all(isinstance(i, dict) and "filename" in i for i in items)
    ok = done.returncode in (0, 1) or (done.returncode == _RUFF_ERROR and listed)
    return items if ok else None


def _ruff_format(tools: ToolEnv, root: Path) -> list[Finding]:
    done = tools.run(["ruff", "format", "--check", "--output-format=json", "."], cwd=root)
    items = _ruff_json(done)
    if items is None:
        return _ruff_failure(done)
    # A file ruff cannot parse is ruff check's finding, with its line and message.
    unformatted = [item for item in items if item.get("code") != "invalid-syntax"]
    files = sorted({_relative(item["filename"], root) for item in unformatted})
    return [
        Finding(rule="format", message="file is not formatted", path=path, tool="ruff")
        for path in files
    ]


def _ruff_check(tools: ToolEnv, root: Path) -> list[Finding]:
    done = tools.run(["ruff", "check", "--output-format=json", "--no-fix", "."], cwd=root)
    items = _ruff_json(done)
    if items is None:
        return _ruff_failure(done)
    return [
        Finding(
            rule=item.get("code") or "syntax",
            message=item["message"],
            path=_relative(item["filename"], root),
            line=(item.get("location") or {}).get("row"),
            tool="ruff",
        )
        for item in items
    ]


def _mypy(tools: ToolEnv, config: Config) -> list[Finding]:
    argv = ["mypy", "--no-error-summary", "--show-error-codes", "--no-color-output"]
    data = tomllib.loads(config.pyproject.read_text(encoding="utf-8"))
    if not data.get("tool", {}).get("mypy", {}).get("files"):
        argv += [p.as_posix() for p in config.source_paths()]
    done = tools.run(argv, cwd=config.root)
    findings = [
        Finding(
            rule=m["code"] or "mypy",
            message=m["msg"],
            path=m["path"],
            line=int(m["line"]),
            tool="mypy",
        )
        for m in _MYPY_LINE.finditer(done.stdout)
        if m["kind"] == "error"
    ]
    if done.returncode != 0 and not findings:
        text = (done.stderr or done.stdout).strip()
        findings.append(Finding(rule="mypy", message=text, severity=Severity.HIGH, tool="mypy"))
    return findings


# -- test ----------------------------------------------------------------------------------


def coverage_data_dir(config: Config) -> Path:
    return config.reports / "coverage"


def test_extras(config: Config) -> tuple[str, ...]:
    """The project's extras that hold test requirements: configured, or `test`/`tests`."""
    if config.test.extras is not None:
        return config.test.extras
    defined = config.project.optional_dependencies if config.project else {}
    return tuple(name for name in ("test", "tests") if name in defined)


def _has_coverage_source(config: Config) -> bool:
    if (config.root / ".coveragerc").is_file():
        return True
    data = tomllib.loads(config.pyproject.read_text(encoding="utf-8"))
    run = data.get("tool", {}).get("coverage", {}).get("run", {})
    return bool(run.get("source") or run.get("include"))


def _coverage_core(python_version: str | None) -> dict[str, str]:
    # sys.monitoring makes coverage nearly free on 3.12+; 3.11 keeps the C tracer.
    if python_version and Version(python_version.rstrip("t")) >= Version("3.12"):
        return {"COVERAGE_CORE": "sysmon"}
    return {}


# -- coverage ------------------------------------------------------------------------------


def covered_fraction(totals: dict[str, int]) -> Fraction | None:
    """Exactly what coverage.py's percentage approximates: covered over measured, as a fraction."""
    covered = totals.get("covered_lines", 0) + totals.get("covered_branches", 0)
    measured = totals.get("num_statements", 0) + totals.get("num_branches", 0)
    return Fraction(covered, measured) if measured else None


_REPORTS = """
import json, sys
import coverage

plan = json.loads(sys.argv[1])
cov = coverage.Coverage(data_file=plan["combined"])
if not cov.get_option("paths"):
    # Runs on other machines recorded other absolute paths: map them onto ours.
    cov.set_option("paths", {
        f"source{i}": [src, f"*/{src}", f"*\\\\{src}"] for i, src in enumerate(plan["sources"])
    })
cov.combine(plan["parts"], keep=True)
cov.save()
cov.load()
cov.json_report(outfile=plan["json"])
cov.xml_report(outfile=plan["xml"])
if plan["html"]:
    cov.html_report(directory=plan["html"])
cov.report(file=sys.stdout)
"""


# -- the toolchain -------------------------------------------------------------------------


class PythonToolchain(Toolchain):
    name = "python"
    codeql = "python"
    markers = ("pyproject.toml", "setup.py", "setup.cfg")
    order = 10

    def detect(self, root: Path) -> bool:
        if (root / "setup.py").is_file() or (root / "setup.cfg").is_file():
            return True
        pyproject = root / "pyproject.toml"
        if not pyproject.is_file():
            return False
        try:
            data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError):
            return True  # config.load names the problem
        # A pyproject.toml holding only tool tables (a Cargo project's) is no Python project.
        return "project" in data or "build-system" in data

    def requirements(self, config: Config, stage: SessionStage) -> Requirements:
        if stage == "lint":
            return Requirements(
                packages=(*LINT_REQUIREMENTS, *config.lint.requirements),
                project_extras=config.lint.extras,
            )
        if stage == "test":
            return Requirements(
                packages=(*TEST_REQUIREMENTS, *config.test.requirements),
                project_extras=test_extras(config),
            )
        if stage == "coverage":
            return Requirements(packages=COVERAGE_REQUIREMENTS)
        return Requirements(project_extras=())

    def lint(self, config: Config, tools: ToolEnv) -> LintReport:
        notes = []

        # Formatting and lint rules, always (ruff's defaults when the project has no config).
        findings: list[Finding] = []
        if config.lint.ruff:
            findings += _ruff_format(tools, config.root)
            findings += _ruff_check(tools, config.root)
        else:
            notes.append("ruff off (lint.ruff = false)")

        # Types, only where the project asked for them.
        run_mypy = (
            config.lint.mypy if config.lint.mypy is not None else mypy_configured(config.root)
        )
        if run_mypy:
            findings += _mypy(tools, config)
        else:
            notes.append("mypy skipped: the project does not configure mypy")
        return LintReport(findings=tuple(findings), notes=tuple(notes))

    def cells(self, config: Config) -> tuple[Cell, ...]:
        return tuple(
            Cell(
                id=t.id,
                os=t.os,
                arch=t.arch,
                runner=t.runner,
                python=t.python,
                env=t.env,
                requirements=t.requirements,
            )
            for t in matrix.plan(config).targets
        )

    def test(
        self,
        config: Config,
        tools: ToolEnv,
        *,
        cell: Cell,
        junit: Path,
        extra_args: tuple[str, ...],
    ) -> TestRun:
        if config.tests is None:
            msg = "no tests found: no tests/ or test/ directory; set tool.shipyard.tests"
            return TestRun(tool="pytest", returncode=-1, junit=junit, failure=msg)

        # One coverage data file and one JUnit file per target, combined later.
        data_dir = coverage_data_dir(config)
        data_dir.mkdir(parents=True, exist_ok=True)
        data_file = data_dir / f".coverage.{cell.id}"
        data_file.unlink(missing_ok=True)
        argv = ["python", "-m", "coverage", "run", f"--data-file={data_file}"]
        if not _has_coverage_source(config):
            argv += [f"--source={p.as_posix()}" for p in config.source_paths()]
        argv += ["-m", "pytest", config.tests.as_posix(), f"--junitxml={junit}", *RERUNS]
        argv += [*config.test.pytest_args, *extra_args]

        env = _coverage_core(tools.python_version)
        done = tools.run(argv, cwd=config.root, env=env, stream=True)
        failure = (
            f"no tests collected in {config.tests.as_posix()}/"
            if done.returncode == _NO_TESTS
            else None
        )
        return TestRun(
            tool="pytest",
            returncode=done.returncode,
            junit=junit,
            artifacts=(data_file,),
            failure=failure,
        )

    def coverage(self, config: Config, tools: ToolEnv) -> CoverageRun:
        data_dir = coverage_data_dir(config)
        parts = sorted(data_dir.glob(".coverage.*")) if data_dir.is_dir() else []
        if not parts:
            return CoverageRun(
                failure=f"no coverage data in {data_dir}: run the test session first"
            )

        # Combine every target's data (paths from other OSes are remapped by [paths]) and
        # write every report in one process of the tool environment: one start-up, not five.
        combined = data_dir / ".coverage"
        combined.unlink(missing_ok=True)
        plan = {
            "combined": str(combined),
            "parts": [str(p) for p in parts],
            "sources": [p.as_posix() for p in config.source_paths() if (config.root / p).is_dir()],
            "json": str(data_dir / "coverage.json"),
            "xml": str(data_dir / "coverage.xml"),
            "html": str(data_dir / "htmlcov") if config.coverage.html else None,
        }
        done = tools.run(["python", "-c", _REPORTS, json.dumps(plan)], cwd=config.root)
        sys.stderr.write(done.stdout)
        if done.returncode != 0:
            if "No module named 'coverage'" in done.stderr:
                msg = "coverage.py is not installed in the tool environment"
                raise ToolMissing(msg)
            lines = (done.stderr or done.stdout).strip().splitlines()
            msg = f"coverage could not combine or report: {lines[-1] if lines else 'no output'}"
            return CoverageRun(failure=msg)

        totals = json.loads((data_dir / "coverage.json").read_text(encoding="utf-8"))["totals"]
        names = ["coverage.json", "coverage.xml"] + (["htmlcov"] if config.coverage.html else [])
        return CoverageRun(
            fraction=covered_fraction(totals),
            artifacts=tuple(config.reports_dir / "coverage" / n for n in names),
        )


TOOLCHAIN = PythonToolchain()

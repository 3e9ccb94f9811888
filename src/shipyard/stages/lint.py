"""The lint stage: ruff format, ruff check and (when the project chose it) mypy."""

from __future__ import annotations

import configparser
import contextlib
import json
import re
import time
import tomllib
from pathlib import Path
from typing import Any

from shipyard.config import Config
from shipyard.report import Finding, Severity, StageResult, Status
from shipyard.tools import Completed, ToolEnv

__all__ = ["REQUIREMENTS", "mypy_configured", "run_lint"]

#: What the lint session installs besides the project.
REQUIREMENTS = ("ruff", "mypy")

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
    try:
        items = json.loads(done.stdout or "[]")
    except json.JSONDecodeError:
        return None
    return items if isinstance(items, list) and done.returncode in (0, 1) else None


def _ruff_format(tools: ToolEnv, root: Path) -> list[Finding]:
    done = tools.run(["ruff", "format", "--check", "--output-format=json", "."], cwd=root)
    items = _ruff_json(done)
    if items is None:
        return _ruff_failure(done)
    files = sorted({_relative(item["filename"], root) for item in items})
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


def run_lint(config: Config, tools: ToolEnv) -> StageResult:
    """Run the linters with the project's own configuration and apply the lint gate."""
    start = time.perf_counter()
    notes = []

    # Formatting and lint rules, always (ruff's defaults when the project has no config).
    findings: list[Finding] = []
    if config.lint.ruff:
        findings += _ruff_format(tools, config.root)
        findings += _ruff_check(tools, config.root)
    else:
        notes.append("ruff off (lint.ruff = false)")

    # Types, only where the project asked for them.
    run_mypy = config.lint.mypy if config.lint.mypy is not None else mypy_configured(config.root)
    if run_mypy:
        findings += _mypy(tools, config)
    else:
        notes.append("mypy skipped: the project does not configure mypy")

    allowed = config.gates.lint_warnings
    if len(findings) > allowed:
        status = Status.FAILED
        notes.insert(0, f"{len(findings)} finding(s), more than gates.lint-warnings = {allowed}")
    elif findings:
        status = Status.WARNED
        notes.insert(0, f"{len(findings)} finding(s), within gates.lint-warnings = {allowed}")
    else:
        status = Status.PASSED
    return StageResult(
        stage="lint",
        status=status,
        reason="; ".join(notes),
        duration=time.perf_counter() - start,
        findings=tuple(findings),
        metrics={"lint.findings": len(findings)},
    )

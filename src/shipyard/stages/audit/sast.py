"""Static security analysis of the sources with bandit.

bandit runs as a CLI in the tool environment with `-f json`; its severity and
confidence are kept, and `# nosec` is honoured by bandit itself. When the
project's pyproject.toml has a `[tool.bandit]` table, bandit reads it (`-c`).
"""

from __future__ import annotations

import json
import re
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from shipyard.errors import ConfigError
from shipyard.report import Finding, Severity
from shipyard.stages.audit.interface import (
    Check,
    CheckReport,
    Context,
    Rule,
    ToolFailed,
    note,
    run,
    tail,
)

__all__ = ["SastCheck"]

_BANDIT_URI = "https://bandit.readthedocs.io/"
_SEVERITY = {"LOW": Severity.LOW, "MEDIUM": Severity.MEDIUM, "HIGH": Severity.HIGH}
#: bandit's hardcoded-password tests quote the string they found; those words stay out.
_QUOTES_VALUE = {"B105", "B106", "B107"}


def _uses_tool_bandit(pyproject: Path) -> bool:
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError):
        return False
    return isinstance(data.get("tool", {}).get("bandit"), dict)


def _message(result: dict[str, Any]) -> str:
    text = str(result.get("issue_text", ""))
    if result.get("test_id") in _QUOTES_VALUE:
        text = re.sub(r":\s*'.*'\s*$", "", text, flags=re.DOTALL) + " (value not shown)"
    return text


def _finding(result: dict[str, Any], root: Path) -> Finding:
    filename = Path(str(result.get("filename", "")))
    if filename.is_absolute() and filename.is_relative_to(root):
        filename = filename.relative_to(root)
    cwe = result.get("issue_cwe") or {}
    return Finding(
        rule=str(result.get("test_id", "B000")),
        message=_message(result),
        severity=_SEVERITY.get(str(result.get("issue_severity")), Severity.UNKNOWN),
        path=filename.as_posix(),
        line=result.get("line_number"),
        tool="bandit",
        extra={
            "confidence": str(result.get("issue_confidence", "UNDEFINED")).lower(),
            "test_name": result.get("test_name"),
            "cwe": cwe.get("id") if isinstance(cwe, dict) else None,
            "more_info": result.get("more_info"),
        },
    )


class SastCheck(Check):
    """bandit over the sources (not the tests, unless `audit.sast-paths` names them)."""

    name = "sast"

    def targets(self, context: Context) -> list[Path]:
        configured = context.config.audit.sast_paths
        paths = list(configured) if configured is not None else list(context.config.source_paths())
        for path in paths:
            if not (context.root / path).exists():
                msg = f"'{path}' does not exist under {context.root}."
                key = "audit.sast-paths" if configured is not None else "sources"
                raise ConfigError(msg, path=context.config.pyproject, key=key)
        return paths

    def run(self, context: Context) -> CheckReport:
        targets = self.targets(context)
        if not targets:
            finding = note(self.name, "no sources to scan; set [tool.shipyard] sources")
            return CheckReport(check=self.name, tool="bandit", findings=[finding])
        data = self._bandit(context, targets)
        findings = [_finding(r, context.root) for r in data.get("results", [])]
        findings += [
            note(self.name, f"bandit could not scan {e.get('filename')}: {e.get('reason')}")
            for e in data.get("errors", [])
        ]
        totals = data.get("metrics", {}).get("_totals", {})
        rules = {
            f.rule: Rule(
                id=f.rule,
                name=str(f.extra.get("test_name") or f.rule),
                help_uri=f.extra.get("more_info"),
            )
            for f in findings
            if f.tool == "bandit"
        }
        return CheckReport(
            check=self.name,
            tool="bandit",
            tool_version=self._version(context),
            tool_uri=_BANDIT_URI,
            findings=findings,
            rules=list(rules.values()),
            metrics={
                "sast.loc": int(totals.get("loc", 0)),
                "sast.nosec": int(totals.get("nosec", 0)) + int(totals.get("skipped_tests", 0)),
            },
        )

    def _bandit(self, context: Context, targets: list[Path]) -> dict[str, Any]:
        with tempfile.TemporaryDirectory(prefix="shipyard-bandit-") as tmp:
            out = Path(tmp) / "bandit.json"
            argv: list[str | Path] = ["bandit", "-r", "-q", "-f", "json", "-o", out]
            if _uses_tool_bandit(context.config.pyproject):
                argv += ["-c", context.config.pyproject]
            argv += [str(t) for t in targets]
            proc = run(context, argv)
            # bandit exits 1 when it found issues; the report file says whether it finished.
            if not out.is_file():
                msg = f"bandit failed (exit {proc.returncode}): {tail(proc)}"
                raise ToolFailed(msg)
            try:
                data = json.loads(out.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                msg_0 = f"bandit wrote unreadable JSON: {exc}"
                raise ToolFailed(msg_0) from None
        if not isinstance(data, dict):
            raise ToolFailed("bandit wrote JSON that is not a report object")
        return data

    def _version(self, context: Context) -> str | None:
        proc = run(context, ["bandit", "--version"])
        first = proc.stdout.split()
        return first[1] if proc.returncode == 0 and len(first) > 1 else None

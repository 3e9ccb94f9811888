"""Secrets in the tracked files and in git history, found by detect-secrets.

detect-secrets runs in the tool environment through `_secretscan.py`, which
uses detect-secrets' own file scanning for tracked files and its own diff
scanning for every line added by every (non-merge) commit of the current
branch. A `.secrets.baseline` is honoured: its plugins and filters are used and
its known secrets pass. A secret is reported by type, file, line, the commit
that added it and detect-secrets' `hashed_secret` as fingerprint, never by value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from shipyard.errors import ConfigError
from shipyard.report import Finding, Severity
from shipyard.stages.audit.interface import (
    Check,
    CheckReport,
    Context,
    Rule,
    note,
    require,
    run_script,
)

__all__ = ["SecretsCheck"]

_SCRIPT = Path(__file__).with_name("_secretscan.py")
_TOOL_URI = "https://github.com/Yelp/detect-secrets"


def rule_id(secret_type: str) -> str:
    return "secret/" + "-".join(secret_type.lower().split())


def _finding(item: Mapping[str, Any], *, commit: str | None) -> Finding:
    where = f" (added in commit {commit[:12]})" if commit else ""
    return Finding(
        rule=rule_id(str(item["type"])),
        message=f"{item['type']} found{where}",
        severity=Severity.HIGH,
        path=str(item["filename"]),
        line=int(item["line_number"]),
        tool="detect-secrets",
        extra={
            "type": item["type"],
            "fingerprint": item["hashed_secret"],
            "commit": commit,
            "in_tree": commit is None,
        },
    )


def merge(
    tracked: Iterable[Mapping[str, Any]], history: Iterable[Mapping[str, Any]]
) -> list[Finding]:
    """One finding per secret: a tree finding learns the commit that added it."""
    added: dict[tuple[str, str, str], Mapping[str, Any]] = {}
    for item in history:
        added.setdefault((item["filename"], item["hashed_secret"], item["type"]), item)
    findings = []
    for item in tracked:
        key = (item["filename"], item["hashed_secret"], item["type"])
        origin = added.pop(key, None)
        finding = _finding(item, commit=None)
        if origin is not None:
            extra = {**finding.extra, "commit": origin["commit"]}
            finding = dataclasses.replace(finding, extra=extra)
        findings.append(finding)
    findings += [_finding(item, commit=item["commit"]) for item in added.values()]
    return findings


class SecretsCheck(Check):
    """detect-secrets over tracked files and, by default, over git history."""

    name = "secrets"

    def run(self, context: Context) -> CheckReport:
        audit = context.config.audit
        args = [str(context.root.resolve())]
        baseline = context.root / audit.secrets_baseline
        if baseline.is_file():
            args += ["--baseline", str(audit.secrets_baseline)]
        if audit.secrets_history:
            args.append("--history")
        for entry in audit.suppress:
            if entry.fingerprint:
                args += ["--fingerprint", entry.fingerprint]
        require(context, "detect-secrets")
        data = run_script(context, _SCRIPT, *args)
        if "error" in data:
            raise ConfigError(str(data["error"]), path=baseline)

        known = {(name, digest) for name, digest in data["known"]}
        known_hashes = {digest for _, digest in known}
        tracked = [s for s in data["tracked"] if (s["filename"], s["hashed_secret"]) not in known]
        history = [s for s in data["history"] if s["hashed_secret"] not in known_hashes]
        findings = merge(tracked, history)
        notes = [note(self.name, problem) for problem in data["problems"]]
        if audit.secrets_history and not data["has_commits"]:
            reason = "no commits yet" if data["is_repo"] else "not a git repository"
            notes.append(note(self.name, f"git history not scanned: {reason}"))
        rules = {f.rule: Rule(id=f.rule, name=str(f.extra["type"])) for f in findings}
        return CheckReport(
            check=self.name,
            tool="detect-secrets",
            tool_version=data.get("version"),
            tool_uri=_TOOL_URI,
            findings=[*findings, *notes],
            rules=list(rules.values()),
            metrics={
                "secrets.found": len(findings),
                "secrets.known": len(known),
                "secrets.commits": int(data["commits"]),
            },
        )

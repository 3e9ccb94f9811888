"""The audit's findings as SARIF 2.1.0, one run per tool, for GitHub code scanning."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from shipyard.report import Finding, Severity
from shipyard.stages.audit.interface import CheckReport, Rule

__all__ = ["SARIF_NAME", "SARIF_SCHEMA", "to_sarif"]

SARIF_NAME = "audit.sarif"
SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"

_LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.UNKNOWN: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
#: GitHub ranks alerts by `security-severity`, a CVSS-like number as a string.
_SECURITY_SEVERITY = {
    Severity.CRITICAL: 9.5,
    Severity.HIGH: 8.0,
    Severity.UNKNOWN: 8.0,
    Severity.MEDIUM: 5.5,
    Severity.LOW: 2.0,
    Severity.INFO: 0.0,
}


def _location(finding: Finding, fallback: str) -> dict[str, Any]:
    physical: dict[str, Any] = {
        "artifactLocation": {"uri": finding.path or fallback, "uriBaseId": "%SRCROOT%"}
    }
    if finding.line is not None and finding.line > 0:
        physical["region"] = {"startLine": finding.line}
    return {"physicalLocation": physical}


def _result(finding: Finding, rule_index: int, fallback: str) -> dict[str, Any]:
    score = finding.extra.get("cvss_score")
    severity = score if isinstance(score, (int, float)) else _SECURITY_SEVERITY[finding.severity]
    properties: dict[str, Any] = {
        "severity": finding.severity.value,
        "security-severity": f"{severity:.1f}",
    }
    for key in ("confidence", "package", "version", "fixed_versions", "aliases", "commit"):
        value = finding.extra.get(key)
        if value not in (None, [], ()):
            properties[key] = value
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": rule_index,
        "level": _LEVEL[finding.severity],
        "message": {"text": finding.message},
        "locations": [_location(finding, fallback)],
        "properties": properties,
    }
    fingerprint = finding.extra.get("fingerprint")
    if fingerprint:
        result["partialFingerprints"] = {"secretHash/v1": str(fingerprint)}
    return result


def _rule(rule: Rule, findings: Sequence[Finding]) -> dict[str, Any]:
    first = next((f for f in findings if f.rule == rule.id), None)
    text = rule.name if first is None or first.tool != "pip-audit" else first.message
    out: dict[str, Any] = {"id": rule.id, "name": rule.name, "shortDescription": {"text": text}}
    if rule.help_uri:
        out["helpUri"] = rule.help_uri
    return out


def _run(report: CheckReport, findings: Sequence[Finding], fallback: str) -> dict[str, Any]:
    rules = {r.id: r for r in report.rules}
    for finding in findings:
        rules.setdefault(finding.rule, Rule(id=finding.rule, name=finding.rule))
    order = list(rules)
    driver: dict[str, Any] = {
        "name": report.tool,
        "rules": [_rule(rules[i], findings) for i in order],
    }
    if report.tool_version:
        driver["version"] = report.tool_version
    if report.tool_uri:
        driver["informationUri"] = report.tool_uri
    return {
        "tool": {"driver": driver},
        "results": [_result(f, order.index(f.rule), fallback) for f in findings],
    }


def to_sarif(
    reports: Sequence[CheckReport], *, kept: Sequence[Finding], fallback_uri: str
) -> dict[str, Any]:
    """A SARIF log with one run per tool, holding the findings that were not suppressed.

    `fallback_uri` locates findings that belong to no file (a dependency's
    vulnerability or licence): the project's pyproject.toml.
    """
    runs = [
        _run(report, [f for f in kept if f.tool == report.tool], fallback_uri)
        for report in reports
        if report.check != "sbom"
    ]
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": runs}

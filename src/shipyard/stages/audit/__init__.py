"""The audit stage: vulnerable dependencies, static analysis, secrets, licences and an SBOM.

Every check is done by a kept tool or library (see `interface.py`); this module
runs the configured checks, applies the one suppression list, writes the SARIF
log and the markdown summary, and turns what is left into a gate verdict:
findings at `gates.max-severity` or worse fail, and so does any secret, any
denied licence and any check that could not run (the other checks still report).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from shipyard.config import Config
from shipyard.errors import ShipyardError, ToolMissing
from shipyard.report import Finding, Severity, StageResult, Status, render_markdown, write_atomic
from shipyard.stages import toolchains
from shipyard.stages.audit import suppress
from shipyard.stages.audit.interface import (
    CHECK_FAILED,
    NOTE_TOOL,
    TOOL_PACKAGES,
    AuditError,
    Check,
    CheckReport,
    Context,
    Distribution,
    failure,
    run_script,
)
from shipyard.stages.audit.licenses import LicenseCheck
from shipyard.stages.audit.sarif import SARIF_NAME, to_sarif
from shipyard.stages.audit.sast import SastCheck
from shipyard.stages.audit.sbom import SbomCheck
from shipyard.stages.audit.secrets import SecretsCheck
from shipyard.stages.audit.vulns import VulnsCheck
from shipyard.tools import ToolEnv

__all__ = ["CHECKS", "REQUIREMENTS", "gate", "run_audit"]

#: What the audit session installs besides the project: the CLIs the checks run.
REQUIREMENTS = TOOL_PACKAGES

CHECKS: Mapping[str, type[Check]] = {
    "vulns": VulnsCheck,
    "sast": SastCheck,
    "secrets": SecretsCheck,
    "licenses": LicenseCheck,
    "sbom": SbomCheck,
}

_PROBE = Path(__file__).with_name("_probe.py")
_NEEDS_PROBE = {"vulns", "licenses"}
MARKDOWN_NAME = "audit.md"


#: What a check raises when it cannot do its job: its own failed finding, not the audit's end.
_CHECK_ERRORS = (AuditError, ToolMissing)


def _probed(context: Context) -> Context:
    """The context with the tool environment's distributions and markers, read by `_probe.py`."""
    data = run_script(context, _PROBE)
    distributions = tuple(
        Distribution(
            name=d["name"],
            version=d["version"],
            requires=tuple(d["requires"]),
            license_expression=d["license_expression"],
            license=d["license"],
            classifiers=tuple(d["classifiers"]),
        )
        for d in data["distributions"]
    )
    return dataclasses.replace(context, distributions=distributions, markers=data["markers"])


def _run_checks(context: Context) -> tuple[Context, list[CheckReport], list[Finding]]:
    """Each configured check's report, in order; a check that cannot run is a failure finding.

    One broken tool must not hide what the others found, so the failure of one
    check (or of the probe the checks reading distributions share) is kept as a
    finding and the remaining checks still run. Bad configuration still raises.
    """
    names = list(dict.fromkeys(context.config.audit.checks))
    probe_error: ShipyardError | None = None
    if _NEEDS_PROBE & set(names):
        try:
            context = _probed(context)
        except _CHECK_ERRORS as exc:
            probe_error = exc

    reports: list[CheckReport] = []
    failures: list[Finding] = []
    for name in names:
        error = probe_error if name in _NEEDS_PROBE else None
        if error is None:
            try:
                reports.append(CHECKS[name]().run(context))
            except _CHECK_ERRORS as exc:
                error = exc
        if error is not None:
            failures.append(failure(name, error))
    return context, reports, failures


def gate(findings: Sequence[Finding], config: Config) -> tuple[Status, str]:
    """failed (with the line crossed), warned (findings below the line), or passed."""
    line = Severity(config.gates.max_severity)
    unknown_as = Severity(config.audit.unknown_severity)

    def rank(finding: Finding) -> int:
        return (unknown_as if finding.severity is Severity.UNKNOWN else finding.severity).rank

    broken = [f for f in findings if f.rule == CHECK_FAILED]
    real = [f for f in findings if f.tool != NOTE_TOOL]
    secrets = [f for f in real if f.tool == "detect-secrets"]
    denied = [f for f in real if f.rule == "license/denied"]
    severe = [f for f in real if f not in secrets and f not in denied and rank(f) >= line.rank]
    reasons = [f.message for f in broken]
    if severe:
        worst = max(severe, key=rank)
        reasons.append(
            f"{len(severe)} finding(s) of severity {line.value} or worse "
            f"(gates.max-severity = '{line.value}'; worst: {worst.rule}, {worst.severity.value})"
        )
    if secrets:
        reasons.append(f"{len(secrets)} secret(s) in the tree or git history")
    if denied:
        names = ", ".join(str(f.extra.get("package")) for f in denied)
        reasons.append(f"{len(denied)} denied licence(s): {names}")
    if reasons:
        return Status.FAILED, "; ".join(reasons)
    notes = [f for f in findings if f.tool == NOTE_TOOL]
    if real:
        extra = f", {len(notes)} note(s)" if notes else ""
        return Status.WARNED, f"{len(real)} finding(s) below the gate{extra}"
    if notes:
        more = f" (and {len(notes) - 1} more note(s))" if len(notes) > 1 else ""
        return Status.WARNED, notes[0].message + more
    return Status.PASSED, ""


def _metrics(
    reports: Sequence[CheckReport], outcome: suppress.Outcome, failures: Sequence[Finding]
) -> dict[str, float | int | str]:
    metrics: dict[str, float | int | str] = {}
    for report in reports:
        metrics.update(report.metrics)
    metrics["audit.checks_failed"] = len(failures)
    metrics["audit.findings"] = sum(1 for f in outcome.kept if f.tool != NOTE_TOOL)
    metrics["audit.suppressed"] = len(outcome.suppressed)
    metrics["audit.suppressions_expired"] = len(outcome.notes)
    metrics["audit.suppressions_unused"] = len(outcome.unused)
    return metrics


def _relative(path: Path, root: Path) -> str:
    path, root = path.resolve(), root.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)


def run_audit(config: Config, *, tool_env: ToolEnv, today: dt.date | None = None) -> StageResult:
    """Run the configured checks with the tools of `tool_env` and apply the audit gate."""
    start = time.perf_counter()
    rules = suppress.rules(config.audit.suppress, pyproject=config.pyproject)

    # Run each check in the order configured; one that cannot run leaves a failure finding.
    base = Context(
        config=config,
        env=tool_env,
        distributions=(),
        markers={},
        toolchains=toolchains.present(config),
    )
    context, reports, failures = _run_checks(base)

    # One suppression list over every finding, then the gate on what is left (and on failures,
    # which no suppression hides).
    found = [f for report in reports for f in report.findings]
    outcome = suppress.apply(found, rules, today=today or dt.datetime.now().astimezone().date())
    kept = [*failures, *outcome.kept, *outcome.notes]
    status, reason = gate(kept, config)
    skipped = [r.skipped for r in reports if r.skipped]
    reason = "; ".join([reason, *skipped] if reason else skipped)

    # SARIF for code scanning, then the stage result with its artifacts.
    sarif_path = context.out_dir / SARIF_NAME
    fallback = _relative(config.pyproject, config.root)
    sarif = to_sarif(reports, kept=outcome.kept, fallback_uri=fallback)
    write_atomic(sarif_path, json.dumps(sarif, indent=2) + "\n")
    artifacts = [sarif_path, *(a for r in reports for a in r.artifacts)]
    result = StageResult(
        stage="audit",
        status=status,
        reason=reason,
        duration=time.perf_counter() - start,
        findings=kept,
        metrics=_metrics(reports, outcome, failures),
        artifacts=[_relative(a, config.root) for a in artifacts]
        + [_relative(context.out_dir / MARKDOWN_NAME, config.root)],
    )
    write_atomic(context.out_dir / MARKDOWN_NAME, render_markdown([result], title="shipyard audit"))
    return result

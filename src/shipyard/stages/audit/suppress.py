"""One suppression list for every check: `[[tool.shipyard.audit.suppress]]`.

Each entry names one finding kind: a vulnerability `id` (or any alias), a bandit
`test` (optionally with a `path` glob), a secret `fingerprint`, or a `package`
whose licence finding is accepted. A `reason` is required; an `expires` date is
optional, and once it has passed the entry stops suppressing and says so.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import fnmatch
from collections.abc import Sequence
from pathlib import Path

from packaging.utils import canonicalize_name

from shipyard.config import Suppression
from shipyard.errors import ConfigError
from shipyard.report import Finding
from shipyard.stages.audit.interface import note

__all__ = ["Outcome", "Rule", "apply", "rules"]

_KEY = "tool.shipyard.audit.suppress"
_TARGETS = ("id", "test", "fingerprint", "package")
_VULN_TOOLS = ("pip-audit", "advisory-db")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Rule:
    """A validated suppression entry."""

    index: int
    entry: Suppression
    expires: dt.date | None

    @property
    def label(self) -> str:
        entry = self.entry
        if entry.test is not None:
            return f"test {entry.test}" + (f" in {entry.path}" if entry.path else "")
        for name in ("id", "fingerprint", "package"):
            value = getattr(entry, name)
            if value is not None:
                return f"{name} {value}"
        return f"entry {self.index}"

    def expired(self, today: dt.date) -> bool:
        return self.expires is not None and self.expires < today

    def matches(self, finding: Finding) -> bool:
        entry = self.entry
        if entry.id is not None and finding.tool in _VULN_TOOLS:
            ids = {finding.rule, *finding.extra.get("aliases", ())}
            return entry.id.casefold() in {i.casefold() for i in ids}
        if entry.test is not None and finding.tool == "bandit" and finding.rule == entry.test:
            return entry.path is None or fnmatch.fnmatchcase(finding.path or "", entry.path)
        if entry.fingerprint is not None and finding.tool == "detect-secrets":
            return entry.fingerprint == finding.extra.get("fingerprint")
        if entry.package is not None and finding.tool == "licenses":
            return canonicalize_name(entry.package) == finding.extra.get("package")
        return False


def rules(entries: Sequence[Suppression], *, pyproject: Path) -> list[Rule]:
    """Validate the entries: one target each, a reason, `path` only with `test`."""
    out = []
    for index, entry in enumerate(entries):
        key = f"{_KEY}[{index}]"
        targets = [name for name in _TARGETS if getattr(entry, name) is not None]
        if len(targets) != 1:
            msg = (
                f"names {' and '.join(targets) or 'nothing'}; expected exactly one of "
                "id, test, fingerprint or package."
            )
            raise ConfigError(msg, path=pyproject, key=key)
        if entry.path is not None and entry.test is None:
            msg = "'path' only narrows a bandit 'test'; add test = 'B...' or remove path."
            raise ConfigError(msg, path=pyproject, key=f"{key}.path")
        if not (entry.reason or "").strip():
            msg = "has no reason; every suppression says why the finding is accepted."
            raise ConfigError(msg, path=pyproject, key=f"{key}.reason")
        expires = dt.date.fromisoformat(entry.expires) if entry.expires else None
        out.append(Rule(index=index, entry=entry, expires=expires))
    return out


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outcome:
    kept: tuple[Finding, ...]
    suppressed: tuple[Finding, ...]
    #: Remarks about expired entries, which no longer suppress.
    notes: tuple[Finding, ...]
    #: Entries that matched no finding (worth removing).
    unused: tuple[str, ...]


def _mark_expired(finding: Finding, rule: Rule) -> Finding:
    return dataclasses.replace(
        finding,
        message=f"{finding.message} [suppression expired {rule.expires}]",
        extra={**finding.extra, "suppression_expired": str(rule.expires)},
    )


def apply(findings: Sequence[Finding], suppressions: Sequence[Rule], *, today: dt.date) -> Outcome:
    """Split findings into kept and suppressed; expired entries suppress nothing."""
    kept: list[Finding] = []
    suppressed: list[Finding] = []
    used: set[int] = set()
    for finding in findings:
        hits = [rule for rule in suppressions if rule.matches(finding)]
        active = [rule for rule in hits if not rule.expired(today)]
        used.update(rule.index for rule in hits)
        if active:
            suppressed.append(finding)
        elif hits:
            kept.append(_mark_expired(finding, hits[0]))
        else:
            kept.append(finding)
    notes = [
        note(
            "suppress",
            f"suppression {rule.label} expired on {rule.expires} and no longer applies "
            f"(reason was: {rule.entry.reason})",
        )
        for rule in suppressions
        if rule.expired(today)
    ]
    unused = tuple(rule.label for rule in suppressions if rule.index not in used)
    return Outcome(
        kept=tuple(kept), suppressed=tuple(suppressed), notes=tuple(notes), unused=unused
    )

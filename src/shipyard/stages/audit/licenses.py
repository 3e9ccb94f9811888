"""Licences of the runtime dependencies, judged by an allow/deny/warn policy.

For a Python project the licence of each distribution comes from its metadata in
the tool environment: PEP 639 `License-Expression` first, then the `License ::`
classifiers (several are read as a choice), then the `License` field. Other
toolchains declare their dependencies' licences themselves (`cargo metadata` for
crates). Each is normalised to SPDX with `license-expression` and judged on the
expression: an `OR` passes when any branch passes, an `AND` when every branch
does, and `X WITH exception` is judged by `X`.
"""

from __future__ import annotations

import dataclasses
import enum
import fnmatch
from collections.abc import Iterable, Mapping, Sequence

from license_expression import (
    AND,
    OR,
    ExpressionError,
    LicenseExpression,
    LicenseSymbol,
    LicenseWithExceptionSymbol,
    get_spdx_licensing,
)
from packaging.markers import UndefinedEnvironmentName
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from shipyard.config import LicensePolicy
from shipyard.report import Finding, Severity
from shipyard.stages.audit.interface import Check, CheckReport, Context, Distribution, Rule, note
from shipyard.stages.toolchains.interface import PackageLicence

__all__ = ["LicenseCheck", "Verdict", "declared", "judge", "license_of", "runtime_closure"]

_LICENSING = get_spdx_licensing()

#: Trove classifiers (the part after "License :: ") and common `License` texts, as SPDX.
#: Ambiguous ones ("BSD License") are left out, so the `License` field decides.
_NAMES = {
    "OSI Approved :: MIT License": "MIT",
    "OSI Approved :: MIT No Attribution License (MIT-0)": "MIT-0",
    "OSI Approved :: Apache Software License": "Apache-2.0",
    "OSI Approved :: ISC License (ISCL)": "ISC",
    "OSI Approved :: Python Software Foundation License": "PSF-2.0",
    "OSI Approved :: Mozilla Public License 2.0 (MPL 2.0)": "MPL-2.0",
    "OSI Approved :: The Unlicense (Unlicense)": "Unlicense",
    "OSI Approved :: zlib/libpng License": "Zlib",
    "OSI Approved :: Boost Software License 1.0 (BSL-1.0)": "BSL-1.0",
    "OSI Approved :: Historical Permission Notice and Disclaimer (HPND)": "HPND",
    "OSI Approved :: Eclipse Public License 2.0 (EPL-2.0)": "EPL-2.0",
    "OSI Approved :: GNU General Public License (GPL)": "GPL-1.0-or-later",
    "OSI Approved :: GNU General Public License v2 (GPLv2)": "GPL-2.0-only",
    "OSI Approved :: GNU General Public License v2 or later (GPLv2+)": "GPL-2.0-or-later",
    "OSI Approved :: GNU General Public License v3 (GPLv3)": "GPL-3.0-only",
    "OSI Approved :: GNU General Public License v3 or later (GPLv3+)": "GPL-3.0-or-later",
    "OSI Approved :: GNU Lesser General Public License v2 (LGPLv2)": "LGPL-2.0-only",
    "OSI Approved :: GNU Lesser General Public License v2 or later (LGPLv2+)": (
        "LGPL-2.0-or-later"
    ),
    "OSI Approved :: GNU Lesser General Public License v3 (LGPLv3)": "LGPL-3.0-only",
    "OSI Approved :: GNU Lesser General Public License v3 or later (LGPLv3+)": (
        "LGPL-3.0-or-later"
    ),
    "OSI Approved :: GNU Library or Lesser General Public License (LGPL)": "LGPL-2.0-or-later",
    "OSI Approved :: GNU Affero General Public License v3": "AGPL-3.0-only",
    "OSI Approved :: GNU Affero General Public License v3 or later (AGPLv3+)": (
        "AGPL-3.0-or-later"
    ),
    "CC0 1.0 Universal (CC0 1.0) Public Domain Dedication": "CC0-1.0",
    "MIT License": "MIT",
    "Apache License 2.0": "Apache-2.0",
    "Apache 2.0": "Apache-2.0",
    "Apache License, Version 2.0": "Apache-2.0",
    "Apache Software License": "Apache-2.0",
    "ISC License": "ISC",
}
_NAMES_FOLDED = {k.casefold(): v for k, v in _NAMES.items()}
_MAX_LICENSE_FIELD = 200  # a longer `License` field is a licence text, not a name


class Verdict(enum.IntEnum):
    """Ordered from best to worst, so OR takes the min and AND the max."""

    ALLOW = 0
    WARN = 1
    UNKNOWN = 2
    DENY = 3


@dataclasses.dataclass(frozen=True, kw_only=True)
class Licence:
    """A distribution's licence as SPDX, and where in its metadata it was read."""

    expression: str | None
    source: str
    #: The original text when it could not be read as SPDX (first words only).
    raw: str | None = None


# -- reading the metadata ----------------------------------------------------------------


def normalise(text: str) -> str | None:
    """The SPDX rendering of `text`, or None when it is not a known SPDX expression."""
    folded = _NAMES_FOLDED.get(text.strip().casefold())
    if folded:
        return folded
    try:
        parsed = _LICENSING.parse(text, validate=True, strict=False)
    except ExpressionError:
        return None
    return None if parsed is None else str(parsed.render())


def license_of(dist: Distribution) -> Licence:
    """License-Expression, then classifiers, then the License field."""
    if dist.license_expression and dist.license_expression.strip():
        spdx = normalise(dist.license_expression)
        raw = None if spdx else dist.license_expression[:80]
        return Licence(expression=spdx, source="License-Expression", raw=raw)
    names = [
        _NAMES.get(c.removeprefix("License :: "))
        for c in dist.classifiers
        if c.startswith("License")
    ]
    known = [n for n in dict.fromkeys(names) if n]
    if known:
        expression = " OR ".join(known)
        return Licence(expression=normalise(expression), source="classifiers")
    text = (dist.license or "").strip()
    if len(text) > _MAX_LICENSE_FIELD:
        # A whole licence text; its title line often names it ("MIT License").
        text = text.splitlines()[0].strip()
    if text and text.upper() != "UNKNOWN":
        spdx = normalise(text)
        return Licence(expression=spdx, source="License", raw=None if spdx else text[:80])
    return Licence(expression=None, source="none")


# -- judging -----------------------------------------------------------------------------


def _matches(key: str, patterns: Iterable[str]) -> bool:
    return any(fnmatch.fnmatchcase(key.casefold(), p.casefold()) for p in patterns)


def judge_key(key: str, policy: LicensePolicy) -> Verdict:
    """deny, then warn, then allow: the first list naming `key` decides."""
    if _matches(key, policy.deny):
        return Verdict.DENY
    if _matches(key, policy.warn):
        return Verdict.WARN
    if _matches(key, policy.allow):
        return Verdict.ALLOW
    return Verdict.UNKNOWN


def _judge_node(node: LicenseExpression, policy: LicensePolicy) -> Verdict:
    if isinstance(node, LicenseWithExceptionSymbol):
        return judge_key(str(node.license_symbol.key), policy)
    if isinstance(node, LicenseSymbol):
        return judge_key(str(node.key), policy)
    branches = [_judge_node(arg, policy) for arg in node.args]
    if isinstance(node, OR):
        return min(branches)
    if isinstance(node, AND):
        return max(branches)
    return Verdict.UNKNOWN


def judge(expression: str | None, policy: LicensePolicy) -> Verdict:
    """The policy's verdict on an SPDX expression; None judges as unknown."""
    if expression is None:
        return Verdict.UNKNOWN
    return _judge_node(_LICENSING.parse(expression), policy)


# -- which distributions -----------------------------------------------------------------


def runtime_closure(
    root: str, distributions: Sequence[Distribution], markers: Mapping[str, str]
) -> list[Distribution]:
    """The installed distributions `root` needs at run time (markers evaluated, no extras)."""
    by_name: dict[str, Distribution] = {canonicalize_name(d.name): d for d in distributions}
    seen: set[str] = set()
    todo = [canonicalize_name(root)]
    while todo:
        name = todo.pop()
        dist = by_name.get(name)
        if name in seen or dist is None:
            continue
        seen.add(name)
        for text in dist.requires:
            try:
                requirement = Requirement(text)
                wanted = requirement.marker is None or requirement.marker.evaluate(
                    {**markers, "extra": ""}
                )
            except (InvalidRequirement, UndefinedEnvironmentName):
                continue
            if wanted:
                todo.append(canonicalize_name(requirement.name))
    seen.discard(canonicalize_name(root))
    return sorted((by_name[n] for n in seen), key=lambda d: canonicalize_name(d.name))


# -- the check ---------------------------------------------------------------------------

_RULES = {
    Verdict.DENY: Rule(id="license/denied", name="A dependency's licence is denied"),
    Verdict.WARN: Rule(id="license/warned", name="A dependency's licence needs a look"),
    Verdict.UNKNOWN: Rule(id="license/unknown", name="A dependency's licence is unknown"),
}


def _finding(name: str, version: str, licence: Licence, verdict: Verdict) -> Finding:
    shown = licence.expression or (f"'{licence.raw}' (not SPDX)" if licence.raw else None)
    what = f"licence {shown} from {licence.source}" if shown else "no licence metadata"
    words = {
        Verdict.DENY: "is denied",
        Verdict.WARN: "is on the warn list",
        Verdict.UNKNOWN: "is not named by the policy",
    }
    if shown is None:
        words[Verdict.UNKNOWN] = "says nothing the policy can judge"
    return Finding(
        rule=_RULES[verdict].id,
        message=f"{name} {version}: {what} {words[verdict]}",
        severity=Severity.HIGH if verdict is Verdict.DENY else Severity.LOW,
        tool="licenses",
        extra={
            "package": canonicalize_name(name),
            "version": version,
            "license": licence.expression,
            "license_text": licence.raw,
            "source": licence.source,
        },
    )


def declared(licence: PackageLicence) -> Licence:
    """A toolchain's declared licence (an SPDX expression for crates) as a `Licence`."""
    text = (licence.expression or "").strip()
    if not text:
        return Licence(expression=None, source=licence.source)
    spdx = normalise(text)
    return Licence(expression=spdx, source=licence.source, raw=None if spdx else text[:80])


class LicenseCheck(Check):
    """The licence of every runtime dependency of the project, against `audit.licenses`."""

    name = "licenses"

    def run(self, context: Context) -> CheckReport:
        judged: list[tuple[str, str, Licence]] = []
        notes = []
        if context.python:
            found, why = self._python(context)
            judged += found
            notes += [note(self.name, why)] if why else []
        for toolchain in context.toolchains:
            if toolchain.name != "python":
                judged += [
                    (p.name, p.version, declared(p))
                    for p in toolchain.licences(context.config, context.env)
                ]

        policy = context.config.audit.licenses
        unknown = {"allow": Verdict.ALLOW, "warn": Verdict.UNKNOWN, "deny": Verdict.DENY}
        findings = []
        for name, version, licence in judged:
            verdict = judge(licence.expression, policy)
            if verdict is Verdict.UNKNOWN:
                verdict = unknown[policy.unknown]
            if verdict is not Verdict.ALLOW:
                findings.append(_finding(name, version, licence, verdict))
        return CheckReport(
            check=self.name,
            tool="licenses",
            tool_uri="https://github.com/aboutcode-org/license-expression",
            findings=[*findings, *notes],
            rules=list(_RULES.values()),
            metrics={"licenses.packages": len(judged), "licenses.flagged": len(findings)},
        )

    def _python(self, context: Context) -> tuple[list[tuple[str, str, Licence]], str | None]:
        """The runtime closure of the project's distribution; or why there is none."""
        project = context.config.project
        names = {canonicalize_name(d.name) for d in context.distributions}
        if project is None or canonicalize_name(project.name) not in names:
            name = project.name if project else "the project"
            return [], f"{name} is not installed in the tool environment; licences not checked"
        deps = runtime_closure(project.name, context.distributions, context.markers)
        return [(d.name, d.version, license_of(d)) for d in deps], None

"""Known vulnerabilities of the installed and the pinned dependencies.

Online, pip-audit runs as a CLI in the tool environment (`--format json`) over the
environment and over the requirements/lock files. Offline (`audit.advisory-db`),
the same inputs are matched against a directory of OSV advisories. Either way,
aliases of one flaw are one finding, with its fixed versions.

The project's other toolchains add the pins of their lock files (`Cargo.lock`:
crates.io packages), matched by the same OSV matcher: against the advisory
directory offline, against the OSV API's records online.
"""

from __future__ import annotations

import dataclasses
import json
import tempfile
import tomllib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import httpx
from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from shipyard.errors import ConfigError
from shipyard.report import Finding, Severity
from shipyard.stages.audit import osv
from shipyard.stages.audit.interface import (
    Check,
    CheckReport,
    Context,
    ToolFailed,
    note,
    run,
    tail,
)
from shipyard.stages.audit.licenses import runtime_closure

__all__ = [
    "OSV_QUERY_URL",
    "Pin",
    "VulnsCheck",
    "environment_pins",
    "find_requirement_files",
    "offline_findings",
    "osv_findings",
    "read_pins",
    "toolchain_pins",
]

_REQUIREMENT_GLOBS = ("requirements*.txt", "requirements/*.txt", "pylock.toml", "pylock.*.toml")
_PIP_AUDIT_URI = "https://github.com/pypa/pip-audit"
_OSV_URI = "https://osv.dev"
#: OSV's query endpoint (pip-audit's default `--osv-url` too).
OSV_QUERY_URL = "https://api.osv.dev/v1/query"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Pin:
    """One dependency of an input: a name and, when pinned, its exact version."""

    name: str
    version: str | None
    #: The file that declared it, relative to the project root; None for the environment.
    source: str | None = None
    #: The OSV ecosystem its name and version belong to.
    ecosystem: str = "PyPI"

    @property
    def key(self) -> tuple[str, str]:
        """(ecosystem, canonical name): how advisories are looked up."""
        return self.ecosystem, osv.ECOSYSTEMS[self.ecosystem].canonical(self.name)


# -- inputs ------------------------------------------------------------------------------


def find_requirement_files(context: Context) -> list[Path]:
    configured = context.config.audit.requirements
    if configured is not None:
        paths = [context.root / p for p in configured]
        for path in paths:
            if not path.is_file():
                msg = f"'{path}' is not a file."
                raise ConfigError(msg, path=context.config.pyproject, key="audit.requirements")
        return paths
    found = {p for g in _REQUIREMENT_GLOBS for p in context.root.glob(g) if p.is_file()}
    return sorted(found)


def _logical_lines(text: str) -> Iterator[tuple[int, str]]:
    """Requirement lines with comments removed and `\\` continuations joined."""
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split(" #", 1)[0].strip() if not raw.lstrip().startswith("#") else ""
        if not pending:
            start = number
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line, pending = (pending + line).strip(), ""
        if line:
            yield start, line


def _requirement_pins(path: Path, relative: str) -> list[Pin]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        msg = f"cannot read requirements file: {exc}"
        raise ConfigError(msg, path=path) from None
    pins = []
    for number, line in _logical_lines(text):
        if line.startswith("-"):
            continue  # an option (-r, -c, -e, --index-url...): pip-audit handles those online
        spec = " ".join(part for part in line.split() if not part.startswith("--hash"))
        try:
            requirement = Requirement(spec)
        except InvalidRequirement as exc:
            msg = f"line {number}: {line!r} is not a requirement pip can read ({exc})."
            raise ConfigError(msg, path=path) from None
        exact = [s.version for s in requirement.specifier if s.operator in ("==", "===")]
        version = exact[0] if len(exact) == 1 and "*" not in exact[0] else None
        pins.append(Pin(name=requirement.name, version=version, source=relative))
    return pins


def _pylock_pins(path: Path, relative: str) -> list[Pin]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        msg = f"cannot read lock file: {exc}"
        raise ConfigError(msg, path=path) from None
    packages = data.get("packages")
    if not isinstance(packages, list):
        raise ConfigError("no [[packages]] array; expected a PEP 751 lock file.", path=path)
    return [
        Pin(
            name=str(p["name"]),
            version=str(p["version"]) if "version" in p else None,
            source=relative,
        )
        for p in packages
        if isinstance(p, dict) and "name" in p
    ]


def toolchain_pins(context: Context) -> list[Pin]:
    """The lock-file pins of the project's toolchains (Cargo.lock...), in matched ecosystems."""
    return [
        Pin(name=pin.name, version=pin.version, source=pin.source, ecosystem=pin.ecosystem)
        for toolchain in context.toolchains
        for pin in toolchain.locked(context.config)
        if pin.ecosystem in osv.ECOSYSTEMS
    ]


def read_pins(path: Path, root: Path) -> list[Pin]:
    """The dependencies a requirements or pylock file names; ConfigError when unreadable."""
    relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
    if path.name.startswith("pylock") and path.suffix == ".toml":
        return _pylock_pins(path, relative)
    return _requirement_pins(path, relative)


# -- findings ----------------------------------------------------------------------------


def vuln_finding(
    *,
    ids: Iterable[str],
    pin: Pin,
    fixed: Sequence[str],
    summary: str,
    tool: str,
    rating: osv.Score,
) -> Finding:
    ids = sorted(set(ids))
    primary = osv.primary_id(ids)
    aliases = [i for i in ids if i != primary]
    fix = f"fixed in {', '.join(fixed)}" if fixed else "no fixed version known"
    return Finding(
        rule=primary,
        message=f"{pin.name} {pin.version}: {summary or primary} ({fix})",
        severity=rating.severity,
        path=pin.source,
        tool=tool,
        extra={
            "package": pin.key[1],
            "ecosystem": pin.ecosystem,
            "version": pin.version,
            "aliases": aliases,
            "fixed_versions": list(fixed),
            "cvss_score": rating.value,
            "cvss_vector": rating.vector,
        },
    )


def offline_findings(
    pin: Pin, advisories: Sequence[osv.Advisory], *, tool: str = "advisory-db"
) -> list[Finding]:
    """The merged findings for one pinned dependency, from the OSV records given."""
    version = osv.parse_version(pin.ecosystem, pin.version or "")
    if version is None:
        return []
    hits = {a.id: (a, osv.match(a, pin.name, version, ecosystem=pin.ecosystem)) for a in advisories}
    hits = {k: v for k, v in hits.items() if v[1] is not None}
    findings = []
    for group in osv.merge_aliases({*a.ids} for a, _ in hits.values()):
        members = [hits[i] for i in sorted(group) if i in hits]
        fixed = sorted({v for _, fix in members for v in fix or ()})
        rating = osv.score(v for a, _ in members for v in a.vectors)
        summary = next((a.summary for a, _ in members if a.summary), "")
        findings.append(
            vuln_finding(
                ids=group,
                pin=pin,
                fixed=[str(v) for v in fixed],
                summary=summary,
                tool=tool,
                rating=rating,
            )
        )
    return findings


# -- the OSV API -------------------------------------------------------------------------


def _osv_records(client: httpx.Client, url: str, pin: Pin) -> list[osv.Advisory]:
    query = {"package": {"name": pin.name, "ecosystem": pin.ecosystem}, "version": pin.version}
    try:
        response = client.post(url, json=query)
        response.raise_for_status()
        records = response.json().get("vulns") or []
    except (httpx.HTTPError, ValueError, AttributeError) as exc:
        msg = (
            f"the OSV API at {url} could not be asked about {pin.name} {pin.version} "
            f"({type(exc).__name__}: {exc}). Without network access, set "
            "[tool.shipyard.audit] advisory-db to a directory of OSV advisories."
        )
        raise ToolFailed(msg) from None
    advisories = []
    for record in records:
        try:
            advisory = osv.parse(record, Path(url))
        except osv.MalformedAdvisory:
            continue
        if advisory is not None:
            advisories.append(advisory)
    return advisories


def osv_findings(context: Context, pins: Sequence[Pin]) -> list[Finding]:
    """Lock-file pins of other ecosystems, asked of the OSV API, matched like offline ones."""
    if not pins:
        return []
    url = context.config.audit.osv_url or OSV_QUERY_URL
    with httpx.Client(timeout=context.timeout) as client:
        return [
            finding
            for pin in pins
            for finding in offline_findings(pin, _osv_records(client, url, pin), tool="osv")
        ]


# -- the check ---------------------------------------------------------------------------


class VulnsCheck(Check):
    """Vulnerable dependencies: pip-audit and OSV online, or an OSV directory offline."""

    name = "vulns"

    def run(self, context: Context) -> CheckReport:
        files = find_requirement_files(context)
        file_pins = [pin for path in files for pin in read_pins(path, context.root)]
        locked = toolchain_pins(context)
        # The tool environment holds the project only when the project is Python.
        environment, why_not = environment_pins(context) if context.python else ([], None)
        notes = [note(self.name, why_not)] if why_not else []
        if context.config.audit.advisory_db is not None:
            report = self._offline(context, file_pins, locked, environment=environment)
        else:
            report = self._online(context, files, locked, environment=environment)
        return dataclasses.replace(report, findings=[*report.findings, *notes])

    # -- offline

    def _offline(
        self,
        context: Context,
        file_pins: Sequence[Pin],
        locked: Sequence[Pin],
        *,
        environment: Sequence[Pin],
    ) -> CheckReport:
        db = context.root / context.config.audit.advisory_db  # type: ignore[operator]
        if not db.is_dir():
            msg = f"'{db}' is not a directory of OSV advisories."
            raise ConfigError(msg, path=context.config.pyproject, key="audit.advisory-db")
        loaded = osv.load(db)
        notes = [
            note(self.name, f"advisory {path} was skipped: {reason}")
            for path, reason in loaded.problems
        ]
        unpinned = [p for p in file_pins if p.version is None]
        notes += [
            note(self.name, f"{p.source}: {p.name} is not pinned to one version; not matched")
            for p in unpinned
        ]
        pins = [
            *environment,
            *(p for p in file_pins if p.version is not None),
            *locked,
        ]
        by_package: dict[tuple[str, str], list[osv.Advisory]] = {}
        for advisory in loaded.advisories:
            for key in {(a.ecosystem, a.package) for a in advisory.affected}:
                by_package.setdefault(key, []).append(advisory)
        findings = [
            finding
            for pin in pins
            for finding in offline_findings(pin, by_package.get(pin.key, []))
        ]
        return CheckReport(
            check=self.name,
            tool="advisory-db",
            findings=[*findings, *notes],
            metrics={
                "vulns.advisories": len(loaded.advisories),
                "vulns.audited": len(pins),
                "vulns.found": len(findings),
            },
        )

    # -- online

    def _online(
        self,
        context: Context,
        files: Sequence[Path],
        locked: Sequence[Pin],
        *,
        environment: Sequence[Pin],
    ) -> CheckReport:
        audit = context.config.audit
        requirement_files = [p for p in files if not p.name.startswith("pylock")]
        lock_dirs = sorted({p.parent for p in files if p.name.startswith("pylock")})
        runs: list[tuple[list[str], str | None]] = []
        runs += [(["-r", str(p)], _relative(p, context.root)) for p in requirement_files]
        runs += [(["--locked", str(d)], _relative(d, context.root)) for d in lock_dirs]
        findings: list[Finding] = []
        audited = skipped = 0
        service = ["-s", audit.service]
        if audit.osv_url:
            service += ["--osv-url", audit.osv_url]
        with tempfile.TemporaryDirectory(prefix="shipyard-pins-") as tmp:
            if environment:
                # The closure pinned exactly: pip-audit asks the service about each, resolving
                # nothing, and never sees the audit's own tools in the same environment.
                pinned = Path(tmp) / "environment.txt"
                pinned.write_text("".join(f"{p.name}=={p.version}\n" for p in environment))
                runs.insert(0, (["-r", str(pinned), "--no-deps", "--disable-pip"], None))
            for extra_args, source in runs:
                data = self._pip_audit(context, [*service, *extra_args])
                found, counts = self._read(data, source)
                findings += found
                audited, skipped = audited + counts[0], skipped + counts[1]
        if skipped:
            message = (
                f"pip-audit could not audit {skipped} of {audited + skipped} dependencies "
                f"(not found on the '{audit.service}' service, or editable)"
            )
            findings.append(note(self.name, message))
        findings += osv_findings(context, locked)
        return CheckReport(
            check=self.name,
            tool="pip-audit" if runs else "osv",
            tool_version=self._version(context) if runs else None,
            tool_uri=_PIP_AUDIT_URI if runs else _OSV_URI,
            findings=findings,
            metrics={"vulns.audited": audited + len(locked), "vulns.skipped": skipped},
        )

    def _pip_audit(self, context: Context, args: Sequence[str]) -> Any:
        with tempfile.TemporaryDirectory(prefix="shipyard-pip-audit-") as tmp:
            out = Path(tmp) / "pip-audit.json"
            argv = ["pip-audit", "--format", "json", "-o", str(out), "--progress-spinner", "off"]
            argv += args
            proc = run(context, argv)
            # pip-audit exits 1 both for "found vulnerabilities" and for errors: the report
            # file is the signal. It is written only when the audit itself completed.
            if not out.is_file():
                msg = (
                    f"pip-audit {' '.join(args)} failed (exit {proc.returncode}): {tail(proc)}. "
                    "Without network access to the vulnerability service, set "
                    "[tool.shipyard.audit] advisory-db to a directory of OSV advisories."
                )
                raise ToolFailed(msg)
            try:
                return json.loads(out.read_text(encoding="utf-8"))
            except json.JSONDecodeError as exc:
                msg = f"pip-audit wrote unreadable JSON: {exc}"
                raise ToolFailed(msg) from None

    def _read(self, data: Any, source: str | None) -> tuple[list[Finding], tuple[int, int]]:
        """Findings from pip-audit's JSON, and the (audited, skipped) counts."""
        findings: list[Finding] = []
        audited = skipped = 0
        for dep in data.get("dependencies", []) if isinstance(data, dict) else []:
            if "skip_reason" in dep:
                skipped += 1
                continue
            audited += 1
            pin = Pin(name=dep["name"], version=dep.get("version"), source=source)
            findings += [
                vuln_finding(
                    ids=[v["id"], *v.get("aliases", [])],
                    pin=pin,
                    fixed=list(v.get("fix_versions", [])),
                    summary=" ".join(str(v.get("description") or "").split())[:300],
                    tool="pip-audit",
                    rating=osv.Score(severity=Severity.UNKNOWN),
                )
                for v in dep.get("vulns", [])
            ]
        return findings, (audited, skipped)

    def _version(self, context: Context) -> str | None:
        proc = run(context, ["pip-audit", "--version"])
        words = proc.stdout.split()
        return words[-1] if proc.returncode == 0 and words else None


def environment_pins(context: Context) -> tuple[list[Pin], str | None]:
    """The installed distributions the project needs at run time; or why there are none.

    The tool environment also holds pip-audit, bandit and the rest of the audit's tools:
    their dependencies are not the project's, so only the project's runtime closure (the
    one the licence check judges) is audited.
    """
    project = context.config.project
    installed = {canonicalize_name(d.name) for d in context.distributions}
    if project is None or canonicalize_name(project.name) not in installed:
        name = project.name if project else "the project"
        return [], f"{name} is not installed in the tool environment; its dependencies not audited"
    closure = runtime_closure(project.name, context.distributions, context.markers)
    return [Pin(name=d.name, version=d.version) for d in closure], None


def _relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)

"""shipyard's own health checks, as a repo-review plugin (family `shipyard`, codes SY...).

They run next to sp-repo-review's checks in `invoke monitor` and in a plain
`repo-review .`. A check's docstring is its failure message (repo-review's
convention); a check that returns None is skipped, and its `skip_reason`
says why.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, ClassVar

from shipyard.monitor.facts import HealthFacts, gather
from shipyard.report import Status

__all__ = ["repo_review_checks", "repo_review_families", "shipyard"]

_DOCS = "https://github.com/shipyard-ci/shipyard/blob/main/docs/monitor.md#{name}"
_SHA = re.compile(r"@[0-9a-f]{40}$")


def shipyard(root: Traversable) -> HealthFacts | None:
    """Fixture: the facts the shipyard checks read (a plain `repo-review` run gathers them)."""
    if not isinstance(root, Path):
        return None  # a remote repository: tags and reports are not available
    return gather(root)


def repo_review_families() -> dict[str, dict[str, Any]]:
    return {"shipyard": {"name": "shipyard", "order": 50}}


class Shipyard:
    family = "shipyard"
    url = _DOCS

    @staticmethod
    def skip_reason(facts: HealthFacts | None) -> str:  # noqa: ARG004
        return ""


# -- workflows ---------------------------------------------------------------------------


def _steps(workflow: Any) -> Iterator[dict[str, Any]]:
    jobs = workflow.get("jobs") if isinstance(workflow, dict) else None
    for job in (jobs or {}).values():
        if isinstance(job, dict):
            yield job
            yield from (s for s in job.get("steps") or () if isinstance(s, dict))


def _unpinned(uses: str) -> bool:
    if uses.startswith("./"):
        return False
    if uses.startswith("docker://"):
        return "@sha256:" not in uses
    return _SHA.search(uses) is None


def _writes(permissions: Any) -> bool:
    if isinstance(permissions, str):
        return permissions == "write-all"
    if isinstance(permissions, dict):
        return any(v == "write" for v in permissions.values())
    return False


class SY001(Shipyard):
    "Workflows in sync with [tool.shipyard]"

    @staticmethod
    def check(shipyard: HealthFacts | None) -> str | None:
        """The workflows differ from what `shipyard workflows` generates: run it."""
        if shipyard is None or shipyard.workflows is None:
            return None
        if shipyard.workflows.status is Status.PASSED:
            return ""
        return f"{shipyard.workflows.reason}."

    @staticmethod
    def skip_reason(facts: HealthFacts | None) -> str:
        return facts.workflows_note if facts else "no local repository"


class SY002(Shipyard):
    "Actions pinned to a commit SHA"

    requires: ClassVar[set[str]] = {"GH100"}

    @staticmethod
    def check(workflows: dict[str, Any]) -> str:
        """Every `uses:` names a full 40-character commit SHA (a tag can be moved)."""
        bad = sorted(
            {
                f"`{name}`: `{s['uses']}`"
                for name, w in workflows.items()
                for s in _steps(w)
                if isinstance(s.get("uses"), str) and _unpinned(s["uses"])
            }
        )
        if not bad:
            return ""
        return "Pin these to a full commit SHA (`owner/repo@<sha> # vX`):\n\n" + "\n".join(
            f"- {b}" for b in bad
        )


class SY003(Shipyard):
    "Least-privilege workflow permissions"

    requires: ClassVar[set[str]] = {"GH100"}

    @staticmethod
    def check(workflows: dict[str, Any]) -> str:
        """
        Each workflow sets top-level `permissions:` to read-only (`contents: read` or `{}`);
        write access is granted per job, where it is needed.
        """
        bad = []
        for name, workflow in sorted(workflows.items()):
            top = workflow.get("permissions", None) if isinstance(workflow, dict) else None
            if top is None:
                bad.append(f"`{name}`: no top-level `permissions:` (the token gets defaults)")
            elif _writes(top):
                bad.append(f"`{name}`: top-level `permissions:` grants write access")
            jobs = workflow.get("jobs") or {} if isinstance(workflow, dict) else {}
            bad += [
                f"`{name}`: job `{job}` has `permissions: write-all`"
                for job, body in jobs.items()
                if isinstance(body, dict) and body.get("permissions") == "write-all"
            ]
        return "\n".join(f"- {b}" for b in bad)


# -- files -------------------------------------------------------------------------------


def _has(root: Traversable, *names: str, dirs: tuple[str, ...] = ("",)) -> bool:
    for folder in dirs:
        base = root.joinpath(folder) if folder else root
        if not base.is_dir():
            continue
        present = {p.name.lower() for p in base.iterdir() if p.is_file()}
        for name in names:
            if any(p == name or p.startswith(f"{name}.") for p in present):
                return True
    return False


class SY010(Shipyard):
    "Has a README"

    @staticmethod
    def check(root: Traversable) -> bool:
        """Add a README (README.md, README.rst...) at the repository root."""
        return _has(root, "readme")


class SY011(Shipyard):
    "Has a LICENSE"

    @staticmethod
    def check(root: Traversable) -> bool:
        """Add a LICENSE (or COPYING) file at the repository root."""
        return _has(root, "license", "licence", "copying")


class SY012(Shipyard):
    "Has a security policy"

    @staticmethod
    def check(root: Traversable) -> bool:
        """Add SECURITY.md (at the root, in `.github/` or in `docs/`): how to report a flaw."""
        return _has(root, "security", dirs=("", ".github", "docs"))


class SY013(Shipyard):
    "Has a changelog"

    @staticmethod
    def check(root: Traversable) -> bool:
        """Add a CHANGELOG.md (or CHANGES, HISTORY, NEWS); `shipyard changelog` writes one."""
        return _has(root, "changelog", "changes", "history", "news", dirs=("", "docs"))


# -- configuration -----------------------------------------------------------------------


class SY020(Shipyard):
    "Coverage floor configured"

    @staticmethod
    def check(pyproject: dict[str, Any]) -> bool:
        """
        Set the coverage floor explicitly: `[tool.shipyard.gates] coverage = 90`
        (or coverage.py's `fail_under`).
        """
        tool = pyproject.get("tool", {})
        gates = tool.get("shipyard", {}).get("gates", {})
        report = tool.get("coverage", {}).get("report", {})
        return "coverage" in gates or "fail_under" in report


class SY021(Shipyard):
    "Dependency updates configured"

    @staticmethod
    def check(root: Traversable, dependabot: dict[str, Any], workflows: dict[str, Any]) -> bool:
        """
        Nothing keeps dependencies up to date: add `.github/dependabot.yml`, a Renovate
        config, or a workflow running `invoke monitor --apply`.
        """
        if dependabot.get("updates"):
            return True
        renovate = ("renovate.json", "renovate.json5", ".renovaterc", ".renovaterc.json")
        if any(
            root.joinpath(n).is_file() or root.joinpath(".github", n).is_file() for n in renovate
        ):
            return True
        runs = (str(s.get("run", "")) for w in workflows.values() for s in _steps(w))
        return any("monitor" in r and "--apply" in r for r in runs)


# -- facts -------------------------------------------------------------------------------


class SY030(Shipyard):
    "Released recently"

    @staticmethod
    def check(shipyard: HealthFacts | None) -> str | None:
        """The last release tag is older than `[tool.shipyard.monitor] release-max-days`."""
        if shipyard is None or shipyard.last_tag_time is None:
            return None
        days = (shipyard.now - shipyard.last_tag_time).days
        limit = shipyard.config.monitor.release_max_days if shipyard.config else 180
        if days <= limit:
            return ""
        return f"The last release, `{shipyard.last_tag}`, is {days} days old (limit: {limit})."

    @staticmethod
    def skip_reason(facts: HealthFacts | None) -> str:
        return facts.tag_note if facts else "no local repository"


class SY031(Shipyard):
    "No open audit findings"

    @staticmethod
    def check(shipyard: HealthFacts | None) -> str | None:
        """The last audit left findings open."""
        if shipyard is None or shipyard.audit is None:
            return None
        findings = shipyard.audit.findings
        if not findings:
            return ""
        counts: dict[str, int] = {}
        for finding in findings:
            counts[finding.severity.value] = counts.get(finding.severity.value, 0) + 1
        summary = ", ".join(f"{n} {sev}" for sev, n in sorted(counts.items()))
        return f"The last audit has {len(findings)} open finding(s): {summary}."

    @staticmethod
    def skip_reason(facts: HealthFacts | None) -> str:
        return facts.audit_note if facts else "no local repository"


class SY040(Shipyard):
    "Default branch protected"

    @staticmethod
    def check(shipyard: HealthFacts | None) -> str | None:
        """Protect the default branch (required reviews and status checks) on GitHub."""
        if shipyard is None or shipyard.github is None:
            return None
        if shipyard.github.protected:
            return ""
        return f"Branch `{shipyard.github.default_branch}` is not protected on GitHub."

    @staticmethod
    def skip_reason(facts: HealthFacts | None) -> str:
        return facts.github_note if facts else "no local repository"


class SY041(Shipyard):
    "No open security alerts"

    @staticmethod
    def check(shipyard: HealthFacts | None) -> str | None:
        """GitHub lists open security alerts."""
        if shipyard is None or shipyard.github is None or not shipyard.github.alerts:
            return None
        open_alerts = {k: n for k, n in shipyard.github.alerts.items() if n}
        if not open_alerts:
            return ""
        listed = ", ".join(f"{n} {kind}" for kind, n in sorted(open_alerts.items()))
        return f"Open security alerts on GitHub: {listed}."

    @staticmethod
    def skip_reason(facts: HealthFacts | None) -> str:
        if facts is None:
            return "no local repository"
        if facts.github is None:
            return facts.github_note
        return "; ".join(f"{k}: {v}" for k, v in sorted(facts.github.unreadable.items()))


def repo_review_checks() -> dict[str, Shipyard]:
    return {cls.__name__: cls() for cls in Shipyard.__subclasses__()}

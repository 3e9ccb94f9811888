"""What shipyard's health checks look at beyond the files: tags, the audit result, GitHub.

Gathered once, before the checks run, and handed to them as the `shipyard`
repo-review fixture, so a check never reaches the network itself.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import subprocess
from collections.abc import Mapping
from pathlib import Path

from shipyard import config as config_mod
from shipyard.errors import ShipyardError
from shipyard.monitor import github as gh
from shipyard.report import StageResult
from shipyard.workflows import check

__all__ = ["GitHubFacts", "HealthFacts", "gather"]

#: The security alert lists read from GitHub, by the name used in reports.
ALERT_KINDS = {
    "dependabot": "dependabot/alerts",
    "code scanning": "code-scanning/alerts",
    "secret scanning": "secret-scanning/alerts",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class GitHubFacts:
    default_branch: str
    protected: bool
    #: Open alerts by kind, for the kinds that could be read.
    alerts: Mapping[str, int]
    #: Why a kind could not be read (not enabled, or the token may not see it).
    unreadable: Mapping[str, str]


@dataclasses.dataclass(frozen=True, kw_only=True)
class HealthFacts:
    root: Path
    config: config_mod.Config | None
    config_error: str = ""
    now: dt.datetime
    last_tag: str | None = None
    last_tag_time: dt.datetime | None = None
    tag_note: str = ""
    audit: StageResult | None = None
    audit_note: str = ""
    github: GitHubFacts | None = None
    github_note: str = ""
    #: `shipyard.workflows.check.drift` on the project, or why it could not run.
    workflows: StageResult | None = None
    workflows_note: str = ""


def last_release_tag(root: Path, pattern: str) -> tuple[str | None, dt.datetime | None, str]:
    """The newest tag matching `pattern`, its date, or why there is none."""
    try:
        done = subprocess.run(
            [
                "git",
                "for-each-ref",
                "--sort=-creatordate",
                "--count=1",
                "--format=%(refname:short)%09%(creatordate:iso-strict)",
                f"refs/tags/{pattern}",
            ],
            cwd=root,
            capture_output=True,
            text=True,
            check=False,
            timeout=60,
        )
    except FileNotFoundError:
        return None, None, "git is not on PATH"
    if done.returncode != 0:
        return None, None, f"not a git repository ({done.stderr.strip()})"
    line = done.stdout.strip()
    if not line:
        return None, None, f"no release tag matching '{pattern}' yet"
    name, _, when = line.partition("\t")
    return name, dt.datetime.fromisoformat(when), ""


def _audit(reports: Path) -> tuple[StageResult | None, str]:
    path = reports / "audit.json"
    if not path.is_file():
        return None, f"no audit result at {path}; run `nox -s audit` first"
    try:
        return StageResult.from_json(json.loads(path.read_text(encoding="utf-8"))), ""
    except (ValueError, KeyError, TypeError) as exc:
        return None, f"{path} cannot be read: {exc}"


def _workflows(config: config_mod.Config) -> tuple[StageResult | None, str]:
    try:
        # The health check reports which files drift in one line; the diff is for
        # `shipyard workflows --check`.
        return check.drift(config, show_diff=False), ""
    except ShipyardError as exc:
        return None, f"the workflows cannot be generated here: {exc}"


def _github(client: gh.GitHub) -> GitHubFacts:
    repo = client.request("GET", f"/repos/{client.repository}")
    branch = str(repo["default_branch"])
    info = client.request("GET", f"branches/{branch}")
    alerts: dict[str, int] = {}
    unreadable: dict[str, str] = {}
    for kind, path in ALERT_KINDS.items():
        try:
            found = client.request("GET", path, params={"state": "open", "per_page": 100})
        except gh.GitHubError as exc:
            if exc.status is None:
                raise
            unreadable[kind] = f"not enabled, or not visible to this token (HTTP {exc.status})"
            continue
        alerts[kind] = len(found or ())
    return GitHubFacts(
        default_branch=branch,
        protected=bool(info.get("protected")),
        alerts=alerts,
        unreadable=unreadable,
    )


def gather(
    root: Path,
    *,
    config: config_mod.Config | None = None,
    github: gh.GitHub | None = None,
    github_note: str = "GitHub is queried only by `invoke monitor`",
    now: dt.datetime | None = None,
) -> HealthFacts:
    """Everything the shipyard checks need; GitHub only when a client is given."""
    now = now or dt.datetime.now(dt.UTC)
    config_error = ""
    if config is None:
        try:
            config = config_mod.load(root)
        except ShipyardError as exc:
            config_error = str(exc)
    settings = config.monitor if config else config_mod.MonitorConfig()
    tag, tag_time, tag_note = last_release_tag(root, settings.release_tag)
    audit, audit_note = _audit(config.reports) if config else (None, config_error)
    drift, drift_note = _workflows(config) if config else (None, config_error)

    facts = None
    if github is not None:
        try:
            facts = _github(github)
        except gh.GitHubError as exc:
            unreachable = exc.status is None
            github_note = f"{'unreachable' if unreachable else 'GitHub could not be read'}: {exc}"
        except (KeyError, TypeError, AttributeError) as exc:
            github_note = f"GitHub answered an unexpected shape: {exc!r}"
    return HealthFacts(
        root=root,
        config=config,
        config_error=config_error,
        now=now,
        last_tag=tag,
        last_tag_time=tag_time,
        tag_note=tag_note,
        audit=audit,
        audit_note=audit_note,
        github=facts,
        github_note=github_note,
        workflows=drift,
        workflows_note=drift_note,
    )

"""`monitor --apply`: update branches and pull requests for the proposed dependency updates.

Minor and patch updates share one branch and one pull request; each major
update gets its own. A branch is rebuilt from the current commit in a
temporary git worktree (the checkout is never touched), pushed only when its
content changed, and its open pull request is updated rather than opened
again.
"""

from __future__ import annotations

import dataclasses
import re
import subprocess
import tempfile
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import tomlkit
from packaging.requirements import InvalidRequirement, Requirement

from shipyard.config import Config
from shipyard.errors import ConfigError, ToolMissing
from shipyard.monitor.freshness import Freshness
from shipyard.monitor.github import GitHub, GitHubError
from shipyard.report import Finding, Severity, StageResult, Status

__all__ = ["Group", "Outcome", "apply_updates", "plan", "rewrite_pyproject"]

STAGE = "updates"
_MARKER = "<!-- shipyard-monitor:update -->"
_CREDENTIALS = re.compile(r"://[^\s'\"/@]+(?::[^\s'\"@]*)?@")
_FALLBACK_IDENTITY = (
    "-c",
    "user.name=shipyard",
    "-c",
    "user.email=shipyard@users.noreply.github.com",
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class Group:
    """The updates that travel together on one branch."""

    branch: str
    title: str
    items: tuple[Freshness, ...]


@dataclasses.dataclass(frozen=True, kw_only=True)
class Outcome:
    branch: str
    #: "pushed", "unchanged" (the branch already had this content) or "failed".
    push: str
    #: "created", "updated", "skipped" or "failed".
    pull_request: str
    number: int | None = None
    url: str | None = None
    error: str = ""


def _writable(item: Freshness) -> bool:
    dep = item.dependency
    lock = dep.path.suffix == ".toml" and dep.path.name != "pyproject.toml"
    return item.new_requirement is not None and not lock and dep.path.name != "uv.lock"


def plan(results: Sequence[Freshness], *, prefix: str) -> list[Group]:
    """Minor and patch updates in one group, then one group per major update."""
    writable = [r for r in results if _writable(r)]
    small = tuple(r for r in writable if r.behind in ("minor", "patch"))
    groups = []
    if small:
        groups.append(
            Group(
                branch=f"{prefix}/minor-patch",
                title="Update dependencies (minor and patch)",
                items=small,
            )
        )
    majors: dict[str, list[Freshness]] = {}
    for item in writable:
        if item.behind == "major":
            majors.setdefault(item.dependency.name, []).append(item)
    for name, items in sorted(majors.items()):
        title = f"Update {name} to {items[0].proposal} (major)"
        groups.append(Group(branch=f"{prefix}/major-{name}", title=title, items=tuple(items)))
    return groups


# -- writing the files -------------------------------------------------------------------


def rewrite_pyproject(text: str, items: Sequence[Freshness]) -> str:
    """`text` with each item's requirement replaced at its key; all formatting kept."""
    document = tomlkit.parse(text)
    for item in items:
        key = item.dependency.key or ()
        *parents, index = key
        node: Any = document
        try:
            for part in parents:
                node = node[part]
            found = Requirement(str(node[index]))
        except (KeyError, IndexError, TypeError, InvalidRequirement):
            found = None
        if found != item.dependency.requirement:
            msg = f"{item.dependency.where} no longer reads {item.dependency.text!r}"
            raise ConfigError(msg)
        node[index] = item.new_requirement
    return tomlkit.dumps(document)


def rewrite_lines(text: str, items: Sequence[Freshness]) -> str:
    """A requirement file with each item's line changed from its old text to the new one."""
    lines = text.splitlines(keepends=True)
    for item in items:
        number = (item.dependency.line or 0) - 1
        old, new = item.dependency.text, item.new_requirement or item.dependency.text
        if not 0 <= number < len(lines) or old not in lines[number]:
            msg = f"{item.dependency.where} no longer reads {old!r}"
            raise ConfigError(msg)
        lines[number] = lines[number].replace(old, new, 1)
    return "".join(lines)


def _write(tree: Path, items: Sequence[Freshness]) -> None:
    by_file: dict[Path, list[Freshness]] = {}
    for item in items:
        by_file.setdefault(item.dependency.path, []).append(item)
    for path, group in by_file.items():
        target = tree / path
        text = target.read_text(encoding="utf-8")
        if path.name == "pyproject.toml":
            text = rewrite_pyproject(text, group)
        else:
            text = rewrite_lines(text, group)
        target.write_text(text, encoding="utf-8")


# -- git ---------------------------------------------------------------------------------


def _git(cwd: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            ["git", *args], cwd=cwd, capture_output=True, text=True, check=False, timeout=300
        )
    except FileNotFoundError:
        raise ToolMissing("git is not on PATH; `monitor --apply` needs it.") from None
    if check and done.returncode != 0:
        # A remote URL may carry credentials (https://user:token@host/...): never show them.
        said = _CREDENTIALS.sub("://***@", done.stderr.strip())
        msg = f"`git {' '.join(args)}` failed in {cwd}: {said}"
        raise GitFailed(msg)
    return done


class GitFailed(Exception):
    """A git command failed while building one update branch."""


def _identity(cwd: Path) -> tuple[str, ...]:
    configured = _git(cwd, "config", "user.email", check=False).stdout.strip()
    return () if configured else _FALLBACK_IDENTITY


def _build_branch(root: Path, base: str, group: Group, remote: str) -> str:
    """Commit the group's changes on top of `base`; push when new. Returns the push state."""
    prefix = _git(root, "rev-parse", "--show-prefix").stdout.strip()
    with tempfile.TemporaryDirectory(prefix="shipyard-update-") as tmp:
        tree = Path(tmp) / "tree"
        _git(root, "worktree", "add", "--detach", str(tree), base)
        try:
            _write(tree / prefix, group.items)
            _git(tree, "add", "-A")
            _git(tree, *_identity(tree), "commit", "-q", "-m", _commit_message(group))
            if _remote_has_same(tree, remote, group.branch, base):
                return "unchanged"
            _git(tree, "push", "--force", "-q", remote, f"HEAD:refs/heads/{group.branch}")
            return "pushed"
        finally:
            _git(root, "worktree", "remove", "--force", str(tree), check=False)


def _remote_has_same(tree: Path, remote: str, branch: str, base: str) -> bool:
    fetched = _git(tree, "fetch", "-q", remote, f"refs/heads/{branch}", check=False)
    if fetched.returncode != 0:
        return False
    same_tree = _rev(tree, "FETCH_HEAD^{tree}") == _rev(tree, "HEAD^{tree}")
    same_base = _rev(tree, "FETCH_HEAD^") == _rev(tree, base)
    return same_tree and same_base


def _rev(cwd: Path, ref: str) -> str:
    return _git(cwd, "rev-parse", ref, check=False).stdout.strip()


def _commit_message(group: Group) -> str:
    lines = [group.title, ""]
    lines += [
        f"- {i.dependency.name}: {i.dependency.text} -> {i.new_requirement} ({i.dependency.where})"
        for i in group.items
    ]
    return "\n".join(lines) + "\n"


# -- pull requests -----------------------------------------------------------------------


def _body(group: Group) -> str:
    rows = ["| package | from | to | kind | age | held back by cooldown | file |"]
    rows.append("| --- | --- | --- | --- | --- | --- | --- |")
    for i in group.items:
        age = f"{i.proposal_age_days:.0f} days" if i.proposal_age_days is not None else "unknown"
        held = ", ".join(str(v) for v in i.in_cooldown) or "-"
        rows.append(
            f"| {i.dependency.name} | {i.current} | {i.proposal} | {i.behind} | {age} "
            f"| {held} | `{i.dependency.where}` |"
        )
    note = "Lock files are not rewritten: re-lock after merging if the project keeps one."
    return "\n".join([_MARKER, "", "Opened by `invoke monitor --apply`.", "", *rows, "", note])


def _upsert_pull_request(github: GitHub, group: Group, base_branch: str) -> tuple[str, Any]:
    head = f"{github.owner()}:{group.branch}"
    found = github.request("GET", "pulls", params={"state": "open", "head": head})
    body = {"title": group.title, "body": _body(group)}
    if found:
        number = found[0]["number"]
        return "updated", github.request("PATCH", f"pulls/{number}", json=body)
    payload = {**body, "head": group.branch, "base": base_branch}
    return "created", github.request("POST", "pulls", json=payload)


def _base_branch(root: Path, github: GitHub | None) -> str | None:
    current = _git(root, "symbolic-ref", "--quiet", "--short", "HEAD", check=False)
    if current.returncode == 0:
        return current.stdout.strip()
    if github is None:
        return None
    return str(github.request("GET", f"/repos/{github.repository}")["default_branch"])


def _one(config: Config, group: Group, github: GitHub | None, base_branch: str | None) -> Outcome:
    settings = config.monitor
    try:
        base = _git(config.root, "rev-parse", "HEAD").stdout.strip()
        push = _build_branch(config.root, base, group, settings.remote)
    except (GitFailed, ConfigError) as exc:
        return Outcome(branch=group.branch, push="failed", pull_request="skipped", error=str(exc))
    if github is None or base_branch is None:
        return Outcome(branch=group.branch, push=push, pull_request="skipped")
    try:
        action, pr = _upsert_pull_request(github, group, base_branch)
    except GitHubError as exc:
        return Outcome(branch=group.branch, push=push, pull_request="failed", error=str(exc))
    return Outcome(
        branch=group.branch,
        push=push,
        pull_request=action,
        number=pr.get("number"),
        url=pr.get("html_url"),
    )


def apply_updates(
    config: Config,
    results: Sequence[Freshness],
    *,
    github: GitHub | None,
    github_reason: str = "",
) -> StageResult:
    """Push one branch per group and open or update its pull request."""
    started = time.monotonic()
    groups = plan(results, prefix=config.monitor.branch_prefix)
    if not groups:
        return StageResult(stage=STAGE, status=Status.PASSED, reason="no update to apply")
    try:
        base_branch = _base_branch(config.root, github)
    except GitHubError as exc:
        base_branch, github_reason = None, str(exc)
    outcomes = [_one(config, group, github, base_branch) for group in groups]
    findings = [_outcome_finding(o, github_reason) for o in outcomes]
    failed = any(o.push == "failed" or o.pull_request == "failed" for o in outcomes)
    skipped = any(o.pull_request == "skipped" for o in outcomes)
    status = Status.FAILED if failed else Status.WARNED if skipped else Status.PASSED
    reason = ", ".join(f"{o.branch}: {o.push}, PR {o.pull_request}" for o in outcomes)
    if skipped and github_reason:
        reason += f" (no pull request: {github_reason})"
    return StageResult(
        stage=STAGE,
        status=status,
        reason=reason,
        duration=time.monotonic() - started,
        findings=findings,
        metrics={"updates.branches": len(outcomes)},
    )


def _outcome_finding(outcome: Outcome, github_reason: str) -> Finding:
    failed = outcome.push == "failed" or outcome.pull_request == "failed"
    message = f"{outcome.branch}: branch {outcome.push}, pull request {outcome.pull_request}"
    if outcome.number is not None:
        message += f" (#{outcome.number})"
    if outcome.error:
        message += f": {outcome.error}"
    elif outcome.pull_request == "skipped" and github_reason:
        message += f": {github_reason}"
    extra: Mapping[str, Any] = dataclasses.asdict(outcome)
    return Finding(
        rule="updates.failed" if failed else "updates.branch",
        message=message,
        severity=Severity.MEDIUM if failed else Severity.INFO,
        tool="shipyard",
        extra=extra,
    )

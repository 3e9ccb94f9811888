"""The release plan: which version, from which commits, with which changelog section.

Planning only reads (git history and tags, the project's files). It also
notices a release left half-way: when HEAD is already shipyard's release
commit (tagged or not), the plan is to finish that release rather than to
compute a new one.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from typing import TYPE_CHECKING

from shipyard.errors import NothingToRelease
from shipyard.release import changelog, git
from shipyard.release.commits import CommitLog, classify
from shipyard.release.github import web_url
from shipyard.release.semver import (
    Bump,
    Tag,
    Version,
    bump_for,
    check_pre,
    effective_bump,
    format_tag,
    from_pep440,
    next_version,
    parse_version,
    release_tags,
    to_pep440,
)
from shipyard.release.version_files import read_text, read_version

if TYPE_CHECKING:
    from pathlib import Path

    from shipyard.config import Config, ReleaseConfig

__all__ = ["ReleasePlan", "current_version", "plan_release", "render_plan"]


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReleasePlan:
    """Everything a release needs to know before it touches anything."""

    root: Path
    project: str
    version: Version
    tag: str
    previous: Tag | None
    log: CommitLog
    bump: Bump
    section: str
    #: True when HEAD already is this release's commit (a rerun finishing the job).
    resumed: bool = False
    #: The bump the version got from the last final release, when the commits asked for
    #: more: a breaking change on 0.x moves the minor unless major-on-zero is set.
    applied: Bump | None = None

    @property
    def pep440(self) -> str:
        return to_pep440(self.version)

    @property
    def prerelease(self) -> bool:
        return self.version.prerelease is not None

    @property
    def body(self) -> str:
        return changelog.release_body(self.section)


def _message_pattern(commit_message: str) -> re.Pattern[str]:
    prefix, _, suffix = commit_message.partition("{version}")
    return re.compile(f"^{re.escape(prefix)}(?P<version>\\S+){re.escape(suffix)}$")


def _same_kind(version: Version, pre: str | None) -> bool:
    """A release asked with `pre` (None: a final) would make a version like this one."""
    label = version.prerelease.partition(".")[0] if version.prerelease else None
    return label == pre


def _in_progress(
    root: Path, cfg: ReleaseConfig, tags: tuple[Tag, ...], pre: str | None, *, tagged: bool
) -> Version | None:
    """The version of a release begun at HEAD: from shipyard's release commit, of the
    kind asked (an rc released from HEAD does not stop the final); with `tagged`, also
    from a release tag on HEAD, of any kind (single steps run on CI at a tag)."""
    here = git.head(root)
    if here is None:
        return None
    if tagged:
        on_head = [tag.version for tag in tags if git.tag_target(root, tag.name) == here]
        if on_head:
            return max(on_head)
    match = _message_pattern(cfg.commit_message).match(git.message(root))
    version = parse_version(match["version"]) if match else None
    if version is None or not (tagged or _same_kind(version, pre)):
        return None
    return version


def _first_version(root: Path, cfg: ReleaseConfig) -> Version:
    current = read_version(root, cfg)
    return from_pep440(current) if current else Version(0, 1, 0)


def _compare_url(base: str | None, previous: Tag | None, tag: str) -> str | None:
    if base is None:
        return None
    if previous is None:
        return f"{base}/tree/{tag}"
    return f"{base}/compare/{previous.name}...{tag}"


def _previous(tags: tuple[Tag, ...], version: Version) -> Tag | None:
    """The release the new section is compared with: the last final, or any for a pre."""
    below = [tag for tag in tags if tag.version < version]
    if version.prerelease is None:
        below = [tag for tag in below if tag.version.prerelease is None]
    return below[-1] if below else None


def _log_since(
    root: Path, cfg: ReleaseConfig, since: Tag | None, *, leave_out: str | None = None
) -> CommitLog:
    """The commits since `since`; `leave_out` is the release commit itself, no change."""
    raw = [c for c in git.log(root, since.name if since else None) if c.sha != leave_out]
    return classify(raw, include_merges=cfg.include_merges)


def _release_commit(root: Path, cfg: ReleaseConfig, version: Version) -> str | None:
    """HEAD, when it is the release commit of `version` (made by an earlier run)."""
    if git.message(root) != cfg.commit_message.replace("{version}", str(version)):
        return None
    return git.head(root)


def _applied(tags: tuple[Tag, ...], cfg: ReleaseConfig, version: Version, bump: Bump) -> Bump:
    finals = [tag.version for tag in tags if not tag.version.prerelease and tag.version < version]
    if not finals:
        return bump
    return effective_bump(max(finals), bump, major_on_zero=cfg.major_on_zero)


def _fresh_version(
    root: Path, cfg: ReleaseConfig, tags: tuple[Tag, ...], pre: str | None
) -> tuple[Version, Bump]:
    if git.head(root) is None:
        msg = "nothing to release: the repository has no commits."
        raise NothingToRelease(msg)
    finals = [tag for tag in tags if tag.version.prerelease is None]
    since_final = _log_since(root, cfg, finals[-1] if finals else None)
    bump = bump_for(since_final.commits, cfg.types)
    recent = bump
    if tags and tags[-1].version.prerelease:
        recent = bump_for(_log_since(root, cfg, tags[-1]).commits, cfg.types)
    version = next_version(
        tags,
        bump,
        recent=recent,
        pre=pre,
        first=_first_version(root, cfg),
        major_on_zero=cfg.major_on_zero,
    )
    return version, bump


def plan_release(
    config: Config,
    *,
    pre: str | None = None,
    today: dt.date | None = None,
    resume: bool = True,
    tagged: bool = False,
) -> ReleasePlan:
    """Work out the next release; with `resume`, finish one begun at HEAD instead.

    `tagged` also takes a release tag on HEAD as the release to finish (a tag
    made by hand is otherwise a release already made).
    """
    check_pre(pre)  # a bad label is a usage error, whatever the history says
    root, cfg = config.root, config.release
    tags = release_tags(git.tags(root), cfg.tag_format)
    started = _in_progress(root, cfg, tags, pre, tagged=tagged) if resume else None
    if started is not None:
        version, bump = started, Bump.NONE
    else:
        version, bump = _fresh_version(root, cfg, tags, pre)
    tag = format_tag(version, cfg.tag_format)
    previous = _previous(tags, version)
    leave_out = _release_commit(root, cfg, version) if started is not None else None
    log = _log_since(root, cfg, previous, leave_out=leave_out)
    if started is not None:
        bump = bump_for(log.commits, cfg.types)

    section = _existing_section(root / cfg.changelog, version) or _new_section(
        root, cfg, version, log, previous=previous, today=today
    )
    project = config.project.name if config.project else root.resolve().name
    return ReleasePlan(
        root=root,
        project=project,
        version=version,
        tag=tag,
        previous=previous,
        log=log,
        bump=bump,
        section=section,
        resumed=started is not None,
        applied=_applied(tags, cfg, version, bump),
    )


def _new_section(
    root: Path,
    cfg: ReleaseConfig,
    version: Version,
    log: CommitLog,
    *,
    previous: Tag | None,
    today: dt.date | None,
) -> str:
    remote = git.remote_url(root, cfg.remote)
    base = web_url(remote) if remote else None
    tag = format_tag(version, cfg.tag_format)
    return changelog.render_section(
        str(version),
        log.commits,
        date=today or dt.datetime.now(tz=dt.UTC).date(),
        sections=cfg.sections,
        web_url=base,
        compare_url=_compare_url(base, previous, tag),
    )


def _existing_section(path: Path, version: Version) -> str | None:
    if not path.is_file():
        return None
    return changelog.find_section(read_text(path), str(version))


def current_version(config: Config) -> Version | None:
    """The version the project has now: its files, else its last release tag."""
    root, cfg = config.root, config.release
    current = read_version(root, cfg)
    if current:
        return from_pep440(current)
    tags = release_tags(git.tags(root), cfg.tag_format)
    return tags[-1].version if tags else None


def render_plan(plan: ReleasePlan) -> str:
    """The plan as a few lines of text, for `--dry-run` and the logs."""
    log = plan.log
    since = plan.previous.name if plan.previous else "the first commit"
    bump = plan.bump.name.lower()
    if plan.applied is not None and plan.applied is not plan.bump:
        bump = f"{plan.applied.name.lower()} (a breaking change on 0.x; major-on-zero is off)"
    if plan.previous is None:
        # Nothing to bump from: the commits only decide whether there is a release.
        bump = "none (a first release takes the version the files give, else 0.1.0)"
    lines = [
        f"release {plan.project} {plan.version} (tag {plan.tag}, Python {plan.pep440})"
        + (" - finishing a release begun earlier" if plan.resumed else ""),
        (
            f"  since {since}: {len(log.commits)} conventional commit(s), "
            f"{len(log.non_conventional)} non-conventional, "
            f"{log.merges_skipped} merge(s) skipped, bump {bump}"
        ),
    ]
    lines += [f"  non-conventional: {c.sha[:7]} {c.summary}" for c in log.non_conventional[:10]]
    if len(log.non_conventional) > 10:  # noqa: PLR2004
        lines.append(f"  ... and {len(log.non_conventional) - 10} more")
    return "\n".join(lines)

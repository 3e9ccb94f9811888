"""Run a release: each step looks at the world first and does only what is still missing.

The steps run in a fixed order. None keeps a record of its own: the world is
the record (the version in the files, the section in the changelog, the
commit at HEAD, the tag, the remote, the files on the index, the release on
GitHub). A run that stopped anywhere is finished by running again; nothing is
made twice.
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path
from typing import TYPE_CHECKING

from packaging.version import InvalidVersion, Version

from shipyard.errors import (
    ConfigError,
    ExitCode,
    GateFailed,
    ShipyardError,
    ToolMissing,
    UsageError,
)
from shipyard.release import changelog, git
from shipyard.release.build import Artifacts, build, distributions, write_sums
from shipyard.release.github import GitHub, publish_release, repository_from_url
from shipyard.release.plan import ReleasePlan, plan_release, render_plan
from shipyard.release.publish import UploadOutcome, upload
from shipyard.release.secrets import github_token
from shipyard.release.version_files import (
    read_text,
    read_version,
    version_files,
    write_version,
)
from shipyard.report import StageResult, Status, write_atomic

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Sequence

    from shipyard.config import Config, ReleaseConfig

__all__ = ["STEPS", "ReleaseOutcome", "StepResult", "run_release"]

STEPS = ("preflight", "version", "changelog", "commit", "tag", "build", "push", "publish", "github")


@dataclasses.dataclass(frozen=True, kw_only=True)
class StepResult:
    name: str
    #: PASSED when the step acted, SKIPPED when there was nothing left to do,
    #: FAILED (in a dry run) when the real run would stop there.
    status: Status
    detail: str
    #: The exit code the real run would stop with, for a FAILED step.
    code: ExitCode = ExitCode.OK


@dataclasses.dataclass(frozen=True, kw_only=True)
class ReleaseOutcome:
    plan: ReleasePlan
    steps: tuple[StepResult, ...]
    dry_run: bool
    duration: float
    artifacts: tuple[Path, ...] = ()

    @property
    def exit_code(self) -> ExitCode:
        """OK, or the code the first failing step (of a dry run) would exit with."""
        return next((s.code for s in self.steps if s.status is Status.FAILED), ExitCode.OK)

    def text(self) -> str:
        """The plan, the steps and the changelog section, as the doors print them."""
        lines = [render_plan(self.plan), "", "steps:"]
        for step in self.steps:
            verb = "would " if self.dry_run and step.status is Status.PASSED else ""
            lines.append(f"  {step.status.mark} {step.name:<10} {verb}{step.detail}")
        lines += ["", "changelog:", "", self.plan.section.rstrip("\n")]
        return "\n".join(lines) + "\n"

    def result(self) -> StageResult:
        plan = self.plan
        acted = [s.name for s in self.steps if s.status is Status.PASSED]
        reason = f"{plan.tag}: " + (", ".join(acted) if acted else "nothing left to do")
        return StageResult(
            stage="release",
            status=Status.SKIPPED if self.dry_run else Status.PASSED,
            reason=("dry run: " if self.dry_run else "") + reason,
            duration=self.duration,
            metrics={
                "version": str(plan.version),
                "pep440": plan.pep440,
                "tag": plan.tag,
                "commits": len(plan.log.commits),
                "non_conventional": len(plan.log.non_conventional),
                "merges_skipped": plan.log.merges_skipped,
            },
            artifacts=tuple(Path(os.path.relpath(p, plan.root)).as_posix() for p in self.artifacts),
        )


@dataclasses.dataclass(kw_only=True)
class _Run:
    config: Config
    plan: ReleasePlan
    ci: bool
    hook: Callable[[str], None]
    artifacts: Artifacts | None = None

    @property
    def cfg(self) -> ReleaseConfig:
        return self.config.release

    @property
    def root(self) -> Path:
        return self.config.root

    def release_files(self) -> list[Path]:
        files = [f.path for f in version_files(self.root, self.cfg)]
        return [*files, self.root / self.cfg.changelog]

    def release_message(self) -> str:
        return self.cfg.commit_message.replace("{version}", str(self.plan.version))


def _done(name: str, detail: str) -> StepResult:
    return StepResult(name=name, status=Status.PASSED, detail=detail)


def _skip(name: str, detail: str) -> StepResult:
    return StepResult(name=name, status=Status.SKIPPED, detail=detail)


def _relative_to_top(run: _Run, paths: list[Path]) -> list[str]:
    top = Path(git.git(run.root, "rev-parse", "--show-toplevel").strip()).resolve()
    return [path.resolve().relative_to(top).as_posix() for path in paths]


# -- the steps ---------------------------------------------------------------------------


_GITHUB_AUTH_MISSING = (
    "GITHUB_TOKEN (or GH_TOKEN) is not set; a CI release creates the GitHub release."
)


def _require_remote(run: _Run) -> None:
    """A missing remote is a setting to fix, not a network to wait for."""
    known = git.remotes(run.root)
    if run.cfg.remote in known:
        return
    msg = (
        f"the git remote '{run.cfg.remote}' does not exist here (remotes: "
        f"{', '.join(known) or 'none'}); add it (git remote add {run.cfg.remote} <url>) "
        "or name the remote to push to in tool.shipyard.release.remote."
    )
    raise ConfigError(msg, path=run.config.pyproject, key="tool.shipyard.release.remote")


def _preflight_problems(run: _Run) -> tuple[str, ...]:
    """What stops the release; raises for a missing token, remote or version file."""
    cfg = run.cfg
    if run.ci and cfg.github and github_token() is None:
        raise ToolMissing(_GITHUB_AUTH_MISSING)  # before anything is written, not at the last step
    read_version(run.root, cfg)  # a version the build would not take stops here, not after the tag
    _require_remote(run)
    check = git.preflight(
        run.root,
        branch=cfg.branch,
        remote=cfg.remote,
        tag_name=run.plan.tag,
        allowed_dirty=_relative_to_top(run, run.release_files()),
    )
    return check.problems


def _preflight(run: _Run) -> StepResult:
    problems = _preflight_problems(run)
    if problems:
        listed = "\n".join(f"  - {p}" for p in problems)
        msg = f"cannot release {run.plan.tag}:\n{listed}"
        raise GateFailed(msg)
    return _done("preflight", f"on {run.cfg.branch}, clean, up to date with {run.cfg.remote}")


_FROM_TAG = "the build takes the version from the git tag (a VCS versioning plugin)"


def _version(run: _Run) -> StepResult:
    if not version_files(run.root, run.cfg):
        return _skip("version", _FROM_TAG)
    changed = write_version(run.root, run.cfg, run.plan.pep440)
    if not changed:
        return _skip("version", f"files already say {run.plan.pep440}")
    names = ", ".join(p.relative_to(run.root).as_posix() for p in changed)
    return _done("version", f"set {run.plan.pep440} in {names}")


def _changelog(run: _Run) -> StepResult:
    path = run.root / run.cfg.changelog
    text = read_text(path) if path.is_file() else ""
    if changelog.find_section(text, str(run.plan.version)) is not None:
        return _skip("changelog", f"{run.cfg.changelog} already has {run.plan.version}")
    write_atomic(path, changelog.insert_section(text, run.plan.section))
    return _done("changelog", f"added {run.plan.version} to {run.cfg.changelog}")


def _commit(run: _Run) -> StepResult:
    message = run.release_message()
    if git.message(run.root) == message:
        return _skip("commit", f"HEAD is the release commit '{message}'")
    candidates = run.release_files()
    names = _relative_to_top(run, candidates)
    changed = set(git.uncommitted(run.root, names))  # a new CHANGELOG.md too
    files = [path for path, name in zip(candidates, names, strict=True) if name in changed]
    if not files:
        return _skip("commit", "no release file changed")
    sha = git.commit(run.root, files, message)
    return _done("commit", f"{sha[:7]} '{message}'")


def _same_version(a: str, b: str) -> bool:
    try:
        return Version(a) == Version(b)
    except InvalidVersion:
        return a == b


def _check_taggable(run: _Run) -> None:
    """Tag only a commit that holds the release: its version and every file it wrote."""
    tag, pep440 = run.plan.tag, run.plan.pep440
    current = read_version(run.root, run.cfg)
    if current is not None and not _same_version(current, pep440):
        msg = (
            f"not tagging {tag}: the version files say {current}, so a build would make "
            f"{current}, not {pep440}; run the version and commit steps first."
        )
        raise GateFailed(msg)
    left = git.uncommitted(run.root, _relative_to_top(run, run.release_files()))
    if left:
        msg = f"not tagging {tag}: {', '.join(left)} not committed; run the commit step first."
        raise GateFailed(msg)


def _tag(run: _Run) -> StepResult:
    if git.tag_target(run.root, run.plan.tag) == git.head(run.root):
        return _skip("tag", f"{run.plan.tag} is on HEAD")
    _check_taggable(run)
    git.tag(run.root, run.plan.tag, f"{run.plan.project} {run.plan.version}")
    return _done("tag", f"annotated tag {run.plan.tag}")


def _build(run: _Run) -> StepResult:
    artifacts = build(
        run.root,
        run.root / run.cfg.dist_dir,
        name=run.plan.project,
        version=run.plan.pep440,
        epoch=git.commit_time(run.root),
        isolation=run.cfg.build_isolation,
    )
    run.artifacts = artifacts
    names = ", ".join(f.name for f in artifacts.files)
    if not artifacts.built:
        return _skip("build", f"found {names}; checked, SHA256SUMS written")
    return _done("build", f"built and checked {names}; SHA256SUMS written")


def _push(run: _Run) -> StepResult:
    cfg, here = run.cfg, git.head(run.root)
    _require_remote(run)
    branch = git.remote_ref(run.root, cfg.remote, f"refs/heads/{cfg.branch}")
    tag = git.remote_ref(run.root, cfg.remote, f"refs/tags/{run.plan.tag}")
    if tag == here and branch is not None and git.is_ancestor(run.root, here or "", branch):
        return _skip("push", f"{cfg.remote} has {cfg.branch} and {run.plan.tag}")
    git.push(run.root, cfg.remote, cfg.branch, run.plan.tag)
    return _done("push", f"pushed {cfg.branch} and {run.plan.tag} to {cfg.remote}")


def _artifacts(run: _Run) -> Artifacts:
    """The build step's files: from this run, or found in dist-dir (an earlier job's)."""
    if run.artifacts is None:
        dist = run.root / run.cfg.dist_dir
        files = distributions(dist, run.plan.project, run.plan.pep440)
        if not files:
            msg = f"no sdist or wheel of {run.plan.pep440} in {dist}; run the build step first."
            raise GateFailed(msg)
        run.artifacts = Artifacts(files=files, sums=write_sums(dist, files), built=False)
    return run.artifacts


def _publish(run: _Run) -> StepResult:
    if not run.cfg.publish:
        return _skip("publish", "publish = false")
    uploads = upload(
        _artifacts(run).files,
        project=run.plan.project,
        repository_url=run.cfg.repository_url,
        index_url=run.cfg.index_url,
        before_each=lambda name: run.hook(f"publish:{name}"),
    )
    sent = [u.file.name for u in uploads if u.outcome is UploadOutcome.UPLOADED]
    if not sent:
        return _skip("publish", f"every file is already on {run.cfg.repository_url}")
    return _done("publish", f"uploaded {', '.join(sent)} to {run.cfg.repository_url}")


def _github_target(run: _Run) -> tuple[str, str] | StepResult:
    token = github_token()
    if token is None:
        if run.ci:
            raise ToolMissing(_GITHUB_AUTH_MISSING)
        return _skip("github", "no GITHUB_TOKEN or GH_TOKEN: GitHub release left out")
    remote = git.remote_url(run.root, run.cfg.remote)
    repository = (
        run.cfg.github_repository
        or os.environ.get("GITHUB_REPOSITORY")
        or (repository_from_url(remote) if remote else None)
    )
    if repository is None:
        msg = "cannot tell the GitHub repository; set github-repository = 'owner/name'."
        raise ConfigError(msg, path=run.config.pyproject, key="tool.shipyard.release")
    return repository, token


def _github(run: _Run) -> StepResult:
    if not run.cfg.github:
        return _skip("github", "github = false")
    target = _github_target(run)
    if isinstance(target, StepResult):
        return target
    artifacts = _artifacts(run)
    client = GitHub(target[0], token=target[1])
    try:
        published = publish_release(
            client,
            tag=run.plan.tag,
            name=f"{run.plan.project} {run.plan.version}",
            body=run.plan.body,
            files=artifacts.all,
            prerelease=run.plan.prerelease,
            before_each=lambda name: run.hook(f"github:{name}"),
        )
    finally:
        client.close()
    if not published.created and not published.uploaded:
        return _skip("github", f"release {run.plan.tag} is complete: {published.url}")
    return _done("github", f"release {published.url} with {len(artifacts.all)} files")


_ACTIONS: dict[str, Callable[[_Run], StepResult]] = {
    "preflight": _preflight,
    "version": _version,
    "changelog": _changelog,
    "commit": _commit,
    "tag": _tag,
    "build": _build,
    "push": _push,
    "publish": _publish,
    "github": _github,
}


# -- the dry run -------------------------------------------------------------------------


def _preview_preflight(run: _Run) -> StepResult:
    problems = _preflight_problems(run)
    if problems:
        return StepResult(
            name="preflight",
            status=Status.FAILED,
            detail="; ".join(problems),
            code=ExitCode.GATE_FAILED,
        )
    return _done("preflight", "pass: clean, on the branch, up to date")


def _preview_version(run: _Run) -> StepResult:
    files = version_files(run.root, run.cfg)
    if not files:
        return _skip("version", _FROM_TAG)
    current = read_version(run.root, run.cfg)
    if current is not None and _same_version(current, run.plan.pep440):
        return _skip("version", f"files already say {run.plan.pep440}")
    names = ", ".join(os.path.relpath(f.path, run.root) for f in files)
    return _done("version", f"set {run.plan.pep440} in {names}")


def _preview_changelog(run: _Run) -> StepResult:
    path, version = run.root / run.cfg.changelog, str(run.plan.version)
    if path.is_file() and changelog.find_section(read_text(path), version) is not None:
        return _skip("changelog", f"{run.cfg.changelog} already has {version}")
    return _done("changelog", f"add the section below to {run.cfg.changelog}")


def _preview_github(run: _Run) -> StepResult:
    if not run.cfg.github:
        return _skip("github", "github = false")
    target = _github_target(run)
    if isinstance(target, StepResult):
        return target
    return _done("github", f"create the GitHub release in {target[0]}")


def _preview_push(run: _Run) -> StepResult:
    _require_remote(run)
    return _done("push", f"push {run.cfg.branch} and {run.plan.tag} to {run.cfg.remote}")


def _previews(run: _Run) -> dict[str, Callable[[_Run], StepResult]]:
    """For each step, a read-only look that says what it would do."""
    plan, cfg = run.plan, run.cfg
    tagged = git.tag_target(run.root, plan.tag) is not None
    dists = distributions(run.root / cfg.dist_dir, plan.project, plan.pep440)
    return {
        "preflight": _preview_preflight,
        "version": _preview_version,
        "changelog": _preview_changelog,
        "commit": lambda _: _done("commit", f"commit '{run.release_message()}'"),
        "tag": lambda _: (
            _skip("tag", f"{plan.tag} exists") if tagged else _done("tag", f"tag {plan.tag}")
        ),
        "build": lambda _: _done(
            "build", "check " + ", ".join(d.name for d in dists) if dists else "build"
        ),
        "push": _preview_push,
        "publish": lambda _: (
            _done("publish", f"upload to {cfg.repository_url}")
            if cfg.publish
            else _skip("publish", "publish = false")
        ),
        "github": _preview_github,
    }


def _preview(run: _Run, chosen: Sequence[str]) -> list[StepResult]:
    """What each chosen step would do; a step the real run would stop at is FAILED, with
    the exit code the real run would give."""
    looks, steps = _previews(run), []
    for name in chosen:
        try:
            steps.append(looks[name](run))
        except ShipyardError as exc:
            steps.append(
                StepResult(name=name, status=Status.FAILED, detail=str(exc), code=exc.code)
            )
    return steps


def _chosen(only: Sequence[str] | None) -> tuple[str, ...]:
    if only is None:
        return STEPS
    unknown = sorted(set(only) - set(STEPS))
    if unknown or not only:
        msg = f"unknown step {', '.join(unknown) or '(none)'}; the steps are {', '.join(STEPS)}."
        raise UsageError(msg)
    return tuple(name for name in STEPS if name in only)


def run_release(
    config: Config,
    *,
    pre: str | None = None,
    dry_run: bool = False,
    ci: bool = False,
    only: Sequence[str] | None = None,
    hook: Callable[[str], None] | None = None,
    log: Callable[[str], None] | None = None,
    today: dt.date | None = None,
) -> ReleaseOutcome:
    """Plan and run (or, with `dry_run`, only show) the release.

    `only` runs just those steps (in their usual order) on the release at HEAD
    (its release commit or its tag), or on a new one when HEAD is none: the
    release workflow splits the flow this way across jobs.

    `hook` is called with each step's name before it runs, and with
    `publish:<file>` / `github:<file>` before each upload; raising there stops
    the run as a crash would (the fault-injection tests use it).
    """
    started = time.monotonic()
    chosen = _chosen(only)
    plan = plan_release(config, pre=pre, today=today, tagged=only is not None)
    run = _Run(config=config, plan=plan, ci=ci, hook=hook or (lambda _: None))
    if dry_run:
        steps = _preview(run, chosen)
        return ReleaseOutcome(
            plan=plan, steps=tuple(steps), dry_run=True, duration=time.monotonic() - started
        )

    done = []
    for name in chosen:
        run.hook(name)
        step = _ACTIONS[name](run)
        done.append(step)
        if log is not None:
            log(f"{step.status.mark} {name}: {step.detail}")
    return ReleaseOutcome(
        plan=plan,
        steps=tuple(done),
        dry_run=False,
        duration=time.monotonic() - started,
        artifacts=run.artifacts.all if run.artifacts else (),
    )

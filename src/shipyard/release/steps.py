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

from shipyard import matrix
from shipyard.errors import (
    ConfigError,
    ExitCode,
    GateFailed,
    ShipyardError,
    ToolMissing,
    Unreachable,
    UsageError,
)
from shipyard.release import changelog, git, wheels
from shipyard.release.build import (
    SUMS_NAME,
    Artifacts,
    build,
    distributions,
    require,
    write_sums,
)
from shipyard.release.github import (
    GitHub,
    complete_release,
    publish_release,
    repository_from_url,
    valid_repository,
)
from shipyard.release.plan import ReleasePlan, plan_release, render_plan
from shipyard.release.publish import (
    UploadOutcome,
    missing_files,
    require_credentials,
    upload,
)
from shipyard.release.secrets import github_token
from shipyard.release.version_files import (
    read_text,
    read_version,
    version_changes,
    version_files,
    write_version,
)
from shipyard.report import StageResult, Status, write_atomic, write_result

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Sequence

    from shipyard.config import Config, ReleaseConfig
    from shipyard.matrix import Target

__all__ = ["STEPS", "PreflightFailed", "ReleaseOutcome", "StepResult", "run_release"]

STEPS = (
    "preflight",
    "version",
    "changelog",
    "commit",
    "tag",
    "wheels",
    "build",
    "push",
    "publish",
    "github",
    "images",
)


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
        """The report: passed, or failed with the step it stopped at, why, and what was done."""
        plan = self.plan
        acted = [s.name for s in self.steps if s.status is Status.PASSED]
        failed = next((s for s in self.steps if s.status is Status.FAILED), None)
        done = ", ".join(acted) if acted else "nothing left to do"
        metrics: dict[str, float | int | str] = {
            "version": str(plan.version),
            "pep440": plan.pep440,
            "tag": plan.tag,
            "commits": len(plan.log.commits),
            "non_conventional": len(plan.log.non_conventional),
            "merges_skipped": plan.log.merges_skipped,
        }
        if failed is not None and not self.dry_run:
            status = Status.FAILED
            reason = f"{plan.tag}: stopped at {failed.name} (exit {int(failed.code)}): "
            reason += " ".join(failed.detail.split()) + f"; done before it: {done}"
            metrics |= {"failed_step": failed.name, "exit_code": int(failed.code)}
        else:
            status = Status.SKIPPED if self.dry_run else Status.PASSED
            reason = ("dry run: " if self.dry_run else "") + f"{plan.tag}: {done}"
        return StageResult(
            stage="release",
            status=status,
            reason=reason,
            duration=self.duration,
            metrics=metrics,
            artifacts=tuple(Path(os.path.relpath(p, plan.root)).as_posix() for p in self.artifacts),
        )


@dataclasses.dataclass(kw_only=True)
class _Run:
    config: Config
    plan: ReleasePlan
    ci: bool
    hook: Callable[[str], None]
    #: The steps this run goes through, in order.
    chosen: tuple[str, ...] = ()
    #: In a dry run, the steps looked at so far that would act (their effects imagined).
    pending: set[str] = dataclasses.field(default_factory=set)
    artifacts: Artifacts | None = None
    #: The build-matrix target id the wheels step builds for (`--target`).
    target: str | None = None

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
#
# Each step is a `look` and an `act`. The look only reads the world and says whether the
# step is done already (SKIPPED, with why), what it would do (PASSED), or raises what
# the real run would stop with. The real run and the dry run call the same look, so they
# cannot disagree; only the real run then acts. In a dry run, `run.pending` holds the
# steps before this one that would act, whose effects a look must imagine.


_GITHUB_AUTH_MISSING = (
    "GITHUB_TOKEN (or GH_TOKEN) is not set; a CI release creates the GitHub release."
)


class PreflightFailed(GateFailed):
    """Pre-flight found what stops the release; every problem is listed."""

    def __init__(self, tag: str, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        listed = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"cannot release {tag}:\n{listed}")


def _also(problems: Sequence[str]) -> str:
    return f" Pre-flight also found: {'; '.join(problems)}." if problems else ""


def _require_remote(run: _Run, *, also: Sequence[str] = ()) -> None:
    """A missing remote is a setting to fix, not a network to wait for."""
    known = git.remotes(run.root)
    if run.cfg.remote in known:
        return
    msg = (
        f"the git remote '{run.cfg.remote}' does not exist here (remotes: "
        f"{', '.join(known) or 'none'}); add it (git remote add {run.cfg.remote} <url>) "
        "or name the remote to push to in tool.shipyard.release.remote." + _also(also)
    )
    raise ConfigError(msg, path=run.config.pyproject, key="tool.shipyard.release.remote")


def _preflight_problems(run: _Run) -> tuple[str, ...]:
    """What stops the release; raises for a missing token, remote or version file (with
    the other problems found, so that one run shows them all)."""
    cfg = run.cfg
    if run.ci and cfg.github and github_token() is None:
        raise ToolMissing(_GITHUB_AUTH_MISSING)  # before anything is written, not at the last step
    if cfg.github and "github" in run.chosen:
        _github_target(run)  # a bad repository name stops here, not after the push
    read_version(run.root, cfg)  # a version the build would not take stops here, not after the tag
    local = git.local_problems(
        run.root,
        branch=cfg.branch,
        tag_name=run.plan.tag,
        allowed_dirty=_relative_to_top(run, run.release_files()),
    )
    _require_remote(run, also=local)
    try:
        remote = git.remote_problems(
            run.root, branch=cfg.branch, remote=cfg.remote, tag_name=run.plan.tag
        )
    except Unreachable as exc:
        msg = f"{exc}{_also(local)}"
        raise Unreachable(msg) from None
    return (*local, *remote)


def _look_preflight(run: _Run) -> StepResult:
    problems = _preflight_problems(run)
    if problems:
        raise PreflightFailed(run.plan.tag, problems)
    return _done("preflight", "pass: clean, on the branch, up to date")


def _preflight(run: _Run) -> StepResult:
    return _done("preflight", f"on {run.cfg.branch}, clean, up to date with {run.cfg.remote}")


_FROM_TAG = "the build takes the version from the git tag (a VCS versioning plugin)"


def _names(run: _Run, paths: Sequence[Path]) -> str:
    return ", ".join(p.relative_to(run.root).as_posix() for p in paths)


def _look_version(run: _Run) -> StepResult:
    if not version_files(run.root, run.cfg):
        return _skip("version", _FROM_TAG)
    changes = version_changes(run.root, run.cfg, run.plan.pep440)
    if not changes:
        return _skip("version", f"files already say {run.plan.pep440}")
    return _done("version", f"set {run.plan.pep440} in {_names(run, [p for p, _ in changes])}")


def _version(run: _Run) -> StepResult:
    changed = write_version(run.root, run.cfg, run.plan.pep440)
    return _done("version", f"set {run.plan.pep440} in {_names(run, changed)}")


def _changelog_text(run: _Run) -> str:
    path = run.root / run.cfg.changelog
    return read_text(path) if path.is_file() else ""


def _look_changelog(run: _Run) -> StepResult:
    if changelog.find_section(_changelog_text(run), str(run.plan.version)) is not None:
        return _skip("changelog", f"{run.cfg.changelog} already has {run.plan.version}")
    return _done("changelog", f"add the section below to {run.cfg.changelog}")


def _changelog(run: _Run) -> StepResult:
    text = changelog.insert_section(_changelog_text(run), run.plan.section)
    write_atomic(run.root / run.cfg.changelog, text)
    return _done("changelog", f"added {run.plan.version} to {run.cfg.changelog}")


def _changed_release_files(run: _Run) -> list[Path]:
    candidates = run.release_files()
    names = _relative_to_top(run, candidates)
    changed = set(git.uncommitted(run.root, names))  # a new CHANGELOG.md too
    return [path for path, name in zip(candidates, names, strict=True) if name in changed]


def _look_commit(run: _Run) -> StepResult:
    message = run.release_message()
    if git.message(run.root) == message:
        return _skip("commit", f"HEAD is the release commit '{message}'")
    if not _changed_release_files(run) and not run.pending & {"version", "changelog"}:
        return _skip("commit", "no release file changed")
    return _done("commit", f"commit '{message}'")


def _commit(run: _Run) -> StepResult:
    message = run.release_message()
    sha = git.commit(run.root, _changed_release_files(run), message)
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


def _look_tag(run: _Run) -> StepResult:
    tag = run.plan.tag
    if "commit" in run.pending:  # the dry run's release commit would be the new HEAD
        return _done("tag", f"tag {tag} on the release commit")
    if git.tag_target(run.root, tag) == git.head(run.root):
        return _skip("tag", f"{tag} is on HEAD")
    if not run.pending & {"version", "changelog"}:
        _check_taggable(run)
    return _done("tag", f"annotated tag {tag}")


def _tag(run: _Run) -> StepResult:
    _check_taggable(run)
    git.tag(run.root, run.plan.tag, f"{run.plan.project} {run.plan.version}")
    return _done("tag", f"annotated tag {run.plan.tag}")


def _wheel_target(run: _Run) -> Target | StepResult:
    """The matrix target the wheels step builds for, or why it builds none."""
    if wheels.builder(run.config) == "build":
        return _skip("wheels", "the build does not compile: the build step makes the one wheel")
    if run.target is None:
        detail = "one job per target in the release workflow (--target ID); here the build "
        return _skip("wheels", detail + "step makes this machine's wheel")
    targets = matrix.plan(run.config).targets
    found = next((t for t in targets if t.id == run.target), None)
    if found is None:
        known = ", ".join(t.id for t in targets)
        msg = f"--target {run.target} is not in the build matrix; its targets: {known}."
        raise UsageError(msg)
    return found


def _look_wheels(run: _Run) -> StepResult:
    target = _wheel_target(run)
    if isinstance(target, StepResult):
        return target
    dist = run.root / run.cfg.dist_dir
    made = wheels.wheel_for(dist, run.plan.project, run.plan.pep440, target)
    if made is not None:
        return _skip("wheels", f"found {made.name} for {target.id}")
    require("uv", purpose="running cibuildwheel for the wheels of a compiled project")
    return _done("wheels", f"cibuildwheel --only {wheels.cibuildwheel_id(target)}")


def _wheels(run: _Run) -> StepResult:
    target = _wheel_target(run)
    if isinstance(target, StepResult):
        return target
    made = wheels.make_wheels(run.root, run.root / run.cfg.dist_dir, target)
    return _done("wheels", f"built {', '.join(p.name for p in made)} for {target.id}")


def _dists(run: _Run) -> tuple[Path, ...]:
    return distributions(run.root / run.cfg.dist_dir, run.plan.project, run.plan.pep440)


def _look_build(run: _Run) -> StepResult:
    found = _dists(run)
    whole = any(f.name.endswith(".whl") for f in found) and not all(
        f.name.endswith(".whl") for f in found
    )
    if not whole:
        require("build", purpose="building the sdist and wheel")
    require("twine", purpose="checking the distributions")
    names = ", ".join(f.name for f in found)
    return _done("build", f"check {names}" if whole else "build the sdist and wheel")


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


def _look_push(run: _Run) -> StepResult:
    cfg, here = run.cfg, git.head(run.root)
    _require_remote(run)
    branch = git.remote_ref(run.root, cfg.remote, f"refs/heads/{cfg.branch}")
    tag = git.remote_ref(run.root, cfg.remote, f"refs/tags/{run.plan.tag}")
    moved = run.pending & {"commit", "tag"}  # the dry run's new commit or tag is not there
    there = tag == here and branch is not None and git.is_ancestor(run.root, here or "", branch)
    if there and not moved:
        return _skip("push", f"{cfg.remote} has {cfg.branch} and {run.plan.tag}")
    return _done("push", f"push {cfg.branch} and {run.plan.tag} to {cfg.remote}")


def _push(run: _Run) -> StepResult:
    cfg = run.cfg
    git.push(run.root, cfg.remote, cfg.branch, run.plan.tag)
    return _done("push", f"pushed {cfg.branch} and {run.plan.tag} to {cfg.remote}")


def _artifacts(run: _Run) -> Artifacts:
    """The build step's files: from this run, or found in dist-dir (an earlier job's)."""
    if run.artifacts is None:
        dist = run.root / run.cfg.dist_dir
        files = _dists(run)
        if not files:
            msg = f"no sdist or wheel of {run.plan.pep440} in {dist}; run the build step first."
            raise GateFailed(msg)
        run.artifacts = Artifacts(files=files, sums=write_sums(dist, files), built=False)
    return run.artifacts


def _files_to_release(run: _Run) -> tuple[Path, ...] | None:
    """The distributions the publish and github steps send; None in a dry run whose build
    step would make them. Reads only: SHA256SUMS is written by the act."""
    if "build" in run.pending:
        return None
    if run.artifacts is not None:
        return run.artifacts.files
    files = _dists(run)
    if not files:
        dist = run.root / run.cfg.dist_dir
        msg = f"no sdist or wheel of {run.plan.pep440} in {dist}; run the build step first."
        raise GateFailed(msg)
    return files


def _look_publish(run: _Run) -> StepResult:
    cfg = run.cfg
    if not cfg.publish:
        return _skip("publish", "publish = false")
    require("twine", purpose="uploading to the package index")
    files = _files_to_release(run)
    missing = missing_files(
        files or (),
        project=run.plan.project,
        repository_url=cfg.repository_url,
        index_url=cfg.index_url,
    )
    if files is not None and not missing:
        return _skip("publish", f"every file is already on {cfg.repository_url}")
    require_credentials(cfg.repository_url)
    what = ", ".join(f.name for f in missing) if files is not None else "the built files"
    return _done("publish", f"upload {what} to {cfg.repository_url}")


def _publish(run: _Run) -> StepResult:
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


def _checked_repository(run: _Run) -> str:
    """owner/name from the setting, else GITHUB_REPOSITORY, else the remote's URL; a
    name GitHub could not have is a setting to fix, named with where it came from."""
    if run.cfg.github_repository:
        name, where = run.cfg.github_repository, None
    elif os.environ.get("GITHUB_REPOSITORY"):
        name, where = os.environ["GITHUB_REPOSITORY"], "GITHUB_REPOSITORY"
    else:
        remote = git.remote_url(run.root, run.cfg.remote)
        found = repository_from_url(remote) if remote else None
        if found is None:
            msg = "cannot tell the GitHub repository; set github-repository = 'owner/name'."
            raise ConfigError(msg, path=run.config.pyproject, key="tool.shipyard.release")
        name, where = found, f"the URL of the remote '{run.cfg.remote}'"
    if valid_repository(name):
        return name
    rule = (
        "GitHub repositories are owner/name: the owner letters, digits and hyphens, "
        "the name letters, digits, '.', '_' and '-'"
    )
    if where is None:
        msg = f"{name!r} is not a GitHub repository; {rule}."
        key = "tool.shipyard.release.github-repository"
        raise ConfigError(msg, path=run.config.pyproject, key=key)
    msg = (
        f"{where} says {name!r}, which is not a GitHub repository; {rule}. "
        "Fix it, or set tool.shipyard.release.github-repository = 'owner/name'."
    )
    raise UsageError(msg)


def _github_target(run: _Run) -> tuple[str, str] | StepResult:
    token = github_token()
    if token is None:
        if run.ci:
            raise ToolMissing(_GITHUB_AUTH_MISSING)
        return _skip("github", "no GITHUB_TOKEN or GH_TOKEN: GitHub release left out")
    return _checked_repository(run), token


def _release_files(files: Sequence[Path]) -> tuple[Path, ...]:
    """The release's assets: the distributions and SHA256SUMS beside them."""
    return (*files, files[0].parent / SUMS_NAME) if files else ()


def _look_github(run: _Run) -> StepResult:
    if not run.cfg.github:
        return _skip("github", "github = false")
    target = _github_target(run)
    if isinstance(target, StepResult):
        return target
    files = _files_to_release(run)
    if files is not None and "tag" not in run.pending:
        client = GitHub(target[0], token=target[1])
        try:
            url = complete_release(client, run.plan.tag, _release_files(files))
        finally:
            client.close()
        if url is not None:
            return _skip("github", f"release {run.plan.tag} is complete: {url}")
    return _done("github", f"create the GitHub release in {target[0]}")


def _github(run: _Run) -> StepResult:
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


def _image_variants(run: _Run) -> tuple[str, ...] | StepResult:
    """The variants a release builds and pushes, or why it pushes none."""
    from shipyard.stages.docker.meta import nothing_to_build, variant_settings  # noqa: PLC0415

    why = nothing_to_build(run.config)
    if why is not None:
        return _skip("images", why)
    if not run.config.docker.registries:
        return _skip("images", "docker.registries is empty: no registry to push to")
    return tuple(name for name, v in variant_settings(run.config).items() if not v.on_request)


def _look_images(run: _Run) -> StepResult:
    variants = _image_variants(run)
    if isinstance(variants, StepResult):
        return variants
    registries = ", ".join(run.config.docker.registries)
    what = f"{', '.join(variants)} tagged {run.plan.pep440} (and its floating tags)"
    return _done("images", f"build, check and push {what} to {registries}")


def _images(run: _Run) -> StepResult:
    """The docker stage on the release commit, with the release's version tags, pushed.

    Run again, it builds and pushes again: a tag pushed before is replaced by the same
    build (the registry keeps no second copy of an unchanged layer).
    """
    from shipyard.stages.docker import GitRef, run_docker  # noqa: PLC0415

    variants = _image_variants(run)
    if isinstance(variants, StepResult):
        return variants
    # The tag's commit and version only: a release pushes no branch tag.
    ref = GitRef(sha=git.head(run.root), branch=None)
    result = run_docker(run.config, variants=variants, push=True, git=ref, version=run.plan.pep440)
    write_result(result, run.config.reports)
    if result.status is Status.SKIPPED:
        return _skip("images", result.reason)
    if result.status is Status.FAILED:
        msg = f"the images of {run.plan.tag} were not all pushed: {result.reason}"
        raise GateFailed(msg)
    refs = [r for f in result.findings if f.rule == "docker.push" for r in f.extra.get("refs", ())]
    return _done("images", f"pushed {len(refs)} reference(s): {', '.join(refs)}")


@dataclasses.dataclass(frozen=True)
class _Step:
    #: Reads only: SKIPPED when done already, else PASSED with what it would do; raises
    #: what the real run would stop with. The dry run calls only this.
    look: Callable[[_Run], StepResult]
    #: Does the step; the real run calls it when the look found something to do.
    act: Callable[[_Run], StepResult]


_STEPS: dict[str, _Step] = {
    "preflight": _Step(_look_preflight, _preflight),
    "version": _Step(_look_version, _version),
    "changelog": _Step(_look_changelog, _changelog),
    "commit": _Step(_look_commit, _commit),
    "tag": _Step(_look_tag, _tag),
    "wheels": _Step(_look_wheels, _wheels),
    "build": _Step(_look_build, _build),
    "push": _Step(_look_push, _push),
    "publish": _Step(_look_publish, _publish),
    "github": _Step(_look_github, _github),
    "images": _Step(_look_images, _images),
}


def _failed(name: str, exc: ShipyardError) -> StepResult:
    # Pre-flight's problems read best as one line; any other error as its message.
    detail = "; ".join(exc.problems) if isinstance(exc, PreflightFailed) else str(exc)
    return StepResult(name=name, status=Status.FAILED, detail=detail, code=exc.code)


def _preview(run: _Run) -> list[StepResult]:
    """What each chosen step would do. The first step the real run would stop at is
    FAILED, with the exit code the real run would give; the steps after it are not
    reached."""
    steps: list[StepResult] = []
    stop: str | None = None
    for name in run.chosen:
        if stop is not None:
            steps.append(_skip(name, f"not reached: the run stops at {stop}"))
            continue
        try:
            step = _STEPS[name].look(run)
        except ShipyardError as exc:
            step, stop = _failed(name, exc), name
        if step.status is Status.PASSED:
            run.pending.add(name)
        steps.append(step)
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
    target: str | None = None,
    hook: Callable[[str], None] | None = None,
    log: Callable[[str], None] | None = None,
    stopped: Callable[[ReleaseOutcome], None] | None = None,
    today: dt.date | None = None,
) -> ReleaseOutcome:
    """Plan and run (or, with `dry_run`, only show) the release.

    `only` runs just those steps (in their usual order) on the release at HEAD
    (its release commit or its tag), or on a new one when HEAD is none: the
    release workflow splits the flow this way across jobs. `target` is the build-matrix
    target the wheels step builds for (a compiled project's wheels job).

    `hook` is called with each step's name before it runs, and with
    `publish:<file>` / `github:<file>` before each upload; raising there stops
    the run as a crash would (the fault-injection tests use it).

    When a step fails, `stopped` gets the outcome so far (the failed step last, with
    its error) before the error goes on: the door writes it as the report.
    """
    started = time.monotonic()
    chosen = _chosen(only)
    plan = plan_release(config, pre=pre, today=today, tagged=only is not None)
    run = _Run(
        config=config,
        plan=plan,
        ci=ci,
        chosen=chosen,
        hook=hook or (lambda _: None),
        target=target,
    )
    if dry_run:
        steps = _preview(run)
        return ReleaseOutcome(
            plan=plan, steps=tuple(steps), dry_run=True, duration=time.monotonic() - started
        )

    done: list[StepResult] = []
    for name in chosen:
        run.hook(name)
        try:
            found = _STEPS[name].look(run)
            step = found if found.status is Status.SKIPPED else _STEPS[name].act(run)
        except ShipyardError as exc:
            if stopped is not None:
                stopped(_outcome(run, [*done, _failed(name, exc)], started))
            raise
        done.append(step)
        if log is not None:
            log(f"{step.status.mark} {name}: {step.detail}")
    return _outcome(run, done, started)


def _outcome(run: _Run, steps: Sequence[StepResult], started: float) -> ReleaseOutcome:
    return ReleaseOutcome(
        plan=run.plan,
        steps=tuple(steps),
        dry_run=False,
        duration=time.monotonic() - started,
        artifacts=run.artifacts.all if run.artifacts else (),
    )

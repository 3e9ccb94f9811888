"""The git a release needs: history, tags, the release commit, and the pre-flight checks.

Every call runs the real `git` with an argv list, no prompt and a timeout. The
remote is only read with `git ls-remote` (no fetch), so a dry run changes
nothing, not even `.git`.
"""

from __future__ import annotations

import dataclasses
import os
import subprocess
from typing import TYPE_CHECKING

from shipyard.errors import ExitCode, ShipyardError, ToolMissing, Unreachable
from shipyard.release.commits import RawCommit
from shipyard.release.secrets import redact

if TYPE_CHECKING:
    from collections.abc import Iterable
    from pathlib import Path

__all__ = [
    "GitError",
    "Preflight",
    "commit",
    "commit_time",
    "current_branch",
    "dirty_files",
    "git",
    "head",
    "is_ancestor",
    "local_problems",
    "log",
    "preflight",
    "push",
    "remote_problems",
    "remote_ref",
    "remote_url",
    "remotes",
    "tag",
    "tag_target",
    "tags",
    "uncommitted",
]

_TIMEOUT = 300
#: How many of git's last stderr lines an error message keeps.
_SAID = 12
_UNREACHABLE_HINTS = ("Could not read from remote", "unable to access", "does not appear to be")


class GitError(ShipyardError):
    """A git command failed; the message carries git's own last words."""

    code = ExitCode.GATE_FAILED


def _run(repo: Path, args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    # No prompts, plain messages, and no opportunistic index refresh: a dry run writes nothing.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C", "GIT_OPTIONAL_LOCKS": "0"}
    try:
        return subprocess.run(
            ["git", *args],
            cwd=repo,
            env=env,
            capture_output=True,
            text=True,
            timeout=_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        msg = "git is not installed (or not on PATH); the release flow needs it."
        raise ToolMissing(msg) from None
    except subprocess.TimeoutExpired:
        msg = f"`git {' '.join(args)}` did not finish within {_TIMEOUT} s."
        raise Unreachable(msg) from None


def git(repo: Path, *args: str, check: bool = True) -> str:
    """Run `git args` in `repo` and return its stdout."""
    done = _run(repo, args)
    if check and done.returncode != 0:
        # Every line: git's first one usually names the cause ("'x' does not appear to be...").
        said = [line.strip() for line in done.stderr.splitlines() if line.strip()][-_SAID:]
        msg = redact(
            f"`git {' '.join(args)}` failed in {repo}: {' '.join(said) or done.returncode}"
        )
        if any(hint in done.stderr for hint in _UNREACHABLE_HINTS):
            raise Unreachable(msg)
        raise GitError(msg)
    return done.stdout


def head(repo: Path) -> str | None:
    out = git(repo, "rev-parse", "-q", "--verify", "HEAD^{commit}", check=False).strip()
    return out or None


def current_branch(repo: Path) -> str | None:
    return git(repo, "symbolic-ref", "--short", "-q", "HEAD", check=False).strip() or None


def tags(repo: Path) -> list[str]:
    return git(repo, "tag", "--list").split()


def tag_target(repo: Path, name: str) -> str | None:
    """The commit tag `name` points at, or None when there is no such tag."""
    ref = f"refs/tags/{name}^{{commit}}"
    return git(repo, "rev-parse", "-q", "--verify", ref, check=False).strip() or None


def log(repo: Path, since: str | None = None) -> list[RawCommit]:
    """Commits reachable from HEAD and not from `since`, newest first."""
    if head(repo) is None:
        return []
    revision = f"{since}..HEAD" if since else "HEAD"
    out = git(repo, "log", "-z", "--format=%H%x1f%P%x1f%B", revision)
    commits = []
    for record in filter(None, out.split("\0")):
        sha, parents, message = record.split("\x1f", 2)
        commits.append(RawCommit(sha=sha, message=message, parents=tuple(parents.split())))
    return commits


def commit_time(repo: Path, revision: str = "HEAD") -> int:
    return int(git(repo, "show", "-s", "--format=%ct", revision).strip())


def message(repo: Path, revision: str = "HEAD") -> str:
    return git(repo, "show", "-s", "--format=%B", revision).strip()


def dirty_files(repo: Path) -> list[str]:
    """Tracked files with changes (staged or not), relative to the repository root."""
    out = git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=no")
    return [entry[3:] for entry in out.split("\0") if len(entry) > 3]  # noqa: PLR2004


def uncommitted(repo: Path, names: Iterable[str]) -> list[str]:
    """Those of `names` (relative to the repository root) that HEAD does not hold as they
    are: changed, staged, or new and not ignored."""
    pathspecs = [f":(top,literal){name}" for name in names]
    if not pathspecs:
        return []
    out = git(repo, "status", "--porcelain=v1", "-z", "--untracked-files=all", "--", *pathspecs)
    return [entry[3:] for entry in out.split("\0") if len(entry) > 3]  # noqa: PLR2004


def remotes(repo: Path) -> list[str]:
    return git(repo, "remote").split()


def remote_url(repo: Path, remote: str) -> str | None:
    return git(repo, "remote", "get-url", remote, check=False).strip() or None


def remote_ref(repo: Path, remote: str, ref: str) -> str | None:
    """The commit `ref` points at on the remote (tags peeled), or None when absent."""
    out = git(repo, "ls-remote", remote, ref, f"{ref}^{{}}")
    found: dict[str, str] = {}
    for line in out.splitlines():
        sha, _, name = line.partition("\t")
        found[name] = sha
    return found.get(f"{ref}^{{}}") or found.get(ref)


def is_ancestor(repo: Path, ancestor: str, descendant: str) -> bool:
    """True when `ancestor` is a commit known here and reachable from `descendant`."""
    if not git(repo, "cat-file", "-t", ancestor, check=False).strip():
        return False
    return _run(repo, ("merge-base", "--is-ancestor", ancestor, descendant)).returncode == 0


def commit(repo: Path, paths: Iterable[Path], text: str) -> str:
    """Commit exactly `paths` with message `text`; return the new commit."""
    names = [str(path.relative_to(repo)) for path in paths]
    git(repo, "add", "--", *names)
    git(repo, "commit", "-q", "-m", text, "--", *names)
    return head(repo) or ""


def tag(repo: Path, name: str, text: str) -> None:
    """An annotated tag on HEAD."""
    git(repo, "tag", "-a", name, "-m", text)


def push(repo: Path, remote: str, branch: str, name: str) -> None:
    """Push HEAD to `branch` and the tag `name`, both or neither."""
    git(repo, "push", "-q", "--atomic", remote, f"HEAD:refs/heads/{branch}", f"refs/tags/{name}")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Preflight:
    """What stands in the way of a release; empty `problems` means go."""

    problems: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.problems


def preflight(
    repo: Path,
    *,
    branch: str,
    remote: str,
    tag_name: str,
    allowed_dirty: Iterable[str] = (),
) -> Preflight:
    """Clean tree, on the release branch, tag absent (or on HEAD), up to date with the remote."""
    problems = local_problems(repo, branch=branch, tag_name=tag_name, allowed_dirty=allowed_dirty)
    problems += remote_problems(repo, branch=branch, remote=remote, tag_name=tag_name)
    return Preflight(problems=tuple(problems))


def local_problems(
    repo: Path, *, branch: str, tag_name: str, allowed_dirty: Iterable[str] = ()
) -> list[str]:
    """The pre-flight problems found without the remote: branch, working tree, local tag."""
    problems = []
    here = head(repo)
    on = current_branch(repo)
    if on != branch:
        problems.append(f"on branch '{on or 'detached HEAD'}', releases are made from '{branch}'")
    dirty = sorted(set(dirty_files(repo)) - set(allowed_dirty))
    if dirty:
        problems.append(f"uncommitted changes in {', '.join(dirty)}")
    local = tag_target(repo, tag_name)
    if local is not None and local != here:
        problems.append(f"tag {tag_name} already exists on another commit ({local[:7]})")
    return problems


def remote_problems(repo: Path, *, branch: str, remote: str, tag_name: str) -> list[str]:
    """The pre-flight problems the remote shows (read with `git ls-remote`): behind it, or
    the tag there on another commit. Raises Unreachable when it cannot be read."""
    problems = []
    here = head(repo)
    upstream = remote_ref(repo, remote, f"refs/heads/{branch}")
    if upstream is not None and here is not None and not is_ancestor(repo, upstream, here):
        problems.append(f"behind {remote}/{branch}: pull the latest changes first")
    remote_tag = remote_ref(repo, remote, f"refs/tags/{tag_name}")
    if remote_tag is not None and remote_tag != here:
        problems.append(f"tag {tag_name} already exists on {remote} on another commit")
    return problems

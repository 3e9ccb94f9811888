"""What an image says about where it came from: git ref, OCI labels, resolved variants."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path

from shipyard.config import Config, DockerVariantConfig
from shipyard.errors import ConfigError
from shipyard.stages.docker.tags import GitRef, expand_tags, image_ref

__all__ = [
    "DEFAULT_VARIANTS",
    "Variant",
    "git_ref",
    "nothing_to_build",
    "oci_labels",
    "resolve_variants",
    "source_url",
    "variant_settings",
]

#: The variants a project gets without configuring any, when their Dockerfile exists.
DEFAULT_VARIANTS = ("cpu", "gpu", "minimal")

_PR_REF = re.compile(r"^refs/pull/(\d+)/")
_USERINFO = re.compile(r"^(\w+://)[^/@]*@")


@dataclasses.dataclass(frozen=True, kw_only=True)
class Variant:
    """One variant, resolved: absolute paths, its local repository and its tags."""

    name: str
    settings: DockerVariantConfig
    dockerfile: Path
    context: Path
    #: The repository without a registry, like `shipyard-minimal`.
    repository: str
    tags: tuple[str, ...]

    @property
    def refs(self) -> tuple[str, ...]:
        return tuple(f"{self.repository}:{tag}" for tag in self.tags)


def _git(root: Path, *args: str) -> str:
    try:
        done = subprocess.run(
            ["git", *args], cwd=root, capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def git_ref(root: Path, env: Mapping[str, str] | None = None) -> GitRef:
    """The commit and branch (or pull request) of this build: GitHub's variables, else git."""
    env = os.environ if env is None else env
    sha = env.get("GITHUB_SHA") or _git(root, "rev-parse", "HEAD") or None
    pr = None
    if env.get("GITHUB_EVENT_NAME", "").startswith("pull_request"):
        match = _PR_REF.match(env.get("GITHUB_REF", ""))
        pr = int(match.group(1)) if match else None
    branch = env.get("GITHUB_HEAD_REF") or (
        env.get("GITHUB_REF_NAME") if env.get("GITHUB_REF_TYPE") == "branch" else None
    )
    if not branch and not env.get("GITHUB_ACTIONS"):
        branch = _git(root, "rev-parse", "--abbrev-ref", "HEAD") or None
    return GitRef(sha=sha, branch=branch, pr=pr)


def source_url(root: Path, env: Mapping[str, str] | None = None) -> str | None:
    """The repository's URL for the `source` label, never with credentials in it."""
    env = os.environ if env is None else env
    if env.get("GITHUB_REPOSITORY"):
        server = env.get("GITHUB_SERVER_URL", "https://github.com")
        return f"{server}/{env['GITHUB_REPOSITORY']}"
    url = _git(root, "remote", "get-url", "origin")
    return _USERINFO.sub(r"\1", url) or None


def oci_labels(
    *, root: Path, git: GitRef, version: str | None, title: str, env: Mapping[str, str] | None
) -> dict[str, str]:
    """The OCI annotation labels; `created` follows SOURCE_DATE_EPOCH when it is set."""
    env = os.environ if env is None else env
    epoch = env.get("SOURCE_DATE_EPOCH")
    created = (
        dt.datetime.fromtimestamp(int(epoch), tz=dt.UTC)
        if epoch and epoch.isdigit()
        else dt.datetime.now(tz=dt.UTC)
    )
    labels = {
        "org.opencontainers.image.title": title,
        "org.opencontainers.image.created": created.isoformat(timespec="seconds"),
        "org.opencontainers.image.source": source_url(root, env) or "",
        "org.opencontainers.image.revision": git.sha or "",
        "org.opencontainers.image.version": version or "",
    }
    return {k: v for k, v in labels.items() if v}


def variant_settings(config: Config) -> dict[str, DockerVariantConfig]:
    """The configured variants, or the default ones whose Dockerfile exists."""
    if config.docker.variants is not None:
        return dict(config.docker.variants)
    return {
        name: DockerVariantConfig()
        for name in DEFAULT_VARIANTS
        if (config.root / "docker" / f"Dockerfile.{name}").is_file()
    }


def nothing_to_build(config: Config) -> str | None:
    """Why a run naming no variant builds no image, or None when it builds some.

    The docker stage skips with this reason; `invoke ci --plan` shows it.
    """
    settings = variant_settings(config)
    if not settings:
        names = ", ".join(f"docker/Dockerfile.{n}" for n in DEFAULT_VARIANTS)
        return f"no image variants: none of {names} and no docker.variants"
    if all(item.on_request for item in settings.values()):
        return "every image variant is on-request; name one: nox -s docker -- NAME"
    return None


def resolve_variants(
    config: Config, *, git: GitRef, version: str | None, only: tuple[str, ...] = ()
) -> list[Variant]:
    """The variants to build, checked: each Dockerfile and context must exist."""
    settings = variant_settings(config)
    unknown = [name for name in only if name not in settings]
    if unknown:
        known = ", ".join(sorted(settings)) or "none"
        msg = f"no variant named {unknown[0]!r}; configured variants: {known}."
        raise ConfigError(msg, path=config.pyproject, key="tool.shipyard.docker.variants")
    name = config.docker.image or (config.project.name if config.project else config.root.name)
    variants = []
    for variant, item in settings.items():
        wanted = variant in only if only else not item.on_request
        if not wanted:
            continue
        key = f"tool.shipyard.docker.variants.{variant}"
        dockerfile = config.root / (item.dockerfile or Path("docker") / f"Dockerfile.{variant}")
        if not dockerfile.is_file():
            msg = f"Dockerfile '{dockerfile}' does not exist."
            raise ConfigError(msg, path=config.pyproject, key=f"{key}.dockerfile")
        context = config.root / item.context
        if not context.is_dir():
            msg = f"build context '{context}' is not a directory."
            raise ConfigError(msg, path=config.pyproject, key=f"{key}.context")
        variants.append(
            Variant(
                name=variant,
                settings=item,
                dockerfile=dockerfile,
                context=context,
                repository=image_ref(name, variant=variant),
                tags=expand_tags(item.tags, git=git, version=version) or ("dev",),
            )
        )
    return variants

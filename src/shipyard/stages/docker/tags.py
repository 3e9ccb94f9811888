"""Image references and tags, normalised to the OCI distribution rules.

`image_ref` is the one place a reference is spelled: every caller (build,
push, manifest merge, tests) goes through it, so `My_Org/Tool` with variant
`minimal` and version `1.2.0+build.5` is always `my_org/tool-minimal:1.2.0-build.5`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence

from packaging.version import InvalidVersion, Version

from shipyard.errors import ConfigError

__all__ = ["GitRef", "expand_tags", "floating_tags", "image_ref"]

#: OCI distribution: a tag is `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
TAG_MAX = 128
#: Docker refuses repository names (registry included) of 256 characters or more.
NAME_MAX = 255

_TAG_BAD = re.compile(r"[^A-Za-z0-9_.-]")
_PATH_BAD = re.compile(r"[^a-z0-9._-]")
# Separators between alphanumerics: one '.', one '_', '__', or any run of '-'.
_SEPARATORS = re.compile(r"[._-]+")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_PLACEHOLDERS = ("sha", "branch", "version", "floating")


@dataclasses.dataclass(frozen=True, kw_only=True)
class GitRef:
    """Where the build comes from: the commit, and the branch or pull request."""

    sha: str | None = None
    branch: str | None = None
    pr: int | None = None


def _separator(match: re.Match[str]) -> str:
    run = match.group()
    return run if run in (".", "_", "__") or set(run) == {"-"} else "-"


def _path_component(text: str) -> str:
    lowered = _PATH_BAD.sub("-", text.lower())
    return _SEPARATORS.sub(_separator, lowered).strip("._-")


def _registry(registry: str) -> list[str]:
    """The registry host (kept, lowercased) and any namespace components (normalised)."""
    parts = [p for p in registry.strip().strip("/").split("/") if p]
    if not parts:
        return []
    host = parts[0]
    if "." in host or ":" in host or host == "localhost":
        return [host.lower(), *(c for c in map(_path_component, parts[1:]) if c)]
    return [c for c in map(_path_component, parts) if c]


def _tag(text: str) -> str:
    return _TAG_BAD.sub("-", text).lstrip(".-")[:TAG_MAX]


def image_ref(
    name: str,
    *,
    variant: str | None = None,
    tag: str | None = None,
    registry: str | None = None,
) -> str:
    """`REGISTRY/NAME-VARIANT:TAG`, normalised; an empty name or tag is a ConfigError."""
    components = [c for c in map(_path_component, name.split("/")) if c]
    if not components:
        msg = f"image name {name!r} has no letters or digits left after normalising."
        raise ConfigError(msg, key="tool.shipyard.docker.image")
    if variant:
        components[-1] = _path_component(f"{components[-1]}-{variant}")
    repository = "/".join([*_registry(registry or ""), *components])
    if len(repository) > NAME_MAX:
        msg = f"image name {repository!r} is {len(repository)} characters; at most {NAME_MAX}."
        raise ConfigError(msg, key="tool.shipyard.docker.image")
    if tag is None:
        return repository
    clean = _tag(tag)
    if not clean:
        msg = f"tag {tag!r} has no usable characters (allowed: letters, digits, '_', '.', '-')."
        raise ConfigError(msg, key="tool.shipyard.docker.variants.tags")
    return f"{repository}:{clean}"


def _parse(version: str | None) -> Version | None:
    if not version:
        return None
    try:
        return Version(version)
    except InvalidVersion:
        return None


def floating_tags(version: str | None) -> tuple[str, ...]:
    """MAJOR.MINOR, MAJOR and latest for a final release; nothing for anything else.

    A pre-, dev- or local version never moves them, and 0.x gets no `0` tag.
    """
    parsed = _parse(version)
    if parsed is None or parsed.is_prerelease or parsed.is_devrelease or parsed.local:
        return ()
    major, minor = parsed.major, parsed.minor
    return (f"{major}.{minor}", *((f"{major}",) if major > 0 else ()), "latest")


def _values(git: GitRef, version: str | None) -> dict[str, str]:
    parsed = _parse(version)
    branch = f"pr-{git.pr}" if git.pr is not None else (git.branch or "")
    return {
        "sha": f"sha-{git.sha[:12]}" if git.sha else "",
        "branch": "" if branch == "HEAD" else branch,
        "version": str(parsed) if parsed is not None else (version or ""),
    }


def expand_tags(templates: Sequence[str], *, git: GitRef, version: str | None) -> tuple[str, ...]:
    """The tags of one image: templates filled in, normalised, without repeats, in order.

    A template whose placeholder has no value here (no branch on a detached
    HEAD, no version) is left out.
    """
    values = _values(git, version)
    tags: list[str] = []
    for template in templates:
        names = _PLACEHOLDER.findall(template)
        unknown = [n for n in names if n not in _PLACEHOLDERS]
        if unknown:
            known = ", ".join(f"{{{n}}}" for n in _PLACEHOLDERS)
            msg = f"unknown placeholder {{{unknown[0]}}} in {template!r}; known: {known}."
            raise ConfigError(msg, key="tool.shipyard.docker.variants.tags")
        if "floating" in names:
            if template != "{floating}":
                msg = f"{{floating}} stands alone (it gives several tags), found {template!r}."
                raise ConfigError(msg, key="tool.shipyard.docker.variants.tags")
            tags += floating_tags(version)
            continue
        if any(not values[n] for n in names):
            continue
        tags.append(_PLACEHOLDER.sub(lambda m: values[m.group(1)], template))
    normalised = (_tag(t) for t in tags)
    return tuple(dict.fromkeys(t for t in normalised if t))

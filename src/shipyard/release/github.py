"""GitHub releases over the REST API (httpx): find or create, attach files, publish.

The release is created as a draft, its files are attached, and only then is it
published, so nobody sees a release without its files. Every step looks first:
a rerun finds the draft (or the published release) by its tag, skips files
already attached whole, replaces a broken one, and publishes once. The token
comes from `GITHUB_TOKEN` or `GH_TOKEN`, the API from `GITHUB_API_URL`
(GitHub Enterprise); the token never appears in a message.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import TYPE_CHECKING, Any

import httpx

from shipyard.errors import ExitCode, ShipyardError, Unreachable
from shipyard.release.secrets import redact

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

__all__ = [
    "API_VERSION",
    "DEFAULT_API_URL",
    "GitHub",
    "GitHubError",
    "PublishedRelease",
    "complete_release",
    "content_type",
    "publish_release",
    "repository_from_url",
    "valid_repository",
    "web_url",
]

DEFAULT_API_URL = "https://api.github.com"
API_VERSION = "2022-11-28"
_PAGE = 100
_REMOTE = re.compile(
    r"^(?:(?P<scheme>https?|ssh|git)://(?:[^@/]+@)?(?P<host>[^/:]+)(?::\d+)?/"
    r"|(?:[^@/]+@)?(?P<scp_host>[^/:]+):)"
    r"(?P<path>[^/]+/[^/]+?)(?:\.git)?/?$"
)


#: owner/name as GitHub allows them: an owner of up to 39 letters, digits and hyphens (not
#: first), a name of letters, digits, '.', '_' and '-' (not '.' or '..').
_OWNER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/(?P<name>[A-Za-z0-9._-]{1,100})$")


def valid_repository(text: str) -> bool:
    """True when `text` is a repository name GitHub could have (`owner/name`)."""
    match = _OWNER_NAME.match(text)
    return match is not None and match["name"] not in {".", ".."}


_CONTENT_TYPES = {
    ".whl": "application/zip",
    ".zip": "application/zip",
    ".gz": "application/gzip",
    ".txt": "text/plain",
    ".json": "application/json",
}


def content_type(name: str) -> str:
    """The media type an asset is uploaded (and later served) with."""
    if name == "SHA256SUMS":
        return "text/plain"
    suffix = name[name.rfind(".") :] if "." in name else ""
    return _CONTENT_TYPES.get(suffix, "application/octet-stream")


class GitHubError(ShipyardError):
    """GitHub refused a request; the message has its status and its words."""

    code = ExitCode.GATE_FAILED


def _parse_remote(url: str) -> tuple[str, str] | None:
    match = _REMOTE.match(url.strip())
    if match is None:
        return None
    return match["host"] or match["scp_host"], match["path"]


def repository_from_url(url: str) -> str | None:
    """`owner/name` from a remote URL (https, ssh or scp-like), None for a local path."""
    parsed = _parse_remote(url)
    return parsed[1] if parsed else None


def web_url(url: str) -> str | None:
    """The project's web address from its remote URL, for changelog links."""
    parsed = _parse_remote(url)
    return f"https://{parsed[0]}/{parsed[1]}" if parsed else None


@dataclasses.dataclass(frozen=True, kw_only=True)
class PublishedRelease:
    url: str
    created: bool
    uploaded: tuple[str, ...]
    skipped: tuple[str, ...]


class GitHub:
    """A small client for the release endpoints of one repository."""

    def __init__(
        self,
        repository: str,
        *,
        token: str,
        api_url: str | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.repository = repository
        self._token = token
        base = (api_url or os.environ.get("GITHUB_API_URL") or DEFAULT_API_URL).rstrip("/")
        self._client = httpx.Client(
            base_url=base,
            transport=transport,
            timeout=httpx.Timeout(60, read=300),
            headers={
                "Authorization": f"Bearer {token}",
                "Accept": "application/vnd.github+json",
                "X-GitHub-Api-Version": API_VERSION,
                "User-Agent": "shipyard-release",
            },
        )

    def __repr__(self) -> str:
        return f"GitHub({self.repository!r}, api={str(self._client.base_url)!r})"

    def close(self) -> None:
        self._client.close()

    def _request(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._client.request(method, url, **kwargs)
        except httpx.HTTPError as exc:
            msg = f"GitHub API unreachable ({method} {url}): {exc}"
            raise Unreachable(redact(msg, self._token)) from None
        if response.is_error:
            try:
                said = response.json().get("message", "")
            except ValueError:
                said = response.text[:200]
            msg = f"GitHub answered {response.status_code} to {method} {url}: {said}"
            raise GitHubError(redact(msg, self._token))
        return response

    @property
    def _repo(self) -> str:
        return f"/repos/{self.repository}"

    def find_release(self, tag: str) -> dict[str, Any] | None:
        """The release (draft or published) of `tag`, looked up in the release list."""
        page = 1
        while True:
            params = {"per_page": _PAGE, "page": page}
            releases = self._request("GET", f"{self._repo}/releases", params=params).json()
            for release in releases:
                if release.get("tag_name") == tag:
                    return dict(release)
            if len(releases) < _PAGE:
                return None
            page += 1

    def create_release(
        self, *, tag: str, name: str, body: str, prerelease: bool, draft: bool = True
    ) -> dict[str, Any]:
        payload = {
            "tag_name": tag,
            "name": name,
            "body": body,
            "draft": draft,
            "prerelease": prerelease,
        }
        return dict(self._request("POST", f"{self._repo}/releases", json=payload).json())

    def update_release(self, release_id: int, **fields: Any) -> dict[str, Any]:
        url = f"{self._repo}/releases/{release_id}"
        return dict(self._request("PATCH", url, json=fields).json())

    def assets(self, release_id: int) -> list[dict[str, Any]]:
        url = f"{self._repo}/releases/{release_id}/assets"
        return list(self._request("GET", url, params={"per_page": _PAGE}).json())

    def delete_asset(self, asset_id: int) -> None:
        self._request("DELETE", f"{self._repo}/releases/assets/{asset_id}")

    def upload_asset(self, release: dict[str, Any], path: Path) -> dict[str, Any]:
        url = str(release["upload_url"]).split("{", 1)[0]
        kind = content_type(path.name)
        response = self._request(
            "POST",
            url,
            params={"name": path.name},
            content=path.read_bytes(),
            headers={"Content-Type": kind},
        )
        return dict(response.json())


def _whole(asset: dict[str, Any] | None, path: Path) -> bool:
    """An attached asset that is `path`, complete (not a broken upload of an earlier run)."""
    return (
        asset is not None
        and asset.get("state") == "uploaded"
        and asset.get("size") == path.stat().st_size
    )


def _attach(
    github: GitHub,
    release: dict[str, Any],
    files: Sequence[Path],
    before_each: Callable[[str], None] | None,
) -> tuple[list[str], list[str]]:
    existing = {a["name"]: a for a in github.assets(int(release["id"]))}
    uploaded, skipped = [], []
    for path in files:
        asset = existing.get(path.name)
        if _whole(asset, path):
            skipped.append(path.name)
            continue
        if asset is not None:  # a broken or different upload from an earlier run
            github.delete_asset(int(asset["id"]))
        if before_each is not None:
            before_each(path.name)
        github.upload_asset(release, path)
        uploaded.append(path.name)
    return uploaded, skipped


def complete_release(github: GitHub, tag: str, files: Sequence[Path]) -> str | None:
    """The web address of `tag`'s release when it is published with each of `files` whole,
    else None. Reads only: the release step and its dry run both ask it."""
    release = github.find_release(tag)
    if release is None or release.get("draft"):
        return None
    existing = {a["name"]: a for a in github.assets(int(release["id"]))}
    if not all(_whole(existing.get(path.name), path) for path in files):
        return None
    return str(release.get("html_url", ""))


def publish_release(
    github: GitHub,
    *,
    tag: str,
    name: str,
    body: str,
    files: Sequence[Path],
    prerelease: bool,
    before_each: Callable[[str], None] | None = None,
) -> PublishedRelease:
    """Find or create the draft of `tag`, attach `files`, publish; each step only once."""
    release = github.find_release(tag)
    created = release is None
    if release is None:
        release = github.create_release(tag=tag, name=name, body=body, prerelease=prerelease)
    uploaded, skipped = _attach(github, release, files, before_each)
    if release.get("draft"):
        release = github.update_release(int(release["id"]), draft=False)
    return PublishedRelease(
        url=str(release.get("html_url", "")),
        created=created,
        uploaded=tuple(uploaded),
        skipped=tuple(skipped),
    )

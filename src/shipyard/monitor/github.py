"""The few GitHub REST calls the monitor makes, through httpx.

The token comes from the environment and is only ever put in the
Authorization header: errors name the method, the path and the status, never
the token.
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import httpx

from shipyard.config import MonitorConfig

__all__ = ["GitHub", "GitHubError", "connect", "repository_of"]

_API_VERSION = "2022-11-28"
_REMOTE = re.compile(r"github\.com[:/](?P<slug>[\w.-]+/[\w.-]+?)(?:\.git)?/?$")


class GitHubError(Exception):
    """A GitHub API call failed; the message is safe to show."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class GitHub:
    """One repository on one GitHub API root."""

    def __init__(self, *, api_url: str, token: str, repository: str, client: httpx.Client) -> None:
        self.api_url = api_url.rstrip("/")
        self.repository = repository
        self._client = client
        self._headers = {
            "Authorization": f"Bearer {token}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": _API_VERSION,
        }

    def request(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        params: Mapping[str, str | int] | None = None,
    ) -> Any:
        """Call `path` (relative to the repository when it does not start with /)."""
        if not path.startswith("/"):
            path = f"/repos/{self.repository}/{path}"
        try:
            response = self._client.request(
                method, self.api_url + path, headers=self._headers, json=json, params=params
            )
        except httpx.TransportError as exc:
            msg = f"{method} {path}: GitHub cannot be reached ({type(exc).__name__})"
            raise GitHubError(msg) from None
        if response.status_code >= httpx.codes.BAD_REQUEST:
            msg = f"{method} {path}: GitHub answered HTTP {response.status_code}"
            raise GitHubError(msg, status=response.status_code)
        if response.status_code == httpx.codes.NO_CONTENT or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            msg = f"{method} {path}: GitHub answered something that is not JSON"
            raise GitHubError(msg) from None

    def owner(self) -> str:
        return self.repository.split("/", 1)[0]


def repository_of(root: Path, *, remote: str, env: Mapping[str, str]) -> str | None:
    """'owner/name' from $GITHUB_REPOSITORY, else from the remote's github.com URL."""
    if env.get("GITHUB_REPOSITORY"):
        return env["GITHUB_REPOSITORY"]
    try:
        url = subprocess.run(
            ["git", "remote", "get-url", remote],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    found = _REMOTE.search(url)
    return found["slug"] if found else None


def connect(
    root: Path, settings: MonitorConfig, *, client: httpx.Client, env: Mapping[str, str] | None
) -> tuple[GitHub | None, str]:
    """A client when a token and a repository are known, else None and the reason."""
    env = os.environ if env is None else env
    token = env.get(settings.token_env, "")
    if not token:
        return None, f"no GitHub token (${settings.token_env} is not set)"
    repository = settings.repository or repository_of(root, remote=settings.remote, env=env)
    if not repository:
        reason = (
            "the GitHub repository is unknown: set [tool.shipyard.monitor] repository, "
            f"$GITHUB_REPOSITORY, or a github.com URL for remote '{settings.remote}'"
        )
        return None, reason
    api_url = env.get("GITHUB_API_URL") or settings.github_api_url
    return GitHub(api_url=api_url, token=token, repository=repository, client=client), ""

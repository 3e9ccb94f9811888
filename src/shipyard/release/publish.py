"""Upload the distributions to the package index with twine, each file at most once.

Before uploading a file, the index's simple page (PEP 503) is read: a file
already there with the same SHA256 is skipped, one there with another hash
stops the release (an index never takes a file name twice). Credentials come
from twine's own environment (`TWINE_USERNAME`, `TWINE_PASSWORD`, or trusted
publishing on GitHub Actions) and are never shown.
"""

from __future__ import annotations

import dataclasses
import enum
import html.parser
import subprocess
import sys
import urllib.parse
from typing import TYPE_CHECKING

import httpx
from packaging.utils import canonicalize_name

from shipyard.errors import GateFailed, Unreachable
from shipyard.release.build import require, sha256
from shipyard.release.secrets import redact

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

__all__ = ["Upload", "UploadOutcome", "index_files", "index_url_for", "upload"]

_TIMEOUT = 600
_KNOWN_INDEXES = {
    "https://upload.pypi.org/legacy/": "https://pypi.org/simple/",
    "https://test.pypi.org/legacy/": "https://test.pypi.org/simple/",
}


class UploadOutcome(enum.StrEnum):
    UPLOADED = "uploaded"
    ALREADY_THERE = "already there"


@dataclasses.dataclass(frozen=True, kw_only=True)
class Upload:
    file: Path
    outcome: UploadOutcome


def index_url_for(repository_url: str, index_url: str | None = None) -> str:
    """The simple index that shows what `repository_url` holds."""
    if index_url:
        return index_url.rstrip("/") + "/"
    known = _KNOWN_INDEXES.get(repository_url.rstrip("/") + "/")
    return known or repository_url.rstrip("/") + "/simple/"


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hashes: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href") if tag == "a" else None
        if not href:
            return
        url = urllib.parse.urlsplit(href)
        name = urllib.parse.unquote(url.path.rsplit("/", 1)[-1])
        fragment = dict(urllib.parse.parse_qsl(url.fragment))
        self.hashes[name] = fragment.get("sha256", "")


def index_files(index_url: str, project: str, *, client: httpx.Client) -> dict[str, str]:
    """File name -> SHA256 ('' when the index gives none) of `project` on the index."""
    url = urllib.parse.urljoin(index_url, f"{canonicalize_name(project)}/")
    try:
        response = client.get(url, headers={"Accept": "text/html"}, follow_redirects=True)
    except httpx.HTTPError as exc:
        msg = f"cannot read the package index at {url}: {exc}"
        raise Unreachable(redact(msg)) from None
    if response.status_code == httpx.codes.NOT_FOUND:
        return {}
    if response.is_error:
        msg = f"the package index answered {response.status_code} for {url}."
        raise Unreachable(msg)
    links = _Links()
    links.feed(response.text)
    return links.hashes


def _twine_upload(file: Path, repository_url: str) -> None:
    argv = [sys.executable, "-m", "twine", "--no-color", "upload", "--non-interactive"]
    argv += ["--disable-progress-bar", "--repository-url", repository_url, str(file)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-10:])
        msg = f"twine could not upload {file.name} to {repository_url}:\n{redact(tail)}"
        raise GateFailed(msg)


def upload(
    files: Sequence[Path],
    *,
    project: str,
    repository_url: str,
    index_url: str | None = None,
    before_each: Callable[[str], None] | None = None,
) -> list[Upload]:
    """Upload each of `files` that the index does not hold yet; see the module docstring."""
    require("twine", purpose="uploading to the package index")
    simple = index_url_for(repository_url, index_url)
    with httpx.Client(timeout=60) as client:
        present = index_files(simple, project, client=client)
    done = []
    for file in files:
        digest = sha256(file)
        if file.name in present:
            if present[file.name] and present[file.name] != digest:
                msg = (
                    f"{file.name} is already on {simple} with another SHA256 "
                    f"({present[file.name][:12]}..., here {digest[:12]}...); an index never "
                    "replaces a file: release a new version instead."
                )
                raise GateFailed(msg)
            done.append(Upload(file=file, outcome=UploadOutcome.ALREADY_THERE))
            continue
        if before_each is not None:
            before_each(file.name)
        _twine_upload(file, repository_url)
        done.append(Upload(file=file, outcome=UploadOutcome.UPLOADED))
    return done

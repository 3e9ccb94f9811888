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
import os
import re
import subprocess
import sys
import urllib.parse
from typing import TYPE_CHECKING

import httpx
from packaging.utils import canonicalize_name

from shipyard.errors import GateFailed, ShipyardError, ToolMissing, Unreachable
from shipyard.release.build import require, sha256
from shipyard.release.secrets import redact

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from pathlib import Path

__all__ = [
    "Upload",
    "UploadOutcome",
    "credentials_problem",
    "index_files",
    "index_url_for",
    "missing_files",
    "require_credentials",
    "twine_failure",
    "upload",
]

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


def _is_pypi(repository_url: str) -> bool:
    return repository_url.rstrip("/") + "/" in _KNOWN_INDEXES


def _in_keyring(repository_url: str) -> bool:
    """True when keyring (twine's other source) holds a password for the index."""
    try:
        import keyring  # noqa: PLC0415 - twine's dependency, optional on some platforms

        username = os.environ.get("TWINE_USERNAME") or (
            "__token__" if _is_pypi(repository_url) else None
        )
        found = keyring.get_credential(repository_url, username)
    except Exception:  # noqa: BLE001 - no keyring, no backend, a locked one: none there
        return False
    return found is not None and bool(found.password)


def credentials_problem(repository_url: str) -> str | None:
    """Why twine would have no credentials for `repository_url`, or None when it has some.

    Twine reads `TWINE_PASSWORD` (its user defaults to `__token__` on PyPI), a password
    in the URL, keyring, and, for PyPI on CI with an OIDC token (GitHub Actions with
    `id-token: write`), trusted publishing. Without any of them it tries trusted
    publishing anyway and fails with a traceback that hides the cause.
    """
    if os.environ.get("TWINE_PASSWORD") or urllib.parse.urlsplit(repository_url).password:
        return None
    oidc = os.environ.get("ACTIONS_ID_TOKEN_REQUEST_URL") and os.environ.get(
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
    )
    if (oidc and _is_pypi(repository_url)) or _in_keyring(repository_url):
        return None
    return (
        f"no credentials to upload to {repository_url}: set TWINE_USERNAME and "
        "TWINE_PASSWORD (for PyPI: __token__ and an API token) or keep the password in "
        "keyring, or release from GitHub Actions with trusted publishing (id-token: write); "
        "publish = false leaves the upload out."
    )


def require_credentials(repository_url: str) -> None:
    problem = credentials_problem(repository_url)
    if problem is not None:
        raise ToolMissing(problem)


#: Words of a twine failure that mean the index could not be reached (or was down).
_UNREACHABLE_HINTS = (
    "ConnectionError",
    "NameResolutionError",
    "NewConnectionError",
    "MaxRetryError",
    "Timeout",
    "timed out",
    "Failed to resolve",
    "Failed to establish a new connection",
    "Connection refused",
)
_SERVER_ERROR = re.compile(r"HTTPError: 5\d\d ")
#: The cause inside requests' long ConnectionError text.
_CAUSE = re.compile(
    r"Failed to resolve '[^']+' \([^)]*\)|\[Errno -?\d+\] [^)\"'\\]+|(?:Read|Connect) timed out"
)
_NOT_WORDS = ("Traceback", "During handling", "The above exception", "WARNING", "Uploading", "INFO")


def _last_words(output: str) -> str:
    """Twine's last meaningful line: its `ERROR  Kind: message` (rewrapped on one line),
    else the last line of a traceback (`module.Error: message`)."""
    lines = output.splitlines()
    errors = [i for i, line in enumerate(lines) if line.startswith("ERROR")]
    if errors:
        block = [lines[errors[-1]].removeprefix("ERROR")]
        for line in lines[errors[-1] + 1 :]:
            if not line[:1].isspace() or not line.strip():
                break
            block.append(line)
        return " ".join(" ".join(block).split())
    said = [
        line.strip()
        for line in lines
        if line.strip() and not line[:1].isspace() and not line.startswith(_NOT_WORDS)
    ]
    return said[-1] if said else "no output"


def twine_failure(output: str, *, file: str, repository_url: str) -> ShipyardError:
    """The error for a failed `twine upload`, in one line: Unreachable when the index
    could not be reached, else GateFailed with twine's last words."""
    said = redact(_last_words(output))
    if _SERVER_ERROR.search(said) or any(hint in said for hint in _UNREACHABLE_HINTS):
        cause = _CAUSE.search(said)
        reason = cause[0] if cause else said
        return Unreachable(f"cannot reach {repository_url} to upload {file}: {reason}")
    return GateFailed(f"twine could not upload {file} to {repository_url}: {said}")


def _twine_upload(file: Path, repository_url: str) -> None:
    argv = [sys.executable, "-m", "twine", "--no-color", "upload", "--non-interactive"]
    argv += ["--disable-progress-bar", "--repository-url", repository_url, str(file)]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=_TIMEOUT, check=False)
    if done.returncode != 0:
        output = done.stdout + "\n" + done.stderr
        raise twine_failure(output, file=file.name, repository_url=repository_url)


def missing_files(
    files: Sequence[Path], *, project: str, repository_url: str, index_url: str | None = None
) -> list[Path]:
    """Those of `files` the index does not hold. Reads only; a file there with another
    SHA256 stops the release (GateFailed), an index that cannot be read is Unreachable."""
    simple = index_url_for(repository_url, index_url)
    with httpx.Client(timeout=60) as client:
        present = index_files(simple, project, client=client)
    missing = []
    for file in files:
        if file.name not in present:
            missing.append(file)
            continue
        digest = sha256(file)
        if present[file.name] and present[file.name] != digest:
            msg = (
                f"{file.name} is already on {simple} with another SHA256 "
                f"({present[file.name][:12]}..., here {digest[:12]}...); an index never "
                "replaces a file: release a new version instead."
            )
            raise GateFailed(msg)
    return missing


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
    missing = missing_files(
        files, project=project, repository_url=repository_url, index_url=index_url
    )
    if missing:
        require_credentials(repository_url)
    done = []
    for file in files:
        if file not in missing:
            done.append(Upload(file=file, outcome=UploadOutcome.ALREADY_THERE))
            continue
        if before_each is not None:
            before_each(file.name)
        _twine_upload(file, repository_url)
        done.append(Upload(file=file, outcome=UploadOutcome.UPLOADED))
    return done

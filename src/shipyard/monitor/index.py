"""Reading a package index: every release of a project, with its upload time and yank state.

Three kinds of answers are understood: the PEP 691 JSON simple API (preferred
through the Accept header, with PEP 700's `upload-time`), PEP 503 HTML pages
(PEP 592 `data-yanked`; no upload times) and the PyPI JSON API
(`<base>/<project>/json`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html.parser
import json
from collections.abc import Iterable, Iterator
from typing import Any, Literal
from urllib.parse import unquote, urlsplit

import httpx
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

from shipyard.errors import Unreachable

__all__ = ["LookupFailed", "PackageIndex", "Release", "assessment_json", "parse_time"]

SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
_ACCEPT = f"{SIMPLE_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"


class LookupFailed(Exception):
    """One project could not be read from the index; the others still can."""


@dataclasses.dataclass(frozen=True, kw_only=True)
class Release:
    version: Version
    #: When the first file of this release was uploaded; None when the index does not say.
    uploaded: dt.datetime | None
    #: True only when every file of the release is yanked.
    yanked: bool

    def age_days(self, now: dt.datetime) -> float | None:
        if self.uploaded is None:
            return None
        return (now - self.uploaded).total_seconds() / 86400


@dataclasses.dataclass(frozen=True, kw_only=True)
class _File:
    version: Version
    uploaded: dt.datetime | None
    yanked: bool


def parse_time(text: str) -> dt.datetime:
    """An ISO 8601 time from an index, always timezone-aware (UTC when none is given)."""
    value = dt.datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)


def assessment_json(assessment: Any) -> dict[str, Any]:
    """The index's side of a freshness assessment (a Python `Freshness` or a `CrateFreshness`)."""

    def text(v: object | None) -> str | None:
        return None if v is None else str(v)

    def days(v: float | None) -> float | None:
        return None if v is None else round(v, 1)

    return {
        "current": text(assessment.current),
        "current_age_days": days(assessment.current_age_days),
        "newest": text(assessment.newest),
        "newest_age_days": days(assessment.newest_age_days),
        "proposal": text(assessment.proposal),
        "proposal_age_days": days(assessment.proposal_age_days),
        "behind": assessment.behind,
        "in_cooldown": [str(v) for v in assessment.in_cooldown],
        "new_requirement": assessment.new_requirement,
    }


def _version_of(filename: str) -> Version | None:
    try:
        if filename.endswith(".whl"):
            return parse_wheel_filename(filename)[1]
        if filename.endswith((".tar.gz", ".zip")):
            return parse_sdist_filename(filename)[1]
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


def _releases(files: Iterable[_File]) -> list[Release]:
    by_version: dict[Version, list[_File]] = {}
    for file in files:
        by_version.setdefault(file.version, []).append(file)
    releases = []
    for version, group in by_version.items():
        times = [f.uploaded for f in group if f.uploaded is not None]
        releases.append(
            Release(
                version=version,
                uploaded=min(times) if times else None,
                yanked=all(f.yanked for f in group),
            )
        )
    return sorted(releases, key=lambda r: r.version)


def _simple_json_files(data: Any) -> Iterator[_File]:
    if not isinstance(data, dict) or not isinstance(data.get("files"), list):
        msg = "the JSON has no 'files' list; expected a PEP 691 project page"
        raise LookupFailed(msg)
    api = str((data.get("meta") or {}).get("api-version", "1.0"))
    if not api.startswith("1."):
        msg = f"the index speaks simple API version {api}; shipyard reads 1.x"
        raise LookupFailed(msg)
    for entry in data["files"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            continue
        version = _version_of(entry["filename"])
        if version is None:
            continue
        when = entry.get("upload-time")
        yield _File(
            version=version,
            uploaded=parse_time(when) if isinstance(when, str) else None,
            # PEP 691: `yanked` is false, true, or a string giving the reason.
            yanked=entry.get("yanked", False) not in (False, None),
        )


class _Anchors(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.files: list[_File] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag != "a":
            return
        found = dict(attrs)
        href = found.get("href") or ""
        filename = unquote(urlsplit(href).path.rsplit("/", 1)[-1])
        version = _version_of(filename)
        if version is not None:
            yanked = "data-yanked" in found
            self.files.append(_File(version=version, uploaded=None, yanked=yanked))


def _pypi_json_files(data: Any) -> Iterator[_File]:
    releases = data.get("releases") if isinstance(data, dict) else None
    if not isinstance(releases, dict):
        msg = "the JSON has no 'releases' table; expected a PyPI JSON API answer"
        raise LookupFailed(msg)
    for key, files in releases.items():
        try:
            version = Version(key)
        except InvalidVersion:
            continue
        for entry in files if isinstance(files, list) else ():
            if not isinstance(entry, dict):
                continue
            when = entry.get("upload_time_iso_8601") or entry.get("upload_time")
            yield _File(
                version=version,
                uploaded=parse_time(when) if isinstance(when, str) else None,
                yanked=bool(entry.get("yanked", False)),
            )


class PackageIndex:
    """The releases of projects on one index, looked up once per project."""

    def __init__(
        self,
        url: str,
        *,
        api: Literal["simple", "json"] = "simple",
        client: httpx.Client,
    ) -> None:
        self.url = url.rstrip("/")
        self.api = api
        self._client = client
        self._cache: dict[str, list[Release] | LookupFailed] = {}

    def project_url(self, name: str) -> str:
        project = canonicalize_name(name)
        if self.api == "json":
            return f"{self.url}/{project}/json"
        return f"{self.url}/{project}/"

    def releases(self, name: str) -> list[Release]:
        """Every release of `name`, oldest first; raises LookupFailed or Unreachable."""
        key = canonicalize_name(name)
        if key not in self._cache:
            try:
                self._cache[key] = self._fetch(key)
            except LookupFailed as exc:
                self._cache[key] = exc
        found = self._cache[key]
        if isinstance(found, LookupFailed):
            raise found
        return found

    def probe(self) -> None:
        """Raise Unreachable when the index's host cannot be reached at all."""
        try:
            self._client.head(self.url, follow_redirects=True)
        except httpx.TransportError as exc:
            raise _unreachable(self.url, exc) from None

    def _fetch(self, name: str) -> list[Release]:
        url = self.project_url(name)
        try:
            response = self._client.get(url, headers={"Accept": _ACCEPT}, follow_redirects=True)
        except httpx.TransportError as exc:
            msg = f"{url}: {type(exc).__name__} ({exc})"
            raise LookupFailed(msg) from None
        if response.status_code == httpx.codes.NOT_FOUND:
            msg = f"not found on the index ({url} answered 404)"
            raise LookupFailed(msg)
        if response.status_code != httpx.codes.OK:
            msg = f"{url} answered HTTP {response.status_code}"
            raise LookupFailed(msg)
        return _releases(self._parse(response, url))

    def _parse(self, response: httpx.Response, url: str) -> list[_File]:
        kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
        try:
            if self.api == "json":
                return list(_pypi_json_files(response.json()))
            if kind in (SIMPLE_JSON, "application/json"):
                return list(_simple_json_files(response.json()))
        except (json.JSONDecodeError, UnicodeDecodeError, ValueError) as exc:
            msg = f"{url} answered something that is not valid JSON or has bad fields ({exc})"
            raise LookupFailed(msg) from None
        if kind in ("text/html", "application/vnd.pypi.simple.v1+html"):
            parser = _Anchors()
            parser.feed(response.text)
            return parser.files
        msg = f"{url} answered with content type {kind or 'none'!r}; expected a simple index page"
        raise LookupFailed(msg)


def _unreachable(url: str, exc: Exception) -> Unreachable:
    host = urlsplit(url).netloc
    return Unreachable(f"the package index at {host} cannot be reached ({type(exc).__name__}).")

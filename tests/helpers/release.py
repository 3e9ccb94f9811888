"""Real parts for the release tests: git projects with a bare remote, a pypiserver,
and a stand-in for the GitHub REST API that checks every request it gets."""

from __future__ import annotations

import contextlib
import dataclasses
import http.server
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Self

import httpx

# -- git projects ------------------------------------------------------------------------

PYPROJECT = """\
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "{name}"
version = "{version}"  # bumped by shipyard
description = "A sample to release."
requires-python = ">=3.11"

[tool.shipyard.release]
build-isolation = false
{release}
"""


def git(root: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout.strip()


@dataclasses.dataclass
class Project:
    root: Path
    remote: Path

    def commit(self, message: str, *, path: str = "src/demo/changes.txt") -> str:
        file = self.root / path
        file.parent.mkdir(parents=True, exist_ok=True)
        with file.open("a", encoding="utf-8") as fh:
            fh.write(message.splitlines()[0] + "\n")
        git(self.root, "add", "-A")
        git(self.root, "commit", "-q", "-m", message)
        return git(self.root, "rev-parse", "HEAD")

    def tag(self, name: str, *, push: bool = True) -> None:
        git(self.root, "tag", "-a", name, "-m", name)
        if push:
            git(self.root, "push", "-q", "origin", "HEAD:refs/heads/main", f"refs/tags/{name}")

    def tags(self, *, remote: bool = False) -> list[str]:
        where = self.remote if remote else self.root
        return sorted(git(where, "tag", "--list").split())

    def remote_head(self) -> str:
        return git(self.remote, "rev-parse", "refs/heads/main")


def make_project(
    base: Path,
    *,
    name: str = "demo",
    version: str = "0.1.0",
    release: str = "",
    files: dict[str, str] | None = None,
) -> Project:
    """A committed project on `main`, pushed to a bare `origin` next to it."""
    root, remote = base / name, base / f"{name}-origin.git"
    (root / "src" / name).mkdir(parents=True)
    (root / "pyproject.toml").write_text(
        PYPROJECT.format(name=name, version=version, release=release)
    )
    (root / "src" / name / "__init__.py").write_text('"""A sample."""\n')
    (root / ".gitignore").write_text("dist/\n.shipyard/\n")
    for rel, text in (files or {}).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(remote)], check=True)
    for argv in (
        ["init", "-q", "-b", "main"],
        ["config", "user.email", "test@example.invalid"],
        ["config", "user.name", "Test"],
        ["config", "commit.gpgsign", "false"],
        ["config", "tag.gpgsign", "false"],
        ["remote", "add", "origin", str(remote)],
        ["add", "-A"],
        ["commit", "-q", "-m", "chore: start"],
        ["push", "-q", "origin", "main"],
    ):
        git(root, *argv)
    return Project(root=root, remote=remote)


# -- a package index ---------------------------------------------------------------------


# What a maintainer's shell may hold that must not reach a release run under test.
RELEASE_SECRETS = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "TWINE_USERNAME",
    "TWINE_PASSWORD",
    "GITHUB_REPOSITORY",
)


def invoke_release(
    project: Project, *args: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`invoke release ARGS` in `project`, without the caller's tokens or keyring."""
    clean = {k: v for k, v in os.environ.items() if k not in RELEASE_SECRETS}
    clean["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    return subprocess.run(
        [sys.executable, "-m", "invoke", "release", *args],
        cwd=project.root,
        env={**clean, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass
class PackageIndex:
    url: str
    packages: Path

    def files(self) -> list[str]:
        return sorted(p.name for p in self.packages.iterdir())


@contextlib.contextmanager
def pypiserver() -> Iterator[PackageIndex]:
    """A real pypiserver on 127.0.0.1 taking uploads without authentication."""
    packages = Path(tempfile.mkdtemp(prefix="pypiserver-"))
    port = free_port()
    argv = [sys.executable, "-m", "pypiserver", "run", "-i", "127.0.0.1", "-p", str(port)]
    argv += ["-a", ".", "-P", ".", "--disable-fallback", str(packages)]
    with tempfile.TemporaryFile() as log:
        proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}/"
        try:
            _wait_until_up(url + "simple/", proc, log)
            yield PackageIndex(url=url, packages=packages)
        finally:
            proc.terminate()
            proc.wait(timeout=10)


def _wait_until_up(url: str, proc: subprocess.Popen[bytes], log: Any) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            log.seek(0)
            msg = f"pypiserver exited: {log.read().decode()[-2000:]}"
            raise RuntimeError(msg)
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(url, timeout=1).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError("pypiserver did not start within 30 s")


# -- a stand-in for the GitHub REST API --------------------------------------------------

TOKEN = "ghs_test0123456789abcdefSECRET"
API_VERSION = "2022-11-28"
#: The media types GitHub should be told for each kind of asset.
EXPECTED_TYPES = {".whl": "application/zip", ".gz": "application/gzip", "SHA256SUMS": "text/plain"}
_CREATE_KEYS = {"tag_name": str, "name": str, "body": str, "draft": bool, "prerelease": bool}
_UPDATE_KEYS = {**_CREATE_KEYS, "make_latest": str}


@dataclasses.dataclass
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    status: int


class Rejected(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class FakeGitHub:
    """Release endpoints of one repository, kept in memory; every request is checked.

    A request with a wrong method, path, auth header, API headers, JSON body or
    upload content type is answered with an error and listed in `rejected`.
    """

    def __init__(self, repository: str = "octo/demo", token: str = TOKEN) -> None:
        self.repository = repository
        self.token = token
        self.requests: list[Recorded] = []
        self.rejected: list[str] = []
        self.releases: list[dict[str, Any]] = []
        self.assets: list[dict[str, Any]] = []
        self.faults: list[tuple[str, str, int, bool]] = []
        self._ids = iter(range(1, 10_000))
        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def fail_once(self, method: str, path: str, status: int = 502, *, after: bool = False) -> None:
        """Answer the next matching request with `status`; `after`: do the work first."""
        self.faults.append((method, path, status, after))

    def release(self, tag: str) -> dict[str, Any]:
        [found] = [r for r in self.releases if r["tag_name"] == tag]
        return found

    def asset_names(self, release_id: int) -> list[str]:
        return sorted(a["name"] for a in self.assets if a["release_id"] == release_id)

    # -- request handling ----------------------------------------------------------------

    def _handler(self) -> type[http.server.BaseHTTPRequestHandler]:
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def _serve(self) -> None:
                status, body = fake._dispatch(self)
                data = b"" if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = _serve  # noqa: N815

        return Handler

    def _dispatch(self, request: http.server.BaseHTTPRequestHandler) -> tuple[int, Any]:
        url = urllib.parse.urlsplit(request.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(request.headers.get("Content-Length") or 0)
        raw = request.rfile.read(length) if length else b""
        fault = self._fault(request.command, url.path)
        if fault is not None and not fault[1]:
            self.requests.append(Recorded(request.command, url.path, query, fault[0]))
            return fault[0], {"message": "injected fault"}
        try:
            self._check_headers(request)
            status, body = self._route(request, url.path, query, raw)
        except Rejected as exc:
            self.rejected.append(f"{request.command} {url.path}: {exc}")
            status, body = exc.status, {"message": str(exc)}
        if fault is not None:  # the work is done, but the answer is lost
            status, body = fault[0], {"message": "injected fault"}
        self.requests.append(Recorded(request.command, url.path, query, status))
        return status, body

    def _fault(self, method: str, path: str) -> tuple[int, bool] | None:
        for index, (f_method, f_path, status, after) in enumerate(self.faults):
            if f_method == method and re.fullmatch(f_path, path):
                del self.faults[index]
                return status, after
        return None

    def _check_headers(self, request: http.server.BaseHTTPRequestHandler) -> None:
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            raise Rejected(401, "Bad credentials")
        if request.headers.get("Accept") != "application/vnd.github+json":
            raise Rejected(415, "expected Accept: application/vnd.github+json")
        if request.headers.get("X-GitHub-Api-Version") != API_VERSION:
            raise Rejected(400, "expected X-GitHub-Api-Version")

    def _route(
        self,
        request: http.server.BaseHTTPRequestHandler,
        path: str,
        query: dict[str, str],
        raw: bytes,
    ) -> tuple[int, Any]:
        method, repo = request.command, f"/repos/{self.repository}"
        routes: list[tuple[str, str, Callable[..., tuple[int, Any]]]] = [
            ("GET", rf"{repo}/releases", lambda: self._list(query)),
            ("POST", rf"{repo}/releases", lambda: self._create(self._json(raw, _CREATE_KEYS))),
            ("PATCH", rf"{repo}/releases/(\d+)", lambda i: self._update(i, raw)),
            ("GET", rf"{repo}/releases/(\d+)/assets", lambda i: (200, self._assets_of(i))),
            ("DELETE", rf"{repo}/releases/assets/(\d+)", self._delete_asset),
            (
                "POST",
                rf"/uploads{repo}/releases/(\d+)/assets",
                lambda i: self._upload(i, request, query, raw),
            ),
        ]
        for r_method, pattern, action in routes:
            match = re.fullmatch(pattern, path)
            if match and r_method == method:
                return action(*(int(g) for g in match.groups()))
        raise Rejected(404, f"no route {method} {path}")

    @staticmethod
    def _json(raw: bytes, allowed: dict[str, type]) -> dict[str, Any]:
        try:
            data = json.loads(raw)
        except ValueError:
            raise Rejected(400, "Problems parsing JSON") from None
        if not isinstance(data, dict):
            raise Rejected(400, "expected a JSON object")
        for key, value in data.items():
            if key not in allowed:
                raise Rejected(422, f"unexpected field {key}")
            if not isinstance(value, allowed[key]):
                raise Rejected(422, f"{key} must be {allowed[key].__name__}")
        return data

    def _list(self, query: dict[str, str]) -> tuple[int, Any]:
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        newest_first = list(reversed(self.releases))
        return 200, newest_first[(page - 1) * per_page : page * per_page]

    def _create(self, data: dict[str, Any]) -> tuple[int, Any]:
        if "tag_name" not in data:
            raise Rejected(422, "tag_name is required")
        if any(r["tag_name"] == data["tag_name"] for r in self.releases):
            raise Rejected(422, "Validation Failed: already_exists tag_name")
        number = next(self._ids)
        release = {
            "id": number,
            "tag_name": data["tag_name"],
            "name": data.get("name", ""),
            "body": data.get("body", ""),
            "draft": data.get("draft", False),
            "prerelease": data.get("prerelease", False),
            "html_url": f"https://github.invalid/{self.repository}/releases/{number}",
            "upload_url": f"{self.url}/uploads/repos/{self.repository}/releases/{number}"
            "/assets{?name,label}",
        }
        self.releases.append(release)
        return 201, release

    def _find(self, release_id: int) -> dict[str, Any]:
        for release in self.releases:
            if release["id"] == release_id:
                return release
        raise Rejected(404, "Not Found")

    def _update(self, release_id: int, raw: bytes) -> tuple[int, Any]:
        release = self._find(release_id)
        release.update(self._json(raw, _UPDATE_KEYS))
        return 200, release

    def _assets_of(self, release_id: int) -> list[dict[str, Any]]:
        self._find(release_id)
        return [
            {k: v for k, v in a.items() if k != "content"}
            for a in self.assets
            if a["release_id"] == release_id
        ]

    def _delete_asset(self, asset_id: int) -> tuple[int, Any]:
        before = len(self.assets)
        self.assets = [a for a in self.assets if a["id"] != asset_id]
        if len(self.assets) == before:
            raise Rejected(404, "Not Found")
        return 204, None

    def _upload(
        self,
        release_id: int,
        request: http.server.BaseHTTPRequestHandler,
        query: dict[str, str],
        raw: bytes,
    ) -> tuple[int, Any]:
        self._find(release_id)
        name = query.get("name")
        if not name:
            raise Rejected(422, "name is required")
        kind = request.headers.get("Content-Type")
        suffix = name if name == "SHA256SUMS" else name[name.rfind(".") :]
        expected = EXPECTED_TYPES.get(suffix, "application/octet-stream")
        if kind != expected:
            raise Rejected(422, f"Content-Type {kind!r} for {name}, expected {expected!r}")
        if any(a["release_id"] == release_id and a["name"] == name for a in self.assets):
            raise Rejected(422, "Validation Failed: already_exists name")
        asset = {
            "id": next(self._ids),
            "release_id": release_id,
            "name": name,
            "size": len(raw),
            "state": "uploaded",
            "content_type": kind,
            "content": raw,
        }
        self.assets.append(asset)
        return 201, {k: v for k, v in asset.items() if k != "content"}

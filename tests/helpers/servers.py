# Route handlers share one signature (request, path, body) whether they use each or not.
# ruff: noqa: ARG002, ARG005
"""Local HTTP servers for the monitor tests; each one checks every request it receives.

- `PyPIServer`: the real pypiserver (in a child process, bound to port 0),
  test packages built with hatchling and uploaded over its upload API.
- `SimpleIndex`: pypiserver speaks only PEP 503 HTML and its JSON lacks
  `yanked` and `upload-time`, so this front serves pypiserver's real file
  listing as PEP 691 JSON (and as the PyPI JSON API), adding the yank state
  and upload times the test sets.
- `FakeGitHub`: the GitHub REST endpoints the monitor calls, with state.
- `Webhook`: a Slack-style incoming webhook.
- `OsvApi`: the OSV query endpoint the online audit asks, for one ecosystem.

A request a server does not expect is answered with an error status and
recorded in `errors`; tests assert `errors == []`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import html.parser
import json
import subprocess
import sys
import textwrap
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

import httpx
from packaging.utils import canonicalize_name

Reply = tuple[int, dict[str, str], bytes]


@dataclasses.dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _json(status: int, data: Any, content_type: str = "application/json") -> Reply:
    return status, {"Content-Type": content_type}, json.dumps(data).encode()


class Server:
    """A threaded HTTP server on 127.0.0.1:<free port> that hands requests to `handle`."""

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.errors: list[str] = []
        self._lock = threading.Lock()
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                split = urlsplit(self.path)
                request = Request(
                    method=self.command,
                    path=split.path,
                    query={k: v[-1] for k, v in parse_qs(split.query).items()},
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                with owner._lock:
                    owner.requests.append(request)
                    status, headers, body = owner.handle(request)
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_POST = do_PATCH = do_HEAD = do_PUT = do_DELETE = _serve  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    def reject(self, request: Request, why: str, status: int = 400) -> Reply:
        self.errors.append(f"{request.method} {request.path}: {why}")
        return _json(status, {"message": why})

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


# -- the real package index --------------------------------------------------------------

_LAUNCH = """
import sys, warnings
warnings.simplefilter("ignore")
from wsgiref.simple_server import WSGIRequestHandler, make_server
import pypiserver

class Quiet(WSGIRequestHandler):
    def log_message(self, *args):
        pass

app = pypiserver.app(
    roots=[sys.argv[1]], authenticate=[], password_file=".", disable_fallback=True
)
server = make_server("127.0.0.1", 0, app, handler_class=Quiet)
print(server.server_port, flush=True)
server.serve_forever()
"""


def build_wheel(name: str, version: str, out: Path) -> Path:
    """Build a tiny real wheel of `name` `version` with hatchling."""
    project = out / f"src-{name}-{version}"
    module = name.replace("-", "_")
    (project / module).mkdir(parents=True)
    (project / module / "__init__.py").write_text(f'__version__ = "{version}"\n')
    (project / "pyproject.toml").write_text(
        textwrap.dedent(
            f"""
            [build-system]
            requires = ["hatchling"]
            build-backend = "hatchling.build"
            [project]
            name = "{name}"
            version = "{version}"
            [tool.hatch.build.targets.wheel]
            packages = ["{module}"]
            """
        )
    )
    code = "import sys; from hatchling.build import build_wheel; print(build_wheel(sys.argv[1]))"
    done = subprocess.run(
        [sys.executable, "-c", code, str(out)],
        cwd=project,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return out / done.stdout.strip().splitlines()[-1]


class PyPIServer:
    """pypiserver in a child process, serving (and accepting uploads into) `root`."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCH, str(root)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        assert self._process.stdout is not None
        self.port = int(self._process.stdout.readline())
        self.url = f"http://127.0.0.1:{self.port}"

    def upload(self, wheel: Path) -> None:
        response = httpx.post(
            self.url + "/",
            data={":action": "file_upload", "protocol_version": "1"},
            files={"content": (wheel.name, wheel.read_bytes(), "application/octet-stream")},
            timeout=30,
        )
        assert response.status_code == 200, response.text

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(timeout=30)
        if self._process.stdout is not None:
            self._process.stdout.close()


@contextlib.contextmanager
def pypiserver(root: Path) -> Iterator[PyPIServer]:
    server = PyPIServer(root)
    try:
        yield server
    finally:
        server.close()


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.links.append((href.split("#")[0].rsplit("/", 1)[-1], href))  # (filename, href)


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class SimpleIndex(Server):
    """PEP 691 JSON (and the PyPI JSON API) over pypiserver's real file listing."""

    def __init__(self, upstream: PyPIServer) -> None:
        super().__init__()
        self.upstream = upstream
        #: filename -> upload time; filename -> yank reason (True or a string).
        self.uploaded: dict[str, dt.datetime] = {}
        self.yanked: dict[str, bool | str] = {}
        #: project -> 404, 500 or "garbage", to make one project misbehave.
        self.faults: dict[str, int | str] = {}

    def _files(self, project: str) -> list[dict[str, Any]] | None:
        page = httpx.get(f"{self.upstream.url}/simple/{project}/", timeout=30)
        if page.status_code == 404:
            return None
        parser = _Links()
        parser.feed(page.text)
        files = []
        for filename, link in parser.links:
            href, _, fragment = link.partition("#")
            sha = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else ""
            entry: dict[str, Any] = {
                "filename": filename,
                "url": str(httpx.URL(f"{self.upstream.url}/simple/{project}/").join(href)),
                "hashes": {"sha256": sha} if sha else {},
                # PEP 700 (api-version 1.1): every file has its size.
                "size": (self.upstream.root / filename).stat().st_size,
                "yanked": self.yanked.get(filename, False),
            }
            if filename in self.uploaded:
                entry["upload-time"] = _iso(self.uploaded[filename])
            files.append(entry)
        return files

    def handle(self, request: Request) -> Reply:
        parts = [p for p in request.path.split("/") if p]
        if request.method == "HEAD" and parts in (["simple"], ["pypi"]):
            return 200, {}, b""
        if request.method != "GET":
            return self.reject(request, "only GET is expected", 405)
        if len(parts) == 2 and parts[0] == "simple" and request.path.endswith("/"):
            return self._simple(request, parts[1])
        if len(parts) == 3 and parts[0] == "pypi" and parts[2] == "json":
            return self._pypi_json(request, parts[1])
        return self.reject(request, "unexpected path", 404)

    def _fault(self, project: str) -> Reply | None:
        fault = self.faults.get(project)
        if fault == "garbage":
            return 200, {"Content-Type": "application/vnd.pypi.simple.v1+json"}, b"{not json"
        if isinstance(fault, int):
            return _json(fault, {"message": "injected"})
        return None

    def _simple(self, request: Request, project: str) -> Reply:
        accept = request.headers.get("accept", "")
        if "application/vnd.pypi.simple.v1+json" not in accept:
            return self.reject(request, f"Accept does not ask for PEP 691 JSON: {accept!r}", 406)
        if project != canonicalize_name(project):
            return self.reject(request, "project name is not normalized (PEP 503)")
        fault = self._fault(project)
        if fault:
            return fault
        files = self._files(project)
        if files is None:
            return _json(404, {"message": "not found"})
        versions = sorted({_version(f["filename"]) for f in files})
        body = {
            "meta": {"api-version": "1.1"},
            "name": project,
            "files": files,
            "versions": versions,
        }
        return _json(200, body, "application/vnd.pypi.simple.v1+json")

    def _pypi_json(self, request: Request, project: str) -> Reply:
        fault = self._fault(project)
        if fault:
            return fault
        files = self._files(project)
        if files is None:
            return _json(404, {"message": "not found"})
        releases: dict[str, list[dict[str, Any]]] = {}
        for f in files:
            releases.setdefault(_version(f["filename"]), []).append(
                {
                    "filename": f["filename"],
                    "upload_time_iso_8601": f.get("upload-time"),
                    "yanked": bool(f["yanked"]),
                }
            )
        return _json(200, {"info": {"name": project}, "releases": releases})


def _version(filename: str) -> str:
    return filename.split("-")[1]


# -- GitHub --------------------------------------------------------------------------------


class FakeGitHub(Server):
    """The GitHub REST calls the monitor makes, for one repository, with state."""

    def __init__(self, *, repository: str, token: str, remote: Path | None = None) -> None:
        super().__init__()
        self.repository = repository
        self.token = token
        self.remote = remote
        self.protected = True
        #: kind path ("dependabot/alerts"...) -> open alerts, or an HTTP status to answer.
        self.alerts: dict[str, list[dict[str, Any]] | int] = {
            "dependabot/alerts": [],
            "code-scanning/alerts": [],
            "secret-scanning/alerts": [],
        }
        self.issues: list[dict[str, Any]] = []
        self.comments: dict[int, list[dict[str, Any]]] = {}
        self.pulls: list[dict[str, Any]] = []
        self._next = 1

    def _check_headers(self, request: Request) -> str:
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return "missing or wrong token"
        if request.headers.get("accept") != "application/vnd.github+json":
            return "Accept is not application/vnd.github+json"
        if not request.headers.get("x-github-api-version"):
            return "no X-GitHub-Api-Version"
        return ""

    def handle(self, request: Request) -> Reply:
        problem = self._check_headers(request)
        if problem:
            return self.reject(request, problem, 401)
        base = f"/repos/{self.repository}"
        if not request.path.startswith(base):
            return self.reject(request, "another repository", 404)
        rest = request.path[len(base) :].strip("/")
        route = self._routes().get((request.method, _shape(rest)))
        if route is None:
            return self.reject(request, "unexpected route", 404)
        try:
            body = request.json() if request.body else None
        except ValueError:
            return self.reject(request, "body is not JSON")
        return route(request, rest, body)

    def _routes(self) -> dict[tuple[str, str], Callable[[Request, str, Any], Reply]]:
        return {
            ("GET", ""): lambda r, p, b: _json(200, {"default_branch": "main"}),
            ("GET", "branches/*"): self._branch,
            ("GET", "dependabot/alerts"): self._alerts,
            ("GET", "code-scanning/alerts"): self._alerts,
            ("GET", "secret-scanning/alerts"): self._alerts,
            ("GET", "issues"): self._list_issues,
            ("POST", "issues"): self._create_issue,
            ("PATCH", "issues/#"): self._patch_issue,
            ("GET", "issues/#/comments"): self._list_comments,
            ("POST", "issues/#/comments"): self._comment,
            ("GET", "pulls"): self._list_pulls,
            ("POST", "pulls"): self._create_pull,
            ("PATCH", "pulls/#"): self._patch_pull,
        }

    def _new_number(self) -> int:
        self._next += 1
        return self._next - 1

    def _branch(self, request: Request, path: str, body: Any) -> Reply:
        name = path.split("/", 1)[1]
        return _json(200, {"name": name, "protected": self.protected})

    def _alerts(self, request: Request, path: str, body: Any) -> Reply:
        if request.query.get("state") != "open":
            return self.reject(request, "alerts are read with state=open")
        found = self.alerts[path]
        if isinstance(found, int):
            return _json(found, {"message": "disabled"})
        return _json(200, found)

    def _list_issues(self, request: Request, path: str, body: Any) -> Reply:
        state, labels = request.query.get("state", "open"), request.query.get("labels")
        found = [
            i for i in self.issues if i["state"] == state and (not labels or labels in i["labels"])
        ]
        return _json(200, [{**i, "labels": [{"name": n} for n in i["labels"]]} for i in found])

    def _create_issue(self, request: Request, path: str, body: Any) -> Reply:
        if not isinstance(body, dict) or not body.get("title"):
            return self.reject(request, "an issue needs a title", 422)
        issue = {
            "number": self._new_number(),
            "title": body["title"],
            "body": body.get("body", ""),
            "labels": list(body.get("labels", [])),
            "state": "open",
        }
        self.issues.append(issue)
        return _json(201, issue)

    def _issue(self, path: str) -> dict[str, Any] | None:
        number = int(path.split("/")[1])
        return next((i for i in self.issues if i["number"] == number), None)

    def _patch_issue(self, request: Request, path: str, body: Any) -> Reply:
        issue = self._issue(path)
        if issue is None:
            return self.reject(request, "no such issue", 404)
        if body.get("state") not in (None, "open", "closed"):
            return self.reject(request, "bad state", 422)
        issue.update({k: v for k, v in body.items() if k in ("state", "title", "body")})
        return _json(200, issue)

    def _list_comments(self, request: Request, path: str, body: Any) -> Reply:
        issue = self._issue(path)
        if issue is None:
            return self.reject(request, "no such issue", 404)
        return _json(200, self.comments.get(issue["number"], []))

    def _comment(self, request: Request, path: str, body: Any) -> Reply:
        issue = self._issue(path)
        if issue is None or not isinstance(body, dict) or not body.get("body"):
            return self.reject(request, "a comment needs an issue and a body", 422)
        comment = {"id": self._new_number(), "body": body["body"]}
        self.comments.setdefault(issue["number"], []).append(comment)
        return _json(201, comment)

    def _list_pulls(self, request: Request, path: str, body: Any) -> Reply:
        head = request.query.get("head", "")
        owner = self.repository.split("/")[0]
        if head and not head.startswith(f"{owner}:"):
            return self.reject(request, "head must be 'owner:branch'")
        state = request.query.get("state", "open")
        found = [
            p
            for p in self.pulls
            if p["state"] == state and (not head or f"{owner}:{p['head']['ref']}" == head)
        ]
        return _json(200, found)

    def _create_pull(self, request: Request, path: str, body: Any) -> Reply:
        if not isinstance(body, dict) or not all(body.get(k) for k in ("title", "head", "base")):
            return self.reject(request, "a pull request needs title, head and base", 422)
        if self.remote is not None and not _branch_exists(self.remote, body["head"]):
            return self.reject(request, f"head branch {body['head']} is not on the remote", 422)
        if any(p["head"]["ref"] == body["head"] and p["state"] == "open" for p in self.pulls):
            return self.reject(request, "a pull request already exists for this branch", 422)
        number = self._new_number()
        pull = {
            "number": number,
            "title": body["title"],
            "body": body.get("body", ""),
            "state": "open",
            "head": {"ref": body["head"]},
            "base": {"ref": body["base"]},
            "html_url": f"https://github.example/{self.repository}/pull/{number}",
        }
        self.pulls.append(pull)
        return _json(201, pull)

    def _patch_pull(self, request: Request, path: str, body: Any) -> Reply:
        number = int(path.split("/")[1])
        pull = next((p for p in self.pulls if p["number"] == number), None)
        if pull is None:
            return self.reject(request, "no such pull request", 404)
        pull.update({k: v for k, v in body.items() if k in ("title", "body", "state")})
        return _json(200, pull)


def _shape(path: str) -> str:
    """`issues/12/comments` -> `issues/#/comments`; `branches/main` -> `branches/*`."""
    parts = path.split("/") if path else []
    if parts[:1] == ["branches"] and len(parts) == 2:
        return "branches/*"
    return "/".join("#" if p.isdigit() else p for p in parts)


def _branch_exists(remote: Path, branch: str) -> bool:
    done = subprocess.run(
        ["git", "rev-parse", "--verify", "--quiet", f"refs/heads/{branch}"],
        cwd=remote,
        capture_output=True,
        check=False,
    )
    return done.returncode == 0


# -- webhook -------------------------------------------------------------------------------


class Webhook(Server):
    """A Slack-style incoming webhook at a secret path."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret
        self.messages: list[dict[str, Any]] = []
        self.answer = 200

    @property
    def hook_url(self) -> str:
        return f"{self.url}/services/{self.secret}"

    def handle(self, request: Request) -> Reply:
        if request.method != "POST" or request.path != f"/services/{self.secret}":
            return self.reject(request, "unexpected request", 404)
        if not request.headers.get("content-type", "").startswith("application/json"):
            return self.reject(request, "body is not declared as JSON")
        try:
            body = request.json()
        except ValueError:
            return self.reject(request, "body is not JSON")
        if not isinstance(body, dict) or not isinstance(body.get("text"), str):
            return self.reject(request, "a Slack message needs a 'text' string")
        if self.answer != 200:
            return self.answer, {}, b"failing on purpose"
        self.messages.append(body)
        return 200, {"Content-Type": "text/plain"}, b"ok"


# -- OSV -----------------------------------------------------------------------------------


class OsvApi(Server):
    """api.osv.dev's `POST /v1/query` for one ecosystem; `vulns(name, version)` answers."""

    def __init__(self, ecosystem: str, vulns: Callable[[str, str], list[dict[str, Any]]]) -> None:
        super().__init__()
        self.ecosystem = ecosystem
        self._vulns = vulns
        #: Every query received, as sent.
        self.queries: list[dict[str, Any]] = []

    @property
    def query_url(self) -> str:
        return f"{self.url}/v1/query"

    def handle(self, request: Request) -> Reply:
        if (request.method, request.path) != ("POST", "/v1/query"):
            return self.reject(request, "not the OSV query endpoint", 404)
        # Like api.osv.dev, whatever the declared type: pip-audit declares none.
        try:
            body = request.json()
        except ValueError:
            return self.reject(request, "body is not JSON")
        package = body.get("package") if isinstance(body, dict) else None
        if set(body) != {"package", "version"} or not isinstance(package, dict):
            return self.reject(request, f"a query is a package and a version, not {body!r}")
        ecosystem = package.get("ecosystem")
        if ecosystem != self.ecosystem:
            return self.reject(request, f"ecosystem {ecosystem!r}, not {self.ecosystem!r}")
        self.queries.append(body)
        found = self._vulns(package["name"], body["version"])
        return _json(200, {"vulns": found} if found else {})

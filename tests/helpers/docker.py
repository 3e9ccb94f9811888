"""The real Docker engine and registry for tests: reachability, sample projects, cleanup.

Everything a test builds or starts carries the label `shipyard.test=<run id>`, and
is removed by that label (never by name) when the tests are done.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
from python_on_whales import DockerClient
from python_on_whales.client_config import ClientNotFoundError
from python_on_whales.exceptions import DockerException

from helpers.projects import write_files

#: Read at import, before the autouse fixture clears CI for each test.
ON_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
REGISTRY = "127.0.0.1:5000"
BASE_IMAGE = "py-base:3.11"
LABEL = "shipyard.test"
RUN_ID = uuid.uuid4().hex[:10]
REPO_ROOT = Path(__file__).resolve().parents[2]


def unavailable(reason: str) -> None:
    """Skip locally; on CI the engine is part of the contract, so fail."""
    hint = "run `bash .ci/docker-up.sh` as root to bring up the engine, registry and py-base"
    if ON_CI:
        pytest.fail(f"{reason} (CI is set, so this is an error; {hint})")
    pytest.skip(f"{reason}; {hint}")


def engine_problem() -> str | None:
    client = DockerClient()
    try:
        client.system.info()
    except ClientNotFoundError:
        return "the docker CLI is not on PATH"
    except DockerException as exc:
        return f"no Docker engine reachable ({(exc.stderr or '').strip()[:200]})"
    if not client.image.exists(BASE_IMAGE):
        return f"the local base image {BASE_IMAGE} is missing"
    try:
        with urllib.request.urlopen(f"http://{REGISTRY}/v2/", timeout=5):
            pass
    except OSError as exc:
        return f"no registry on {REGISTRY} ({exc})"
    return None


def cleanup(client: DockerClient) -> None:
    """Remove every container and image this test run labelled."""
    selector = [("label", f"{LABEL}={RUN_ID}")]
    containers = client.container.list(all=True, filters=selector)
    if containers:
        client.container.remove(containers, force=True)
    images = client.image.list(filters=selector)
    for image in images:
        try:
            client.image.remove(image.id, force=True)
        except DockerException:
            continue
    # BuildKit's cache cannot be labelled; keep it bounded instead (least recently used go).
    subprocess.run(
        ["docker", "buildx", "prune", "--force", "--keep-storage", "2gb"],
        capture_output=True,
        check=False,
        timeout=300,
    )


def git_commit(root: Path) -> None:
    for argv in (
        ["git", "init", "-q", "-b", "main"],
        ["git", "config", "user.email", "test@example.invalid"],
        ["git", "config", "user.name", "Test"],
        ["git", "config", "commit.gpgsign", "false"],
        ["git", "add", "-A"],
        ["git", "commit", "-q", "-m", "sample"],
    ):
        subprocess.run(argv, cwd=root, check=True, capture_output=True)


def copy_of_shipyard(dest: Path) -> Path:
    """shipyard's tracked files, copied into a fresh git repository."""
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=REPO_ROOT, check=True, capture_output=True, text=True
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = REPO_ROOT / name
        if source.is_file():
            target = dest / name
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    git_commit(dest)
    return dest


# Indented like the Dockerfiles below, which write_files dedents.
_PYINSTALL = (
    "        RUN set -- /tmp/wheels/pip-*.whl \\\n"
    "            && python3 -m venv --without-pip /opt/app \\\n"
    '            && PYTHONDONTWRITEBYTECODE=1 /opt/app/bin/python "$1/pip" install --quiet \\\n'
    "                --no-index --find-links /tmp/wheels --no-compile --no-cache-dir \\\n"
    "                --requirement /tmp/wheels/requirements.txt"
)

SAMPLE_FILES = {
    "pyproject.toml": f"""
        [build-system]
        requires = ["hatchling"]
        build-backend = "hatchling.build"

        [project]
        name = "sample-app"
        version = "1.2.0"
        requires-python = ">=3.11"
        dependencies = ["packaging"]

        [project.scripts]
        sample-app = "sample_app.cli:main"

        [tool.shipyard.docker]
        image = "Shipyard_Test-{RUN_ID}/Sample_App"
        registries = ["{REGISTRY}"]
        labels = {{ "{LABEL}" = "{RUN_ID}" }}

        [tool.shipyard.docker.variants.cpu]
        size-budget-mb = 60
        smoke = ["sample-app", "--version"]
        health-args = ["sleep", "300"]

        [tool.shipyard.docker.variants.minimal]
        size-budget-mb = 35
        wheels = ["."]
        smoke = ["sample-app", "--version"]
        health-args = ["sleep", "300"]

        [tool.shipyard.docker.variants.fat]
        wheels = []
        size-budget-mb = 1
        healthcheck = false

        [tool.shipyard.docker.variants.sick]
        wheels = []
        health-args = ["sleep", "300"]

        [tool.shipyard.docker.variants.tiny]
        wheels = []
        healthcheck = false
        tags = ["tiny"]

        [tool.shipyard.docker.variants.multi]
        wheels = []
        platforms = ["linux/amd64", "linux/arm64"]
        healthcheck = false
        user = "any"
        tags = ["{{sha}}", "multi"]
    """,
    "src/sample_app/__init__.py": '__version__ = "1.2.0"\n',
    "src/sample_app/cli.py": """
        import sys

        from packaging.version import Version

        from sample_app import __version__


        def main() -> int:
            if sys.argv[1:] == ["--version"]:
                print(f"sample-app {Version(__version__)}")
                return 0
            print("usage: sample-app --version")
            return 2
    """,
    "docker/healthcheck.sh": """
        #!/bin/sh
        set -e
        sample-app --version
    """,
    "docker/Dockerfile.cpu": f"""
        ARG BASE_IMAGE={BASE_IMAGE}
        FROM ${{BASE_IMAGE}} AS install
        ARG WHEELS=.shipyard/docker/wheels/cpu
        COPY ${{WHEELS}}/ /tmp/wheels/
{_PYINSTALL}

        FROM ${{BASE_IMAGE}}
        COPY --from=install /opt/app /opt/app
        COPY docker/healthcheck.sh /usr/local/bin/healthcheck
        ENV PATH=/opt/app/bin:/usr/local/bin:/usr/bin:/bin PYTHONDONTWRITEBYTECODE=1
        USER 65534:65534
        HEALTHCHECK --interval=1s --timeout=5s --retries=3 CMD ["sh", "/usr/local/bin/healthcheck"]
        CMD ["sample-app", "--version"]
    """,
    # Minimal: the same install, then a root filesystem without what the app never loads
    # (TLS, sqlite, Berkeley DB, Kerberos, curses, parts of the stdlib) on scratch.
    "docker/Dockerfile.minimal": f"""
        ARG BASE_IMAGE={BASE_IMAGE}
        FROM ${{BASE_IMAGE}} AS install
        ARG WHEELS=.shipyard/docker/wheels/minimal
        COPY ${{WHEELS}}/ /tmp/wheels/
{_PYINSTALL}
        COPY docker/healthcheck.sh /usr/local/bin/healthcheck
        WORKDIR /out
        RUN cp -a /bin /etc /lib /lib64 /usr /opt . && mkdir -m 1777 tmp \\
            && rm -rf usr/lib/x86_64-linux-gnu/libcrypto* usr/lib/x86_64-linux-gnu/libssl* \\
                usr/lib/x86_64-linux-gnu/libsqlite3* usr/lib/x86_64-linux-gnu/libdb-* \\
                usr/lib/x86_64-linux-gnu/libk5crypto* usr/lib/x86_64-linux-gnu/libkrb5* \\
                usr/lib/x86_64-linux-gnu/libgssapi* usr/lib/x86_64-linux-gnu/libncurses* \\
                usr/lib/python3.11/lib-dynload/_ssl.* usr/lib/python3.11/lib-dynload/_hashlib.* \\
                usr/lib/python3.11/lib-dynload/_sqlite3.* usr/lib/python3.11/lib-dynload/_curses* \\
                usr/lib/python3.11/asyncio usr/lib/python3.11/unittest \\
                usr/lib/python3.11/sqlite3 usr/lib/python3.11/distutils \\
                usr/lib/python3.11/multiprocessing usr/lib/python3.11/venv

        FROM scratch
        COPY --from=install /out /
        ENV PATH=/opt/app/bin:/usr/local/bin:/usr/bin:/bin PYTHONDONTWRITEBYTECODE=1 LANG=C.UTF-8
        USER 65534:65534
        HEALTHCHECK --interval=1s --timeout=5s --retries=3 CMD ["sh", "/usr/local/bin/healthcheck"]
        CMD ["sample-app", "--version"]
    """,
    "docker/Dockerfile.fat": f"""
        ARG BASE_IMAGE={BASE_IMAGE}
        FROM ${{BASE_IMAGE}}
        USER 65534:65534
    """,
    "docker/Dockerfile.sick": f"""
        ARG BASE_IMAGE={BASE_IMAGE}
        FROM ${{BASE_IMAGE}}
        USER 65534:65534
        HEALTHCHECK --interval=1s --timeout=2s --retries=2 \\
            CMD ["sh", "-c", "echo database not reachable; exit 1"]
    """,
    "docker/Dockerfile.tiny": """
        FROM scratch
        COPY docker/healthcheck.sh /marker
        USER 65534:65534
    """,
    "docker/Dockerfile.multi": """
        FROM scratch
        COPY docker/healthcheck.sh /marker
    """,
    "noxfile.py": "from shipyard.sessions import *  # noqa: F403\n",
    ".dockerignore": """
        *
        !docker/
        !.shipyard/docker/wheels/
    """,
}


def sample_project(root: Path) -> Path:
    """The sample app with five variants, committed to git."""
    write_files(root, SAMPLE_FILES)
    git_commit(root)
    return root


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def registry_with_login(root: Path, user: str, password: str) -> Iterator[str]:
    """A second Debian docker-registry, with htpasswd auth, on a free loopback port."""
    program = shutil.which("docker-registry")
    if program is None:
        unavailable("docker-registry is not installed")
    hashed = bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=4)).decode()
    (root / "htpasswd").write_text(f"{user}:{hashed}\n", encoding="utf-8")
    port = free_port()
    host = f"127.0.0.1:{port}"
    (root / "config.yml").write_text(
        "version: 0.1\n"
        "log: {level: warn, accesslog: {disabled: true}}\n"
        f"storage: {{filesystem: {{rootdirectory: {root}/data}}}}\n"
        f'http: {{addr: "{host}", secret: shipyard-test}}\n'
        f"auth: {{htpasswd: {{realm: shipyard-test, path: {root}/htpasswd}}}}\n",
        encoding="utf-8",
    )
    server = subprocess.Popen(
        [program, "serve", str(root / "config.yml")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://{host}/v2/", timeout=1):
                    break
            except urllib.error.HTTPError as exc:
                if exc.code == 401:  # up, and asking for a login
                    break
            except OSError:
                time.sleep(0.1)
        yield host
    finally:
        server.terminate()
        server.wait(timeout=10)
        subprocess.run(["docker", "logout", host], capture_output=True, check=False)

"""Pushing images to registries, with retries, and merging per-arch images into one list."""

from __future__ import annotations

import ipaddress
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from python_on_whales import DockerClient
from python_on_whales.exceptions import DockerException
from python_on_whales.utils import run

__all__ = [
    "credentials",
    "insecure_registry",
    "login",
    "merge_manifest",
    "push",
    "registry_host",
    "retry",
]

T = TypeVar("T")


def retry(
    action: Callable[[], T],
    *,
    attempts: int,
    base_delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    on_retry: Callable[[int, Exception], None] | None = None,
) -> T:
    """Call `action` until it succeeds, up to `attempts` times, waiting 1, 2, 4... seconds."""
    for attempt in range(1, attempts + 1):
        try:
            return action()
        except DockerException as exc:
            if attempt == attempts:
                raise
            if on_retry is not None:
                on_retry(attempt, exc)
            sleep(base_delay * 2 ** (attempt - 1))
    msg = "attempts must be 1 or more"
    raise ValueError(msg)


def registry_host(registry: str) -> str:
    """The host[:port] part of 'ghcr.io/org' or '127.0.0.1:5000'; docker.io when none."""
    first = registry.strip("/").split("/", 1)[0]
    return first.lower() if ("." in first or ":" in first or first == "localhost") else "docker.io"


def insecure_registry(host: str) -> bool:
    """Loopback registries speak plain HTTP (Docker treats 127.0.0.0/8 as insecure too)."""
    name = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def _env_key(host: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in host.upper())


def credentials(host: str, env: Mapping[str, str] | None = None) -> tuple[str, str] | None:
    """User and password for `host` from the environment, if any.

    Looked up as SHIPYARD_DOCKER_<HOST>_USERNAME/_PASSWORD (host in upper case,
    other characters as `_`), then SHIPYARD_DOCKER_USERNAME/_PASSWORD, then for
    ghcr.io GITHUB_ACTOR/GITHUB_TOKEN. Without any, docker's own login is used.
    """
    env = os.environ if env is None else env
    key = _env_key(host)
    for user_var, secret_var in (
        (f"SHIPYARD_DOCKER_{key}_USERNAME", f"SHIPYARD_DOCKER_{key}_PASSWORD"),
        ("SHIPYARD_DOCKER_USERNAME", "SHIPYARD_DOCKER_PASSWORD"),
    ):
        if env.get(user_var) and env.get(secret_var):
            return env[user_var], env[secret_var]
    if host == "ghcr.io" and env.get("GITHUB_ACTOR") and env.get("GITHUB_TOKEN"):
        return env["GITHUB_ACTOR"], env["GITHUB_TOKEN"]
    return None


def login(client: DockerClient, host: str, env: Mapping[str, str] | None = None) -> bool:
    """Log in to `host` when the environment has credentials for it (password on stdin)."""
    found = credentials(host, env)
    if found is None:
        return False
    user, password = found
    client.login(server=host, username=user, password=password)
    return True


def push(
    client: DockerClient,
    source: str,
    target: str,
    *,
    attempts: int,
    on_retry: Callable[[int, Exception], None] | None = None,
) -> None:
    """Tag `source` as `target` and push it, retried with backoff."""
    client.image.tag(source, target)
    retry(lambda: client.image.push(target, quiet=True), attempts=attempts, on_retry=on_retry)


def merge_manifest(
    client: DockerClient,
    target: str,
    sources: Sequence[str],
    *,
    attempts: int,
) -> None:
    """Make `target` a manifest list of the pushed per-arch images `sources`, and push it."""
    insecure = insecure_registry(registry_host(target))
    flag = ["--insecure"] if insecure else []
    base = client.client_config.docker_cmd
    run([*base, "manifest", "create", "--amend", *flag, target, *sources])
    retry(lambda: run([*base, "manifest", "push", *flag, "--purge", target]), attempts=attempts)

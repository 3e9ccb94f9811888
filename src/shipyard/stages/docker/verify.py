"""Checking a built image: size against its budget, smoke command, user, health check.

Each check gives one finding: `info` when it passed, `high` when it failed.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Mapping, Sequence
from decimal import Decimal

from python_on_whales import Container, DockerClient, Image
from python_on_whales.components.container.models import ContainerHealthCheck, ContainerState
from python_on_whales.exceptions import DockerException

from shipyard.report import Finding, Severity

__all__ = [
    "SMOKE_TIMEOUT",
    "check_health",
    "check_size",
    "check_smoke",
    "check_user",
    "health_deadline",
    "megabytes",
]

#: The longest a smoke command may run, in seconds.
SMOKE_TIMEOUT = 120.0
_NS = 1_000_000_000
# Docker's defaults for a HEALTHCHECK that leaves a field out.
_DEFAULT_INTERVAL = 30.0
_DEFAULT_TIMEOUT = 30.0
_DEFAULT_RETRIES = 3
_ROOT_USERS = {"", "0", "root"}
_OUTPUT_CHARS = 2000


def megabytes(size: int) -> Decimal:
    """Bytes in MB (10^6 bytes, as `docker images` shows them), to two places."""
    return (Decimal(size) / Decimal(1_000_000)).quantize(Decimal("0.01"))


def _finding(rule: str, variant: str, message: str, *, ok: bool, **extra: object) -> Finding:
    return Finding(
        rule=f"docker.{rule}",
        message=message,
        severity=Severity.INFO if ok else Severity.HIGH,
        path=variant,
        tool="docker",
        extra={k: v for k, v in extra.items() if v is not None},
    )


def check_size(
    variant: str, size_bytes: int, *, budget_mb: Decimal | None, previous: int | None
) -> Finding:
    """The image's size, its budget, and the change against the previous image of its tag."""
    size = megabytes(size_bytes)
    change = ""
    delta = None
    if previous is not None:
        delta = size - megabytes(previous)
        change = f", {delta:+} MB against the previous image"
    delta_mb = None if delta is None else str(delta)
    if budget_mb is None:
        message = f"{size} MB (no size budget set){change}"
        return _finding("size", variant, message, ok=True, size_mb=str(size), delta_mb=delta_mb)
    over = size - budget_mb
    if over > 0:
        message = f"{size} MB is over its budget of {budget_mb} MB by {over} MB{change}"
    else:
        message = f"{size} MB, within its budget of {budget_mb} MB{change}"
    return _finding(
        "size",
        variant,
        message,
        ok=over <= 0,
        size_mb=str(size),
        budget_mb=str(budget_mb),
        delta_mb=delta_mb,
    )


def check_user(variant: str, user: str | None, *, expected: str) -> Finding:
    """The user an image runs as (its USER), against 'non-root', 'any' or an exact user."""
    user = (user or "").strip()
    name = user.split(":", 1)[0]
    shown = user or "root (no USER set)"
    if expected == "any":
        return _finding("user", variant, f"runs as {shown}", ok=True, user=user)
    if expected == "non-root":
        ok = name not in _ROOT_USERS
        message = f"runs as {shown}" + ("" if ok else "; expected a non-root user")
        return _finding("user", variant, message, ok=ok, user=user)
    ok = expected in (user, name)
    message = f"runs as {shown}" + ("" if ok else f"; expected {expected}")
    return _finding("user", variant, message, ok=ok, user=user)


def _start(
    client: DockerClient, ref: str, args: Sequence[str], labels: Mapping[str, str]
) -> Container:
    """A detached, offline container; removed again when it could not start."""
    name = f"shipyard-check-{uuid.uuid4().hex[:12]}"
    try:
        return client.container.run(
            ref, list(args), detach=True, name=name, networks=["none"], labels=dict(labels)
        )
    except DockerException:
        # `docker run` may have created the container before failing to start it.
        with contextlib.suppress(DockerException):
            client.container.remove(name, force=True)
        raise


def _logs(client: DockerClient, container: Container) -> str:
    try:
        return str(client.container.logs(container))[-_OUTPUT_CHARS:].strip()
    except DockerException:
        return ""


def check_smoke(
    client: DockerClient,
    variant: str,
    ref: str,
    *,
    args: Sequence[str],
    labels: Mapping[str, str],
    timeout: float = SMOKE_TIMEOUT,
) -> Finding:
    """Run the smoke command in a fresh container, offline; it must exit 0 in time."""
    shown = " ".join(args)
    try:
        container = _start(client, ref, args, labels)
    except DockerException as exc:
        message = f"`{shown}` could not start: {(exc.stderr or '').strip()}"
        return _finding("smoke", variant, message, ok=False)
    try:
        # The container's state is inspected again when read after 0.2 s or more.
        deadline = time.monotonic() + timeout
        state = container.state
        while state.running and time.monotonic() < deadline:
            time.sleep(0.25)
            state = container.state
        output = _logs(client, container)
        if state.running:
            message = f"`{shown}` still running after {timeout:.0f} s"
            return _finding("smoke", variant, message, ok=False, output=output)
        code = state.exit_code
        message = f"`{shown}` exited with {code}"
        return _finding("smoke", variant, message, ok=code == 0, output=output, exit_code=code)
    finally:
        client.container.remove(container, force=True)


def health_deadline(check: ContainerHealthCheck | None) -> float | None:
    """Seconds a container may take to turn healthy, from the image's own HEALTHCHECK."""
    if check is None or not check.test or check.test[0] == "NONE":
        return None
    interval = (check.interval or 0) / _NS or _DEFAULT_INTERVAL
    timeout = (check.timeout or 0) / _NS or _DEFAULT_TIMEOUT
    retries = check.retries or _DEFAULT_RETRIES
    start = (check.start_period or 0) / _NS
    # The first probe runs one interval after start; each failing one costs up to timeout.
    return start + (retries + 1) * (interval + timeout) + 5.0


def _last_probe(state: ContainerState) -> tuple[str, int | None]:
    health = state.health
    log = health.log if health is not None and health.log else []
    if not log:
        return "", None
    last = log[-1]
    return (last.output or "").strip()[-_OUTPUT_CHARS:], last.exit_code


def check_health(
    client: DockerClient,
    variant: str,
    ref: str,
    image: Image,
    *,
    required: bool,
    args: Sequence[str],
    labels: Mapping[str, str],
) -> Finding:
    """Start a container and wait for its HEALTHCHECK to say healthy (or unhealthy)."""
    deadline = health_deadline(image.config.healthcheck)
    if deadline is None:
        message = "no HEALTHCHECK" + ("; the variant requires one" if required else "")
        return _finding("health", variant, message, ok=not required)
    try:
        container = _start(client, ref, args, labels)
    except DockerException as exc:
        message = f"the container could not start: {(exc.stderr or '').strip()}"
        return _finding("health", variant, message, ok=False)
    try:
        started = time.monotonic()
        while True:
            state = container.state
            status = (state.health.status if state.health else None) or "starting"
            waited = time.monotonic() - started
            if status in ("healthy", "unhealthy") or not state.running or waited > deadline:
                break
            time.sleep(0.25)
        output, code = _last_probe(state)
        if status == "healthy":
            message = f"healthy after {waited:.1f} s"
            return _finding("health", variant, message, ok=True, seconds=round(waited, 1))
        if not state.running and status != "unhealthy":
            message = f"the container exited ({state.exit_code}) before turning healthy"
            return _finding("health", variant, message, ok=False, output=_logs(client, container))
        shown = f": {output}" if output else ""
        message = f"{status} after {waited:.1f} s (last check exited {code}){shown}"
        return _finding("health", variant, message, ok=False, output=output, exit_code=code)
    finally:
        client.container.remove(container, force=True)

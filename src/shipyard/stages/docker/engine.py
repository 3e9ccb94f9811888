"""Finding the Docker engine, and the builder to use with it."""

from __future__ import annotations

import dataclasses
from typing import Literal

from python_on_whales import DockerClient
from python_on_whales.client_config import ClientNotFoundError
from python_on_whales.exceptions import DockerException

from shipyard.config import DockerConfig
from shipyard.errors import ConfigError

__all__ = ["Engine", "connect", "host_platform"]

_ARCHES = {"x86_64": "amd64", "aarch64": "arm64", "armv7l": "arm/v7", "ppc64le": "ppc64le"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Engine:
    """A reachable engine: the client, the builder chosen, and what the daemon is."""

    client: DockerClient
    #: The client for `legacy_build`: the same CLI with BuildKit turned off.
    legacy: DockerClient
    builder: Literal["buildx", "legacy"]
    #: The buildx driver ("docker", "docker-container"...), empty for the legacy builder.
    driver: str
    server_version: str
    storage_driver: str
    platform: str

    def describe(self) -> str:
        builder = f"buildx ({self.driver} driver)" if self.builder == "buildx" else "legacy builder"
        return f"Docker {self.server_version}, {self.storage_driver}, {builder}, {self.platform}"


def host_platform(os_type: str | None, architecture: str | None) -> str:
    arch = architecture or "x86_64"
    return f"{os_type or 'linux'}/{_ARCHES.get(arch, arch)}"


def _buildx_driver(client: DockerClient) -> str | None:
    try:
        if not client.buildx.is_installed():
            return None
        return client.buildx.inspect().driver or "docker"
    except DockerException:
        return None


def connect(config: DockerConfig) -> Engine | str:
    """The engine, or a sentence saying why none can be used."""
    client = DockerClient()
    try:
        info = client.system.info()
    except DockerException as exc:
        lines = (exc.stderr or "").strip().splitlines()
        why = lines[-1] if lines else f"`docker info` exited with {exc.return_code}"
        return f"no Docker engine reachable ({why})"
    except ClientNotFoundError:
        return "no Docker engine reachable (the `docker` command is not on PATH)"

    driver = _buildx_driver(client) if config.builder != "legacy" else None
    if config.builder == "buildx" and driver is None:
        msg = (
            "builder = 'buildx' but the buildx plugin is not installed; install it "
            "(.ci/docker-up.sh does) or set builder = 'auto'."
        )
        raise ConfigError(msg, key="tool.shipyard.docker.builder")
    # With the buildx plugin present, a plain `docker build` goes through it; the
    # environment variable keeps `legacy_build` on the classic builder.
    legacy = DockerClient(client_call=["env", "DOCKER_BUILDKIT=0", "docker"])
    return Engine(
        client=client,
        legacy=legacy,
        builder="buildx" if driver else "legacy",
        driver=driver or "",
        server_version=info.server_version or "?",
        storage_driver=info.driver or "?",
        platform=host_platform(info.os_type, info.architecture),
    )

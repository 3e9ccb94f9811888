"""The docker stage without an engine: a visible skip locally, an error on CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers.docker import sample_project
from helpers.projects import run_nox
from shipyard import config as config_mod
from shipyard.errors import ToolMissing
from shipyard.report import Status, read_result
from shipyard.stages.docker import run_docker


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return sample_project(tmp_path / "sample-app")


def test_missing_engine_skips_locally_and_is_an_error_on_ci(sample, monkeypatch):
    monkeypatch.setenv("DOCKER_HOST", "unix:///nonexistent/docker.sock")
    config = config_mod.load(sample)

    skipped = run_docker(config, variants=("fat",), env={}, log=lambda _: None)
    assert skipped.status is Status.SKIPPED
    assert skipped.reason.startswith("no Docker engine reachable")
    assert "an error when CI is set" in skipped.reason

    with pytest.raises(ToolMissing, match="CI is set"):
        run_docker(config, variants=("fat",), env={"CI": "true"}, log=lambda _: None)


def test_nox_docker_session_without_variants_is_a_visible_skip(sample_project):
    root = sample_project()

    done = run_nox(root, "-s", "docker")

    assert done.returncode == 0, done.stdout + done.stderr
    result = read_result(root / ".shipyard" / "reports" / "docker.json")
    assert result.status is Status.SKIPPED
    assert result.reason.startswith("no image variants: none of docker/Dockerfile.cpu")
    assert not (root / ".nox" / "docker" / ".shipyard-fingerprint").exists()

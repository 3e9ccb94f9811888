"""The docker stage against the real engine and the registry on 127.0.0.1:5000.

Run `bash .ci/docker-up.sh` (as root) first. Without an engine these tests skip
locally and fail when CI is set.
"""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from python_on_whales import DockerClient

from helpers.docker import (
    BASE_IMAGE,
    LABEL,
    REGISTRY,
    RUN_ID,
    copy_of_shipyard,
    registry_with_login,
    sample_project,
)
from helpers.projects import run_nox
from shipyard import config as config_mod
from shipyard.config import Config
from shipyard.report import Finding, Severity, StageResult, Status, read_result
from shipyard.sessions import CI_STAGES
from shipyard.stages.docker import image_ref, run_docker

pytestmark = [pytest.mark.docker, pytest.mark.slow]

LABELS = {LABEL: RUN_ID}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sample_project(tmp_path_factory.mktemp("docker") / "sample-app")


def by_rule(result: StageResult, variant: str) -> dict[str, Finding]:
    return {f.rule.removeprefix("docker."): f for f in result.findings if f.path == variant}


def stage(config: Config, env: dict[str, str] | None = None, **kwargs: object) -> StageResult:
    result = run_docker(config, labels=LABELS, env=env or {}, log=lambda _: None, **kwargs)  # type: ignore[arg-type]
    json.dumps(result.to_json())  # written as JSON by the session: must serialise
    return result


def round_trip(docker: DockerClient, ref: str, args: list[str]) -> str:
    """Remove every local copy of `ref`'s image, pull it back and run it."""
    image = docker.image.inspect(ref)
    docker.image.remove(image.id, force=True)
    assert not docker.image.exists(ref)
    docker.image.pull(ref, quiet=True)
    return str(docker.run(ref, args, remove=True, networks=["none"], labels=LABELS))


def assert_all_checks_passed(result: StageResult, variant: str) -> dict[str, Finding]:
    findings = by_rule(result, variant)
    assert {"size", "user", "smoke", "health", "push"} <= set(findings), findings
    failed = {k: f.message for k, f in findings.items() if f.severity is not Severity.INFO}
    assert not failed
    assert "within its budget" in findings["size"].message
    assert "65534" in findings["user"].message
    assert findings["smoke"].message.endswith("exited with 0")
    assert findings["health"].message.startswith("healthy after")
    return findings


def test_sample_cpu_and_minimal_build_pass_push_and_pull_back(docker, sample):
    config = config_mod.load(sample)

    result = stage(config, variants=("cpu", "minimal"), push=True)

    assert result.status is Status.PASSED, result.reason
    repo = f"shipyard_test-{RUN_ID}/sample_app"
    for variant in ("cpu", "minimal"):
        findings = assert_all_checks_passed(result, variant)
        pushed = findings["push"].extra["refs"]
        version_ref = image_ref(repo, variant=variant, tag="1.2.0", registry=REGISTRY)
        assert version_ref in pushed
        assert image_ref(repo, variant=variant, tag="latest", registry=REGISTRY) in pushed
        assert any(":sha-" in ref for ref in pushed)
        assert any(ref.endswith(":main") for ref in pushed)
        assert round_trip(docker, version_ref, ["sample-app", "--version"]).strip() == (
            "sample-app 1.2.0"
        )
    labels = docker.image.inspect(version_ref).config.labels or {}
    assert labels["org.opencontainers.image.version"] == "1.2.0"
    assert len(labels["org.opencontainers.image.revision"]) == 40
    assert labels["org.opencontainers.image.created"]
    images = json.loads((config.reports / "docker-images.json").read_text(encoding="utf-8"))
    assert [i["variant"] for i in images["images"]] == ["cpu", "minimal"]
    assert result.metrics["docker.cpu.size_mb"] < 60


def test_over_budget_fails_with_both_numbers_and_the_change(docker, sample):
    config = config_mod.load(sample)

    first = stage(config, variants=("fat",))
    second = stage(config, variants=("fat",))

    assert first.status is Status.FAILED
    size = by_rule(first, "fat")["size"]
    assert size.severity is Severity.HIGH
    assert "is over its budget of 1 MB by" in size.message
    assert size.extra["budget_mb"] == "1"
    assert float(size.extra["size_mb"]) > 30  # py-base alone is about 40 MB
    assert f"{size.extra['size_mb']} MB" in first.reason
    assert "against the previous image" in by_rule(second, "fat")["size"].message
    assert by_rule(second, "fat")["size"].extra["delta_mb"] == "0.00"


def test_healthcheck_that_never_passes_is_reported_unhealthy(docker, sample):
    config = config_mod.load(sample)

    result = stage(config, variants=("sick",), push=True)

    assert result.status is Status.FAILED
    health = by_rule(result, "sick")["health"]
    assert health.severity is Severity.HIGH
    assert health.message.startswith("unhealthy after")
    assert "database not reachable" in health.message
    assert health.extra["exit_code"] == 1
    push = by_rule(result, "sick")["push"]
    assert push.message == "not pushed: its checks failed"
    assert not docker.container.list(all=True, filters=[("label", f"{LABEL}={RUN_ID}")])


def test_per_arch_images_merge_into_one_manifest_list(docker, sample):
    config = config_mod.load(sample)
    if not docker.buildx.is_installed():
        pytest.skip("needs the buildx plugin (.ci/docker-up.sh installs it)")

    result = stage(config, variants=("multi",), push=True)

    assert result.status is Status.PASSED, result.reason
    repo = f"shipyard_test-{RUN_ID}/sample_app"
    target = image_ref(repo, variant="multi", tag="multi", registry=REGISTRY)
    assert target in by_rule(result, "multi")["push"].extra["refs"]
    listed = subprocess.run(
        ["docker", "manifest", "inspect", "--insecure", target],
        check=True,
        capture_output=True,
        text=True,
    )
    manifest = json.loads(listed.stdout)
    assert manifest["mediaType"].endswith("manifest.list.v2+json")
    platforms = {
        (m["platform"]["os"], m["platform"]["architecture"]) for m in manifest["manifests"]
    }
    assert platforms == {("linux", "amd64"), ("linux", "arm64")}


def test_legacy_builder_builds_the_host_platform_and_says_multiarch_needs_buildx(docker, sample):
    config = config_mod.load(sample)
    legacy = dataclasses.replace(
        config, docker=dataclasses.replace(config.docker, builder="legacy")
    )

    result = stage(legacy, variants=("multi",))

    assert result.status is Status.WARNED
    note = by_rule(result, "multi")["platforms"]
    assert "multi-arch builds need the buildx plugin; building linux/amd64 only" in note.message
    images = json.loads((config.reports / "docker-images.json").read_text(encoding="utf-8"))
    assert images["images"][0]["platforms"] == ["linux/amd64"]


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="py-base:3.11 needs cp311 wheels")
def test_shipyard_own_images_build_pass_push_and_pull_back(docker, tmp_path):
    root = copy_of_shipyard(tmp_path / "shipyard")
    config = config_mod.load(root)
    variants = dict(config.docker.variants or {})
    # The local stand-in base for cpu (python:3.11-slim by default, which only docker-up's
    # tag provides here) and for gpu: no CUDA image can be pulled here.
    variants["cpu"] = dataclasses.replace(variants["cpu"], base_image=BASE_IMAGE)
    variants["gpu"] = dataclasses.replace(
        variants["gpu"], base_image=BASE_IMAGE, size_budget_mb=Decimal(150)
    )
    docker_config = dataclasses.replace(
        config.docker,
        image=f"shipyard-test-{RUN_ID}/shipyard",
        registries=(REGISTRY,),
        variants=variants,
    )
    config = dataclasses.replace(config, docker=docker_config)

    result = stage(config, variants=("cpu", "minimal", "gpu"), push=True)

    assert result.status is Status.PASSED, result.reason
    for variant in ("cpu", "minimal", "gpu"):
        findings = assert_all_checks_passed(result, variant)
        ref = image_ref(config.docker.image or "", variant=variant, tag="0.1.0", registry=REGISTRY)
        assert ref in findings["push"].extra["refs"]
        output = round_trip(docker, ref, ["shipyard", "--version"])
        assert output.startswith("shipyard ")
    assert result.metrics["docker.minimal.size_mb"] <= 15
    # The minimal image's CLI leaves the Docker client out, and says so.
    minimal = image_ref(
        config.docker.image or "", variant="minimal", tag="0.1.0", registry=REGISTRY
    )
    done = subprocess.run(
        ["docker", "run", "--rm", "--label", f"{LABEL}={RUN_ID}", minimal, "shipyard", "docker"],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 3, done.stderr
    assert "use shipyard's cpu image" in done.stderr


def test_nox_docker_session_records_the_stage_for_the_ci_summary(docker, sample):
    done = run_nox(sample, "-s", "docker", "--", "sick")

    assert done.returncode != 0, done.stdout + done.stderr
    assert "sick: ✕ health: unhealthy after" in done.stderr, done.stderr[-3000:]
    result = read_result(sample / ".shipyard" / "reports" / "docker.json")
    assert result.status is Status.FAILED
    assert "database not reachable" in result.reason
    assert "docker" in CI_STAGES
    # The graph orders stages by their needs: docker comes after both test and audit.
    assert CI_STAGES.index("docker") > max(CI_STAGES.index("audit"), CI_STAGES.index("test"))


def test_push_logs_in_with_credentials_from_the_environment(docker, sample, tmp_path):
    password = "s3cret-Pw-" + RUN_ID
    with registry_with_login(tmp_path, "ci", password) as host:
        config = config_mod.load(sample)
        config = dataclasses.replace(
            config, docker=dataclasses.replace(config.docker, registries=(host,))
        )
        key = "SHIPYARD_DOCKER_" + re.sub(r"[^A-Z0-9]", "_", host.upper())

        refused = stage(
            config,
            env={f"{key}_USERNAME": "ci", f"{key}_PASSWORD": "wrong-" + password},
            variants=("tiny",),
            push=True,
        )
        pushed = stage(
            config,
            env={f"{key}_USERNAME": "ci", f"{key}_PASSWORD": password},
            variants=("tiny",),
            push=True,
        )

    assert refused.status is Status.FAILED
    assert by_rule(refused, "tiny")["push"].message.startswith("push failed:")
    assert pushed.status is Status.PASSED, pushed.reason
    repo = f"shipyard_test-{RUN_ID}/sample_app"
    assert by_rule(pushed, "tiny")["push"].extra["refs"] == [
        image_ref(repo, variant="tiny", tag="tiny", registry=host)
    ]
    for result in (refused, pushed):  # the password never reaches a result
        assert password not in json.dumps(result.to_json())

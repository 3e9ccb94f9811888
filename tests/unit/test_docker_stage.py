"""The docker stage's pure parts: config, variants, labels, checks, retries, wheels."""

from __future__ import annotations

import json
import subprocess
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from python_on_whales.components.container.models import ContainerHealthCheck
from python_on_whales.exceptions import DockerException

from shipyard import config as config_mod
from shipyard.errors import ConfigError
from shipyard.report import Severity, Status
from shipyard.stages.docker import run_docker, verify
from shipyard.stages.docker.build import _cache_spec
from shipyard.stages.docker.meta import git_ref, oci_labels, resolve_variants, source_url
from shipyard.stages.docker.publish import (
    credentials,
    insecure_registry,
    registry_host,
    retry,
)
from shipyard.stages.docker.tags import GitRef
from shipyard.stages.docker.wheels import foreign_wheel_argv, pinned_requirements

SHA = "0123456789abcdef0123456789abcdef01234567"


def project(root: Path, tool: str = "", dockerfiles: tuple[str, ...] = ()) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    head = '[project]\nname = "My_Tool"\nversion = "1.2.0"\n'
    (root / "pyproject.toml").write_text(head + textwrap.dedent(tool), encoding="utf-8")
    for name in dockerfiles:
        path = root / "docker" / f"Dockerfile.{name}"
        path.parent.mkdir(exist_ok=True)
        path.write_text("FROM scratch\n", encoding="utf-8")
    return root


# -- config and variants ------------------------------------------------------------------


def test_docker_table_reads_variants_with_kebab_keys(tmp_path):
    root = project(
        tmp_path,
        """
        [tool.shipyard.docker]
        image = "org/tool"
        registries = ["ghcr.io/org"]

        [tool.shipyard.docker.variants.slim]
        dockerfile = "Dockerfile"
        size-budget-mb = 12.5
        smoke = ["tool", "--version"]
        build-args = { PY = "3.11" }
        user = "app"
        healthcheck = false
        """,
    )
    docker = config_mod.load(root).docker
    slim = (docker.variants or {})["slim"]
    assert docker.image == "org/tool"
    assert docker.registries == ("ghcr.io/org",)
    assert slim.size_budget_mb == Decimal("12.5")
    assert slim.smoke == ("tool", "--version")
    assert slim.build_args == {"PY": "3.11"}
    assert (slim.user, slim.healthcheck) == ("app", False)
    assert slim.tags == ("{sha}", "{branch}", "{version}", "{floating}")


@pytest.mark.parametrize(
    ("tool", "message"),
    [
        ("[tool.shipyard.docker.variants.cpu]\nsize-budget = 3\n", "did you mean|size-budget-mb"),
        ("[tool.shipyard.docker.variants.cpu]\nsize-budget-mb = 0\n", "a number above 0"),
        ("[tool.shipyard.docker]\nbuilder = 'kaniko'\n", "one of 'auto', 'buildx', 'legacy'"),
        ("[tool.shipyard.docker]\npush-attempts = 0\n", "a number above 0"),
    ],
)
def test_bad_docker_options_name_the_key(tmp_path, tool, message):
    root = project(tmp_path, tool)
    with pytest.raises(ConfigError, match=f"(?i)tool.shipyard.docker.*({message})"):
        config_mod.load(root)


def test_default_variants_are_the_dockerfiles_that_exist(tmp_path):
    root = project(tmp_path, dockerfiles=("cpu", "minimal"))
    config = config_mod.load(root)

    variants = resolve_variants(config, git=GitRef(sha=SHA, branch="main"), version="1.2.0")

    assert [v.name for v in variants] == ["cpu", "minimal"]
    minimal = variants[1]
    assert minimal.repository == "my_tool-minimal"
    assert minimal.dockerfile == root / "docker" / "Dockerfile.minimal"
    assert minimal.refs[:3] == (
        "my_tool-minimal:sha-0123456789ab",
        "my_tool-minimal:main",
        "my_tool-minimal:1.2.0",
    )
    assert "my_tool-minimal:latest" in minimal.refs


def test_no_dockerfiles_means_no_variants(tmp_path):
    config = config_mod.load(project(tmp_path))
    assert resolve_variants(config, git=GitRef(), version=None) == []


def test_a_configured_variant_without_its_dockerfile_names_the_key(tmp_path):
    root = project(tmp_path, "[tool.shipyard.docker.variants.gpu]\nsmoke = ['x']\n")
    with pytest.raises(ConfigError, match=r"variants\.gpu\.dockerfile.*does not exist"):
        resolve_variants(config_mod.load(root), git=GitRef(), version=None)


def test_selecting_an_unknown_variant_lists_the_known_ones(tmp_path):
    config = config_mod.load(project(tmp_path, dockerfiles=("cpu",)))
    with pytest.raises(ConfigError, match="no variant named 'gpu'; configured variants: cpu"):
        resolve_variants(config, git=GitRef(), version=None, only=("gpu",))


def test_an_on_request_variant_is_built_only_when_named(tmp_path):
    tool = "[tool.shipyard.docker.variants.cpu]\n[tool.shipyard.docker.variants.gpu]\n"
    tool += "on-request = true\n"
    config = config_mod.load(project(tmp_path, tool, dockerfiles=("cpu", "gpu")))

    plain = resolve_variants(config, git=GitRef(), version=None)
    named = resolve_variants(config, git=GitRef(), version=None, only=("gpu",))

    assert [v.name for v in plain] == ["cpu"]
    assert [v.name for v in named] == ["gpu"]


def test_every_variant_on_request_skips_a_plain_run_saying_so(tmp_path):
    tool = "[tool.shipyard.docker.variants.gpu]\non-request = true\n"
    config = config_mod.load(project(tmp_path, tool, dockerfiles=("gpu",)))

    result = run_docker(config, git=GitRef(sha=SHA, branch="main"), env={})

    assert result.status is Status.SKIPPED
    assert "on-request" in result.reason
    assert "nox -s docker -- NAME" in result.reason


def test_images_of_another_python_are_refused_before_any_build(tmp_path):
    tool = '[tool.shipyard.docker]\npython = "3.99"\n'
    config = config_mod.load(project(tmp_path, tool, dockerfiles=("cpu",)))

    with pytest.raises(ConfigError) as caught:
        run_docker(config, git=GitRef(sha=SHA, branch="main"), python_version="3.11", env={})

    assert caught.value.key == "tool.shipyard.docker.python"
    assert "the images run Python 3.99" in str(caught.value)
    assert "this runs 3.11" in str(caught.value)


def test_docker_python_must_be_a_minor_version(tmp_path):
    with pytest.raises(ConfigError, match=r"tool.shipyard.docker.python.*like '3.11'"):
        config_mod.load(project(tmp_path, '[tool.shipyard.docker]\npython = "3"\n'))


def test_no_tags_at_all_falls_back_to_dev_never_latest(tmp_path):
    config = config_mod.load(project(tmp_path, dockerfiles=("cpu",)))
    (variant,) = resolve_variants(config, git=GitRef(), version=None)
    assert variant.tags == ("dev",)


# -- where the build comes from ------------------------------------------------------------


def test_git_ref_reads_a_github_pull_request():
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": SHA,
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REF": "refs/pull/42/merge",
        "GITHUB_HEAD_REF": "feature/x",
    }
    assert git_ref(Path(), env) == GitRef(sha=SHA, branch="feature/x", pr=42)


def test_git_ref_reads_a_github_branch_push():
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": SHA,
        "GITHUB_REF_TYPE": "branch",
        "GITHUB_REF_NAME": "main",
    }
    assert git_ref(Path(), env) == GitRef(sha=SHA, branch="main", pr=None)


def test_git_ref_and_source_read_a_local_repository(git_repo):
    (git_repo / "f").write_text("x", encoding="utf-8")
    for argv in (
        ["git", "add", "f"],
        ["git", "commit", "-qm", "x"],
        ["git", "remote", "add", "origin", "https://user:s3cret-token@example.invalid/o/r.git"],
    ):
        subprocess.run(argv, cwd=git_repo, check=True)

    ref = git_ref(git_repo, {})

    assert ref.branch == "main"
    assert ref.sha is not None
    assert len(ref.sha) == 40
    # The remote's credentials never reach a label.
    assert source_url(git_repo, {}) == "https://example.invalid/o/r.git"


def test_oci_labels_follow_source_date_epoch():
    env = {"SOURCE_DATE_EPOCH": "1700000000", "GITHUB_REPOSITORY": "o/r"}
    labels = oci_labels(root=Path(), git=GitRef(sha=SHA), version="1.2.0", title="tool", env=env)
    assert labels == {
        "org.opencontainers.image.title": "tool",
        "org.opencontainers.image.created": "2023-11-14T22:13:20+00:00",
        "org.opencontainers.image.source": "https://github.com/o/r",
        "org.opencontainers.image.revision": SHA,
        "org.opencontainers.image.version": "1.2.0",
    }


# -- checks ---------------------------------------------------------------------------------


def test_size_over_budget_gives_both_numbers_and_the_change():
    finding = verify.check_size("cpu", 16_204_000, budget_mb=Decimal(15), previous=15_000_000)
    assert finding.severity is Severity.HIGH
    assert finding.message == (
        "16.20 MB is over its budget of 15 MB by 1.20 MB, +1.20 MB against the previous image"
    )
    assert finding.extra == {"size_mb": "16.20", "budget_mb": "15", "delta_mb": "1.20"}


def test_size_within_budget_and_without_one():
    within = verify.check_size("cpu", 9_990_000, budget_mb=Decimal(10), previous=None)
    assert within.severity is Severity.INFO
    assert within.message == "9.99 MB, within its budget of 10 MB"
    unbudgeted = verify.check_size("cpu", 9_990_000, budget_mb=None, previous=10_000_000)
    assert unbudgeted.message == "9.99 MB (no size budget set), -0.01 MB against the previous image"
    # Findings are written as JSON with the stage result.
    assert json.loads(json.dumps(unbudgeted.to_json()))["extra"]["delta_mb"] == "-0.01"


@pytest.mark.parametrize(
    ("user", "expected", "ok"),
    [
        ("65534:65534", "non-root", True),
        ("app", "non-root", True),
        ("", "non-root", False),
        (None, "non-root", False),
        ("0", "non-root", False),
        ("root:root", "non-root", False),
        ("0:0", "non-root", False),
        ("", "any", True),
        ("app", "app", True),
        ("app:staff", "app", True),
        ("65534", "app", False),
    ],
)
def test_user_expectations(user, expected, ok):
    finding = verify.check_user("cpu", user, expected=expected)
    assert (finding.severity is Severity.INFO) is ok
    if not user:
        assert "root (no USER set)" in finding.message


def test_health_deadline_comes_from_the_healthcheck():
    second = 1_000_000_000
    check = ContainerHealthCheck(
        test=["CMD", "x"], interval=2 * second, timeout=3 * second, retries=2, start_period=second
    )
    assert verify.health_deadline(check) == 1 + 3 * (2 + 3) + 5
    assert verify.health_deadline(ContainerHealthCheck(test=["CMD", "x"])) == 4 * 60 + 5
    assert verify.health_deadline(ContainerHealthCheck(test=["NONE"])) is None
    assert verify.health_deadline(None) is None


# -- pushing --------------------------------------------------------------------------------


def test_retry_backs_off_then_gives_up_with_the_last_error():
    calls, sleeps, retried = [], [], []

    def failing() -> None:
        calls.append(1)
        raise DockerException(["docker", "push", "x"], 1, b"", b"connection refused")

    with pytest.raises(DockerException, match="connection refused"):
        retry(failing, attempts=3, sleep=sleeps.append, on_retry=lambda n, _: retried.append(n))
    assert len(calls) == 3
    assert sleeps == [1.0, 2.0]
    assert retried == [1, 2]


def test_retry_returns_once_the_action_succeeds():
    outcomes = iter([DockerException(["docker"], 1), "pushed"])

    def flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    sleeps: list[float] = []
    assert retry(flaky, attempts=3, sleep=sleeps.append) == "pushed"
    assert sleeps == [1.0]


@pytest.mark.parametrize(
    ("registry", "host", "insecure"),
    [
        ("127.0.0.1:5000", "127.0.0.1:5000", True),
        ("localhost:5000/ns", "localhost:5000", True),
        ("ghcr.io/Org", "ghcr.io", False),
        ("myorg", "docker.io", False),
        ("10.0.0.5:5000", "10.0.0.5:5000", False),
    ],
)
def test_registry_host_and_plain_http_only_on_loopback(registry, host, insecure):
    assert registry_host(registry) == host
    assert insecure_registry(host) is insecure


def test_credentials_come_from_the_environment_most_specific_first():
    env = {
        "SHIPYARD_DOCKER_GHCR_IO_USERNAME": "bot",
        "SHIPYARD_DOCKER_GHCR_IO_PASSWORD": "p1",
        "SHIPYARD_DOCKER_USERNAME": "any",
        "SHIPYARD_DOCKER_PASSWORD": "p2",
        "GITHUB_ACTOR": "octo",
        "GITHUB_TOKEN": "p3",
    }
    assert credentials("ghcr.io", env) == ("bot", "p1")
    assert credentials("quay.io", env) == ("any", "p2")
    assert credentials("ghcr.io", {"GITHUB_ACTOR": "octo", "GITHUB_TOKEN": "p3"}) == ("octo", "p3")
    assert credentials("quay.io", {"GITHUB_ACTOR": "octo", "GITHUB_TOKEN": "p3"}) is None
    assert credentials("127.0.0.1:5000", {"SHIPYARD_DOCKER_USERNAME": "only-user"}) is None


# -- wheels ---------------------------------------------------------------------------------


def wheelhouse(root: Path) -> Path:
    root.mkdir()
    for name in (
        "pip-24.0-py3-none-any.whl",
        "My_Tool-1.2.0-py3-none-any.whl",
        "mypy-1.10.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
        "typing_extensions-4.12.0-py3-none-any.whl",
    ):
        (root / name).write_bytes(b"")
    return root


def test_pinned_requirements_pin_every_wheel_but_pip(tmp_path):
    assert pinned_requirements(wheelhouse(tmp_path / "w")) == (
        "my-tool==1.2.0\nmypy==1.10.0\ntyping-extensions==4.12.0\n"
    )


def test_foreign_platform_download_refetches_binary_wheels_only(tmp_path):
    wheels = wheelhouse(tmp_path / "w")

    argv = foreign_wheel_argv("py", wheels, platform="linux/arm64", python_version="3.11")

    assert argv[:5] == ["py", "-m", "pip", "download", "--quiet"]
    assert "--only-binary=:all:" in argv
    assert argv[argv.index("--python-version") + 1] == "3.11"
    platforms = [argv[i + 1] for i, a in enumerate(argv) if a == "--platform"]
    assert "manylinux2014_aarch64" in platforms
    assert "manylinux_2_36_aarch64" in platforms
    assert all(p.endswith("_aarch64") for p in platforms)
    assert "mypy==1.10.0" in argv
    assert str(wheels / "My_Tool-1.2.0-py3-none-any.whl") in argv
    assert str(wheels / "pip-24.0-py3-none-any.whl") in argv  # pure: serves every platform
    assert "pip==24.0" not in argv


def test_buildx_cache_specs_become_buildx_mappings():
    assert _cache_spec("type=registry,ref=ghcr.io/o/cache,mode=max") == {
        "type": "registry",
        "ref": "ghcr.io/o/cache",
        "mode": "max",
    }

from __future__ import annotations

import re

import pytest

from shipyard.errors import ConfigError
from shipyard.stages.docker.tags import GitRef, expand_tags, floating_tags, image_ref

# The OCI distribution spec's grammar, used as an independent check of every result.
OCI_PATH = re.compile(
    r"[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*"
)
OCI_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")


@pytest.mark.parametrize(
    ("name", "variant", "tag", "registry", "expected"),
    [
        ("My_Org/Tool", "minimal", "1.2.0+build.5", None, "my_org/tool-minimal:1.2.0-build.5"),
        ("shipyard", "cpu", "sha-0123456789ab", None, "shipyard-cpu:sha-0123456789ab"),
        ("shipyard", None, "latest", "ghcr.io/Shipyard-CI", "ghcr.io/shipyard-ci/shipyard:latest"),
        ("tool", "gpu", "x", "127.0.0.1:5000", "127.0.0.1:5000/tool-gpu:x"),
        ("tool", "gpu", "x", "LocalHost:5000/", "localhost:5000/tool-gpu:x"),
        ("tool", None, "x", "team/sub", "team/sub/tool:x"),
        ("My Tool!", None, "v1", None, "my-tool:v1"),
        ("--weird..name__", None, "v1", None, "weird-name:v1"),
        ("a___b", None, "v1", None, "a-b:v1"),
        ("a__b.c-d", None, "v1", None, "a__b.c-d:v1"),
        ("a--b", None, "v1", None, "a--b:v1"),
        ("Org//Tool/", "Minimal", None, None, "org/tool-minimal"),
        ("tool", None, "feature/New+Thing", None, "tool:feature-New-Thing"),
        ("tool", None, ".hidden", None, "tool:hidden"),
        ("tool", None, "-dash", None, "tool:dash"),
        ("tool", None, "..--x", None, "tool:x"),
        ("tool", None, "ünïcode", None, "tool:n-code"),
        ("tool", None, "a" * 200, None, "tool:" + "a" * 128),
    ],
)
def test_image_ref_normalises(name, variant, tag, registry, expected):
    ref = image_ref(name, variant=variant, tag=tag, registry=registry)
    assert ref == expected
    path, _, tail = ref.rpartition(":") if tag is not None else (ref, "", "")
    if registry and ("." in registry or ":" in registry):
        path = path.split("/", 1)[1]
    assert OCI_PATH.fullmatch(path)
    if tag is not None:
        assert OCI_TAG.fullmatch(tail)


@pytest.mark.parametrize("name", ["", "///", "!!!", "._-"])
def test_empty_name_is_a_config_error(name):
    with pytest.raises(ConfigError, match=r"docker\.image.*no letters or digits"):
        image_ref(name, tag="x")


@pytest.mark.parametrize("tag", ["", "...", "+++", "---"])
def test_empty_tag_is_a_config_error(tag):
    with pytest.raises(ConfigError, match="no usable characters"):
        image_ref("tool", tag=tag)


def test_overlong_repository_is_a_config_error():
    with pytest.raises(ConfigError, match="at most 255"):
        image_ref("a" * 300, tag="x")


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        ("1.2.0", ("1.2", "1", "latest")),
        ("2.0.0", ("2.0", "2", "latest")),
        ("0.3.1", ("0.3", "latest")),  # no floating `0` for 0.x
        ("1.2.0rc1", ()),
        ("1.2.0-beta.2", ()),
        ("1.2.0.dev3", ()),
        ("1.2.0+build.5", ()),
        ("1.2.0.post1", ("1.2", "1", "latest")),
        ("not a version", ()),
        (None, ()),
    ],
)
def test_floating_tags_only_for_final_releases(version, expected):
    assert floating_tags(version) == expected


DEFAULT = ("{sha}", "{branch}", "{version}", "{floating}")
SHA = "0123456789abcdef0123456789abcdef01234567"


@pytest.mark.parametrize(
    ("git", "version", "expected"),
    [
        (
            GitRef(sha=SHA, branch="main"),
            "1.2.0",
            ("sha-0123456789ab", "main", "1.2.0", "1.2", "1", "latest"),
        ),
        (
            GitRef(sha=SHA, branch="main", pr=42),
            "1.2.0rc1",
            ("sha-0123456789ab", "pr-42", "1.2.0rc1"),
        ),
        (
            GitRef(sha=SHA, branch="feat/X+y"),
            "1.2.0+build.5",
            ("sha-0123456789ab", "feat-X-y", "1.2.0-build.5"),
        ),
        (GitRef(sha=SHA, branch="HEAD"), "0.1.0", ("sha-0123456789ab", "0.1.0", "0.1", "latest")),
        (GitRef(), None, ()),
        (GitRef(branch="1.2"), "1.2.0", ("1.2", "1.2.0", "1", "latest")),  # repeats collapse
    ],
)
def test_expand_default_templates(git, version, expected):
    assert expand_tags(DEFAULT, git=git, version=version) == expected


def test_expand_literal_and_combined_templates():
    git = GitRef(sha=SHA, branch="dev")
    tags = expand_tags(["edge", "{branch}-{sha}", "v{version}"], git=git, version=None)
    assert tags == ("edge", "dev-sha-0123456789ab")


def test_version_is_written_in_its_canonical_form():
    assert expand_tags(["{version}"], git=GitRef(), version="1.2.0-RC.1") == ("1.2.0rc1",)


@pytest.mark.parametrize(
    ("template", "message"),
    [("{tag}", r"unknown placeholder \{tag\}"), ("x-{floating}", "stands alone")],
)
def test_bad_templates_are_config_errors(template, message):
    with pytest.raises(ConfigError, match=message):
        expand_tags([template], git=GitRef(sha=SHA), version="1.0.0")

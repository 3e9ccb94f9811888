"""Build with the real `python -m build` and upload to a real pypiserver."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.release import PackageIndex, make_project, pypiserver
from shipyard.errors import ExitCode, GateFailed, Unreachable
from shipyard.release.build import SUMS_NAME, build, distributions
from shipyard.release.publish import UploadOutcome, index_url_for, upload

pytestmark = pytest.mark.slow


@pytest.fixture(autouse=True)
def _twine_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    # The index takes anyone (-a . -P .); twine still wants a name and a password.
    monkeypatch.setenv("TWINE_USERNAME", "shipyard")
    monkeypatch.setenv("TWINE_PASSWORD", "not-a-secret-here")


@pytest.fixture(scope="module")
def index() -> Iterator[PackageIndex]:
    with pypiserver() as server:
        yield server


@pytest.fixture(scope="module")
def dists(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    project = make_project(tmp_path_factory.mktemp("build"), version="1.2.0rc1")
    artifacts = build(
        project.root, project.root / "dist", name="demo", version="1.2.0rc1", isolation=False
    )
    return artifacts.files


def test_build_makes_sdist_wheel_and_sums(tmp_path: Path) -> None:
    project = make_project(tmp_path, version="2.0.0b1")
    dist = project.root / "dist"
    (dist).mkdir()
    (dist / "demo-1.0.0.tar.gz").write_bytes(b"an older release stays out of it")

    artifacts = build(project.root, dist, name="demo", version="2.0.0b1", isolation=False)
    assert [f.name for f in artifacts.files] == [
        "demo-2.0.0b1-py3-none-any.whl",
        "demo-2.0.0b1.tar.gz",
    ]
    assert artifacts.built
    lines = artifacts.sums.read_text().splitlines()
    assert lines == [
        f"{hashlib.sha256(f.read_bytes()).hexdigest()}  {f.name}" for f in artifacts.files
    ]
    assert artifacts.sums.name == SUMS_NAME
    assert not list(project.root.glob(".dist-build-*"))  # the staging folder is gone

    # A second run finds the files and does not rebuild them (their hashes may be public).
    stamp = [f.stat().st_mtime_ns for f in artifacts.files]
    again = build(project.root, dist, name="demo", version="2.0.0b1", isolation=False)
    assert not again.built
    assert [f.stat().st_mtime_ns for f in again.files] == stamp


def test_wheels_from_the_matrix_are_kept_and_only_the_sdist_is_built(tmp_path: Path) -> None:
    project = make_project(tmp_path, version="1.0.0")
    dist = project.root / "dist"
    dist.mkdir()
    matrix_wheel = dist / "demo-1.0.0-cp312-cp312-manylinux_2_28_x86_64.whl"
    matrix_wheel.write_bytes(b"built by cibuildwheel")
    with pytest.raises(GateFailed, match="twine check"):  # the fake wheel is not a zip
        build(project.root, dist, name="demo", version="1.0.0", isolation=False)
    assert sorted(p.name for p in dist.iterdir()) == [
        "demo-1.0.0-cp312-cp312-manylinux_2_28_x86_64.whl",
        "demo-1.0.0.tar.gz",
    ]
    assert matrix_wheel.read_bytes() == b"built by cibuildwheel"


def test_build_that_makes_another_version_fails_clearly(tmp_path: Path) -> None:
    project = make_project(tmp_path, version="1.0.0")
    with pytest.raises(GateFailed, match=r"no distribution of demo 9\.9\.9"):
        build(project.root, project.root / "dist", name="demo", version="9.9.9", isolation=False)


def test_upload_then_skip_what_is_there(index: PackageIndex, dists: tuple[Path, ...]) -> None:
    first = upload(dists, project="demo", repository_url=index.url)
    assert [u.outcome for u in first] == [UploadOutcome.UPLOADED] * 2
    assert index.files() == sorted(f.name for f in dists)

    seen: list[str] = []
    second = upload(dists, project="demo", repository_url=index.url, before_each=seen.append)
    assert [u.outcome for u in second] == [UploadOutcome.ALREADY_THERE] * 2
    assert seen == []  # twine never ran
    assert index.files() == sorted(f.name for f in dists)


def test_same_name_with_other_bytes_is_refused(
    index: PackageIndex, dists: tuple[Path, ...], tmp_path: Path
) -> None:
    upload(dists, project="demo", repository_url=index.url)
    impostor = tmp_path / dists[0].name
    impostor.write_bytes(dists[0].read_bytes() + b"\0")
    with pytest.raises(GateFailed, match=r"already on .* with another SHA256") as info:
        upload([impostor], project="demo", repository_url=index.url)
    assert info.value.code is ExitCode.GATE_FAILED


def test_unreachable_index(dists: tuple[Path, ...]) -> None:
    with pytest.raises(Unreachable, match="cannot read the package index"):
        upload(dists, project="demo", repository_url="http://127.0.0.1:9/")


def test_index_url_for() -> None:
    assert index_url_for("https://upload.pypi.org/legacy/") == "https://pypi.org/simple/"
    assert index_url_for("https://test.pypi.org/legacy") == "https://test.pypi.org/simple/"
    assert index_url_for("http://127.0.0.1:8080") == "http://127.0.0.1:8080/simple/"
    assert index_url_for("http://x/upload/", "http://x/+simple") == "http://x/+simple/"


def test_distributions_ignores_other_names_and_versions(tmp_path: Path) -> None:
    for name in ["demo-1.0.0.tar.gz", "demo-1.0.0-py3-none-any.whl", "demo-1.0.1.tar.gz"]:
        (tmp_path / name).write_bytes(b"")
    for name in ["demox-1.0.0.tar.gz", "notes.txt", "demo-1.0.0.tar.gz.asc"]:
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in distributions(tmp_path, "Demo", "1.0.0")] == [
        "demo-1.0.0-py3-none-any.whl",
        "demo-1.0.0.tar.gz",
    ]

"""The GitHub client against a local stand-in that checks every request."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.release import TOKEN, FakeGitHub, free_port
from shipyard.errors import ExitCode, Unreachable
from shipyard.release.github import GitHub, GitHubError, publish_release


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    with FakeGitHub() as server:
        yield server


@pytest.fixture
def files(tmp_path: Path) -> list[Path]:
    made = []
    for name, size in [("demo-1.0.0.tar.gz", 300), ("demo-1.0.0-py3-none-any.whl", 200)]:
        path = tmp_path / name
        path.write_bytes(b"x" * size)
        made.append(path)
    sums = tmp_path / "SHA256SUMS"
    sums.write_text("abc  demo-1.0.0.tar.gz\n")
    return [*made, sums]


def _client(fake: FakeGitHub, token: str = TOKEN) -> GitHub:
    return GitHub(fake.repository, token=token, api_url=fake.url)


def _publish(fake: FakeGitHub, files: list[Path], **kwargs: object):
    client = _client(fake)
    try:
        return publish_release(
            client,
            tag="v1.0.0",
            name="demo 1.0.0",
            body="### Added\n\n- x\n",
            files=files,
            prerelease=False,
            **kwargs,  # type: ignore[arg-type]
        )
    finally:
        client.close()


def test_creates_a_draft_attaches_files_then_publishes(fake: FakeGitHub, files: list[Path]) -> None:
    published = _publish(fake, files)
    assert fake.rejected == []
    release = fake.release("v1.0.0")
    assert release["draft"] is False
    assert release["body"] == "### Added\n\n- x\n"
    assert release["name"] == "demo 1.0.0"
    assert fake.asset_names(release["id"]) == sorted(f.name for f in files)
    assert [a["size"] for a in fake.assets] == [f.stat().st_size for f in files]
    assert published.created
    assert published.url == release["html_url"]
    # Draft first, files next, published last.
    calls = [(r.method, r.path.rsplit("/", 1)[-1]) for r in fake.requests]
    assert calls[0] == ("GET", "releases")
    assert calls[1] == ("POST", "releases")
    assert calls[-1][0] == "PATCH"
    assert fake.requests[1].status == 201


def test_second_run_changes_nothing(fake: FakeGitHub, files: list[Path]) -> None:
    _publish(fake, files)
    before = len(fake.requests)
    again = _publish(fake, files)
    methods = [r.method for r in fake.requests[before:]]
    assert methods == ["GET", "GET"]  # find the release, list its assets
    assert not again.created
    assert again.uploaded == ()
    assert len(again.skipped) == 3
    assert len(fake.releases) == 1
    assert len(fake.assets) == 3


def test_lost_answer_after_an_upload_is_finished_by_a_rerun(
    fake: FakeGitHub, files: list[Path]
) -> None:
    fake.fail_once("POST", r"/uploads/.*", status=502, after=True)
    with pytest.raises(GitHubError, match="502"):
        _publish(fake, files)
    assert fake.release("v1.0.0")["draft"] is True  # nobody saw a release without files
    _publish(fake, files)
    assert len(fake.releases) == 1
    assert sorted(a["name"] for a in fake.assets) == sorted(f.name for f in files)
    assert fake.release("v1.0.0")["draft"] is False


def test_broken_asset_from_an_earlier_run_is_replaced(fake: FakeGitHub, files: list[Path]) -> None:
    _publish(fake, files)
    fake.assets[0]["state"] = "new"  # an upload that never completed
    fake.assets[1]["size"] = 1  # or one that holds other bytes
    again = _publish(fake, files)
    assert sorted(again.uploaded) == sorted(f.name for f in files[:2])
    assert len(fake.assets) == 3
    assert all(a["state"] == "uploaded" for a in fake.assets)
    assert fake.rejected == []


def test_release_is_found_on_a_later_page(fake: FakeGitHub, files: list[Path]) -> None:
    client = _client(fake)
    target = client.create_release(tag="v1.0.0", name="old", body="", prerelease=False)
    for number in range(120):
        client.create_release(tag=f"v0.0.{number}", name="", body="", prerelease=False)
    found = client.find_release("v1.0.0")
    client.close()
    assert found is not None
    assert found["id"] == target["id"]
    assert {r.query.get("page") for r in fake.requests if r.method == "GET"} == {"1", "2"}


def test_wrong_token_is_refused_and_never_shown(
    fake: FakeGitHub, files: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "ghp_wrongWRONGwrong1234"
    monkeypatch.setenv("GITHUB_TOKEN", secret)
    client = _client(fake, token=secret)
    with pytest.raises(GitHubError) as info:
        publish_release(client, tag="v1", name="", body="", files=files, prerelease=False)
    assert "401" in str(info.value)
    assert "Bad credentials" in str(info.value)
    assert secret not in str(info.value)
    assert secret not in repr(client)
    assert info.value.code is ExitCode.GATE_FAILED
    assert fake.rejected == ["GET /repos/octo/demo/releases: Bad credentials"]


def test_unreachable_api(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_API_URL", f"http://127.0.0.1:{free_port()}")
    client = GitHub("octo/demo", token=TOKEN)
    with pytest.raises(Unreachable) as info:
        client.find_release("v1")
    assert TOKEN not in str(info.value)
    assert info.value.code is ExitCode.UNREACHABLE

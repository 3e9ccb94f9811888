from __future__ import annotations

import pytest

from shipyard.release.github import content_type, repository_from_url, valid_repository, web_url
from shipyard.release.secrets import redact


@pytest.mark.parametrize(
    ("url", "repository", "web"),
    [
        ("https://github.com/octo/demo.git", "octo/demo", "https://github.com/octo/demo"),
        ("https://github.com/octo/demo", "octo/demo", "https://github.com/octo/demo"),
        ("https://x-access-token:t@github.com/o/r.git", "o/r", "https://github.com/o/r"),
        ("git@github.com:octo/demo.git", "octo/demo", "https://github.com/octo/demo"),
        (
            "ssh://git@ghe.example.com:2222/team/tool.git",
            "team/tool",
            "https://ghe.example.com/team/tool",
        ),
        ("/srv/git/demo.git", None, None),
        ("file:///srv/git/demo.git", None, None),
        ("../demo-origin.git", None, None),
    ],
)
def test_remote_urls(url: str, repository: str | None, web: str | None) -> None:
    assert repository_from_url(url) == repository
    assert web_url(url) == web


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("demo-1.0.0.tar.gz", "application/gzip"),
        ("demo-1.0.0-py3-none-any.whl", "application/zip"),
        ("SHA256SUMS", "text/plain"),
        ("demo.sig", "application/octet-stream"),
    ],
)
def test_asset_content_types(name: str, kind: str) -> None:
    assert content_type(name) == kind


def test_redact_hides_every_secret_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GH_TOKEN", "ghp_abcdef")
    monkeypatch.setenv("TWINE_PASSWORD", "pypi-AgEIcHlwaS5vcmc")
    text = "auth ghp_abcdef failed; password pypi-AgEIcHlwaS5vcmc; extra s3cret!"
    assert redact(text, "s3cret!") == "auth *** failed; password ***; extra ***"
    assert redact("x y", "x") == "x y"  # too short to hide without mangling text


@pytest.mark.parametrize(
    ("name", "valid"),
    [
        ("octo/demo", True),
        ("octo-org/my.repo_2", True),
        ("not a repo", False),
        ("octo/", False),
        ("octo", False),
        ("-octo/demo", False),
        ("octo/demo/extra", False),
        ("octo/..", False),
        ("octo_org/demo", False),
    ],
)
def test_valid_repository_follows_githubs_rules(name: str, valid: bool) -> None:
    assert valid_repository(name) is valid

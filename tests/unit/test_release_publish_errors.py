"""What a failed upload says: twine's output cut to one line, the index unreachable as
exit 6, and missing credentials named before twine tries trusted publishing."""

from __future__ import annotations

import pytest

from shipyard.errors import ExitCode, GateFailed, Unreachable
from shipyard.release.publish import credentials_problem, twine_failure

# The end of what twine 6 prints when upload.pypi.org cannot be resolved (a traceback).
RESOLVE_TRACEBACK = """\
Uploading distributions to https://upload.pypi.org/legacy/
Uploading p1pkg-0.1.0-py3-none-any.whl
WARNING  Retrying (Retry(total=9, connect=4, read=None, redirect=None,
         status=None)) after connection broken by
         'NameResolutionError("HTTPSConnection(host='upload.pypi.org',
         port=443): Failed to resolve 'upload.pypi.org' ([Errno -2] Name or
         service not known)")': /legacy/
Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/urllib3/connection.py", line 239, in _new_conn
    sock = connection.create_connection(
socket.gaierror: [Errno -2] Name or service not known

The above exception was the direct cause of the following exception:

Traceback (most recent call last):
  File "/venv/lib/python3.11/site-packages/requests/sessions.py", line 784, in send
    r = adapter.send(request, **kwargs)
        ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^
  File "/venv/lib/python3.11/site-packages/requests/adapters.py", line 729, in send
    raise ConnectionError(e, request=request)
requests.exceptions.ConnectionError: HTTPSConnectionPool(host='upload.pypi.org', port=443): \
Max retries exceeded with url: /legacy/ (Caused by NameResolutionError("HTTPSConnection(\
host='upload.pypi.org', port=443): Failed to resolve 'upload.pypi.org' ([Errno -2] Name or \
service not known)"))
"""

REFUSED = """\
requests.exceptions.ConnectionError: HTTPConnectionPool(host='127.0.0.1', port=9): Max \
retries exceeded with url: /legacy/ (Caused by NewConnectionError("HTTPConnection(\
host='127.0.0.1', port=9): Failed to establish a new connection: [Errno 111] Connection \
refused"))
"""

# twine's own error, wrapped by rich over indented lines.
FORBIDDEN = """\
Uploading distributions to http://127.0.0.1:8080/
Uploading demo-1.0.0.tar.gz
ERROR    HTTPError: 403 Forbidden from http://127.0.0.1:8080/
         Invalid or non-existent authentication information. See
         https://test.pypi.org/help/#invalid-auth for more information.
"""


def test_unresolvable_index_is_unreachable_in_one_line() -> None:
    error = twine_failure(
        RESOLVE_TRACEBACK,
        file="p1pkg-0.1.0-py3-none-any.whl",
        repository_url="https://upload.pypi.org/legacy/",
    )
    assert isinstance(error, Unreachable)
    assert error.code is ExitCode.UNREACHABLE
    assert str(error) == (
        "cannot reach https://upload.pypi.org/legacy/ to upload p1pkg-0.1.0-py3-none-any.whl: "
        "Failed to resolve 'upload.pypi.org' ([Errno -2] Name or service not known)"
    )


def test_refused_connection_is_unreachable() -> None:
    error = twine_failure(REFUSED, file="a.whl", repository_url="http://127.0.0.1:9/legacy/")
    assert isinstance(error, Unreachable)
    assert str(error).endswith(": [Errno 111] Connection refused")


def test_other_failures_keep_twines_last_words_on_one_line() -> None:
    error = twine_failure(FORBIDDEN, file="demo-1.0.0.tar.gz", repository_url="http://x/")
    assert isinstance(error, GateFailed)
    assert str(error) == (
        "twine could not upload demo-1.0.0.tar.gz to http://x/: HTTPError: 403 Forbidden from "
        "http://127.0.0.1:8080/ Invalid or non-existent authentication information. See "
        "https://test.pypi.org/help/#invalid-auth for more information."
    )
    down = twine_failure(
        "ERROR    HTTPError: 503 Service Unavailable from http://x/\n",
        file="f",
        repository_url="http://x/",
    )
    assert isinstance(down, Unreachable)


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("TWINE_USERNAME", "TWINE_PASSWORD", "ACTIONS_ID_TOKEN_REQUEST_URL",
                 "ACTIONS_ID_TOKEN_REQUEST_TOKEN"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyring.backends.null.Keyring")


@pytest.mark.usefixtures("no_credentials")
def test_no_credentials_is_said(monkeypatch: pytest.MonkeyPatch) -> None:
    problem = credentials_problem("https://upload.pypi.org/legacy/")
    assert problem is not None
    assert problem.startswith("no credentials to upload to https://upload.pypi.org/legacy/")
    assert "TWINE_PASSWORD" in problem
    assert "trusted publishing" in problem

    monkeypatch.setenv("TWINE_PASSWORD", "pypi-token")
    assert credentials_problem("https://upload.pypi.org/legacy/") is None


@pytest.mark.usefixtures("no_credentials")
def test_trusted_publishing_counts_on_ci_with_an_id_token_and_for_pypi_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_URL", "https://token.actions.example/")
    monkeypatch.setenv("ACTIONS_ID_TOKEN_REQUEST_TOKEN", "x")
    assert credentials_problem("https://upload.pypi.org/legacy/") is None
    assert credentials_problem("http://127.0.0.1:8080/") is not None
    assert credentials_problem("http://me:secret@127.0.0.1:8080/") is None

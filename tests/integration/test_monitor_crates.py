"""Cargo.toml freshness against a local crates index speaking the sparse protocol.

crates.io's index is unreachable here: a local server serves the same files
(`config.json`, `2/ab`, `3/s/syn`, `ra/nd/rand`...) and checks every request.
"""

from __future__ import annotations

import datetime as dt
import json
import socket
import textwrap
from pathlib import Path

import httpx
import pytest

from helpers.servers import Reply, Request, Server
from shipyard import config
from shipyard.errors import Unreachable
from shipyard.monitor import crates
from shipyard.monitor.freshness import check_freshness
from shipyard.report import Status

NOW = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)

#: crate -> (version, days since publication or None, yanked)
CRATES: dict[str, list[tuple[str, float | None, bool]]] = {
    "rand": [
        ("0.8.4", 500, False),
        ("0.8.5", 300, False),
        ("0.9.0-beta.1", 90, False),
        ("0.9.0", 60, False),
        ("0.9.1", 30, True),
        ("0.9.2", 2, False),
    ],
    "serde": [("1.0.190", None, False), ("1.0.191", None, True), ("1.1.0-alpha.1", None, False)],
    "ab": [("0.1.0", 400, False), ("0.2.0", 100, False)],
}


class SparseIndex(Server):
    """A crates index under `/index/`: config.json and one file per crate, GET only."""

    def handle(self, request: Request) -> Reply:
        if request.method != "GET":
            return self.reject(request, "the sparse protocol only GETs", 405)
        if not request.headers.get("user-agent", "").startswith("shipyard/"):
            return self.reject(request, "no shipyard User-Agent")
        if request.path == "/index/config.json":
            return 200, {"Content-Type": "application/json"}, b'{"dl": "http://x.invalid/dl"}'
        for name, versions in CRATES.items():
            if request.path == f"/index/{crates.index_path(name)}":
                return 200, {"Content-Type": "text/plain"}, self._file(name, versions)
        return 404, {"Content-Type": "text/plain"}, b"not found"

    @staticmethod
    def _file(name: str, versions: list[tuple[str, float | None, bool]]) -> bytes:
        lines = []
        for version, days, yanked in versions:
            entry = {"name": name, "vers": version, "deps": [], "cksum": "0" * 64}
            entry |= {"features": {}, "yanked": yanked, "v": 2}
            if days is not None:
                entry["pubtime"] = (NOW - dt.timedelta(days=days)).isoformat()
            lines.append(json.dumps(entry))
        return ("\n".join(lines) + "\n").encode()


@pytest.fixture
def index() -> SparseIndex:
    with SparseIndex() as server:
        yield server


CARGO_TOML = """
[package]
name = "app"
version = "0.1.0"
edition = "2021"

[dependencies]
rand = "0.8"
serde = {{ version = "1.0", features = ["derive"] }}
ab = "=0.1.0"
missing-crate = "1"
local = {{ path = "../local" }}

[package.metadata.shipyard.monitor]
crates-index-url = "sparse+{url}/index/"
"""

CARGO_LOCK = """
version = 4

[[package]]
name = "rand"
version = "0.8.4"
source = "registry+https://github.com/rust-lang/crates.io-index"
"""


def crate(root: Path, url: str) -> Path:
    root.mkdir()
    (root / "Cargo.toml").write_text(textwrap.dedent(CARGO_TOML.format(url=url)))
    (root / "Cargo.lock").write_text(textwrap.dedent(CARGO_LOCK))
    return root


def test_cargo_toml_dependencies_are_compared_with_the_sparse_index(
    tmp_path: Path, index: SparseIndex
) -> None:
    root = crate(tmp_path / "app", index.url)
    with httpx.Client() as client:
        result, items = check_freshness(config.load(root), client=client, now=NOW)

    assert index.errors == []
    # One GET per crate, at its sparse path; the path dependency is not looked up.
    assert sorted(r.path for r in index.requests) == [
        "/index/2/ab",
        "/index/mi/ss/missing-crate",
        "/index/ra/nd/rand",
        "/index/se/rd/serde",
    ]
    by_name = {item.dependency.name: item for item in items}
    rand = by_name["rand"]
    # Cargo.lock's 0.8.4; 0.9.1 is yanked, 0.9.2 inside the cooldown, the beta never proposed.
    assert (str(rand.current), str(rand.proposal), rand.behind) == ("0.8.4", "0.9.0", "major")
    assert rand.new_requirement == "0.9"
    assert [str(v) for v in rand.in_cooldown] == ["0.9.2"]
    assert by_name["serde"].proposal is None  # 1.0.191 yanked, 1.1.0-alpha.1 a pre-release
    ab = by_name["ab"]
    assert (str(ab.proposal), ab.new_requirement) == ("0.2.0", "=0.2.0")

    assert result.status is Status.WARNED
    majors = sorted(f.message for f in result.findings if f.rule == "freshness.major")
    assert majors == [
        "ab 0.1.0 -> 0.2.0 (major, 100 days old); requirement becomes '=0.2.0'",
        (
            "rand 0.8.4 -> 0.9.0 (major, 60 days old); 0.9.2 inside the 7-day cooldown; "
            "requirement becomes '0.9'"
        ),
    ]
    (lookup,) = [f for f in result.findings if f.rule == "freshness.lookup"]
    assert lookup.path == "Cargo.toml"
    assert "missing-crate: not found on the crates index" in lookup.message
    assert "dependencies.missing-crate" in lookup.message
    assert result.metrics["freshness.dependencies"] == 4
    assert result.metrics["freshness.outdated"] == 2


def test_the_probe_reads_config_json_and_an_unreachable_index_says_so(
    tmp_path: Path, index: SparseIndex
) -> None:
    with httpx.Client() as client:
        crates.SparseIndex(f"sparse+{index.url}/index/", client=client).probe()
        assert [r.path for r in index.requests] == ["/index/config.json"]
        with socket.socket() as free:  # a port nobody listens on
            free.bind(("127.0.0.1", 0))
            port = free.getsockname()[1]
        closed = crates.SparseIndex(f"http://127.0.0.1:{port}/index/", client=client)
        unreachable = r"the crates index at 127\.0\.0\.1 cannot be reached"
        with pytest.raises(Unreachable, match=unreachable):
            closed.probe()

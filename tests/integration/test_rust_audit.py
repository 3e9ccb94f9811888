"""The audit stage on Cargo projects: Cargo.lock against OSV advisories, crate licences.

The crates.io dependencies are vendored beside each crate (source replacement), so
cargo writes a real Cargo.lock naming them as crates.io packages without a network.
The OSV API is a local HTTP server that checks every request it receives.
"""

from __future__ import annotations

import json
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers.rust import apply_cargo_env, cargo_toml, needs_cargo, write_vendored_crate
from helpers.servers import OsvApi
from shipyard import config
from shipyard.report import Severity, Status
from shipyard.stages.audit import run_audit
from shipyard.tools import ToolEnv

pytestmark = [pytest.mark.slow, needs_cargo]

RUSTSEC = "RUSTSEC-2099-0001"
ADVISORY = {
    "id": RUSTSEC,
    "aliases": ["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"],
    "summary": "smallthing reads past the end of a buffer",
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"}],
    "affected": [
        {
            "package": {"name": "smallthing", "ecosystem": "crates.io"},
            "ranges": [
                {
                    "type": "SEMVER",
                    "events": [{"introduced": "0"}, {"fixed": "1.2.4"}, {"introduced": "2.0.0"}],
                }
            ],
        }
    ],
}
#: A PyPI advisory on a package of the tool environment: a Cargo project must not see it.
PYPI_ADVISORY = {
    "id": "PYSEC-2099-1",
    "affected": [
        {
            "package": {"name": "pip", "ecosystem": "PyPI"},
            "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
        }
    ],
}


@pytest.fixture(autouse=True)
def _offline_cargo(monkeypatch: pytest.MonkeyPatch, tmp_path_factory: pytest.TempPathFactory):
    apply_cargo_env(monkeypatch, tmp_path_factory.getbasetemp() / "cargo-target")


def audit_table(extra: str) -> str:
    return cargo_toml(
        extra='[dependencies]\nsmallthing = "=1.2.3"\nfine = "=0.4.0"\n\n'
        f"[package.metadata.shipyard.audit]\n{extra}"
    )


def crate(root: Path, audit: str) -> Path:
    deps = {"smallthing": ("1.2.3", "MIT OR Apache-2.0"), "fine": ("0.4.0", "GPL-3.0-only")}
    return write_vendored_crate(root, deps, {"Cargo.toml": audit_table(audit)})


def test_a_locked_crate_in_an_offline_advisory_is_one_finding_with_its_fix(tmp_path: Path) -> None:
    root = crate(tmp_path / "app", 'checks = ["vulns", "licenses", "sbom"]\nadvisory-db = "osv"\n')
    (root / "osv/crates/smallthing").mkdir(parents=True)
    (root / f"osv/crates/smallthing/{RUSTSEC}.json").write_text(json.dumps(ADVISORY))
    (root / "osv/PYSEC-2099-1.json").write_text(json.dumps(PYPI_ADVISORY))
    assert (
        'name = "smallthing"\nversion = "1.2.3"\nsource = "registry+'
        in (root / "Cargo.lock").read_text()
    )

    result = run_audit(config.load(root), tool_env=ToolEnv())

    (vuln,) = [f for f in result.findings if f.tool == "advisory-db"]
    assert (vuln.rule, vuln.path, vuln.severity) == (RUSTSEC, "Cargo.lock", Severity.HIGH)
    assert vuln.extra["fixed_versions"] == ["1.2.4"]
    assert (vuln.extra["package"], vuln.extra["version"]) == ("smallthing", "1.2.3")
    assert sorted(vuln.extra["aliases"]) == ["CVE-2099-0001", "GHSA-aaaa-bbbb-cccc"]
    # The licence of every linked crate, from `cargo metadata`, through the same policy.
    (licence,) = [f for f in result.findings if f.tool == "licenses"]
    assert licence.rule == "license/denied"
    assert licence.message.startswith("fine 0.4.0: licence GPL-3.0-only from Cargo.toml of fine")
    assert result.metrics["licenses.packages"] == 2
    # Only Cargo.lock was audited: not the Python tool environment running the audit.
    assert result.metrics["vulns.audited"] == 2
    assert result.status is Status.FAILED
    assert "denied licence(s): fine" in result.reason
    assert "sbom skipped: cyclonedx-py describes Python projects" in result.reason
    assert not (root / ".shipyard/reports/audit/sbom.cdx.json").exists()


def test_a_fixed_crate_passes_and_the_sbom_skip_stays_visible(tmp_path: Path) -> None:
    root = crate(tmp_path / "fixed", 'checks = ["vulns", "sbom"]\nadvisory-db = "osv"\n')
    (root / "osv").mkdir()
    (root / "osv/advisory.json").write_text(
        json.dumps(ADVISORY).replace('"fixed": "1.2.4"', '"fixed": "1.2.3"')
    )
    result = run_audit(config.load(root), tool_env=ToolEnv())
    assert result.status is Status.PASSED
    assert result.findings == []
    assert result.reason.startswith("sbom skipped: ")


# -- online: the OSV API ------------------------------------------------------------------


@pytest.fixture
def osv() -> Iterator[OsvApi]:
    with OsvApi("crates.io", lambda name, _: [ADVISORY] if name == "smallthing" else []) as server:
        yield server


def test_online_the_osv_api_is_asked_about_each_locked_crate(tmp_path: Path, osv: OsvApi) -> None:
    root = crate(tmp_path / "online", f'checks = ["vulns"]\nosv-url = "{osv.query_url}"\n')

    result = run_audit(config.load(root), tool_env=ToolEnv())

    (vuln,) = result.findings
    assert (vuln.rule, vuln.tool, vuln.extra["fixed_versions"]) == (RUSTSEC, "osv", ["1.2.4"])
    assert osv.errors == []
    assert sorted((q["package"]["name"], q["version"]) for q in osv.queries) == [
        ("fine", "0.4.0"),
        ("smallthing", "1.2.3"),
    ]
    assert result.status is Status.FAILED


def test_online_an_unreachable_osv_api_names_the_offline_way(tmp_path: Path) -> None:
    with socket.socket() as free:  # a port nobody listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    url = f"http://127.0.0.1:{port}/v1/query"
    root = crate(tmp_path / "offline", f'checks = ["vulns"]\nosv-url = "{url}"\n')

    result = run_audit(config.load(root), tool_env=ToolEnv())

    (failed,) = result.findings
    assert failed.rule == "audit/check-failed"
    assert re.search(r"could not be asked about .*set .*advisory-db", failed.message)
    assert result.status is Status.FAILED

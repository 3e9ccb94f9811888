"""The audit's OSV matcher for crates.io (SemVer ranges) and crate licences."""

from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import LicensePolicy
from shipyard.stages.audit import osv
from shipyard.stages.audit.licenses import Verdict, declared, judge
from shipyard.stages.audit.vulns import Pin, offline_findings
from shipyard.stages.toolchains.interface import PackageLicence


def crate_advisory(
    events: list[dict[str, str]],
    *,
    name: str = "small_thing",
    kind: str = "SEMVER",
    versions: tuple[str, ...] = (),
    advisory_id: str = "RUSTSEC-2099-0001",
) -> osv.Advisory:
    data = {
        "id": advisory_id,
        "aliases": ["CVE-2099-1"],
        "summary": "A flaw in small_thing",
        "affected": [
            {
                "package": {"name": name, "ecosystem": "crates.io"},
                "ranges": [{"type": kind, "events": events}],
                "versions": list(versions),
            },
            # The same name in another ecosystem must not match a crate.
            {
                "package": {"name": name, "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": [{"introduced": "0"}]}],
            },
        ],
    }
    parsed = osv.parse(data, Path("x.json"))
    assert parsed is not None
    return parsed


def crate_match(
    advisory: osv.Advisory, version: str, name: str = "small-thing"
) -> list[str] | None:
    parsed = osv.parse_version("crates.io", version)
    assert parsed is not None
    found = osv.match(advisory, name, parsed, ecosystem="crates.io")
    return None if found is None else [str(v) for v in found]


@pytest.mark.parametrize(
    ("version", "fixed"),
    [
        ("0.9.9", None),
        ("1.0.0", ["1.2.4"]),
        ("1.2.3", ["1.2.4"]),
        ("1.2.4", None),
        # SemVer precedence, which PEP 440 cannot express: alpha.2 < alpha.10 < beta.
        ("2.0.0-alpha.2", None),
        ("2.0.0-alpha.10", ["2.0.1"]),
        ("2.0.0-beta", ["2.0.1"]),
        ("2.0.0", ["2.0.1"]),
        ("2.0.1", None),
        ("10.0.0", None),
    ],
)
def test_semver_ranges_follow_semver_precedence(version: str, fixed: list[str] | None) -> None:
    advisory = crate_advisory(
        [
            {"introduced": "2.0.0-alpha.10"},
            {"fixed": "2.0.1"},
            {"introduced": "1.0.0"},
            {"fixed": "1.2.4"},
        ]
    )
    assert crate_match(advisory, version) == fixed


def test_introduced_zero_last_affected_and_listed_versions() -> None:
    advisory = crate_advisory(
        [{"introduced": "0"}, {"last_affected": "0.3.0"}], versions=("5.1.0",)
    )
    assert crate_match(advisory, "0.0.1") == []
    assert crate_match(advisory, "0.3.0") == []
    assert crate_match(advisory, "0.3.1") is None
    assert crate_match(advisory, "5.1.0") == []


def test_crate_names_ignore_case_and_dash_versus_underscore_but_not_ecosystem() -> None:
    advisory = crate_advisory([{"introduced": "0"}, {"fixed": "1.0.0"}], name="Small_Thing")
    assert crate_match(advisory, "0.1.0", name="small-thing") == ["1.0.0"]
    assert crate_match(advisory, "0.1.0", name="small_thing") == ["1.0.0"]
    assert crate_match(advisory, "0.1.0", name="smallthing") is None
    # The PyPI entry of the same record is matched only for PyPI pins.
    pypi = osv.parse_version("PyPI", "0.1.0")
    assert pypi is not None
    assert osv.match(advisory, "small-thing", pypi) == []


def test_ecosystem_ranges_of_crates_are_semver_too_and_git_ranges_are_ignored() -> None:
    advisory = crate_advisory([{"introduced": "0.1.0"}, {"fixed": "0.1.10"}], kind="ECOSYSTEM")
    assert crate_match(advisory, "0.1.9") == ["0.1.10"]  # 0.1.9 < 0.1.10, numerically
    git = crate_advisory([{"introduced": "0"}], kind="GIT")
    assert crate_match(git, "0.1.9") is None


def test_a_bad_semver_version_makes_the_advisory_malformed() -> None:
    with pytest.raises(osv.MalformedAdvisory, match="not a SemVer version"):
        crate_advisory([{"introduced": "0"}, {"fixed": "1.0.0.0.1"}])
    assert osv.parse_version("crates.io", "banana") is None
    assert str(osv.parse_version("crates.io", "1.2")) == "1.2.0"


def test_a_locked_crate_gives_one_finding_with_its_fix_and_aliases() -> None:
    advisory = crate_advisory([{"introduced": "0"}, {"fixed": "1.2.4"}])
    pin = Pin(name="small_thing", version="1.2.3", source="Cargo.lock", ecosystem="crates.io")
    (finding,) = offline_findings(pin, [advisory])
    assert finding.rule == "RUSTSEC-2099-0001"
    assert finding.path == "Cargo.lock"
    assert finding.extra["fixed_versions"] == ["1.2.4"]
    assert finding.extra["aliases"] == ["CVE-2099-1"]
    assert (finding.extra["package"], finding.extra["ecosystem"]) == ("small-thing", "crates.io")
    assert "small_thing 1.2.3: A flaw in small_thing (fixed in 1.2.4)" in finding.message
    # An unparsable locked version is not matched at all.
    assert offline_findings(Pin(name="small_thing", version="x", ecosystem="crates.io"), []) == []


def test_rustsec_ids_lead_over_ghsa_and_cve() -> None:
    assert osv.primary_id(["CVE-1", "GHSA-1", "RUSTSEC-2099-0001"]) == "RUSTSEC-2099-0001"


def test_crate_licences_are_judged_as_spdx_expressions() -> None:
    policy = LicensePolicy(allow=("MIT", "Apache-2.0"), deny=("GPL-*",))

    def verdict(expression: str | None) -> Verdict:
        licence = PackageLicence(name="c", version="1.0.0", expression=expression, source="x")
        return judge(declared(licence).expression, policy)

    assert verdict("MIT OR Apache-2.0") is Verdict.ALLOW
    assert verdict("GPL-3.0-only") is Verdict.DENY
    assert verdict("MIT AND GPL-3.0-only") is Verdict.DENY
    assert verdict(None) is Verdict.UNKNOWN
    raw = declared(PackageLicence(name="c", version="1", expression="Some Custom", source="x"))
    assert (raw.expression, raw.raw) == (None, "Some Custom")

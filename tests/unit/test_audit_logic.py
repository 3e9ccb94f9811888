"""The audit's own logic: OSV ranges, CVSS, licence expressions, suppressions, gate, SARIF."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import jsonschema
import pytest
from packaging.version import Version

from shipyard import config
from shipyard.config import LicensePolicy, Suppression
from shipyard.errors import ConfigError
from shipyard.report import Finding, Severity, Status
from shipyard.stages.audit import gate, osv, suppress
from shipyard.stages.audit.interface import (
    CheckReport,
    Distribution,
    Rule,
    ToolFailed,
    failure,
    note,
)
from shipyard.stages.audit.licenses import Verdict, judge, license_of, runtime_closure
from shipyard.stages.audit.sarif import to_sarif
from shipyard.stages.audit.sbom import _one_root
from shipyard.stages.audit.vulns import read_pins

SCHEMA = Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json"


# -- OSV ranges and CVSS ------------------------------------------------------------------


def advisory(events: list[dict[str, str]], *, versions: tuple[str, ...] = ()) -> osv.Advisory:
    data = {
        "id": "PYSEC-1",
        "affected": [
            {
                "package": {"name": "Demo_Pkg", "ecosystem": "PyPI"},
                "ranges": [{"type": "ECOSYSTEM", "events": events}, {"type": "GIT", "events": []}],
                "versions": list(versions),
            },
            {"package": {"name": "demo-pkg", "ecosystem": "npm"}},
        ],
    }
    parsed = osv.parse(data, Path("x.json"))
    assert parsed is not None
    return parsed


@pytest.mark.parametrize(
    ("version", "fixed"),
    [
        ("0.9", None),
        ("1.0", ["1.5"]),
        ("1.4.9", ["1.5"]),
        ("1.5", None),
        ("2.1", ["2.3"]),
        ("2.3", None),
        ("3.0", None),
    ],
)
def test_ecosystem_ranges_follow_osv_event_order(version, fixed):
    adv = advisory(
        [{"introduced": "2.0"}, {"fixed": "2.3"}, {"introduced": "1.0"}, {"fixed": "1.5"}]
    )
    result = osv.match(adv, "demo.pkg", Version(version))
    assert (None if result is None else [str(v) for v in result]) == fixed


def test_last_affected_and_explicit_versions():
    adv = advisory([{"introduced": "0"}, {"last_affected": "1.2"}], versions=("7.0",))
    assert osv.match(adv, "demo-pkg", Version("1.2")) == []
    assert osv.match(adv, "demo-pkg", Version("1.2.1")) is None
    assert osv.match(adv, "demo-pkg", Version("7.0")) == []
    assert osv.match(adv, "other", Version("1.0")) is None


def test_withdrawn_advisory_is_dropped_and_bad_versions_are_malformed():
    assert osv.parse({"id": "X", "withdrawn": "2024-01-01T00:00:00Z"}, Path("x")) is None
    with pytest.raises(osv.MalformedAdvisory, match="not a PEP 440 version"):
        advisory([{"introduced": "0"}, {"fixed": "not a version"}])


def test_load_names_unusable_files_and_keeps_the_rest(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps({"id": "A", "affected": []}), encoding="utf-8")
    (tmp_path / "b.yaml").write_text("- a list, not a record\n", encoding="utf-8")
    (tmp_path / "c.yml").write_text("id: [\n", encoding="utf-8")
    (tmp_path / "d.json").write_bytes(b"\xff\xfe")
    loaded = osv.load(tmp_path)
    assert [a.id for a in loaded.advisories] == ["A"]
    assert sorted(p.name for p, _ in loaded.problems) == ["b.yaml", "c.yml", "d.json"]


def test_cvss_v2_v3_v4_and_the_worst_wins():
    v3 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"
    v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:N/VA:N/SC:N/SI:N/SA:N"
    assert osv.score([v3]).severity is Severity.CRITICAL
    assert osv.score([v3]).value == 9.8
    assert osv.score(["AV:N/AC:L/Au:N/C:P/I:P/A:P"]).severity is Severity.HIGH
    assert osv.score([v4, v3]).vector == v3
    assert osv.score(["CVSS:3.1/garbage"]).severity is Severity.UNKNOWN
    assert osv.score([]).severity is Severity.UNKNOWN


def test_aliases_merge_across_advisories():
    groups = [{"PYSEC-1", "CVE-1"}, {"GHSA-1", "CVE-1"}, {"PYSEC-2"}]
    merged = osv.merge_aliases(groups)
    assert sorted(sorted(g) for g in merged) == [["CVE-1", "GHSA-1", "PYSEC-1"], ["PYSEC-2"]]
    assert osv.primary_id(["CVE-1", "GHSA-1", "PYSEC-1"]) == "PYSEC-1"
    assert osv.primary_id(["CVE-1", "GHSA-1"]) == "GHSA-1"


# -- requirements ------------------------------------------------------------------------


def test_requirements_pins_and_errors(tmp_path):
    req = tmp_path / "requirements.txt"
    req.write_text(
        "# comment\nA==1.0 --hash=sha256:00\nb>=2 ; python_version > '3'\n-e .\n"
        "c===3 \\\n  # trailing\n",
        encoding="utf-8",
    )
    pins = read_pins(req, tmp_path)
    assert [(p.name, p.version, p.source) for p in pins] == [
        ("A", "1.0", "requirements.txt"),
        ("b", None, "requirements.txt"),
        ("c", "3", "requirements.txt"),
    ]
    req.write_text("ok==1\n\nnot/a requirement\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"requirements.txt: line 3: 'not/a requirement'"):
        read_pins(req, tmp_path)


def test_pylock_packages_are_pins(tmp_path):
    lock = tmp_path / "pylock.toml"
    lock.write_text('lock-version = "1.0"\n[[packages]]\nname = "a"\nversion = "1.2"\n', "utf-8")
    assert [(p.name, p.version) for p in read_pins(lock, tmp_path)] == [("a", "1.2")]
    lock.write_text("nothing = 1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="PEP 751"):
        read_pins(lock, tmp_path)


# -- licences ----------------------------------------------------------------------------

POLICY = LicensePolicy()


@pytest.mark.parametrize(
    ("expression", "verdict"),
    [
        ("MIT", Verdict.ALLOW),
        ("GPL-3.0-only", Verdict.DENY),
        ("MIT OR GPL-3.0-only", Verdict.ALLOW),
        ("MIT AND GPL-3.0-only", Verdict.DENY),
        ("Apache-2.0 WITH LLVM-exception", Verdict.ALLOW),
        ("GPL-2.0-or-later WITH Classpath-exception-2.0", Verdict.DENY),
        ("LGPL-3.0-or-later", Verdict.ALLOW),
        ("LicenseRef-Proprietary", Verdict.UNKNOWN),
        (None, Verdict.UNKNOWN),
    ],
)
def test_policy_judges_the_expression(expression, verdict):
    assert judge(expression, POLICY) is verdict


def test_warn_list_and_precedence():
    policy = LicensePolicy(allow=("MIT", "MPL-*"), deny=("GPL-*",), warn=("MPL-2.0",))
    assert judge("MPL-2.0", policy) is Verdict.WARN
    assert judge("MPL-2.0 OR MIT", policy) is Verdict.ALLOW
    assert judge("MPL-2.0 OR GPL-3.0-only", policy) is Verdict.WARN


def dist(**kw: object) -> Distribution:
    base: dict[str, object] = {"name": "x", "version": "1"}
    return Distribution(**{**base, **kw})  # type: ignore[arg-type]


def test_licence_sources_in_order():
    both = dist(
        license_expression="mit",
        classifiers=("License :: OSI Approved :: GNU General Public License v3 (GPLv3)",),
    )
    assert (license_of(both).expression, license_of(both).source) == ("MIT", "License-Expression")
    two = dist(
        classifiers=(
            "License :: OSI Approved :: MIT License",
            "License :: OSI Approved :: Apache Software License",
        )
    )
    assert license_of(two).expression == "MIT OR Apache-2.0"
    ambiguous = dist(
        classifiers=("License :: OSI Approved :: BSD License",), license="BSD-3-Clause"
    )
    assert (license_of(ambiguous).expression, license_of(ambiguous).source) == (
        "BSD-3-Clause",
        "License",
    )
    text = dist(license="MIT License\n\nCopyright (c) someone\n" + "Permission is... " * 40)
    assert license_of(text).expression == "MIT"
    odd = dist(license="Custom terms")
    assert (license_of(odd).expression, license_of(odd).raw) == (None, "Custom terms")
    assert license_of(dist(license="UNKNOWN")).source == "none"


def test_runtime_closure_follows_requirements_and_markers():
    dists = [
        dist(
            name="App", requires=("lib-a", "lib-b; python_version < '3'", "extra-c; extra == 'x'")
        ),
        dist(name="lib_a", requires=("lib-d>=1",)),
        dist(name="lib-b"),
        dist(name="extra-c"),
        dist(name="lib-d", requires=("app",)),
        dist(name="unrelated"),
    ]
    markers = {"python_version": "3.12", "sys_platform": "linux"}
    names = [d.name for d in runtime_closure("app", dists, markers)]
    assert names == ["lib_a", "lib-d"]


# -- suppressions ------------------------------------------------------------------------


def vuln(rule: str = "PYSEC-1", aliases: tuple[str, ...] = ("CVE-1",)) -> Finding:
    return Finding(
        rule=rule,
        message="m",
        severity=Severity.HIGH,
        tool="advisory-db",
        extra={"aliases": list(aliases), "package": "x"},
    )


def test_suppression_entries_are_validated(tmp_path):
    pyproject = tmp_path / "pyproject.toml"
    with pytest.raises(ConfigError, match=r"suppress\[0\]\.reason'?: has no reason"):
        suppress.rules([Suppression(id="CVE-1", reason="  ")], pyproject=pyproject)
    with pytest.raises(ConfigError, match="names id and package"):
        suppress.rules([Suppression(id="A", package="b", reason="r")], pyproject=pyproject)
    with pytest.raises(ConfigError, match="'path' only narrows"):
        suppress.rules([Suppression(fingerprint="f", path="*.py", reason="r")], pyproject=pyproject)


def test_bad_expiry_date_is_a_config_error(tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "p"\n[[tool.shipyard.audit.suppress]]\nid = "CVE-1"\n'
        'reason = "r"\nexpires = "31/01/2024"\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"suppress\[0\]\.expires.*YYYY-MM-DD"):
        config.load(tmp_path)


def test_suppressions_match_by_alias_test_path_fingerprint_and_package(tmp_path):
    rules = suppress.rules(
        [
            Suppression(id="cve-1", reason="r"),
            Suppression(test="B602", path="src/tools/*", reason="r"),
            Suppression(fingerprint="abc", reason="r"),
            Suppression(package="Some_Pkg", reason="r", expires="2024-01-01"),
        ],
        pyproject=tmp_path / "pyproject.toml",
    )
    bandit_in = Finding(rule="B602", message="m", path="src/tools/run.py", tool="bandit")
    bandit_out = dataclasses.replace(bandit_in, path="src/other.py")
    secret = Finding(
        rule="secret/x", message="m", tool="detect-secrets", extra={"fingerprint": "abc"}
    )
    licence = Finding(
        rule="license/denied", message="m", tool="licenses", extra={"package": "some-pkg"}
    )
    findings = [vuln(), vuln("PYSEC-2", ()), bandit_in, bandit_out, secret, licence]

    outcome = suppress.apply(findings, rules, today=dt.date(2024, 1, 2))

    assert [f.rule for f in outcome.suppressed] == ["PYSEC-1", "B602", "secret/x"]
    assert [f.rule for f in outcome.kept] == ["PYSEC-2", "B602", "license/denied"]
    assert outcome.kept[-1].extra["suppression_expired"] == "2024-01-01"
    assert len(outcome.notes) == 1
    assert "package Some_Pkg expired on 2024-01-01" in outcome.notes[0].message
    assert outcome.unused == ()


# -- gate --------------------------------------------------------------------------------


def cfg(**gates: str) -> config.Config:
    base = config.Config()
    audit = dataclasses.replace(base.audit, unknown_severity=gates.pop("unknown", "high"))
    return dataclasses.replace(base, gates=dataclasses.replace(base.gates, **gates), audit=audit)


def test_gate_lines():
    medium = Finding(rule="B1", message="m", severity=Severity.MEDIUM, tool="bandit")
    unknown = vuln()
    unknown = dataclasses.replace(unknown, severity=Severity.UNKNOWN)
    assert gate([], cfg()) == (Status.PASSED, "")
    assert gate([medium], cfg())[0] is Status.WARNED
    status, reason = gate([medium], cfg(max_severity="medium"))
    assert status is Status.FAILED
    assert "gates.max-severity = 'medium'" in reason
    assert gate([unknown], cfg())[0] is Status.FAILED
    assert gate([unknown], cfg(unknown="low"))[0] is Status.WARNED
    only_note = [note("vulns", "could not audit 3 of 3 dependencies")]
    assert gate(only_note, cfg()) == (Status.WARNED, "could not audit 3 of 3 dependencies")


def test_secrets_and_denied_licences_fail_whatever_the_line():
    secret = Finding(rule="secret/x", message="m", severity=Severity.LOW, tool="detect-secrets")
    denied = Finding(
        rule="license/denied",
        message="m",
        severity=Severity.LOW,
        tool="licenses",
        extra={"package": "gpl-thing"},
    )
    status, reason = gate([secret, denied], cfg(max_severity="critical"))
    assert status is Status.FAILED
    assert "1 secret(s)" in reason
    assert "denied licence(s): gpl-thing" in reason


def test_a_check_that_could_not_run_fails_the_gate_with_its_message():
    broken = failure("sbom", ToolFailed("cyclonedx-py failed (exit 1): boom"))
    low = Finding(rule="B1", message="m", severity=Severity.LOW, tool="bandit")
    status, reason = gate([broken, low], cfg(max_severity="critical"))
    assert status is Status.FAILED
    assert reason == "sbom check failed: cyclonedx-py failed (exit 1): boom"


# -- SARIF -------------------------------------------------------------------------------


def test_sarif_is_valid_with_one_run_per_tool():
    findings = [
        dataclasses.replace(vuln(), extra={**vuln().extra, "cvss_score": 9.8}),
        Finding(
            rule="B602",
            message="shell",
            severity=Severity.HIGH,
            path="src/a.py",
            line=3,
            tool="bandit",
            extra={"confidence": "high"},
        ),
        Finding(
            rule="secret/aws",
            message="key",
            severity=Severity.HIGH,
            path="old.py",
            line=0,
            tool="detect-secrets",
            extra={"fingerprint": "f" * 40, "commit": "c" * 40},
        ),
    ]
    reports = [
        CheckReport(check="vulns", tool="advisory-db", findings=findings[:1]),
        CheckReport(
            check="sast",
            tool="bandit",
            tool_version="1.9",
            findings=findings[1:2],
            rules=[Rule(id="B602", name="shell", help_uri="https://example.org/b602")],
        ),
        CheckReport(check="secrets", tool="detect-secrets", findings=findings[2:]),
        CheckReport(check="sbom", tool="cyclonedx-py"),
    ]
    log = to_sarif(reports, kept=findings, fallback_uri="pyproject.toml")

    jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8"))).validate(log)
    assert [r["tool"]["driver"]["name"] for r in log["runs"]] == [
        "advisory-db",
        "bandit",
        "detect-secrets",
    ]
    vuln_result = log["runs"][0]["results"][0]
    assert vuln_result["properties"]["security-severity"] == "9.8"
    assert vuln_result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == (
        "pyproject.toml"
    )
    secret_result = log["runs"][2]["results"][0]
    assert "region" not in secret_result["locations"][0]["physicalLocation"]
    assert secret_result["partialFingerprints"] == {"secretHash/v1": "f" * 40}


def test_sarif_schema_rejects_a_broken_log():
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))
    broken = {"version": "2.1.0", "runs": [{"tool": {"driver": {}}, "results": []}]}
    assert list(validator.iter_errors(broken))


def test_the_sbom_keeps_a_pep621_root_and_drops_the_projects_leftover_component(
    tmp_path: Path,
) -> None:
    # cyclonedx-py made the root from [project] but left a second distribution of it.
    sbom = {
        "metadata": {"component": {"bom-ref": "root-component", "name": "Demo_App"}},
        "components": [
            {"bom-ref": "BomRef.1.2", "name": "demo-app", "version": "0.1.0"},
            {"bom-ref": "urllib3==1.24.1", "name": "urllib3", "version": "1.24.1"},
        ],
        "dependencies": [
            {"ref": "BomRef.1.2", "dependsOn": ["urllib3==1.24.1"]},
            {"ref": "root-component", "dependsOn": ["urllib3==1.24.1"]},
            {"ref": "urllib3==1.24.1"},
        ],
    }
    fixed = _one_root(sbom, "demo-app", tmp_path)
    assert [c["name"] for c in fixed["components"]] == ["urllib3"]
    assert fixed["metadata"]["component"]["bom-ref"] == "root-component"
    assert fixed["dependencies"] == [
        {"ref": "root-component", "dependsOn": ["urllib3==1.24.1"]},
        {"ref": "urllib3==1.24.1"},
    ]

"""The audit stage with its real tools, on real inputs made in temp dirs."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from packaging.utils import canonicalize_name

from helpers.audit import (
    FIXED_VERSION,
    LICENSED,
    OLD_PACKAGE,
    OLD_VERSION,
    PROJECT,
    installer,
    load,
    make_project,
    shared_tool_venv,
    tool_env,
)
from helpers.servers import OsvApi
from shipyard.errors import ConfigError
from shipyard.report import Severity, Status
from shipyard.stages.audit import run_audit
from shipyard.workflows import generate

AUDIT_SESSION = ({"session": "audit", "name": "audit", "python": None},)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def audit_bin(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return shared_tool_venv(tmp_path_factory)


SCHEMA = Path(__file__).parents[1] / "data" / "sarif-schema-2.1.0.json"
CVE, GHSA, PYSEC = "CVE-2019-11324", "GHSA-mh33-7rrq-662w", "PYSEC-2019-133"
VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N"  # 7.5, high

PYSEC_YAML = f"""
id: {PYSEC}
summary: urllib3 mishandles certain certificate authorities
aliases:
  - {CVE}
  - {GHSA}
affected:
  - package:
      name: {OLD_PACKAGE}
      ecosystem: PyPI
    ranges:
      - type: ECOSYSTEM
        events:
          - introduced: "0"
          - fixed: "{FIXED_VERSION}"
"""

GHSA_JSON = {
    "id": GHSA,
    "aliases": [CVE],
    "summary": "Improper certificate validation in urllib3",
    "severity": [{"type": "CVSS_V3", "score": VECTOR}],
    "affected": [
        {
            "package": {"name": "URLLib3", "ecosystem": "PyPI"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "1.0"}, {"fixed": "1.24.2"}]}
            ],
        }
    ],
}


def advisory_db(root: Path) -> Path:
    db = root / "advisories"
    (db / "vulns" / OLD_PACKAGE).mkdir(parents=True)
    (db / "vulns" / OLD_PACKAGE / f"{PYSEC}.yaml").write_text(PYSEC_YAML, encoding="utf-8")
    (db / "osv" / f"{GHSA}.json").parent.mkdir(parents=True)
    (db / "osv" / f"{GHSA}.json").write_text(json.dumps(GHSA_JSON), encoding="utf-8")
    (db / "vulns" / OLD_PACKAGE / "BROKEN-1.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    other = PYSEC_YAML.replace(OLD_PACKAGE, "not-installed").replace(PYSEC, "PYSEC-0000-1")
    (db / "vulns" / "not-installed").mkdir()
    (db / "vulns" / "not-installed" / "PYSEC-0000-1.yaml").write_text(other, encoding="utf-8")
    return db


OFFLINE = """
[tool.shipyard.audit]
checks = ["vulns"]
advisory-db = "advisories"
"""


# -- vulnerabilities -----------------------------------------------------------------------


def test_offline_advisory_with_aliases_is_one_finding_with_the_fix(tmp_path, audit_bin):
    root = make_project(tmp_path / "p", audit=OFFLINE)
    advisory_db(root)

    result = run_audit(load(root), tool_env=tool_env(audit_bin))

    vulns = [f for f in result.findings if f.tool == "advisory-db"]
    assert len(vulns) == 1
    (finding,) = vulns
    assert finding.rule == PYSEC
    assert sorted(finding.extra["aliases"]) == [CVE, GHSA]
    assert finding.extra["fixed_versions"] == [FIXED_VERSION]
    assert finding.extra["version"] == OLD_VERSION
    assert finding.severity is Severity.HIGH
    assert finding.extra["cvss_score"] == 7.5
    notes = [f.message for f in result.findings if f.tool == "shipyard"]
    assert any("BROKEN-1.yaml" in n and "skipped" in n for n in notes)
    assert result.status is Status.FAILED
    assert "gates.max-severity = 'high'" in result.reason
    assert result.metrics["vulns.advisories"] == 3


def test_offline_matches_the_projects_closure_not_the_audit_tools(tmp_path, audit_bin):
    root = make_project(tmp_path / "p", audit=OFFLINE)
    db = advisory_db(root)
    # bandit is installed next to the project (the audit runs it) but is not its dependency.
    tool_advisory = PYSEC_YAML.replace(OLD_PACKAGE, "bandit").replace(PYSEC, "PYSEC-0000-2")
    tool_advisory = tool_advisory.replace(FIXED_VERSION, "99999")
    tool_advisory = tool_advisory.replace(CVE, "CVE-0000-2").replace(GHSA, "GHSA-0000-0000-0002")
    (db / "vulns" / "bandit").mkdir()
    (db / "vulns" / "bandit" / "PYSEC-0000-2.yaml").write_text(tool_advisory, encoding="utf-8")

    result = run_audit(load(root), tool_env=tool_env(audit_bin))

    vulns = [f for f in result.findings if f.tool == "advisory-db"]
    assert [f.extra["package"] for f in vulns] == [OLD_PACKAGE]
    assert result.metrics["vulns.audited"] == len(LICENSED) + 1


def test_offline_pinned_requirements_are_matched(tmp_path, audit_bin):
    files = {
        "requirements.txt": f"# pins\n{OLD_PACKAGE}=={OLD_VERSION} \\\n  --hash=sha256:ab\n"
        "requests>=2  # not pinned\n-r other.txt\n"
    }
    root = make_project(tmp_path / "p", audit=OFFLINE, files=files)
    advisory_db(root)

    result = run_audit(load(root), tool_env=tool_env(audit_bin))

    from_file = [f for f in result.findings if f.path == "requirements.txt"]
    assert [f.rule for f in from_file] == [PYSEC]
    notes = [f.message for f in result.findings if f.tool == "shipyard"]
    assert any("requests is not pinned" in n for n in notes)


def test_unparsable_requirements_file_is_a_config_error(tmp_path, audit_bin):
    files = {"requirements.txt": "requests==2.0\nthis is ((not a requirement\n"}
    root = make_project(tmp_path / "p", audit=OFFLINE, files=files)
    advisory_db(root)

    with pytest.raises(ConfigError) as info:
        run_audit(load(root), tool_env=tool_env(audit_bin))

    assert "requirements.txt" in str(info.value)
    assert "line 2" in str(info.value)


def _old_package_advisory(name: str, version: str) -> list[dict[str, Any]]:
    if (name, version) != (OLD_PACKAGE, OLD_VERSION):
        return []
    record = json.loads(json.dumps(GHSA_JSON).replace("URLLib3", OLD_PACKAGE))
    return [{**record, "id": PYSEC, "aliases": [CVE, GHSA]}]


@pytest.fixture
def osv() -> Iterator[OsvApi]:
    with OsvApi("PyPI", _old_package_advisory) as server:
        yield server


def test_pip_audit_online_service_gives_the_same_single_finding(tmp_path, audit_bin, osv):
    audit = f"""
        [tool.shipyard.audit]
        checks = ["vulns"]
        service = "osv"
        osv-url = "{osv.query_url}"
    """
    root = make_project(tmp_path / "p", audit=audit)

    result = run_audit(load(root), tool_env=tool_env(audit_bin))

    vulns = [f for f in result.findings if f.tool == "pip-audit"]
    assert [f.rule for f in vulns] == [PYSEC]
    assert vulns[0].extra["fixed_versions"] == [FIXED_VERSION]
    assert sorted(vulns[0].extra["aliases"]) == [CVE, GHSA]
    # pip-audit keeps no severity: unknown counts as high, so the gate fails.
    assert vulns[0].severity is Severity.UNKNOWN
    assert result.status is Status.FAILED
    assert osv.errors == []
    assert {"name": OLD_PACKAGE, "ecosystem": "PyPI"} in [q["package"] for q in osv.queries]
    # Only the project's runtime closure is asked about, not the audit's own tools that
    # share its environment (pip-audit, bandit and their dependencies).
    asked = {canonicalize_name(q["package"]["name"]) for q in osv.queries}
    assert asked == {OLD_PACKAGE, *LICENSED}


# -- static analysis ----------------------------------------------------------------------

RISKY = """
import subprocess


def run(cmd):
    return subprocess.call(cmd, shell=True)


def run_trusted(cmd):
    return subprocess.call(cmd, shell=True)  # nosec B602
"""


def test_bandit_finds_shell_true_and_honours_nosec(tmp_path, audit_bin):
    word = "PASS" + "WORD"
    value = "hunter2-" + "not-a-real-one"
    files = {
        "src/demo_app/risky.py": RISKY + f'\n{word} = "{value}"\n',
        "tests/test_risky.py": "import subprocess\nsubprocess.call('ls', shell=True)\n",
    }
    root = make_project(
        tmp_path / "p", audit='[tool.shipyard.audit]\nchecks = ["sast"]\n', files=files
    )

    result = run_audit(load(root), tool_env=tool_env(audit_bin))

    shell = [f for f in result.findings if f.rule == "B602"]
    assert [(f.path, f.line) for f in shell] == [("src/demo_app/risky.py", 5)]
    assert shell[0].severity is Severity.HIGH
    assert shell[0].extra["confidence"] == "high"
    assert result.metrics["sast.nosec"] == 1
    assert not any((f.path or "").startswith("tests/") for f in result.findings)
    hardcoded = [f for f in result.findings if f.rule == "B105"]
    assert hardcoded
    assert value not in hardcoded[0].message
    assert result.status is Status.FAILED


# -- licences -----------------------------------------------------------------------------


def test_licences_of_runtime_dependencies_are_judged_on_the_expression(tmp_path, audit_bin):
    root = make_project(tmp_path / "p", audit='[tool.shipyard.audit]\nchecks = ["licenses"]\n')

    result = run_audit(load(root), tool_env=tool_env(audit_bin))

    by_package = {f.extra["package"]: f for f in result.findings if f.tool == "licenses"}
    assert by_package["gpl-thing"].rule == "license/denied"
    assert by_package["gpl-thing"].extra["license"] == "GPL-3.0-only"
    assert "dual-thing" not in by_package  # MIT OR GPL-3.0-only: one branch allowed
    assert "llvm-thing" not in by_package  # judged by Apache-2.0
    assert "classic-thing" not in by_package  # MIT from the classifier
    assert OLD_PACKAGE not in by_package  # MIT from the License field
    assert by_package["bare-thing"].rule == "license/unknown"
    assert "no licence metadata" in by_package["bare-thing"].message
    # Only the project's runtime closure: the audit tools' own dependencies are not judged.
    assert result.metrics["licenses.packages"] == 6
    assert result.status is Status.FAILED
    assert "denied licence(s): gpl-thing" in result.reason


# -- suppressions -------------------------------------------------------------------------


def test_expired_suppression_stops_suppressing_and_fails_the_gate(tmp_path, audit_bin):
    audit = (
        OFFLINE
        + f"""
        [[tool.shipyard.audit.suppress]]
        id = "{CVE}"
        reason = "waiting for the vendor's rebuild"
        expires = "2024-01-31"
    """
    )
    root = make_project(tmp_path / "p", audit=audit)
    advisory_db(root)
    config = load(root)
    env = tool_env(audit_bin)

    before = run_audit(config, tool_env=env, today=dt.date(2024, 1, 31))
    after = run_audit(config, tool_env=env, today=dt.date(2024, 2, 1))

    assert not [f for f in before.findings if f.tool == "advisory-db"]
    assert before.metrics["audit.suppressed"] == 1
    assert before.status is Status.WARNED  # only the note about the malformed advisory
    assert after.status is Status.FAILED
    (vuln,) = [f for f in after.findings if f.tool == "advisory-db"]
    assert "suppression expired 2024-01-31" in vuln.message
    notes = [f.message for f in after.findings if f.tool == "shipyard"]
    assert any("expired on 2024-01-31" in n and "vendor's rebuild" in n for n in notes)


def test_suppression_without_reason_is_refused_before_any_tool_runs(tmp_path):
    audit = OFFLINE + f'\n[[tool.shipyard.audit.suppress]]\nid = "{CVE}"\n'
    root = make_project(tmp_path / "p", audit=audit)

    with pytest.raises(ConfigError) as info:
        run_audit(load(root), tool_env=tool_env(tmp_path / "no-such-venv"))

    assert "tool.shipyard.audit.suppress[0].reason" in str(info.value)


# -- SARIF and SBOM -----------------------------------------------------------------------


def test_full_audit_writes_valid_sarif_and_an_sbom(tmp_path, audit_bin):
    root = make_project(
        tmp_path / "p",
        audit='[tool.shipyard.audit]\nadvisory-db = "advisories"\nsecrets-history = false\n',
        files={"src/demo_app/risky.py": RISKY},
    )
    advisory_db(root)

    result = run_audit(load(root), tool_env=tool_env(audit_bin))

    sarif = json.loads((root / ".shipyard/reports/audit/audit.sarif").read_text(encoding="utf-8"))
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(schema).validate(sarif)
    tools = [run["tool"]["driver"]["name"] for run in sarif["runs"]]
    assert tools == ["advisory-db", "bandit", "detect-secrets", "licenses"]
    results = {run["tool"]["driver"]["name"]: run["results"] for run in sarif["runs"]}
    assert [r["ruleId"] for r in results["advisory-db"]] == [PYSEC]
    assert results["advisory-db"][0]["properties"]["security-severity"] == "7.5"
    assert "B602" in {r["ruleId"] for r in results["bandit"]}
    sbom = json.loads((root / ".shipyard/reports/audit/sbom.cdx.json").read_text("utf-8"))
    assert OLD_PACKAGE in {c["name"] for c in sbom["components"]}
    assert set(result.artifacts) >= {
        ".shipyard/reports/audit/audit.sarif",
        ".shipyard/reports/audit/sbom.cdx.json",
        ".shipyard/reports/audit/audit.md",
    }
    assert "B602" in (root / ".shipyard/reports/audit/audit.md").read_text(encoding="utf-8")
    # security.yml uploads the file the stage wrote (it once named another path).
    made = generate.build(load(root), generate.Inputs(sessions=AUDIT_SESSION, flows=(), include=()))
    steps = made["security.yml"]["jobs"]["audit"]["steps"]
    upload = next(s for s in steps if "sarif_file" in s.get("with", {}))
    assert upload["with"]["sarif_file"] in result.artifacts


def test_missing_tool_fails_its_check_and_the_stage(tmp_path):
    root = make_project(tmp_path / "p", audit='[tool.shipyard.audit]\nchecks = ["sbom"]\n')
    empty = tmp_path / "empty-bin"
    empty.mkdir()

    result = run_audit(load(root), tool_env=tool_env(empty))

    (failed,) = result.findings
    assert failed.rule == "audit/check-failed"
    assert failed.extra["check"] == "sbom"
    assert "'cyclonedx-py' is not installed" in failed.message
    assert result.status is Status.FAILED
    assert "sbom check failed" in result.reason
    assert result.metrics["audit.checks_failed"] == 1


def test_a_failing_check_leaves_the_others_reporting(tmp_path, audit_bin):
    # A bin directory with every tool but cyclonedx-py: the sbom check cannot run.
    partial = tmp_path / "partial-bin"
    partial.mkdir()
    for tool in audit_bin.iterdir():
        if tool.name != "cyclonedx-py":
            (partial / tool.name).symlink_to(tool)
    audit = '[tool.shipyard.audit]\nchecks = ["sast", "sbom"]\n'
    root = make_project(tmp_path / "p", audit=audit, files={"src/demo_app/risky.py": RISKY})

    result = run_audit(load(root), tool_env=tool_env(partial))

    assert "B602" in {f.rule for f in result.findings if f.tool == "bandit"}
    failed = [f for f in result.findings if f.rule == "audit/check-failed"]
    assert [f.extra["check"] for f in failed] == ["sbom"]
    assert result.status is Status.FAILED
    assert "sbom check failed" in result.reason
    saved = json.loads((root / ".shipyard/reports/audit/audit.sarif").read_text("utf-8"))
    assert [run["tool"]["driver"]["name"] for run in saved["runs"]] == ["bandit"]


SETUP_CFG = """
[metadata]
name = demo-app
version = 0.1.0
license = MIT

[options]
package_dir =
    = src
packages = find:
install_requires =
    urllib3==1.24.1

[options.packages.find]
where = src
"""


CFG_PYPROJECT = """
    [build-system]
    requires = ["setuptools>=61"]
    build-backend = "setuptools.build_meta"

    [tool.shipyard.audit]
    checks = ["sbom"]
    """


def test_setup_cfg_project_gets_every_check_and_an_sbom(tmp_path, audit_bin):
    # pyproject.toml holds [build-system] and shipyard's table, but no PEP 621 [project].
    root = tmp_path / "p"
    root.mkdir()
    pyproject = """
        [build-system]
        requires = ["setuptools>=61"]
        build-backend = "setuptools.build_meta"

        [tool.shipyard.audit]
        advisory-db = "advisories"
        secrets-history = false
        """
    files = {"pyproject.toml": pyproject, "setup.cfg": SETUP_CFG, "src/demo_app/risky.py": RISKY}
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(content).lstrip(), encoding="utf-8")
    advisory_db(root)

    result = run_audit(load(root), tool_env=tool_env(audit_bin))

    assert not [f for f in result.findings if f.rule == "audit/check-failed"]
    tools = {f.tool for f in result.findings}
    assert {"advisory-db", "bandit", "licenses"} <= tools
    sbom = json.loads((root / ".shipyard/reports/audit/sbom.cdx.json").read_text("utf-8"))
    assert OLD_PACKAGE in {c["name"] for c in sbom["components"]}
    assert result.metrics["sbom.components"] > 0


def test_an_editable_setup_cfg_project_is_the_sbom_root_once(tmp_path: Path) -> None:
    # An editable setuptools install shows the project twice to cyclonedx-py: its dist-info
    # and the src/*.egg-info the build leaves next to the code.
    root = tmp_path / "p"
    files = {
        "pyproject.toml": CFG_PYPROJECT,
        "setup.cfg": SETUP_CFG.replace("install_requires =\n    urllib3==1.24.1\n", ""),
        "src/demo_app/__init__.py": "",
    }
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(content).lstrip(), encoding="utf-8")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    install = [*installer(python), "cyclonedx-bom"]
    subprocess.run([*install, "-e", str(root)], check=True)
    assert (root / "src" / "demo_app.egg-info").is_dir()

    result = run_audit(load(root), tool_env=tool_env(venv / "bin"))

    assert not [f for f in result.findings if f.rule == "audit/check-failed"]
    sbom = json.loads((root / ".shipyard/reports/audit/sbom.cdx.json").read_text("utf-8"))
    names = [canonicalize_name(c["name"]) for c in sbom["components"]]
    assert len(names) == len(set(names))
    assert PROJECT not in names
    assert "cyclonedx-bom" in names
    assert {"name": "demo-app", "version": "0.1.0", "bom-ref": "root-component"}.items() <= (
        sbom["metadata"]["component"].items()
    )
    refs = {c["bom-ref"] for c in sbom["components"]} | {"root-component"}
    for entry in sbom["dependencies"]:
        assert {entry["ref"], *entry.get("dependsOn", ())} <= refs
    assert not any(ref.startswith("BomRef.") for ref in refs)

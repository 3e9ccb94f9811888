"""A CycloneDX SBOM of the tool environment, written by cyclonedx-bom as an artifact.

cyclonedx-py describes a Python environment, around the project's PEP 621
[project] table when it has one: a project that is not a Python one (a Cargo
crate) has no such SBOM, and the check says it skipped. The project is then
made the root component (`metadata.component`) exactly once, whichever of its
distributions the environment shows (see `_one_root`).
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name

from shipyard.report import write_atomic
from shipyard.stages.audit.interface import Check, CheckReport, Context, ToolFailed, run, tail

__all__ = ["SBOM_NAME", "SbomCheck"]

SBOM_NAME = "sbom.cdx.json"


def _has_project_table(pyproject: Path) -> bool:
    """Whether `pyproject` has a PEP 621 [project] table, the only kind cyclonedx-py reads.

    A setup.cfg or setup.py project may keep just [build-system] there; cyclonedx-py
    refuses such a file, so the SBOM is then made without naming the root component.
    """
    try:
        data = tomllib.loads(pyproject.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    return isinstance(data.get("project"), dict)


_ROOT_REF = "root-component"  # the bom-ref cyclonedx-py gives the root it reads from [project]


def _pick_root(found: list[dict[str, Any]], root: Path) -> dict[str, Any]:
    """The project's own distribution: the one installed from `root`, else the first found."""
    here = root.resolve().as_uri()
    for component in found:
        urls = [r.get("url", "") for r in component.get("externalReferences", ())]
        if any(url.rstrip("/") == here for url in urls):
            return component
    return found[0]


def _one_root(sbom: dict[str, Any], name: str, root: Path) -> dict[str, Any]:
    """`sbom` with the project once, as its root component.

    cyclonedx-py adds a component for each distribution of the project it finds: an
    editable setuptools install shows both its dist-info and the `src/*.egg-info`
    next to the code, the second under a random bom-ref. With [project] it makes the
    root from that table but drops only one of them; without [project] it names no
    root at all. The duplicates go, their references point at the root.
    """
    wanted = canonicalize_name(name)
    components = sbom.get("components", [])
    found = [c for c in components if canonicalize_name(c.get("name", "")) == wanted]
    metadata = sbom.setdefault("metadata", {})
    if not found:
        return sbom
    chosen = metadata.get("component") or {
        **_pick_root(found, root),
        "bom-ref": _ROOT_REF,
        "type": "application",
    }
    metadata["component"] = chosen
    moved = {c.get("bom-ref") for c in found} - {None}
    ref = str(chosen.get("bom-ref", _ROOT_REF))
    sbom["components"] = [c for c in components if c not in found]
    sbom["dependencies"] = _redirect(sbom.get("dependencies", []), moved, ref)
    return sbom


def _redirect(
    dependencies: list[dict[str, Any]], moved: set[str], ref: str
) -> list[dict[str, Any]]:
    """The dependency graph with each of `moved` renamed `ref`, one entry per ref."""
    merged: dict[str, list[str]] = {}
    for entry in dependencies:
        source = ref if entry["ref"] in moved else entry["ref"]
        targets = merged.setdefault(source, [])
        for needed in entry.get("dependsOn", ()):
            target = ref if needed in moved else needed
            if target != source and target not in targets:
                targets.append(target)
    return [
        {"ref": source, **({"dependsOn": sorted(targets)} if targets else {})}
        for source, targets in sorted(merged.items())
    ]


class SbomCheck(Check):
    """`cyclonedx-py environment` over the tool environment's interpreter, as JSON."""

    name = "sbom"

    def run(self, context: Context) -> CheckReport:
        if not context.python:
            names = ", ".join(t.name for t in context.toolchains) or "none detected"
            why = (
                "sbom skipped: cyclonedx-py describes Python projects (a PEP 621 pyproject.toml); "
                f"this project's toolchains: {names}"
            )
            return CheckReport(check=self.name, tool="cyclonedx-py", skipped=why)
        target = context.out_dir / SBOM_NAME
        with tempfile.TemporaryDirectory(prefix="shipyard-sbom-") as tmp:
            out = Path(tmp) / SBOM_NAME
            argv: list[str | Path] = [
                "cyclonedx-py",
                "environment",
                "--output-format",
                "JSON",
                "--output-reproducible",
                # Validation against the CycloneDX schema takes ~50 s here; the library that
                # writes the document builds it from the schema's own model.
                "--no-validate",
                "-o",
                out,
            ]
            if _has_project_table(context.config.pyproject):
                argv += ["--pyproject", context.config.pyproject]
            argv.append(context.env.python())
            proc = run(context, argv)
            if proc.returncode != 0 or not out.is_file():
                msg = f"cyclonedx-py failed (exit {proc.returncode}): {tail(proc)}"
                raise ToolFailed(msg)
            text = out.read_text(encoding="utf-8")
        try:
            sbom = json.loads(text)
            project = context.config.project
            if project is not None:
                sbom = _one_root(sbom, project.name, context.config.root)
            components = len(sbom.get("components", []))
        except (json.JSONDecodeError, AttributeError, KeyError, TypeError) as exc:
            msg_0 = f"cyclonedx-py wrote unreadable JSON: {exc}"
            raise ToolFailed(msg_0) from None
        write_atomic(target, json.dumps(sbom, indent=2) + "\n")
        return CheckReport(
            check=self.name,
            tool="cyclonedx-py",
            artifacts=[target],
            metrics={"sbom.components": components},
        )

"""A CycloneDX SBOM of the tool environment, written by cyclonedx-bom as an artifact.

cyclonedx-py describes a Python environment, around the project's PEP 621
[project] table when it has one: a project that is not a Python one (a Cargo
crate) has no such SBOM, and the check says it skipped.
"""

from __future__ import annotations

import json
import tempfile
import tomllib
from pathlib import Path

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
            components = len(json.loads(text).get("components", []))
        except (json.JSONDecodeError, AttributeError) as exc:
            msg_0 = f"cyclonedx-py wrote unreadable JSON: {exc}"
            raise ToolFailed(msg_0) from None
        write_atomic(target, text)
        return CheckReport(
            check=self.name,
            tool="cyclonedx-py",
            artifacts=[target],
            metrics={"sbom.components": components},
        )

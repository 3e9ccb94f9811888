"""A CycloneDX SBOM of the tool environment, written by cyclonedx-bom as an artifact.

cyclonedx-py describes a Python environment around a PEP 621 project: a project
that is not a Python one (a Cargo crate) has no such SBOM, and the check says
it skipped.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from shipyard.report import write_atomic
from shipyard.stages.audit.interface import Check, CheckReport, Context, ToolFailed, run, tail

__all__ = ["SBOM_NAME", "SbomCheck"]

SBOM_NAME = "sbom.cdx.json"


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
            if context.config.pyproject.is_file():
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

"""How big the generated ci.yml gets as the matrix grows, and whether it is the same bytes twice.

Run: .venv/bin/python benchmarks/workflow_size.py
The issue's line: a 5-target matrix must not produce thousands of lines.
"""

from __future__ import annotations

import tempfile
import textwrap
from pathlib import Path

from shipyard import config, matrix
from shipyard.workflows import generate

SESSIONS = ("lint", "audit", "test", "coverage", "bench", "docker", "ci")
#: (matrix pythons, platforms): 5 targets, then 4 x 5 = 20.
CASES = (
    ('python = ["3.10", "3.11", "3.12", "3.13", "3.14"]', '["linux_x86_64"]'),
    (
        'python = ["3.11", "3.12", "3.13", "3.14"]',
        '["linux_x86_64", "linux_aarch64", "macos_x86_64", "macos_arm64", "windows_amd64"]',
    ),
)


def listing(pythons: tuple[str, ...]) -> tuple[dict[str, object], ...]:
    entries: list[dict[str, object]] = []
    for name in SESSIONS:
        for python in pythons if name == "test" else (None,):
            suffix = f"-{python}" if python else ""
            entries.append({"session": name + suffix, "name": name, "python": python})
    return tuple(entries)


def main() -> None:
    for python, platforms in CASES:
        with tempfile.TemporaryDirectory() as tmp:
            root = Path(tmp)
            (root / "src").mkdir()
            # A benchmark suite and an image variant, so the bench and docker jobs are written.
            (root / "benchmarks").mkdir()
            (root / "docker").mkdir()
            (root / "docker" / "Dockerfile.cpu").write_text("FROM scratch\n")
            (root / "pyproject.toml").write_text(
                textwrap.dedent(
                    f"""\
                    [project]
                    name = "bench"
                    version = "1"
                    requires-python = ">=3.10"
                    [tool.shipyard.matrix]
                    {python}
                    platforms = {platforms}
                    """
                )
            )
            cfg = config.load(root)
            plan = matrix.plan(cfg)
            made = generate.Inputs(
                sessions=listing(matrix.python_versions(cfg)),
                flows=("release", "monitor"),
                include=tuple(matrix.github_include(plan)),
            )
            first = generate.render(cfg, made)
            same = first == generate.render(cfg, made)
            ci_lines = len(first["ci.yml"].splitlines())
            total = sum(len(text.splitlines()) for text in first.values())
            print(
                f"{len(plan.targets):>2} targets: ci.yml {ci_lines} lines, all four workflows "
                f"{total} lines; same bytes twice: {same}"
            )


if __name__ == "__main__":
    main()

"""The issue's example: `build = "cp3{11,12}-*"`, `skip = "*-windows_*"` over 3.11-3.13 and
the five default platforms must give exactly 8 targets. Prints the count and how long
planning the full default matrix (6 Pythons x 6 platforms, with overrides) takes.

    python benchmarks/matrix_example.py
"""

from __future__ import annotations

import tempfile
import textwrap
import timeit
from pathlib import Path

from shipyard import config, matrix

EXAMPLE = """
[tool.shipyard.matrix]
python = ["3.11", "3.12", "3.13"]
build = "cp3{11,12}-*"
skip = "*-windows_*"
"""

FULL = """
[tool.shipyard.matrix]
python = ["3.9", "3.10", "3.11", "3.12", "3.13", "3.14", "3.13t", "3.14t"]
platforms = ["linux_x86_64", "linux_aarch64", "macos_x86_64", "macos_arm64",
             "windows_amd64", "windows_arm64"]
[tool.shipyard.matrix.overrides."*-linux_*"]
env = { A = "1" }
[tool.shipyard.matrix.overrides."cp31{3,4}t-*"]
requirements = ["cython>=3.1"]
"""


def load(root: Path, table: str) -> config.Config:
    root.mkdir()
    head = '[project]\nname = "demo"\nversion = "1"\n'
    (root / "pyproject.toml").write_text(head + textwrap.dedent(table), encoding="utf-8")
    return config.load(root)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        example = matrix.plan(load(Path(tmp) / "example", EXAMPLE))
        print(f"issue example: {len(example.targets)} targets (required: exactly 8)")
        assert len(example.targets) == 8
        full = load(Path(tmp) / "full", FULL)
        runs = 200
        seconds = timeit.timeit(lambda: matrix.plan(full), number=runs) / runs
        count = len(matrix.plan(full).targets)
        print(f"full matrix: {count} targets planned in {seconds * 1000:.2f} ms")


if __name__ == "__main__":
    main()

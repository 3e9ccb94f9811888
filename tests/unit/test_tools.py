from __future__ import annotations

import sys
from pathlib import Path

import pytest

from shipyard.errors import ExitCode, ToolMissing
from shipyard.tools import ToolEnv


def test_missing_tool_is_exit_3_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ToolMissing, match="'no-such-tool-xyz' was not found") as info:
        ToolEnv(bin_dir=tmp_path).run(["no-such-tool-xyz"], cwd=tmp_path)
    assert info.value.code == ExitCode.TOOL_MISSING


def test_runs_from_bin_dir_first_and_drops_outer_coverage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    script = tmp_path / "hello"
    script.write_text(
        f"#!{sys.executable}\nimport os\n"
        "print(os.environ.get('GREETING'), os.environ.get('COVERAGE_PROCESS_START'))\n"
    )
    script.chmod(0o755)
    monkeypatch.setenv("COVERAGE_PROCESS_START", "x")
    tools = ToolEnv(bin_dir=tmp_path, env={"GREETING": "hi"})
    done = tools.run(["hello"], cwd=tmp_path)
    assert done.returncode == 0
    assert done.stdout.split() == ["hi", "None"]
    assert tools.which("hello") == str(script)

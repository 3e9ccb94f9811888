from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from shipyard import __version__
from shipyard.cli import main


def write_project(root: Path, tool: str = "") -> Path:
    (root / "src").mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(f'[project]\nname = "demo"\nversion = "1"\n{tool}')
    return root


def test_version_and_module_entry_point() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "shipyard", "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0
    assert done.stdout.strip() == f"shipyard {__version__}"


def test_config_json_prints_the_resolved_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_project(tmp_path, "[tool.shipyard.gates]\ncoverage = 91\n")
    assert main(["--root", str(root), "config", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["gates"]["coverage"] == 91
    assert data["sources"] == ["src"]


def test_config_prints_the_resolved_table_as_toml(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_project(tmp_path, "[tool.shipyard.test]\npytest-args = ['-x']\n")
    assert main(["--root", str(root), "config"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("[tool.shipyard]\n")
    table = tomllib.loads(out)["tool"]["shipyard"]
    assert table["gates"]["lint-warnings"] == 0
    assert table["test"]["pytest-args"] == ["-x"]
    assert table["lint"]["ruff"] is True
    assert "# mypy: unset" in out  # TOML has no null: unset options are comments


@pytest.mark.parametrize(
    ("tool", "words"),
    [
        ("[tool.shipyard.matrix]\nplatforms = ['linux_arm']\n", "Did you mean 'aarch64'?"),
        ("[tool.shipyard]\ntoolchain = ['pyton']\n", "Did you mean 'python'?"),
        ("[tool.shipyard.stages.check]\nneeds = ['lint']\n", "at least one command"),
        (
            "[[tool.shipyard.audit.suppress]]\nid = 'CVE-1'\nreason = ''\n",
            "has no reason",
        ),
    ],
)
def test_config_checks_what_nox_and_invoke_check_on_loading(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], tool: str, words: str
) -> None:
    root = write_project(tmp_path, tool)
    assert main(["--root", str(root), "config"]) == 2
    err = capsys.readouterr().err
    assert words in err
    assert main(["--root", str(root), "config", "--json"]) == 2


def test_config_schema(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "--schema"]) == 0
    assert json.loads(capsys.readouterr().out)["title"] == "[tool.shipyard]"


def test_config_error_is_one_paragraph_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_project(tmp_path, "[tool.shipyard]\nreport-dir = 'x'\n")
    assert main(["--root", str(root), "config"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("shipyard: error: ")
    assert "key 'tool.shipyard.report-dir'" in err
    assert "Did you mean 'tool.shipyard.reports-dir'?" in err
    assert "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--root", str(tmp_path), "--debug", "config"]) == 2
    assert "Traceback" in capsys.readouterr().err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["no-such-command"]) == 2
    assert "invalid choice: 'no-such-command'" in capsys.readouterr().err
    assert main([]) == 2


def test_a_file_as_root_is_a_usage_error_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = write_project(tmp_path)
    assert main(["--root", str(root / "pyproject.toml"), "config"]) == 2
    err = capsys.readouterr().err
    assert "--root must be a directory" in err
    assert str(root / "pyproject.toml") in err
    assert "Traceback" not in err

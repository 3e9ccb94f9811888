"""`shipyard init` through the CLI (workflows left out here; the integration tests cover them)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from helpers.adopt import (
    FLIT_NO_TOOLS,
    HATCH_SRC,
    MESSY,
    SETUPTOOLS_CFG,
    clean_env,
    git,
    git_init,
)
from shipyard.adopt.init import NOXFILE, TASKS
from shipyard.cli import main


def init(root: Path, *args: str) -> int:
    return main(["--root", str(root), "init", "--no-workflows", *args])


def test_writes_the_thin_files_table_and_ignores(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = FLIT_NO_TOOLS.make(tmp_path)
    assert init(root) == 0
    assert (root / "noxfile.py").read_text() == NOXFILE
    assert (root / "tasks.py").read_text() == TASKS
    assert tomllib.loads((root / "pyproject.toml").read_text())["tool"]["shipyard"] == {
        "tests": "flitpkg/tests"
    }
    assert ".shipyard/" in (root / ".gitignore").read_text().splitlines()
    assert "__pycache__/" in (root / ".gitignore").read_text().splitlines()
    err = capsys.readouterr().err
    assert "layout       flat (packages: flitpkg)" in err
    assert "tests        flitpkg/tests/" in err
    assert "backend      flit" in err
    assert "pythons      3.11, 3.12, 3.13, 3.14 (from project.requires-python '>=3.11')" in err
    assert "shipyard doctor" in err
    assert "nox -s ci" in err
    assert re.search(r"update +pyproject\.toml +\[tool\.shipyard\]: tests", err)
    # Not a git repository: it works, and says what is missing.
    assert "shipyard: warning: not a git repository" in err


def test_thin_files_pass_ruff_default_rules_and_format(tmp_path: Path) -> None:
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    (tmp_path / "noxfile.py").write_text(NOXFILE)
    (tmp_path / "tasks.py").write_text(TASKS)
    for argv in (
        [ruff, "check", "--isolated", "."],
        [ruff, "format", "--isolated", "--check", "."],
    ):
        done = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, check=False)
        assert done.returncode == 0, done.stdout + done.stderr


def test_second_run_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = MESSY.make(tmp_path)
    git_init(root)
    assert init(root) == 0
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "Adopt shipyard")
    capsys.readouterr()
    assert init(root) == 0
    assert git(root, "status", "--porcelain") == ""
    assert "nothing to change: the project has adopted shipyard already." in capsys.readouterr().err


def test_summary_shows_config_text_in_brackets_as_text(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    root = SETUPTOOLS_CFG.make(tmp_path)
    assert init(root, "--dry-run") == 0
    err = capsys.readouterr().err
    assert "(from setup.cfg [options] python_requires '>=3.11')" in err


def test_dry_run_prints_a_diff_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = MESSY.make(tmp_path)
    before = {p: p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert init(root, "--dry-run") == 0
    assert {p: p.read_bytes() for p in root.rglob("*") if p.is_file()} == before
    out, err = capsys.readouterr()
    assert "--- /dev/null\n+++ b/noxfile.py\n" in out
    assert "--- a/pyproject.toml\n+++ b/pyproject.toml\n" in out
    assert '+tests = "src/messy_pkg/tests"\n' in out
    assert "+.shipyard/\n" in out
    assert re.search(r"would create +noxfile\.py", err)
    assert "dry run: 4 file(s) would be written; nothing was." in err


def test_existing_noxfile_is_kept_unless_forced(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = HATCH_SRC.make(tmp_path)
    own = 'import nox\n\n\n@nox.session\ndef tests(session):\n    session.run("pytest")\n'
    (root / "noxfile.py").write_text(own)
    assert init(root) == 0
    assert (root / "noxfile.py").read_text() == own
    err = capsys.readouterr().err
    assert "noxfile.py exists and is not shipyard's; add `from shipyard import sessions" in err
    assert "--force to replace it" in err
    # `nox -s ci` would fail there ("Sessions not found: ci"): the hint says what to add.
    _, hints = err.split("next:\n")
    assert "add `from shipyard import sessions  # noqa: F401` to noxfile.py" in hints
    assert "then `nox -s ci` runs the whole pipeline" in hints
    assert not re.search(r"^\s+nox -s ci", hints, re.MULTILINE)

    assert init(root, "--force") == 0
    assert (root / "noxfile.py").read_text() == NOXFILE
    assert re.search(r"update +noxfile\.py +--force", capsys.readouterr().err)


def test_noxfile_already_using_shipyard_is_left_quietly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = HATCH_SRC.make(tmp_path)
    (root / "noxfile.py").write_text("from shipyard.sessions import *  # noqa: F403\n")
    assert init(root) == 0
    err = capsys.readouterr().err
    assert "shipyard: noxfile.py exists and uses shipyard already" in err
    assert "warning: noxfile.py" not in err
    assert re.search(r"^\s+nox -s ci", err.split("next:\n")[1], re.MULTILINE)


@pytest.mark.parametrize(
    ("source", "uses"),
    [
        ("from shipyard import sessions  # noqa: F401\n", True),
        ("import nox\nfrom shipyard.sessions import lint_session\n", True),
        ("import shipyard.sessions\n", True),
        ("from shipyard import sessions as s, flows\n", True),
        ("# TODO: try shipyard\nimport nox\n", False),
        ("from shipyard import flows\n", False),
        ("from shipyard.sessions import (\n", False),
    ],
)
def test_a_noxfile_uses_shipyard_when_it_imports_its_sessions(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], source: str, *, uses: bool
) -> None:
    root = HATCH_SRC.make(tmp_path)
    (root / "noxfile.py").write_text(source)
    assert init(root) == 0
    err = capsys.readouterr().err
    assert ("warning: noxfile.py exists and is not shipyard's" not in err) is uses


def test_a_table_of_dotted_keys_under_tool_gains_dotted_keys(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = FLIT_NO_TOOLS.make(tmp_path)
    with (root / "pyproject.toml").open("a") as fh:
        fh.write("\n[tool]\nshipyard.gates.coverage = 90\n")
    assert init(root) == 0, capsys.readouterr().err
    text = (root / "pyproject.toml").read_text()
    assert text.endswith('[tool]\nshipyard.tests = "flitpkg/tests"\nshipyard.gates.coverage = 90\n')
    shipyard = tomllib.loads(text)["tool"]["shipyard"]
    assert shipyard == {"tests": "flitpkg/tests", "gates": {"coverage": 90}}


def test_no_pyproject_is_a_clear_error_offering_the_minimal_table(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert init(tmp_path) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"shipyard: error: {tmp_path / 'pyproject.toml'}: no pyproject.toml")
    assert "[build-system]" in err
    assert "[tool.shipyard]" in err
    assert "Traceback" not in err
    assert not (tmp_path / "noxfile.py").exists()


def test_syntax_error_gives_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n[tool.shipyard\n')
    assert init(tmp_path) == 2
    err = capsys.readouterr().err
    assert "invalid TOML at line 3, column 15" in err
    assert "    3 | [tool.shipyard" in err


def test_bad_existing_config_stops_init_naming_the_real_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = HATCH_SRC.make(tmp_path)
    with (root / "pyproject.toml").open("a") as fh:
        fh.write("\n[tool.shipyard.gates]\ncoverag = 80\n")
    assert init(root) == 2
    err = capsys.readouterr().err
    assert f"{root.resolve() / 'pyproject.toml'}: key 'tool.shipyard.gates.coverag'" in err
    assert "shipyard-init-" not in err
    assert not (root / "noxfile.py").exists()


def _read_only_init(root: Path) -> subprocess.CompletedProcess[str]:
    """`shipyard init` with `root` read-only: by mode bits, or as root on a read-only bind mount."""
    argv = [sys.executable, "-m", "shipyard", "--root", str(root), "init", "--no-workflows"]
    env = clean_env(root.parent)
    if os.geteuid() != 0:
        root.chmod(0o555)
        try:
            return subprocess.run(argv, capture_output=True, text=True, env=env, check=False)
        finally:
            root.chmod(0o755)
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.skip("running as root without unshare: no way to make a read-only directory")
    script = 'mount --bind -o ro "$0" "$0" && exec "$@"'
    wrapped = [unshare, "--map-root-user", "--mount", "sh", "-c", script, str(root), *argv]
    done = subprocess.run(wrapped, capture_output=True, text=True, env=env, check=False)
    if "mount" in done.stderr and "shipyard" not in done.stderr:
        pytest.skip(f"no read-only bind mount here: {done.stderr.strip()}")
    return done


def test_read_only_directory_is_an_error_and_nothing_is_written(tmp_path: Path) -> None:
    root = HATCH_SRC.make(tmp_path)
    before = sorted(p.name for p in root.iterdir())
    done = _read_only_init(root)
    assert done.returncode == 2, done.stderr
    assert f"shipyard: error: cannot write in {root}" in done.stderr
    assert "nothing was written" in done.stderr
    assert sorted(p.name for p in root.iterdir()) == before

"""Adding [tool.shipyard] keys to pyproject.toml: every other byte stays where it was."""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from textwrap import dedent

import pytest

from helpers.adopt import MESSY_PYPROJECT
from shipyard.adopt import pyproject
from shipyard.errors import ConfigError

WANTED = {"tests": "pkg/tests", "test": {"extras": ["testing"]}}


def only_inserted(old: str, new: str) -> list[str]:
    """The lines `new` adds to `old`; fails when anything of `old` changed or moved."""
    matcher = difflib.SequenceMatcher(
        a=old.splitlines(keepends=True), b=new.splitlines(keepends=True)
    )
    added = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        assert tag in ("equal", "insert"), (tag, old.splitlines(keepends=True)[i1:i2])
        added += new.splitlines(keepends=True)[j1:j2] if tag == "insert" else []
    return added


def merge(text: str, wanted: dict[str, object] = WANTED) -> tuple[str, dict[str, object]]:
    return pyproject.merge(text, wanted, path=Path("pyproject.toml"))


def test_messy_file_keeps_every_byte_and_gains_the_tables_at_the_end() -> None:
    new, added = merge(MESSY_PYPROJECT)
    assert added == WANTED
    assert new.startswith(MESSY_PYPROJECT)
    assert new[len(MESSY_PYPROJECT) :] == dedent(
        """
        [tool.shipyard]
        tests = "pkg/tests"

        [tool.shipyard.test]
        extras = ["testing"]
        """
    )
    data = tomllib.loads(new)
    assert data["tool"]["shipyard"]["gates"]["coverage"] == 95


def test_a_file_without_tool_tables_gets_a_commented_table() -> None:
    old = '[project]\nname = "x"\nversion = "1"\n'
    new, _ = merge(old, {"sources": ["lib"]})
    assert new == old + (
        "\n# shipyard: only what differs from its defaults (`shipyard config`)\n"
        '[tool.shipyard]\nsources = ["lib"]\n'
    )


def test_keys_go_under_an_existing_header_and_existing_values_win() -> None:
    old = dedent(
        """
        [tool.shipyard]   # ours
        tests = "t"

        [tool.shipyard.test]
        pytest-args = ["-x"]

        [tool.ruff]
        line-length = 100
        """
    )
    new, added = merge(old, {"tests": "other", "sources": ["lib"], "test": {"extras": ["dev"]}})
    assert added == {"sources": ["lib"], "test": {"extras": ["dev"]}}
    assert only_inserted(old, new) == ['sources = ["lib"]\n', 'extras = ["dev"]\n']
    assert tomllib.loads(new)["tool"]["shipyard"]["tests"] == "t"


def test_crlf_and_a_missing_final_newline_are_respected() -> None:
    old = '[project]\r\nname = "x"\r\n\r\n[tool.ruff]\r\nx = 1'
    new, _ = merge(old)
    assert new.startswith(old + "\r\n\r\n")
    assert "\n" not in new.replace("\r\n", "")
    assert tomllib.loads(new)["tool"]["shipyard"]["tests"] == "pkg/tests"


def test_out_of_order_tool_tables_stay_in_place() -> None:
    old = '[tool.ruff]\nx = 1\n\n[project]\nname = "x"\n\n[tool.mypy]\nstrict = true\n'
    new, _ = merge(old)
    assert new.startswith(old)
    assert only_inserted(old, new)


def test_nothing_missing_means_the_same_text() -> None:
    old = '[tool.shipyard]\ntests = "a"\n\n[tool.shipyard.test]\nextras = ["x"]\n'
    assert merge(old) == (old, {})


def test_inline_table_cannot_be_extended_and_the_lines_are_offered() -> None:
    old = '[tool]\nshipyard = { reports-dir = "r" }\n'
    with pytest.raises(ConfigError) as caught:
        merge(old)
    message = str(caught.value)
    assert "pyproject.toml: [tool.shipyard] is written in a form" in message
    assert "inside the braces of the inline table tool.shipyard:" in message
    assert message.endswith('\ntests = "pkg/tests", test.extras = ["testing"]')
    # What it offers, pasted where it says, is valid TOML with the keys.
    pasted = old.replace(" }", ', tests = "pkg/tests", test.extras = ["testing"] }')
    assert tomllib.loads(pasted)["tool"]["shipyard"] == {"reports-dir": "r", **WANTED}


@pytest.mark.parametrize(
    ("old", "added"),
    [
        # [tool] then dotted keys: a [tool.shipyard] header would declare it twice.
        (
            '[project]\nname = "x"\n\n[tool]\nshipyard.gates.coverage = 90\n',
            'shipyard.tests = "pkg/tests"\nshipyard.test.extras = ["testing"]\n',
        ),
        # Dotted from the root, before any table.
        (
            'tool.shipyard.gates.coverage = 90\n\n[project]\nname = "x"\n',
            'tool.shipyard.tests = "pkg/tests"\ntool.shipyard.test.extras = ["testing"]\n',
        ),
        # A header of its own, with a sub-table made of dotted keys.
        (
            '[tool.shipyard]\ntest.requirements = ["pytest"]',
            'tests = "pkg/tests"\ntest.extras = ["testing"]\n',
        ),
    ],
)
def test_dotted_keys_are_extended_in_their_own_form(old: str, added: str) -> None:
    new, keys = merge(old)
    assert keys == WANTED
    assert "".join(only_inserted(old, new)) == added
    data = tomllib.loads(new)["tool"]["shipyard"]
    assert data["tests"] == "pkg/tests"
    assert data["test"]["extras"] == ["testing"]


def test_syntax_error_names_line_and_column_and_shows_the_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion "1"\n')
    with pytest.raises(ConfigError) as caught:
        pyproject.read(tmp_path)
    message = str(caught.value)
    assert "invalid TOML at line 3, column 9" in message
    assert '    3 | version "1"\n' in message
    assert message.endswith("|         ^")


def test_missing_file_offers_the_minimal_pyproject(tmp_path: Path) -> None:
    root = tmp_path / "My Tool"
    root.mkdir()
    with pytest.raises(ConfigError) as caught:
        pyproject.read(root)
    message = str(caught.value)
    assert "no pyproject.toml here" in message
    offered = message.split("at least:\n\n", 1)[1].split("\nthen run", 1)[0]
    data = tomllib.loads(offered)
    assert data["project"]["name"] == "my-tool"
    assert data["build-system"]["build-backend"] == "hatchling.build"
    assert data["tool"]["shipyard"] == {}


def test_minimal_pyproject_for_a_setup_py_project_declares_only_the_build(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text("from setuptools import setup\nsetup()\n")
    data = tomllib.loads(pyproject.minimal_pyproject(tmp_path))
    assert "project" not in data
    assert data["build-system"]["build-backend"] == "setuptools.build_meta"


def test_not_utf8_is_said(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_bytes(b'[project]\nname = "\xff"\n')
    with pytest.raises(ConfigError, match="not UTF-8 text"):
        pyproject.read(tmp_path)

from __future__ import annotations

import dataclasses
import json
import textwrap
import tomllib
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from shipyard import config
from shipyard.errors import ConfigError, ExitCode

HEAD = '[project]\nname = "demo"\nversion = "1.0"\nrequires-python = ">=3.11"\n'


def project(tmp_path: Path, body: str, *, dirs: tuple[str, ...] = ("src", "tests")) -> Path:
    for d in dirs:
        (tmp_path / d).mkdir(parents=True, exist_ok=True)
    (tmp_path / "pyproject.toml").write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    return tmp_path


def test_no_table_gives_a_working_pipeline(tmp_path: Path) -> None:
    cfg = config.load(project(tmp_path, ""))
    assert cfg.sources == (Path("src"),)
    assert cfg.tests == Path("tests")
    assert cfg.gates.coverage == Decimal(80)
    assert cfg.gates.lint_warnings == 0
    assert cfg.reports == tmp_path / ".shipyard/reports"
    assert cfg.project is not None
    assert cfg.project.name == "demo"


def test_flat_layout_and_test_dir_are_detected(tmp_path: Path) -> None:
    (tmp_path / "demo").mkdir()
    (tmp_path / "demo" / "__init__.py").write_text("")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "__init__.py").write_text("")
    cfg = config.load(project(tmp_path, "", dirs=("test",)))
    assert cfg.sources == (Path("demo"),)
    assert cfg.tests == Path("test")


def test_single_module_project(tmp_path: Path) -> None:
    (tmp_path / "demo.py").write_text("")
    cfg = config.load(project(tmp_path, "", dirs=()))
    assert cfg.sources == (Path("demo.py"),)
    assert cfg.tests is None


def test_values_are_read_in_kebab_case(tmp_path: Path) -> None:
    cfg = config.load(
        project(
            tmp_path,
            """
            [tool.shipyard]
            reports-dir = "out"
            [tool.shipyard.gates]
            coverage = 92.5
            lint-warnings = 3
            [tool.shipyard.test]
            pytest-args = ["-x"]
            """,
        )
    )
    assert cfg.gates.coverage == Decimal("92.5")
    assert cfg.gates.lint_warnings == 3
    assert cfg.test.pytest_args == ("-x",)
    assert cfg.reports == tmp_path / "out"


BAD = [
    (
        "[tool.shipyard]\nsorces = ['src']\n",
        "tool.shipyard.sorces",
        "Did you mean 'tool.shipyard.sources'",
    ),
    (
        "[tool.shipyard.gates]\ncoverag = 80\n",
        "tool.shipyard.gates.coverag",
        "tool.shipyard.gates.coverage",
    ),
    (
        "[tool.shipyard.gates]\nlint_warnings = 1\n",
        "tool.shipyard.gates.lint_warnings",
        "lint-warnings",
    ),
    ("[tool.shipyard.gates]\ncoverage = 101\n", "tool.shipyard.gates.coverage", "0 to 100"),
    ("[tool.shipyard.gates]\ncoverage = -1\n", "tool.shipyard.gates.coverage", "0 to 100"),
    (
        "[tool.shipyard.gates]\ncoverage = '80'\n",
        "tool.shipyard.gates.coverage",
        "expected a number",
    ),
    (
        "[tool.shipyard.gates]\ncoverage = true\n",
        "tool.shipyard.gates.coverage",
        "expected a number",
    ),
    (
        "[tool.shipyard.gates]\nlint-warnings = 1.5\n",
        "tool.shipyard.gates.lint-warnings",
        "an integer",
    ),
    (
        "[tool.shipyard.gates]\nlint-warnings = -2\n",
        "tool.shipyard.gates.lint-warnings",
        "0 or more",
    ),
    ("[tool.shipyard]\ngates = 3\n", "tool.shipyard.gates", "a table"),
    ("[tool.shipyard.lint]\nmypy = 'yes'\n", "tool.shipyard.lint.mypy", "true or false"),
    (
        "[tool.shipyard.lint]\nrequirements = [1]\n",
        "tool.shipyard.lint.requirements[0]",
        "a string",
    ),
    (
        "[tool.shipyard.test]\npytest-args = 5\n",
        "tool.shipyard.test.pytest-args",
        "a list of strings",
    ),
    # A string where a command's arguments go is refused, not taken as one argument.
    (
        "[tool.shipyard.test]\npytest-args = '-x -q'\n",
        "tool.shipyard.test.pytest-args",
        """expected a list of arguments, like ["-x", "-q"], found '-x -q' (str).""",
    ),
    (
        "[tool.shipyard.bench]\ncommand = 'python bench.py --out r.json'\n",
        "tool.shipyard.bench.command",
        'like ["python", "bench.py", "--out", "r.json"]',
    ),
    (
        "[tool.shipyard.rust]\nclippy-args = '-W clippy::pedantic'\n",
        "tool.shipyard.rust.clippy-args",
        "a list of arguments",
    ),
    (
        "[tool.shipyard.docker.variants.cpu]\nsmoke = '--version'\n",
        "tool.shipyard.docker.variants.cpu.smoke",
        """like ["-x", "-q"], found '--version' (str)""",
    ),
    (
        "[tool.shipyard.test]\nextra = ['x']\n",
        "tool.shipyard.test.extra",
        "tool.shipyard.test.extras",
    ),
    ("[tool.shipyard.coverage]\nhtml = 1\n", "tool.shipyard.coverage.html", "true or false"),
    ("[tool.shipyard]\nreports-dir = ''\n", "tool.shipyard.reports-dir", "a path"),
    ("[tool.shipyard]\nsources = ['lib']\n", "tool.shipyard.sources", "'lib' does not exist"),
    ("[tool.shipyard]\ntests = 'spec'\n", "tool.shipyard.tests", "'spec' is not a directory"),
    ("[tool]\nshipyard = 1\n", "tool.shipyard", "a table"),
]


@pytest.mark.parametrize(("body", "key", "words"), BAD, ids=[b[1] for b in BAD])
def test_bad_config_names_the_key_and_the_file(
    tmp_path: Path, body: str, key: str, words: str
) -> None:
    root = project(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        config.load(root)
    assert info.value.key == key
    assert info.value.path == root / "pyproject.toml"
    message = str(info.value)
    assert f"key '{key}'" in message
    assert str(root / "pyproject.toml") in message
    assert words in message
    assert info.value.code == ExitCode.CONFIG


def test_selectors_and_other_lists_still_take_a_single_string(tmp_path: Path) -> None:
    body = """
        [tool.shipyard.matrix]
        build = "cp312-*"
        skip = "*-windows_*"
        [tool.shipyard.test]
        pytest-args = ["-x", "-q"]
        requirements = "hypothesis"
        """
    cfg = config.load(project(tmp_path, body))
    assert cfg.matrix.build == ("cp312-*",)
    assert cfg.matrix.skip == ("*-windows_*",)
    assert cfg.test.pytest_args == ("-x", "-q")
    assert cfg.test.requirements == ("hypothesis",)


def test_missing_pyproject(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no pyproject\.toml here") as info:
        config.load(tmp_path)
    assert info.value.code == 2


def test_a_file_as_root_is_a_config_error(tmp_path: Path) -> None:
    root = project(tmp_path, "")
    with pytest.raises(ConfigError, match="the project root must be a directory") as info:
        config.load(root / "pyproject.toml")
    assert info.value.code == 2


def test_toml_syntax_error_gives_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\nversion = \n')
    with pytest.raises(ConfigError, match=r"invalid TOML: .*line 3, column 11"):
        config.load(tmp_path)


def test_toml_error_at_the_end_of_the_file_gives_its_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndeps = [\n  "a",\n  "b"\n')
    with pytest.raises(
        ConfigError, match=r"Unclosed array \(at end of document, line 5, column 6\)"
    ):
        config.load(tmp_path)


def test_shipped_schema_matches_the_records() -> None:
    shipped = resources.files("shipyard").joinpath("resources/shipyard.schema.json")
    assert json.loads(shipped.read_text(encoding="utf-8")) == config.schema()


def test_schema_rejects_unknown_keys_and_documents_every_option() -> None:
    body = config.schema()
    assert body["additionalProperties"] is False
    gates = body["properties"]["gates"]
    assert gates["additionalProperties"] is False
    assert gates["properties"]["coverage"]["type"] == "number"
    assert gates["properties"]["coverage"]["description"]


def test_to_json_round_trips_kebab_keys(tmp_path: Path) -> None:
    data = config.to_json(config.load(project(tmp_path, "")))
    assert data["gates"] == {
        "coverage": 80,
        "lint-warnings": 0,
        "bench-warn": 10,
        "bench-fail": 20,
        "max-severity": "high",
    }
    assert data["reports-dir"] == ".shipyard/reports"


def test_to_toml_loads_back_to_the_same_config(tmp_path: Path) -> None:
    body = """
        [tool.shipyard.test]
        pytest-args = ["-x", "-q"]
        [tool.shipyard.stages.check]
        commands = ["alembic check"]
        env = { A = "1" }
        [[tool.shipyard.audit.suppress]]
        id = "CVE-2019-11324"
        reason = "not reachable"
        expires = "2030-06-30"
        [tool.shipyard.matrix.overrides."cp312-*"]
        env = { X = "y" }
        [tool.shipyard.bench.thresholds."*slow*"]
        warn = 25
        [tool.shipyard.docker.variants.cpu]
        smoke = ["--version"]
        size-budget-mb = 120.5
        """
    cfg = config.load(project(tmp_path, body))
    text = config.to_toml(cfg)
    assert text.startswith("[tool.shipyard]\n")
    assert "[[tool.shipyard.audit.suppress]]" in text
    assert "[tool.shipyard.stages.check]" in text
    again = config.build(config.Config, tomllib.loads(text)["tool"]["shipyard"], path=tmp_path)
    assert config.to_json(again) == config.to_json(
        dataclasses.replace(cfg, root=again.root, pyproject=again.pyproject, project=None)
    )


def test_readme_config_reference_is_current() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- config-reference:start -->\n") + len(
        "<!-- config-reference:start -->\n"
    )
    end = readme.index("<!-- config-reference:end -->")
    assert readme[start:end] == config.reference_markdown()


def test_reference_lists_every_option_once() -> None:
    keys = [key for key, _, _ in config.reference_rows()]
    assert len(keys) == len(set(keys))
    assert "gates.coverage" in keys
    assert all(text for _, _, text in config.reference_rows())

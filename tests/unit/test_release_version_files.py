from __future__ import annotations

from pathlib import Path

import pytest

from shipyard.config import ReleaseConfig
from shipyard.errors import ConfigError
from shipyard.release.version_files import (
    bump_pyproject,
    read_version,
    write_version,
)

HERE = Path("pyproject.toml")


def _bump(text: str, version: str = "1.3.0rc1") -> str:
    return bump_pyproject(text, version, path=HERE)


def test_single_quotes_and_comment_survive() -> None:
    text = "[project]\nname = 'x'\nversion = '1.2.3'  # keep me\n"
    assert _bump(text, "1.2.4") == "[project]\nname = 'x'\nversion = '1.2.4'  # keep me\n"


@pytest.mark.parametrize(
    "text",
    [
        # comments, odd spacing, key order, double quotes
        '# top\n[project]  # the table\ndescription="d"\nversion   =   "1.2.3"\nname = "x"\n',
        # CRLF line endings
        '[project]\r\nname = "x"\r\nversion = "1.2.3" # c\r\n\r\n[tool.x]\r\na = 1\r\n',
        # dotted keys at the top level
        "project.name = 'x'\nproject.version = \"1.2.3\"\n\n[tool.x]\na = 1\n",
        # tables out of order
        (
            "[tool.a]\nb = 1\n[project.urls]\nh = 'u'\n[project]\nversion = '1.2.3'\nname = 'x'\n"
            "[project.optional-dependencies]\nt = []\n"
        ),
        # a literal string next to an inline table and arrays
        "[project]\nname='x'\nversion='1.2.3'\nauthors=[{name='A'}]\nkw=[\n  'a',  # one\n]\n",
    ],
)
def test_everything_but_the_version_survives_byte_for_byte(text: str) -> None:
    assert _bump(text) == text.replace("1.2.3", "1.3.0rc1")


def test_missing_or_non_string_version_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"project\.version"):
        _bump("[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match=r"project\.version"):
        _bump("[project]\nname = 'x'\nversion = 1\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        _bump("[project\n")


def _project(tmp_path: Path, pyproject: str, files: dict[str, str] | None = None) -> Path:
    (tmp_path / "pyproject.toml").write_bytes(pyproject.encode())
    for name, text in (files or {}).items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(text.encode())
    return tmp_path


def test_write_version_in_pyproject_and_skip_when_done(tmp_path: Path) -> None:
    root = _project(tmp_path, "[project]\nname = 'x'\nversion = '1.2.3'\n")
    config = ReleaseConfig()
    assert read_version(root, config) == "1.2.3"
    assert write_version(root, config, "1.3.0") == [root / "pyproject.toml"]
    assert read_version(root, config) == "1.3.0"
    assert write_version(root, config, "1.3.0") == []


def test_dynamic_version_goes_to_version_files(tmp_path: Path) -> None:
    init = '"""Pkg."""\r\n\r\n__version__ = \'1.2.3\'  # set by release\r\nOTHER = "1.2.3"\r\n'
    about = 'VERSION_INFO = "x"\nrelease = "v1.2.3"\n'
    root = _project(
        tmp_path,
        "[project]\nname = 'x'\ndynamic = ['version']\n",
        {"src/x/__init__.py": init, "src/x/about.py": about},
    )
    config = ReleaseConfig(
        version_files=("src/x/__init__.py", r'src/x/about.py:^release = "v(?P<version>[^"]+)"')
    )
    assert read_version(root, config) == "1.2.3"
    changed = write_version(root, config, "2.0.0b1")
    assert changed == [root / "src/x/__init__.py", root / "src/x/about.py"]
    assert (root / "src/x/__init__.py").read_bytes().decode() == init.replace(
        "'1.2.3'", "'2.0.0b1'"
    )
    assert (root / "src/x/about.py").read_text() == 'VERSION_INFO = "x"\nrelease = "v2.0.0b1"\n'
    assert (root / "pyproject.toml").read_text() == "[project]\nname = 'x'\ndynamic = ['version']\n"


@pytest.mark.parametrize(
    "plugin",
    [
        '[build-system]\nrequires = ["setuptools>=64", "setuptools_scm[toml]>=8"]\n',
        "[tool.setuptools_scm]\n",
        '[tool.hatch.version]\nsource = "vcs"\n',
        '[tool.pdm.version]\nsource = "scm"\n',
        "[tool.poetry-dynamic-versioning]\nenable = true\n",
        '[build-system]\nrequires = ["setuptools", "versioningit"]\n',
    ],
)
def test_dynamic_with_a_vcs_plugin_means_tags_only(tmp_path: Path, plugin: str) -> None:
    root = _project(tmp_path, f"[project]\nname = 'x'\ndynamic = ['version']\n{plugin}")
    assert read_version(root, ReleaseConfig()) is None
    assert write_version(root, ReleaseConfig(), "1.0.0") == []


FLIT = """\
[build-system]
requires = ["flit_core>=3.4"]
build-backend = "flit_core.buildapi"

[project]
name = "csv-tool"
dynamic = ["version", "description"]
"""


def test_flit_takes_the_version_from_the_module(tmp_path: Path) -> None:
    init = '"""CSV tools."""\n\nVERSION = "9.9"\n__version__ = "2.0.1"\n'
    root = _project(tmp_path, FLIT, {"csv_tool/__init__.py": init})
    assert read_version(root, ReleaseConfig()) == "2.0.1"
    assert write_version(root, ReleaseConfig(), "2.0.2") == [root / "csv_tool/__init__.py"]
    assert (root / "csv_tool/__init__.py").read_text() == init.replace("2.0.1", "2.0.2")


def test_flit_module_name_and_src_layout(tmp_path: Path) -> None:
    pyproject = FLIT + '\n[tool.flit.module]\nname = "csvt"\n'
    root = _project(tmp_path, pyproject, {"src/csvt/__init__.py": "__version__ = '1.0'\n"})
    assert read_version(root, ReleaseConfig()) == "1.0"


@pytest.mark.parametrize(
    ("table", "files", "changed"),
    [
        (
            '[tool.hatch.version]\npath = "src/x/about.py"\n',
            {"src/x/about.py": "__version__ = '1.2.3'\n"},
            "src/x/about.py",
        ),
        (
            '[tool.setuptools.dynamic]\nversion = {attr = "x.meta.VERSION"}\n',
            {"src/x/__init__.py": "", "src/x/meta.py": "__version__ = '0'\nVERSION = '1.2.3'\n"},
            "src/x/meta.py",
        ),
        (
            '[tool.setuptools.dynamic]\nversion = {file = "VERSION"}\n',
            {"VERSION": "1.2.3\n"},
            "VERSION",
        ),
        (
            '[tool.pdm.version]\nsource = "file"\npath = "x.py"\n',
            {"x.py": "__version__ = '1.2.3'\n"},
            "x.py",
        ),
    ],
)
def test_dynamic_version_file_found_from_the_backend_table(
    tmp_path: Path, table: str, files: dict[str, str], changed: str
) -> None:
    root = _project(tmp_path, f"[project]\nname = 'x'\ndynamic = ['version']\n{table}", files)
    before = (root / changed).read_text()
    assert read_version(root, ReleaseConfig()) == "1.2.3"
    assert write_version(root, ReleaseConfig(), "1.3.0") == [root / changed]
    assert (root / changed).read_text() == before.replace("1.2.3", "1.3.0")


def test_dynamic_version_nowhere_to_be_found_says_how_to_configure(tmp_path: Path) -> None:
    root = _project(
        tmp_path,
        "[project]\nname = 'x'\ndynamic = ['version']\n",
        {"src/x/__init__.py": "__version__ = '1.0'\n"},
    )
    with pytest.raises(ConfigError) as info:
        read_version(root, ReleaseConfig())
    text = str(info.value)
    assert info.value.key == "tool.shipyard.release.version-files"
    assert "no VCS versioning plugin" in text
    assert "flit's module __init__.py and setup.cfg [metadata] version" in text
    assert 'version-files = ["src/x/__init__.py"]' in text


def test_setuptools_attr_without_its_module_is_a_config_error(tmp_path: Path) -> None:
    table = '[tool.setuptools.dynamic]\nversion = {attr = "gone.__version__"}\n'
    root = _project(tmp_path, f"[project]\nname = 'x'\ndynamic = ['version']\n{table}")
    with pytest.raises(ConfigError, match=r"no module file for 'gone'.*version-files"):
        read_version(root, ReleaseConfig())


def test_a_backend_file_without_a_literal_version_names_where_it_came_from(
    tmp_path: Path,
) -> None:
    init = "from importlib.metadata import version\n__version__ = version('csv-tool')\n"
    root = _project(tmp_path, FLIT, {"csv_tool/__init__.py": init})
    with pytest.raises(
        ConfigError, match=r"__init__\.py.*version-files.*flit's module points to this file"
    ):
        read_version(root, ReleaseConfig())


# -- projects without a [project] table --------------------------------------------------

POETRY = """\
[tool.poetry]
name = "slugify-lite"
version = '0.2.0'   # poetry's own table
authors = ["Sam <sam@example.org>"]

[tool.poetry.dependencies]
python = "^3.10"

[build-system]
requires = ["poetry-core>=1.0.0"]
build-backend = "poetry.core.masonry.api"
"""


def test_poetry_version_is_rewritten_through_tomlkit(tmp_path: Path) -> None:
    root = _project(tmp_path, POETRY.replace("\n", "\r\n"))
    assert read_version(root, ReleaseConfig()) == "0.2.0"
    assert write_version(root, ReleaseConfig(), "1.0.0") == [root / "pyproject.toml"]
    after = (root / "pyproject.toml").read_bytes().decode()
    assert after == POETRY.replace("'0.2.0'", "'1.0.0'").replace("\n", "\r\n")


def test_poetry_dynamic_versioning_means_tags_only(tmp_path: Path) -> None:
    pyproject = (
        POETRY.replace("0.2.0", "0.0.0") + "[tool.poetry-dynamic-versioning]\nenable = true\n"
    )
    root = _project(tmp_path, pyproject)
    assert read_version(root, ReleaseConfig()) is None


LEGACY = """\
[build-system]
requires = ["setuptools>=61"]
build-backend = "setuptools.build_meta"
"""

SETUP_CFG = """\
[bumpversion]
current_version = 0.3.1

[metadata]
name = legacycalc
description = A tiny calculator, version 0.3.1
version = 0.3.1  ; keep me
license = MIT

[options]
packages = find:
version = 0.3.1
"""


@pytest.mark.parametrize("newline", ["\n", "\r\n"])
def test_setup_cfg_metadata_version_changes_alone(tmp_path: Path, newline: str) -> None:
    text = SETUP_CFG.replace("\n", newline)
    root = _project(tmp_path, LEGACY, {"setup.cfg": text})
    assert read_version(root, ReleaseConfig()) == "0.3.1"
    assert write_version(root, ReleaseConfig(), "0.4.0rc1") == [root / "setup.cfg"]
    expected = text.replace("version = 0.3.1  ;", "version = 0.4.0rc1  ;")
    assert (root / "setup.cfg").read_bytes().decode() == expected


def test_setup_cfg_attr_points_at_the_module(tmp_path: Path) -> None:
    setup_cfg = "[metadata]\nname = calc\nversion = attr: calc.__version__\n"
    root = _project(
        tmp_path,
        LEGACY,
        {"setup.cfg": setup_cfg, "src/calc/__init__.py": '__version__ = "0.3.1"\n'},
    )
    (root / "setup.cfg").write_text(setup_cfg + "[options]\npackage_dir =\n    =src\n")
    assert read_version(root, ReleaseConfig()) == "0.3.1"
    assert write_version(root, ReleaseConfig(), "0.4.0") == [root / "src/calc/__init__.py"]


def test_no_project_table_and_no_version_says_where_it_looked(tmp_path: Path) -> None:
    root = _project(tmp_path, LEGACY, {"setup.py": "from setuptools import setup\nsetup()\n"})
    with pytest.raises(ConfigError) as info:
        read_version(root, ReleaseConfig())
    text = str(info.value)
    assert "pyproject.toml has no [project] table" in text
    assert "[tool.poetry].version" in text
    assert "setup.cfg [metadata] version" in text
    assert "tool.shipyard.release.version-files" in text


def test_version_file_problems_name_the_file(tmp_path: Path) -> None:
    root = _project(
        tmp_path, "[project]\nname = 'x'\ndynamic = ['version']\n", {"a.py": "nothing here\n"}
    )
    with pytest.raises(ConfigError, match=r"a\.py.*no version found"):
        write_version(root, ReleaseConfig(version_files=("a.py",)), "1.0.0")
    with pytest.raises(ConfigError, match=r"b\.py.*not found"):
        read_version(root, ReleaseConfig(version_files=("b.py",)))


def test_no_version_at_all_is_a_config_error(tmp_path: Path) -> None:
    root = _project(tmp_path, "[project]\nname = 'x'\n")
    with pytest.raises(ConfigError, match="does not list it in 'dynamic'"):
        read_version(root, ReleaseConfig())

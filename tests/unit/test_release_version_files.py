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


def test_dynamic_without_version_files_means_tags_only(tmp_path: Path) -> None:
    root = _project(tmp_path, "[project]\nname = 'x'\ndynamic = ['version']\n")
    assert read_version(root, ReleaseConfig()) is None
    assert write_version(root, ReleaseConfig(), "1.0.0") == []


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

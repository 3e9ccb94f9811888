"""The build matrix: names, selectors, overrides, defaults and the GitHub include list."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import pytest

from helpers.matrix import matrix_config
from shipyard import config, matrix
from shipyard.errors import ConfigError, ExitCode, NoTargetsError, ToolMissing, UsageError

if TYPE_CHECKING:
    from pathlib import Path


# -- names ---------------------------------------------------------------------------------

# (os as written, what platform.machine() / runner.arch / docker / sysconfig say, canonical)
MACHINES = [
    # Linux: uname -m, GitHub's runner.arch, Docker/Go names
    ("linux", "x86_64", "x86_64"),
    ("linux", "X86_64", "x86_64"),
    ("linux", "amd64", "x86_64"),
    ("linux", "AMD64", "x86_64"),
    ("linux", "X64", "x86_64"),
    ("linux", "x86-64", "x86_64"),
    ("linux", "aarch64", "aarch64"),
    ("linux", "arm64", "aarch64"),
    ("linux", "ARM64", "aarch64"),
    ("linux", "armv8", "aarch64"),
    ("Linux", " aarch64\n", "aarch64"),
    # macOS: platform.machine() under Apple silicon and Intel (or Rosetta)
    ("macos", "arm64", "arm64"),
    ("macos", "arm64e", "arm64"),
    ("macos", "aarch64", "arm64"),
    ("macos", "ARM64", "arm64"),
    ("macos", "x86_64", "x86_64"),
    ("macos", "amd64", "x86_64"),
    ("macos", "intel", "x86_64"),
    ("Darwin", "x86_64", "x86_64"),
    # Windows: PROCESSOR_ARCHITECTURE as platform.machine() reports it
    ("windows", "AMD64", "amd64"),
    ("windows", "amd64", "amd64"),
    ("windows", "x86_64", "amd64"),
    ("windows", "x64", "amd64"),
    ("windows", "EM64T", "amd64"),
    ("windows", "ARM64", "arm64"),
    ("windows", "arm64", "arm64"),
    ("windows", "aarch64", "arm64"),
    ("win32", "AMD64", "amd64"),
]


@pytest.mark.parametrize(("os_name", "machine", "expected"), MACHINES)
def test_normalize_arch_maps_every_spelling_to_the_os_vocabulary(
    os_name: str, machine: str, expected: str
) -> None:
    assert matrix.normalize_arch(os_name, machine) == expected


# (sys.platform, platform.system(), GitHub's runner.os and what people write)
OS_NAMES = [
    ("linux", "linux"),
    ("Linux", "linux"),
    ("linux2", "linux"),
    ("ubuntu", "linux"),
    ("darwin", "macos"),
    ("Darwin", "macos"),
    ("macOS", "macos"),
    ("macosx", "macos"),
    ("osx", "macos"),
    ("mac", "macos"),
    ("win32", "windows"),
    ("Windows", "windows"),
    ("WIN", "windows"),
    ("win64", "windows"),
]


@pytest.mark.parametrize(("name", "expected"), OS_NAMES)
def test_normalize_os(name: str, expected: str) -> None:
    assert matrix.normalize_os(name) == expected


@pytest.mark.parametrize(
    ("os_name", "machine", "hint"),
    [
        ("linux", "arm", "Did you mean 'aarch64'?"),
        ("windows", "arm", "Did you mean 'arm64'?"),
        ("windows", "amd46", "Did you mean 'amd64'?"),
        ("macos", "x86", "Did you mean 'x86_64'?"),
        ("linux", "s390x", "expected x86_64 or aarch64."),
    ],
)
def test_unknown_arch_is_a_config_error_that_suggests(
    os_name: str, machine: str, hint: str
) -> None:
    with pytest.raises(ConfigError, match="unknown architecture") as info:
        matrix.normalize_arch(os_name, machine)
    assert hint in str(info.value)
    assert info.value.code is ExitCode.CONFIG


@pytest.mark.parametrize(
    ("name", "hint"),
    [("linx", "Did you mean 'linux'?"), ("darwn", "Did you mean 'macos'?"), ("freebsd", "")],
)
def test_unknown_os_is_a_config_error_that_suggests(name: str, hint: str) -> None:
    with pytest.raises(ConfigError, match="expected one of linux, macos, windows") as info:
        matrix.normalize_os(name)
    assert hint in str(info.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("linux_x86_64", ("linux", "x86_64")),
        ("linux-arm64", ("linux", "aarch64")),
        ("Linux/ARM64", ("linux", "aarch64")),
        ("win-amd64", ("windows", "amd64")),
        ("win_arm64", ("windows", "arm64")),
        ("windows_x64", ("windows", "amd64")),
        ("macosx-11.0-arm64", ("macos", "arm64")),
        ("macosx_10_9_x86_64", ("macos", "x86_64")),
        ("darwin-x86_64", ("macos", "x86_64")),
    ],
)
def test_parse_platform(text: str, expected: tuple[str, str]) -> None:
    assert matrix.parse_platform(text) == expected


def test_host_is_in_the_vocabulary_here() -> None:
    os_name, arch = matrix.host()
    assert os_name in matrix.OSES
    assert arch in matrix.ARCHES[os_name]


# -- targets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("python", "os_name", "arch", "expected"),
    [
        ("3.12", "linux", "x86_64", "cp312-linux_x86_64"),
        ("3.13", "macos", "arm64", "cp313-macos_arm64"),
        ("3.11", "windows", "amd64", "cp311-windows_amd64"),
        ("3.13t", "linux", "aarch64", "cp313t-linux_aarch64"),
        ("3.9", "linux", "x86_64", "cp39-linux_x86_64"),
    ],
)
def test_target_id(python: str, os_name: str, arch: str, expected: str) -> None:
    target = matrix.Target(python=python, os=os_name, arch=arch, runner="r")
    assert target.id == expected
    assert target.free_threaded is python.endswith("t")


def test_targets_hash_and_compare_despite_their_env_mapping() -> None:
    a = matrix.Target(python="3.12", os="linux", arch="x86_64", runner="r", env={"A": "1"})
    b = matrix.Target(python="3.12", os="linux", arch="x86_64", runner="r", env={"A": "1"})
    assert {a, b} == {a}
    assert a < matrix.Target(python="3.13", os="linux", arch="x86_64", runner="r")


# -- selectors -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "globs"),
    [
        ("cp3{11,12}-*", ("cp311-*", "cp312-*")),
        ("cp3{10..13}-*", ("cp310-*", "cp311-*", "cp312-*", "cp313-*")),
        (
            "cp31{1,2}-{linux,macos}_*",
            ("cp311-linux_*", "cp311-macos_*", "cp312-linux_*", "cp312-macos_*"),
        ),
        ("*-{linux_{x86_64,aarch64},windows_amd64}", None),
        ("cp312-*", ("cp312-*",)),
        ("CP312-Linux_*", ("cp312-linux_*",)),
    ],
)
def test_brace_expansion(selector: str, globs: tuple[str, ...] | None) -> None:
    parsed = matrix.Selector.parse(selector)
    if globs is not None:
        assert parsed.globs == globs
    else:
        assert parsed.globs == ("*-linux_x86_64", "*-linux_aarch64", "*-windows_amd64")


ALL_311_312 = {
    f"cp{py}-{plat}"
    for py in ("311", "312")
    for plat in ("linux_x86_64", "linux_aarch64", "macos_x86_64", "macos_arm64", "windows_amd64")
}

# build, skip -> the ids that remain (python 3.11 and 3.12, the five default platforms)
PRECEDENCE = [
    ('"*"', "[]", ALL_311_312),
    ('"cp311-*"', "[]", {i for i in ALL_311_312 if i.startswith("cp311")}),
    ('"*"', '"*-macos_*"', {i for i in ALL_311_312 if "macos" not in i}),
    # skip wins over build, even over an exact id
    ('"cp312-linux_x86_64"', '"*-linux_*"', set()),
    ('["cp312-linux_x86_64", "cp311-windows_amd64"]', '"cp311-*"', {"cp312-linux_x86_64"}),
    # one string may hold several selectors split by spaces
    (
        '"cp311-linux_* cp312-macos_arm64"',
        "[]",
        {
            "cp311-linux_x86_64",
            "cp311-linux_aarch64",
            "cp312-macos_arm64",
        },
    ),
    ('"*-linux_*"', '"*-linux_aarch64 cp311-*"', {"cp312-linux_x86_64"}),
]


@pytest.mark.parametrize(("build", "skip", "expected"), PRECEDENCE)
def test_build_and_skip_precedence(
    tmp_path: Path, build: str, skip: str, expected: set[str]
) -> None:
    body = f'python = ["3.11", "3.12"]\nbuild = {build}\nskip = {skip}\n'
    cfg = matrix_config(tmp_path, body)
    if not expected:
        with pytest.raises(NoTargetsError):
            matrix.plan(cfg)
        return
    assert set(matrix.plan(cfg).ids) == expected


def test_the_issue_example_gives_exactly_eight_targets(tmp_path: Path) -> None:
    cfg = matrix_config(
        tmp_path,
        """
        python = ["3.11", "3.12", "3.13"]
        build = "cp3{11,12}-*"
        skip = "*-windows_*"
        """,
    )
    plan = matrix.plan(cfg)
    assert plan.ids == (
        "cp311-linux_x86_64",
        "cp312-linux_x86_64",
        "cp311-linux_aarch64",
        "cp312-linux_aarch64",
        "cp311-macos_x86_64",
        "cp312-macos_x86_64",
        "cp311-macos_arm64",
        "cp312-macos_arm64",
    )
    assert plan.warnings == ()


def test_selectors_matching_nothing_are_warnings(tmp_path: Path) -> None:
    cfg = matrix_config(
        tmp_path,
        """
        python = ["3.12"]
        build = ["cp312-*", "cp38-*"]
        skip = ["*-linux_ppc64le"]
        """,
    )
    plan = matrix.plan(cfg)
    assert len(plan.targets) == 5
    assert plan.warnings == (
        "build selector 'cp38-*' matches no target.",
        "skip selector '*-linux_ppc64le' matches no target.",
    )


def test_no_target_is_its_own_error_naming_the_selectors(tmp_path: Path) -> None:
    cfg = matrix_config(tmp_path, 'python = ["3.12"]\nbuild = "cp311-*"\nskip = "*-macos_*"\n')
    with pytest.raises(NoTargetsError) as info:
        matrix.plan(cfg)
    assert info.value.code is ExitCode.NO_TARGETS == 4
    message = str(info.value)
    assert "build = ['cp311-*']" in message
    assert "skip = ['*-macos_*']" in message
    assert "python = ['3.12']" in message


# -- overrides and runners -----------------------------------------------------------------


def test_overrides_apply_in_order_and_later_wins(tmp_path: Path) -> None:
    cfg = matrix_config(
        tmp_path,
        """
        python = ["3.12", "3.13"]
        platforms = ["linux_x86_64", "linux_aarch64"]

        [tool.shipyard.matrix.overrides."*-linux_*"]
        env = { MODE = "first", KEEP = "yes" }
        requirements = ["numpy>=2"]
        runner = "first-runner"

        [tool.shipyard.matrix.overrides."cp313-*"]
        env = { MODE = "second" }
        requirements = ["numpy>=2", "scipy"]
        runner = "second-runner"

        [tool.shipyard.matrix.overrides."cp39-*"]
        env = { NEVER = "1" }
        """,
    )
    plan = matrix.plan(cfg)
    by_id = {t.id: t for t in plan.targets}
    later = by_id["cp313-linux_aarch64"]
    assert later.env == {"MODE": "second", "KEEP": "yes"}
    assert later.requirements == ("numpy>=2", "scipy")
    assert later.runner == "second-runner"
    first_only = by_id["cp312-linux_aarch64"]
    assert first_only.env == {"MODE": "first", "KEEP": "yes"}
    assert first_only.requirements == ("numpy>=2",)
    assert first_only.runner == "first-runner"
    assert plan.warnings == ("override selector 'cp39-*' matches no target.",)


def test_override_without_runner_keeps_the_platform_runner(tmp_path: Path) -> None:
    cfg = matrix_config(
        tmp_path,
        """
        python = ["3.12"]
        platforms = ["windows_arm64"]
        [tool.shipyard.matrix.overrides."*"]
        env = { A = "1" }
        """,
    )
    (target,) = matrix.plan(cfg).targets
    assert target.runner == "windows-11-arm"


@pytest.mark.parametrize(
    ("platform", "runner"),
    [
        ("linux_x86_64", "ubuntu-24.04"),
        ("linux_aarch64", "ubuntu-24.04-arm"),
        ("macos_x86_64", "macos-15-intel"),
        ("macos_arm64", "macos-15"),
        ("windows_amd64", "windows-2025"),
        ("windows_arm64", "windows-11-arm"),
    ],
)
def test_default_runners(tmp_path: Path, platform: str, runner: str) -> None:
    cfg = matrix_config(tmp_path, f'python = ["3.12"]\nplatforms = ["{platform}"]\n')
    assert [t.runner for t in matrix.plan(cfg).targets] == [runner]


def test_runners_table_overrides_labels_under_any_platform_spelling(tmp_path: Path) -> None:
    cfg = matrix_config(
        tmp_path,
        """
        python = ["3.12"]
        platforms = ["linux_x86_64", "linux_aarch64"]
        runners = { "linux-arm64" = "self-hosted-arm" }
        """,
    )
    runners = {t.id: t.runner for t in matrix.plan(cfg).targets}
    assert runners == {
        "cp312-linux_x86_64": "ubuntu-24.04",
        "cp312-linux_aarch64": "self-hosted-arm",
    }


@pytest.mark.parametrize(
    ("body", "key", "words"),
    [
        ('platforms = ["linux_x86_64", "linux_arm"]', "platforms[1]", "Did you mean 'aarch64'?"),
        ('platforms = ["linx_x86_64"]', "platforms[0]", "Did you mean 'linux'?"),
        ('platforms = ["x86_64"]', "platforms[0]", "written OS_ARCH"),
        ('runners = { "windows_x86" = "w" }', "runners.windows_x86", "unknown architecture"),
        (
            '[tool.shipyard.matrix.overrides."*"]\nrequirements = ["numpy >>> 2"]',
            'overrides."*".requirements[0]',
            "not a requirement",
        ),
    ],
)
def test_bad_platforms_runners_and_requirements_name_their_key(
    tmp_path: Path, body: str, key: str, words: str
) -> None:
    cfg = matrix_config(tmp_path, body)
    with pytest.raises(ConfigError) as info:
        matrix.plan(cfg)
    assert f"key 'tool.shipyard.matrix.{key}'" in str(info.value)
    assert words in str(info.value)
    assert "pyproject.toml" in str(info.value)


# -- Pythons -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("requires", "expected"),
    [
        (">=3.11", ("3.11", "3.12", "3.13", "3.14")),
        (">=3.9,<3.12", ("3.9", "3.10", "3.11")),
        ("~=3.10", ("3.10", "3.11", "3.12", "3.13", "3.14")),
        (">=3.11.4", ("3.11", "3.12", "3.13", "3.14")),
        (">=3.10,!=3.12.*", ("3.10", "3.11", "3.13", "3.14")),
        ("==3.12.*", ("3.12",)),
        ("<=3.11", ("3.9", "3.10", "3.11")),
        (">=3.10, <3.13", ("3.10", "3.11", "3.12")),
        (None, matrix.SUPPORTED_PYTHONS),
    ],
)
def test_default_pythons_come_from_requires_python(
    tmp_path: Path, requires: str | None, expected: tuple[str, ...]
) -> None:
    cfg = matrix_config(tmp_path, requires_python=requires)
    assert matrix.python_versions(cfg) == expected


def test_supported_pythons_run_from_39_to_314() -> None:
    assert matrix.SUPPORTED_PYTHONS == ("3.9", "3.10", "3.11", "3.12", "3.13", "3.14")


def test_requires_python_allowing_no_supported_version_is_no_targets(tmp_path: Path) -> None:
    cfg = matrix_config(tmp_path, requires_python=">=3.15")
    with pytest.raises(NoTargetsError, match=re.escape("requires-python '>=3.15' allows none")):
        matrix.plan(cfg)


@pytest.mark.parametrize("body", ["", 'python = ["3.12"]\n'])
def test_invalid_requires_python_names_the_key(tmp_path: Path, body: str) -> None:
    cfg = matrix_config(tmp_path, body, requires_python="=>3.11")
    with pytest.raises(ConfigError, match=re.escape("key 'project.requires-python'")):
        matrix.plan(cfg)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ('["3.x"]', "'3.x' is not one"),
        ('["3.12.1"]', "'3.12.1' is not one"),
        ('["three"]', "'three' is not one"),
        ('["3.12", "3.12t"]', "'3.12t' has no free-threaded build"),
        ("[3.12]", "expected a string, found 3.12 (float)"),
    ],
)
def test_a_python_that_is_not_a_version_is_a_config_error(
    tmp_path: Path, value: str, words: str
) -> None:
    with pytest.raises(ConfigError, match=re.escape("key 'tool.shipyard.matrix.python")) as info:
        matrix_config(tmp_path, f"python = {value}\n")
    assert words in str(info.value)


def test_pythons_outside_requires_python_or_the_supported_list_warn(tmp_path: Path) -> None:
    cfg = matrix_config(tmp_path, 'python = ["3.10", "3.15"]\nplatforms = ["linux_x86_64"]\n')
    assert matrix.plan(cfg).warnings == (
        "Python 3.10 is outside requires-python '>=3.11'.",
        "Python 3.15 is outside the supported CPython 3.9-3.14.",
    )


def test_free_threaded_targets(tmp_path: Path) -> None:
    cfg = matrix_config(
        tmp_path,
        """
        python = ["3.14t", "3.13", "3.13t", "3.14"]
        platforms = ["linux_aarch64"]
        """,
    )
    plan = matrix.plan(cfg)
    assert plan.ids == (
        "cp313-linux_aarch64",
        "cp313t-linux_aarch64",
        "cp314-linux_aarch64",
        "cp314t-linux_aarch64",
    )
    free = [t for t in plan.targets if t.free_threaded]
    assert [t.python for t in free] == ["3.13t", "3.14t"]


@pytest.mark.parametrize(
    ("build", "expected"),
    [
        ('"cp313t-*"', ("cp313t-linux_x86_64",)),
        ('"cp313-*"', ("cp313-linux_x86_64",)),
        ('"cp313*"', ("cp313-linux_x86_64", "cp313t-linux_x86_64")),
    ],
)
def test_free_threaded_selectors(tmp_path: Path, build: str, expected: tuple[str, ...]) -> None:
    body = f'python = ["3.13", "3.13t"]\nplatforms = ["linux_x86_64"]\nbuild = {build}\n'
    assert matrix.plan(matrix_config(tmp_path, body)).ids == expected


# -- the GitHub include list ---------------------------------------------------------------


def test_github_include_is_stable_and_has_exactly_the_workflow_keys(tmp_path: Path) -> None:
    body = """
        python = ["3.10", "3.9", "3.13t"]
        platforms = ["windows_amd64", "linux_x86_64", "macos_arm64"]
        build = "cp39-* cp310-* cp313t-linux_*"
    """
    include = matrix.github_include(matrix.plan(matrix_config(tmp_path, body)))
    assert include == [
        {
            "id": "cp39-linux_x86_64",
            "python": "3.9",
            "os": "linux",
            "arch": "x86_64",
            "runner": "ubuntu-24.04",
        },
        {
            "id": "cp310-linux_x86_64",
            "python": "3.10",
            "os": "linux",
            "arch": "x86_64",
            "runner": "ubuntu-24.04",
        },
        {
            "id": "cp313t-linux_x86_64",
            "python": "3.13t",
            "os": "linux",
            "arch": "x86_64",
            "runner": "ubuntu-24.04",
        },
        {
            "id": "cp39-macos_arm64",
            "python": "3.9",
            "os": "macos",
            "arch": "arm64",
            "runner": "macos-15",
        },
        {
            "id": "cp310-macos_arm64",
            "python": "3.10",
            "os": "macos",
            "arch": "arm64",
            "runner": "macos-15",
        },
        {
            "id": "cp39-windows_amd64",
            "python": "3.9",
            "os": "windows",
            "arch": "amd64",
            "runner": "windows-2025",
        },
        {
            "id": "cp310-windows_amd64",
            "python": "3.10",
            "os": "windows",
            "arch": "amd64",
            "runner": "windows-2025",
        },
    ]
    assert all(list(cell) == ["id", "python", "os", "arch", "runner"] for cell in include)


def test_github_include_does_not_depend_on_the_order_things_are_written(tmp_path: Path) -> None:
    one = matrix_config(
        tmp_path / "one", 'python = ["3.11", "3.12"]\nplatforms = ["linux_x86_64", "win-amd64"]\n'
    )
    two = matrix_config(
        tmp_path / "two",
        'python = ["3.12", "3.11", "3.12"]\nplatforms = ["windows_amd64", "linux-amd64"]\n',
    )
    dumped = [json.dumps(matrix.github_include(matrix.plan(c))) for c in (one, two)]
    assert dumped[0] == dumped[1]


# -- where targets run ---------------------------------------------------------------------


def test_runnable_here_splits_the_plan_by_host(tmp_path: Path) -> None:
    plan = matrix.plan(matrix_config(tmp_path, 'python = ["3.11", "3.12"]\n'))
    runnable, left_out = matrix.runnable_here(plan, here=("macos", "arm64"))
    assert [t.id for t in runnable] == ["cp311-macos_arm64", "cp312-macos_arm64"]
    assert len(left_out) == 8
    assert set(runnable).isdisjoint(left_out)
    message = matrix.left_out_message(left_out, here=("macos", "arm64"))
    assert message.startswith("left out 8 target(s) that need another OS/arch than macos/arm64: ")
    assert "cp311-linux_x86_64" in message
    assert matrix.left_out_message(()) == ""


def test_local_target_is_the_hosts_target_for_a_python(tmp_path: Path) -> None:
    plan = matrix.plan(matrix_config(tmp_path, 'python = ["3.11", "3.12"]\n'))
    target = matrix.local_target(plan, "3.12", here=("windows", "amd64"))
    assert target is not None
    assert target.id == "cp312-windows_amd64"
    assert matrix.local_target(plan, "3.13", here=("windows", "amd64")) is None
    assert matrix.local_target(plan, "3.12", here=("windows", "arm64")) is None


def test_plan_find_suggests_a_close_id(tmp_path: Path) -> None:
    plan = matrix.plan(matrix_config(tmp_path, 'python = ["3.12"]\n'))
    assert plan.find("CP312-linux_x86_64").id == "cp312-linux_x86_64"
    with pytest.raises(UsageError, match="Did you mean 'cp312-macos_arm64'"):
        plan.find("cp312-macos_arm46")


# -- reproducing a cell --------------------------------------------------------------------

# Recorded from `nox --list --json` on a noxfile with a parametrised and a plain session.
LISTING = json.loads(
    """[
  {"session": "lint", "name": "lint", "description": "", "python": null, "tags": [],
   "call_spec": {}},
  {"session": "test-3.12", "name": "test", "description": "pytest", "python": "3.12",
   "tags": [], "call_spec": {}},
  {"session": "test-3.13t", "name": "test", "description": "pytest", "python": "3.13t",
   "tags": [], "call_spec": {}}
]"""
)


def _target(python: str) -> matrix.Target:
    return matrix.Target(python=python, os="linux", arch="x86_64", runner="ubuntu-24.04")


@pytest.mark.parametrize(
    ("python", "name", "session", "command"),
    [
        ("3.12", "test", "test-3.12", "nox -s test-3.12"),
        ("3.13t", "test", "test-3.13t", "nox -s test-3.13t"),
        ("3.12", "lint", "lint", "nox -s lint --force-python 3.12"),
    ],
)
def test_session_for_and_nox_command(python: str, name: str, session: str, command: str) -> None:
    target = _target(python)
    assert matrix.session_for(LISTING, target, name) == session
    assert matrix.nox_command(target, session) == command


def test_nox_command_quotes_parametrised_session_names() -> None:
    assert matrix.nox_command(_target("3.12"), "test-3.12(x=1, y='a b')") == (
        "nox -s \"test-3.12(x=1, y='a b')\""
    )


@pytest.mark.parametrize(
    ("python", "name", "words"),
    [
        ("3.11", "test", "has no Python 3.11 (it has 3.12, 3.13t)"),
        ("3.12", "bench", "no session 'bench' (its sessions: lint, test)"),
    ],
)
def test_session_for_says_what_the_noxfile_lacks(python: str, name: str, words: str) -> None:
    with pytest.raises(ToolMissing) as info:
        matrix.session_for(LISTING, _target(python), name)
    assert words in str(info.value)


# -- the config table ----------------------------------------------------------------------


def test_the_schema_documents_the_matrix_table() -> None:
    body = config.schema()["properties"]["matrix"]
    assert body["additionalProperties"] is False
    assert set(body["properties"]) == {
        "python",
        "platforms",
        "build",
        "skip",
        "overrides",
        "runners",
    }
    override = body["properties"]["overrides"]["additionalProperties"]
    assert set(override["properties"]) == {"env", "requirements", "runner"}


def test_top_level_python_moved_into_the_matrix_table(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "d"\n[tool.shipyard]\npython = ["3.12"]\n', encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="unknown key"):
        config.load(tmp_path)


def test_unknown_matrix_key_suggests(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=re.escape("Did you mean 'tool.shipyard.matrix.platforms'")
    ):
        matrix_config(tmp_path, 'platform = ["linux_x86_64"]\n')

"""Toolchain detection and configuration; Rust targets, lock files, licences, lcov totals."""

from __future__ import annotations

import textwrap
from fractions import Fraction
from pathlib import Path

import pytest

from helpers.projects import write_files
from shipyard import config
from shipyard.errors import ConfigError
from shipyard.stages import toolchains
from shipyard.stages.toolchains import cargo_project, rust
from shipyard.stages.toolchains.interface import Cell, Toolchain
from shipyard.tools import ToolEnv

CARGO = '[package]\nname = "tool"\nversion = "1.2.3"\nedition = "2021"\n'
PYPROJECT = '[project]\nname = "pkg"\nversion = "1.0"\n'


def names(found: tuple[Toolchain, ...]) -> list[str]:
    return [t.name for t in found]


def test_every_toolchain_module_registers_itself_in_stage_order() -> None:
    assert toolchains.names() == ("python", "rust")
    assert toolchains.get("rust") is rust.TOOLCHAIN
    with pytest.raises(ConfigError, match="no toolchain named 'go'"):
        toolchains.get("go")


@pytest.mark.parametrize(
    ("files", "expected"),
    [
        ({"Cargo.toml": CARGO}, ["rust"]),
        ({"pyproject.toml": PYPROJECT}, ["python"]),
        ({"pyproject.toml": PYPROJECT, "Cargo.toml": CARGO}, ["python", "rust"]),
        ({"setup.py": "", "Cargo.toml": CARGO}, ["python", "rust"]),
        # A pyproject.toml holding only tool tables does not make a Cargo project Python.
        ({"pyproject.toml": "[tool.shipyard]\n", "Cargo.toml": CARGO}, ["rust"]),
        ({"pyproject.toml": "[build-system]\nrequires = []\n"}, ["python"]),
        ({"README.md": "hi"}, []),
    ],
)
def test_detection_follows_the_files(
    tmp_path: Path, files: dict[str, str], expected: list[str]
) -> None:
    write_files(tmp_path, files)
    assert names(toolchains.detect(tmp_path)) == expected


def test_a_cargo_project_reads_its_table_from_cargo_toml(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "Cargo.toml": CARGO
            + textwrap.dedent(
                """
                [package.metadata.shipyard.gates]
                coverage = 70

                [package.metadata.shipyard.rust]
                targets = ["x86_64-unknown-linux-gnu", "aarch64-apple-darwin"]
                features = "default"
                """
            ),
            "src/lib.rs": "",
            "tests/it.rs": "",
        },
    )
    cfg = config.load(tmp_path)
    assert cfg.pyproject == tmp_path / "Cargo.toml"
    assert cfg.project is not None
    assert (cfg.project.name, cfg.project.version) == ("tool", "1.2.3")
    assert cfg.gates.coverage == 70
    assert cfg.rust.features == "default"
    assert (cfg.sources, cfg.tests) == ((Path("src"),), Path("tests"))
    assert names(toolchains.for_config(cfg)) == ["rust"]


def test_a_bad_key_in_cargo_toml_is_named_with_its_table(tmp_path: Path) -> None:
    write_files(tmp_path, {"Cargo.toml": CARGO + "\n[package.metadata.shipyard]\ntoolchian = []\n"})
    with pytest.raises(ConfigError) as caught:
        config.load(tmp_path)
    assert "package.metadata.shipyard.toolchian" in str(caught.value)
    assert "Did you mean 'package.metadata.shipyard.toolchain'" in str(caught.value)


def test_a_workspace_keeps_it_in_workspace_metadata(tmp_path: Path) -> None:
    text = "[workspace]\nmembers = []\n\n[workspace.metadata.shipyard.rust]\n"
    text += 'nightly = "nightly-2026-01-01"\n'
    write_files(tmp_path, {"Cargo.toml": text})
    assert config.load(tmp_path).rust.nightly == "nightly-2026-01-01"


def test_a_bad_target_triple_is_a_config_error(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {"Cargo.toml": CARGO + '\n[package.metadata.shipyard.rust]\ntargets = ["Linux x64"]\n'},
    )
    with pytest.raises(ConfigError, match="target triples like"):
        config.load(tmp_path)


def test_configured_toolchains_win_over_detection_and_are_checked(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {"pyproject.toml": PYPROJECT + '\n[tool.shipyard]\ntoolchain = ["rust", "python"]\n'},
    )
    assert names(toolchains.for_config(config.load(tmp_path))) == ["python", "rust"]
    write_files(tmp_path, {"pyproject.toml": PYPROJECT + '\n[tool.shipyard]\ntoolchain = "rsut"\n'})
    with pytest.raises(ConfigError, match="Did you mean 'rust'") as caught:
        toolchains.for_config(config.load(tmp_path))
    assert caught.value.key == "tool.shipyard.toolchain[0]"


def test_no_toolchain_at_all_says_what_to_set(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": "[tool.shipyard]\n"})
    with pytest.raises(ConfigError, match=r"no toolchain detected.*Cargo\.toml"):
        toolchains.for_config(config.load(tmp_path))


def test_present_toolchains_may_be_none_but_configured_ones_are_checked(tmp_path: Path) -> None:
    write_files(tmp_path, {"pyproject.toml": "[tool.shipyard]\n"})
    assert toolchains.present(config.load(tmp_path)) == ()
    write_files(tmp_path / "crate", {"Cargo.toml": '[package]\nname = "c"\nversion = "0.1.0"\n'})
    assert names(toolchains.present(config.load(tmp_path), tmp_path / "crate")) == ["rust"]
    write_files(tmp_path, {"pyproject.toml": '[tool.shipyard]\ntoolchain = ["rsut"]\n'})
    with pytest.raises(ConfigError, match="Did you mean 'rust'"):
        toolchains.present(config.load(tmp_path))


# -- targets -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("triple", "platform", "asset"),
    [
        ("x86_64-unknown-linux-gnu", ("linux", "x86_64"), "tool-linux-x86_64"),
        ("aarch64-unknown-linux-musl", ("linux", "aarch64"), "tool-linux-aarch64"),
        ("x86_64-apple-darwin", ("macos", "x86_64"), "tool-macos-x86_64"),
        ("aarch64-apple-darwin", ("macos", "arm64"), "tool-macos-arm64"),
        ("x86_64-pc-windows-msvc", ("windows", "amd64"), "tool-windows-amd64.exe"),
        ("aarch64-pc-windows-msvc", ("windows", "arm64"), "tool-windows-arm64.exe"),
    ],
)
def test_triples_map_to_the_matrix_platforms(
    triple: str, platform: tuple[str, str], asset: str
) -> None:
    assert rust.platform_of(triple) == platform
    assert rust.asset_name("tool", triple) == asset


def test_the_default_targets_run_on_the_matrix_runners(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "Cargo.toml": CARGO
            + '\n[package.metadata.shipyard.matrix.runners]\nlinux_aarch64 = "arm-box"\n'
        },
    )
    cells = rust.TOOLCHAIN.cells(config.load(tmp_path))
    assert [(c.id, c.runner) for c in cells] == [
        ("x86_64-unknown-linux-gnu", "ubuntu-24.04"),
        ("aarch64-unknown-linux-gnu", "arm-box"),
        ("x86_64-apple-darwin", "macos-15-intel"),
        ("aarch64-apple-darwin", "macos-15"),
        ("x86_64-pc-windows-msvc", "windows-2025"),
    ]
    assert cells[3].github() == {
        "id": "aarch64-apple-darwin",
        "target": "aarch64-apple-darwin",
        "os": "macos",
        "arch": "arm64",
        "runner": "macos-15",
    }


def test_a_target_no_runner_can_run_names_its_key(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "Cargo.toml": CARGO
            + '\n[package.metadata.shipyard.rust]\ntargets = ["wasm32-unknown-unknown"]\n'
        },
    )
    with pytest.raises(ConfigError, match="not a Linux, macOS or Windows target") as caught:
        rust.TOOLCHAIN.cells(config.load(tmp_path))
    assert caught.value.key == "tool.shipyard.rust.targets[0]"


def test_python_cells_are_the_build_matrix(tmp_path: Path) -> None:
    write_files(
        tmp_path,
        {
            "pyproject.toml": PYPROJECT
            + '\n[tool.shipyard.matrix]\npython = ["3.12"]\nplatforms = ["linux_x86_64"]\n'
        },
    )
    (cell,) = toolchains.get("python").cells(config.load(tmp_path))
    assert cell == Cell(
        id="cp312-linux_x86_64", os="linux", arch="x86_64", runner="ubuntu-24.04", python="3.12"
    )


# -- lock files, licences, coverage totals -------------------------------------------------

CARGO_LOCK = """
version = 4

[[package]]
name = "smallvec"
version = "1.6.0"
source = "registry+https://github.com/rust-lang/crates.io-index"
checksum = "fe0f37c9e8f3c5a4a66ad655a93c74daac4ad00c441533bf5c6e7990bb42604e"

[[package]]
name = "tool"
version = "1.2.3"
dependencies = ["smallvec", "helper"]

[[package]]
name = "helper"
version = "0.1.0"
source = "git+https://example.invalid/helper#abc"
"""


def test_cargo_lock_pins_only_what_comes_from_crates_io(tmp_path: Path) -> None:
    write_files(tmp_path, {"Cargo.lock": CARGO_LOCK})
    (pin,) = rust.TOOLCHAIN.locked(config.Config(root=tmp_path))
    assert (pin.name, pin.version, pin.ecosystem, pin.source) == (
        "smallvec",
        "1.6.0",
        "crates.io",
        "Cargo.lock",
    )
    assert cargo_project.locked(tmp_path / "nowhere") == ()


def test_a_broken_cargo_lock_is_named(tmp_path: Path) -> None:
    write_files(tmp_path, {"Cargo.lock": "[[package]\n"})
    with pytest.raises(ConfigError, match=r"Cargo\.lock: unreadable lock file"):
        cargo_project.locked(tmp_path)


def test_dev_dependencies_are_not_shipped_and_old_licence_slashes_mean_or() -> None:
    data = {
        "workspace_members": ["app"],
        "resolve": {
            "nodes": [
                {
                    "id": "app",
                    "deps": [
                        {"pkg": "lib", "dep_kinds": [{"kind": None}]},
                        {"pkg": "testing", "dep_kinds": [{"kind": "dev"}]},
                        {"pkg": "codegen", "dep_kinds": [{"kind": "build"}]},
                    ],
                },
                {"id": "lib", "deps": [{"pkg": "inner", "dep_kinds": [{"kind": None}]}]},
                {"id": "testing", "deps": [{"pkg": "only-tests", "dep_kinds": [{"kind": None}]}]},
            ]
        },
    }
    assert cargo_project._shipped(data) == {"lib", "inner", "codegen"}
    assert cargo_project._spdx("MIT/Apache-2.0") == "MIT OR Apache-2.0"
    assert cargo_project._spdx("MIT OR Apache-2.0") == "MIT OR Apache-2.0"
    assert cargo_project._spdx(None) is None


def test_lcov_totals_are_an_exact_fraction(tmp_path: Path) -> None:
    lcov = tmp_path / "lcov.info"
    lcov.write_text(
        "SF:src/a.rs\nLF:10\nLH:7\nend_of_record\nSF:src/b.rs\nLF:3\nLH:3\nBRF:4\nBRH:1\nend_of_record\n"
    )
    assert cargo_project.lcov_fraction(lcov) == Fraction(11, 17)
    lcov.write_text("SF:src/a.rs\nend_of_record\n")
    assert cargo_project.lcov_fraction(lcov) is None


def test_libtest_benches_are_found_in_sources(tmp_path: Path) -> None:
    write_files(tmp_path, {"benches/speed.rs": "fn main() {}\n", "target/x.rs": "#[bench]\n"})
    assert not cargo_project.uses_libtest_bench(tmp_path)
    write_files(tmp_path, {"benches/speed.rs": "#![feature(test)]\nextern crate test;\n"})
    assert cargo_project.uses_libtest_bench(tmp_path)


def test_benchmarks_are_a_benches_dir_a_bench_target_or_bench_functions(tmp_path: Path) -> None:
    manifest = '[package]\nname = "c"\nversion = "0.1.0"\n'
    write_files(tmp_path, {"Cargo.toml": manifest, "src/lib.rs": "//! No benches.\n"})
    assert not cargo_project.has_benches(tmp_path)
    write_files(tmp_path, {"Cargo.toml": manifest + '[[bench]]\nname = "b"\npath = "b.rs"\n'})
    assert cargo_project.has_benches(tmp_path)
    write_files(tmp_path, {"Cargo.toml": manifest, "src/lib.rs": "#[bench]\nfn b() {}\n"})
    assert cargo_project.has_benches(tmp_path)
    write_files(tmp_path, {"src/lib.rs": "//! No benches.\n", "benches/b.rs": "fn main() {}\n"})
    assert cargo_project.has_benches(tmp_path)


# -- the Python toolchain's lint, with the real ruff -----------------------------------------


def _lint_project(tmp_path: Path, files: dict[str, str]) -> config.Config:
    write_files(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "demo"\nversion = "1"\n',
            "demo/__init__.py": "",
            "tests/test_demo.py": "def test_it() -> None:\n    pass\n",
            **files,
        },
    )
    return config.load(tmp_path)


def test_a_file_ruff_cannot_parse_is_reported_at_its_line(tmp_path: Path) -> None:
    cfg = _lint_project(tmp_path, {"demo/broken.py": "x = 1\n\n\ndef f(:\n    pass\n"})

    report = toolchains.get("python").lint(cfg, ToolEnv.current())

    # ruff check's diagnostics of the line; not ruff format's whole JSON as one message.
    found = {(f.rule, f.path, f.line) for f in report.findings}
    assert found == {("invalid-syntax", "demo/broken.py", 4)}
    assert "Expected a parameter" in report.findings[0].message


def test_a_ruff_config_ruff_rejects_is_ruffs_own_words(tmp_path: Path) -> None:
    cfg = _lint_project(tmp_path, {"ruff.toml": "line-length = 'long'\n"})

    report = toolchains.get("python").lint(cfg, ToolEnv.current())

    assert {f.rule for f in report.findings} == {"ruff"}
    assert all("line-length" in f.message for f in report.findings)

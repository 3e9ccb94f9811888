"""Reading cargo's output: diagnostics, rustfmt diffs, libtest results as JUnit XML."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

from shipyard.report import Severity
from shipyard.stages import test as test_stage
from shipyard.stages.toolchains import cargo_output

CARGO_TEST = textwrap.dedent(
    """\
    {"reason":"compiler-artifact","package_id":"demo 0.1.0","target":{"kind":["lib"]}}
        Finished `test` profile [unoptimized + debuginfo] target(s) in 0.12s
         Running unittests src/lib.rs (/tmp/target/debug/deps/demo-8348ca7a80742723)

    running 3 tests
    test tests::ign ... ignored
    test tests::ok ... ok
    test tests::bad ... FAILED

    failures:

    ---- tests::bad stdout ----

    thread 'tests::bad' (6307) panicked at src/lib.rs:18:16:
    assertion `left == right` failed: math
      left: 3
     right: 4
    note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


    failures:
        tests::bad

    test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out

    error: test failed, to rerun pass `--lib`
         Running tests/it.rs (/tmp/target/debug/deps/it-a69063779ff8c574)

    running 2 tests
    test integration ... ok
    test old_style ... FAILED

    failures:

    ---- old_style stdout ----
    thread 'old_style' panicked at 'boom', tests/it.rs:9:5

    failures:
        old_style

    test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out

       Doc-tests demo

    running 1 test
    test src/lib.rs - add (line 3) ... ok

    test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s

    error: 2 targets failed:
        `--lib`
        `--test it`
    """
)


def test_libtest_output_is_read_suite_by_suite() -> None:
    suites = cargo_output.parse_libtest(CARGO_TEST)
    assert [s.name for s in suites] == ["unittests src/lib.rs", "tests/it.rs", "doctests demo"]
    unit, integration, doc = suites
    assert [(c.name, c.outcome) for c in unit.cases] == [
        ("tests::ign", "ignored"),
        ("tests::ok", "ok"),
        ("tests::bad", "failed"),
    ]
    bad = unit.cases[2]
    assert (bad.file, bad.line) == ("src/lib.rs", 18)
    assert bad.message == "assertion `left == right` failed: math"
    assert "left: 3" in bad.output
    old = integration.cases[1]
    assert (old.file, old.line, old.message) == ("tests/it.rs", 9, "boom")
    assert [c.name for c in doc.cases] == ["src/lib.rs - add (line 3)"]


def test_the_junit_file_reads_back_through_the_test_stage(tmp_path: Path) -> None:
    junit = tmp_path / "junit.xml"
    cargo_output.write_junit(cargo_output.parse_libtest(CARGO_TEST), junit)
    counts, findings = test_stage._read_junit(junit)
    assert counts == {"tests": 6, "failures": 2, "errors": 0, "skipped": 1, "flaky": 0}
    assert [(f.path, f.line, f.message) for f in findings] == [
        ("src/lib.rs", 18, "src/lib.rs::tests::bad: assertion `left == right` failed: math"),
        ("tests/it.rs", 9, "tests/it.rs::old_style: boom"),
    ]


def test_no_output_is_no_suite() -> None:
    assert cargo_output.parse_libtest("error: could not compile `demo`\n") == []


def _message(level: str, code: str | None, text: str, spans: list[dict[str, object]]) -> str:
    body = {
        "level": level,
        "code": {"code": code, "explanation": None} if code else None,
        "message": text,
        "spans": spans,
    }
    return json.dumps({"reason": "compiler-message", "target": {"kind": ["lib"]}, "message": body})


def test_diagnostics_are_findings_once_each(tmp_path: Path) -> None:
    span = {"file_name": "src/lib.rs", "line_start": 6, "is_primary": True}
    other = {"file_name": str(tmp_path / "src/main.rs"), "line_start": 2, "is_primary": True}
    lines = [
        _message("error", "clippy::needless_return", "unneeded `return` statement", [span]),
        # The lib and its test target report the same lint again.
        _message("error", "clippy::needless_return", "unneeded `return` statement", [span]),
        _message("warning", "unused_variables", "unused variable: `x`", [other]),
        _message("error", "E0308", "mismatched types", [{**span, "line_start": 9}]),
        _message("error", None, "aborting due to 2 previous errors", []),
        _message("warning", None, "1 warning emitted", []),
        _message("note", None, "a note", [span]),
        '{"reason":"build-finished","success":false}',
        "error: could not compile `demo` (lib) due to 1 previous error",
    ]
    found = cargo_output.diagnostics("\n".join(lines), tmp_path, tool="clippy")
    assert [(f.rule, f.path, f.line, f.severity) for f in found] == [
        ("clippy::needless_return", "src/lib.rs", 6, Severity.HIGH),
        ("unused_variables", "src/main.rs", 2, Severity.MEDIUM),
        ("E0308", "src/lib.rs", 9, Severity.HIGH),
    ]
    assert {f.tool for f in found} == {"clippy"}


def test_rustfmt_diffs_name_each_file_once_at_its_first_change(tmp_path: Path) -> None:
    output = textwrap.dedent(
        f"""\
        Diff in {tmp_path}/src/lib.rs:2:
         //! Sample.
         /// Adds.
        -    let x = a+b;
        +    let x = a + b;
        Diff in {tmp_path}/src/lib.rs:13:
        -    fn ok() {{ assert!(true); }}
        Diff in {tmp_path}/tests/it.rs at line 1:
        -fn  main() {{}}
        """
    )
    found = cargo_output.fmt_findings(output, tmp_path)
    assert [(f.path, f.line, f.rule, f.tool) for f in found] == [
        ("src/lib.rs", 4, "format", "rustfmt"),
        ("tests/it.rs", 1, "format", "rustfmt"),
    ]


def test_bench_lines_are_recognised() -> None:
    assert cargo_output.has_bench_lines("test sum ... bench:       1,560.11 ns/iter (+/- 1,520.77)")
    assert not cargo_output.has_bench_lines("test sum ... ok\ntest result: ok.")


def test_json_lines_are_hidden_from_people() -> None:
    text = '{"reason":"compiler-artifact"}\nrunning 1 test\n{"reason":"build-finished"}\n'
    assert cargo_output.plain_lines(text) == "running 1 test\n"

"""Reading what cargo and its tools print: JSON diagnostics, rustfmt diffs, libtest results.

Compiler, clippy and rustdoc diagnostics come from `--message-format=json`.
rustfmt has no stable machine format, so its `Diff in FILE:LINE:` headers are
read. libtest's JSON output needs nightly (`-Z unstable-options`); on stable its
plain output is read, suite by suite, and written out as JUnit XML.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from shipyard.report import Finding, Severity, write_atomic

__all__ = [
    "Case",
    "Suite",
    "diagnostics",
    "fmt_findings",
    "has_bench_lines",
    "json_messages",
    "parse_libtest",
    "plain_lines",
    "write_junit",
]

# -- JSON messages -------------------------------------------------------------------------


def json_messages(output: str) -> Iterator[dict[str, Any]]:
    """The JSON objects cargo printed, one a line; other lines are skipped."""
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        with contextlib.suppress(json.JSONDecodeError):
            data = json.loads(line)
            if isinstance(data, dict):
                yield data


def plain_lines(output: str) -> str:
    """`output` without its JSON lines: what a person would have seen."""
    return "".join(
        line for line in output.splitlines(keepends=True) if not line.startswith('{"reason":')
    )


# The compiler's closing remarks, which repeat what the messages before them said.
_SUMMARY = re.compile(r"^(aborting due to|\d+ warnings? emitted|.* generated \d+ warnings?)")


def _relative(filename: str, root: Path) -> str:
    path = Path(filename)
    if path.is_absolute():
        with contextlib.suppress(ValueError):
            path = path.relative_to(root.resolve())
    return path.as_posix()


def diagnostics(output: str, root: Path, *, tool: str) -> list[Finding]:
    """One finding per distinct warning or error in cargo's JSON messages."""
    findings: dict[tuple[str, str | None, int | None, str], Finding] = {}
    for data in json_messages(output):
        if data.get("reason") != "compiler-message":
            continue
        message = data.get("message") or {}
        level = message.get("level")
        if level not in ("warning", "error"):
            continue
        text = str(message.get("message", "")).strip()
        spans = [s for s in message.get("spans") or () if s.get("is_primary")]
        if not spans and _SUMMARY.match(text):
            continue
        code = (message.get("code") or {}).get("code") or level
        span = spans[0] if spans else {}
        path = _relative(span["file_name"], root) if span.get("file_name") else None
        line = span.get("line_start")
        finding = Finding(
            rule=str(code),
            message=text,
            severity=Severity.HIGH if level == "error" else Severity.MEDIUM,
            path=path,
            line=line,
            tool=tool,
        )
        # The lib and its test build report the same lint twice.
        findings.setdefault((finding.rule, path, line, text), finding)
    return list(findings.values())


# -- rustfmt -------------------------------------------------------------------------------

_DIFF_HEADER = re.compile(r"^Diff in (?P<path>.+?)(?::(?P<line>\d+):| at line (?P<old>\d+):)\s*$")


def fmt_findings(output: str, root: Path) -> list[Finding]:
    """One finding per file `cargo fmt --check` would change, at its first changed line.

    A hunk's header names its first line of context; the change is below that context.
    """
    first: dict[str, int] = {}
    path: str | None = None
    line = 0
    for raw in output.splitlines():
        match = _DIFF_HEADER.match(raw.strip())
        if match is not None:
            path = _relative(match["path"], root)
            line = int(match["line"] or match["old"])
        elif path is not None and raw.startswith(("-", "+")):
            first.setdefault(path, line)
            path = None
        elif path is not None:
            line += 1
    return [
        Finding(rule="format", message="file is not formatted", path=p, line=n, tool="rustfmt")
        for p, n in first.items()
    ]


# -- libtest -------------------------------------------------------------------------------

Outcome = Literal["ok", "failed", "ignored"]


@dataclasses.dataclass(kw_only=True)
class Case:
    name: str
    outcome: Outcome
    message: str = ""
    output: str = ""
    file: str | None = None
    line: int | None = None


@dataclasses.dataclass(kw_only=True)
class Suite:
    """One test binary (`unittests src/lib.rs`, `tests/cli.rs`) or the doc-tests of a crate."""

    name: str
    cases: list[Case] = dataclasses.field(default_factory=list)

    @property
    def source(self) -> str:
        return self.name.removeprefix("unittests ")

    def count(self, outcome: Outcome) -> int:
        return sum(1 for c in self.cases if c.outcome == outcome)


_RUNNING = re.compile(r"^\s*Running (?P<name>.+?)(?: \((?P<path>[^)]*)\))?\s*$")
_DOC_TESTS = re.compile(r"^\s*Doc-tests (?P<crate>\S+)\s*$")
_CASE = re.compile(r"^test (?P<name>.+?) \.\.\. (?P<outcome>ok|FAILED|ignored)(?:, .*)?$")
_CAPTURED = re.compile(r"^---- (?P<name>.+?) (?:stdout|stderr) ----$")
# Rust 1.73+: thread 'name' (tid) panicked at src/lib.rs:18:16:\n<message>
_PANIC = re.compile(
    r"^thread '(?P<name>[^']*)'(?: \(\d+\))? panicked at (?P<file>[^:\n]+):(?P<line>\d+):\d+:$"
)
# Before 1.73: thread 'name' panicked at 'message', src/lib.rs:18:16
_OLD_PANIC = re.compile(
    r"^thread '(?P<name>[^']*)' panicked at '(?P<msg>.*)', (?P<file>[^:\n]+):(?P<line>\d+):\d+$"
)


def _suite_name(line: str) -> str | None:
    if line.startswith('{"reason":'):
        return None
    running = _RUNNING.match(line)
    if running:
        return running["name"]
    doc = _DOC_TESTS.match(line)
    return f"doctests {doc['crate']}" if doc else None


def _read_failure(case: Case, lines: list[str]) -> None:
    case.output = "\n".join(lines).strip()
    for index, line in enumerate(lines):
        old = _OLD_PANIC.match(line)
        if old:
            case.file, case.line, case.message = old["file"], int(old["line"]), old["msg"]
            return
        new = _PANIC.match(line)
        if new:
            case.file, case.line = new["file"], int(new["line"])
            case.message = lines[index + 1].strip() if index + 1 < len(lines) else "panicked"
            return
    case.message = next((x.strip() for x in lines if x.strip()), "failed")


class _Reader:
    """Walks cargo test's output line by line, suite by suite."""

    def __init__(self) -> None:
        self.suites: list[Suite] = []
        self.captured: dict[tuple[int, str], list[str]] = {}
        self.block: list[str] | None = None

    def feed(self, line: str) -> None:
        name = _suite_name(line)
        if name is not None:
            self.suites.append(Suite(name=name))
            self.block = None
            return
        if not self.suites:
            return
        result = _CASE.match(line)
        header = _CAPTURED.match(line)
        if result:
            outcome = result["outcome"].lower()
            self.suites[-1].cases.append(Case(name=result["name"], outcome=outcome))  # type: ignore[arg-type]
        elif header:
            self.block = self.captured.setdefault((len(self.suites), header["name"]), [])
        elif line.startswith(("failures:", "test result:")):
            self.block = None
        elif self.block is not None:
            self.block.append(line)


def parse_libtest(output: str) -> list[Suite]:
    """The suites and cases of `cargo test` output (stderr merged into stdout)."""
    reader = _Reader()
    for line in output.splitlines():
        reader.feed(line)
    for index, suite in enumerate(reader.suites, start=1):
        for case in suite.cases:
            if case.outcome == "failed":
                _read_failure(case, reader.captured.get((index, case.name), []))
    return reader.suites


def write_junit(suites: list[Suite], path: Path) -> None:
    """`suites` as JUnit XML; a failure's `line` is 0-based, as pytest writes it."""
    root = ET.Element("testsuites", name="cargo test")
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites:
        counts = {
            "tests": len(suite.cases),
            "failures": suite.count("failed"),
            "errors": 0,
            "skipped": suite.count("ignored"),
        }
        for key, value in counts.items():
            totals[key] += value
        attrib = {"name": suite.name, **{k: str(v) for k, v in counts.items()}}
        node = ET.SubElement(root, "testsuite", attrib)
        for case in suite.cases:
            attrs = {"classname": suite.source, "name": case.name}
            if case.file:
                attrs["file"] = case.file
            if case.line:
                attrs["line"] = str(case.line - 1)
            element = ET.SubElement(node, "testcase", attrs)
            if case.outcome == "failed":
                failure = ET.SubElement(element, "failure", message=case.message)
                failure.text = case.output
            elif case.outcome == "ignored":
                ET.SubElement(element, "skipped")
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    write_atomic(path, ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n")


_BENCH_LINE = re.compile(r"^test \S.* \.\.\. bench:\s+[\d,._]+", re.MULTILINE)


def has_bench_lines(output: str) -> bool:
    """Whether libtest printed `test NAME ... bench: N ns/iter` results."""
    return _BENCH_LINE.search(output) is not None

"""Benchmark result files in, one `BenchRun` out.

Read here: pytest-benchmark JSON (with every round's timing when run with
`--benchmark-save-data`), Rust libtest bench lines, Criterion's
`estimates.json` / `sample.json` (or a whole `target/criterion` directory),
and shipyard's own generic JSON (see docs/bench.md). Timings keep the numbers
and unit written in the file, so that changes can be computed exactly in
decimal; `seconds()` gives them normalised to seconds.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from shipyard.errors import ConfigError

__all__ = [
    "UNITS",
    "BenchRun",
    "Benchmark",
    "load",
    "merged",
    "parse_libtest",
    "to_generic",
]

#: Time units understood in files, as the factor that turns them into seconds.
UNITS: Mapping[str, Decimal] = {
    "s": Decimal(1),
    "ms": Decimal("1e-3"),
    "us": Decimal("1e-6"),
    "µs": Decimal("1e-6"),
    "μs": Decimal("1e-6"),
    "ns": Decimal("1e-9"),
    "ps": Decimal("1e-12"),
}
_UNIT_ALIASES = {"sec": "s", "seconds": "s", "second": "s", "ns/iter": "ns"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class Benchmark:
    """One benchmark's timings: per-round samples (or a single value), in `unit`."""

    name: str
    unit: str
    samples: tuple[float, ...]
    #: Half-width of a reported range when the file gives no samples (libtest's +/-).
    spread: float | None = None
    #: How a rerun selects this benchmark (pytest node id); None when it cannot.
    selector: str | None = None

    @property
    def scale(self) -> Decimal:
        return UNITS[self.unit]

    def seconds(self) -> list[float]:
        factor = float(self.scale)
        return [s * factor for s in self.samples]

    def median_exact(self) -> Decimal:
        """The median in seconds, in decimal arithmetic from the numbers as written."""
        values = sorted(Decimal(repr(float(s))) for s in self.samples)
        mid = len(values) // 2
        median = values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2
        return median * self.scale

    def quantile_exact(self, fraction: float) -> Decimal:
        """The sample at `fraction` of the sorted rounds (no interpolation), in seconds."""
        values = sorted(self.samples)
        index = max(math.ceil(fraction * len(values)) - 1, 0)
        return Decimal(repr(float(values[index]))) * self.scale

    def min_exact(self) -> Decimal:
        return Decimal(repr(float(min(self.samples)))) * self.scale

    def pooled(self, other: Benchmark) -> Benchmark:
        """This benchmark's samples and `other`'s together, in this one's unit."""
        ratio = float(other.scale / self.scale)
        extra = tuple(s * ratio for s in other.samples) if ratio != 1 else other.samples
        return dataclasses.replace(self, samples=self.samples + extra)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BenchRun:
    """The benchmarks of one run, and what the file says about where it ran."""

    benchmarks: Mapping[str, Benchmark]
    format: str
    source: str = ""
    #: Machine fingerprint (see history.fingerprint) when the file carries one.
    machine: Mapping[str, str] | None = None
    commit: str | None = None

    def renamed(self, renames: Mapping[str, str]) -> BenchRun:
        """The same run with old benchmark names mapped to new ones."""
        if not renames:
            return self
        out = {}
        for name, bench in self.benchmarks.items():
            new = renames.get(name, name)
            out[new] = dataclasses.replace(bench, name=new)
        return dataclasses.replace(self, benchmarks=out)


# -- validation --------------------------------------------------------------------------


def _unit(raw: Any, path: Path, name: str) -> str:
    unit = _UNIT_ALIASES.get(str(raw), str(raw))
    if unit not in UNITS:
        known = ", ".join(sorted(set(UNITS) - {"µs", "μs"}))
        msg = f"benchmark '{name}' has unit {raw!r}; expected a time unit: {known}."
        raise ConfigError(msg, path=path)
    return unit


def _timings(raw: Any, path: Path, name: str) -> tuple[float, ...]:
    values = raw if isinstance(raw, list) else [raw]
    if not values:
        msg = f"benchmark '{name}' has an empty list of samples; expected at least one timing."
        raise ConfigError(msg, path=path)
    out = []
    for value in values:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            msg = f"benchmark '{name}' has timing {value!r}; expected a number."
            raise ConfigError(msg, path=path)
        if not value > 0:  # also rejects NaN
            msg = (
                f"benchmark '{name}' has timing {value!r}; expected a positive time "
                "(a 0 usually means the measured work was optimised away)."
            )
            raise ConfigError(msg, path=path)
        out.append(float(value))
    return tuple(out)


def _check_not_empty(run: BenchRun, path: Path, what: str) -> BenchRun:
    if not run.benchmarks:
        msg = f"no benchmarks in this {what}; nothing to compare."
        raise ConfigError(msg, path=path)
    return run


def _add(out: dict[str, Benchmark], bench: Benchmark, path: Path) -> None:
    if bench.name in out:
        msg = f"benchmark '{bench.name}' appears twice; names must be unique."
        raise ConfigError(msg, path=path)
    out[bench.name] = bench


# -- pytest-benchmark --------------------------------------------------------------------


def _pytest_machine(info: Mapping[str, Any]) -> dict[str, str]:
    cpu = info.get("cpu") or {}
    version = str(info.get("python_version", ""))
    return {
        "os": str(info.get("system", "")),
        "arch": str(info.get("machine", "")),
        "python": ".".join(version.split(".")[:2]),
        "cpu": str(cpu.get("brand_raw", "") or info.get("processor", "")),
        "cpus": str(cpu.get("count", "")),
    }


def _from_pytest(data: Mapping[str, Any], path: Path) -> BenchRun:
    out: dict[str, Benchmark] = {}
    for entry in data.get("benchmarks") or ():
        name = str(entry.get("fullname") or entry.get("name"))
        stats = entry.get("stats") or {}
        raw = stats.get("data") or stats.get("median")
        if raw is None:
            msg = f"benchmark '{name}' has neither stats.data nor stats.median."
            raise ConfigError(msg, path=path)
        samples = _timings(raw, path, name)
        _add(out, Benchmark(name=name, unit="s", samples=samples, selector=name), path)
    commit = (data.get("commit_info") or {}).get("id")
    return _check_not_empty(
        BenchRun(
            benchmarks=out,
            format="pytest-benchmark",
            source=str(path),
            machine=_pytest_machine(data.get("machine_info") or {}),
            commit=None if commit in (None, "unversioned") else str(commit),
        ),
        path,
        "pytest-benchmark file",
    )


# -- criterion ---------------------------------------------------------------------------


def _criterion_name(file: Path) -> str:
    """`target/criterion/<group>/<bench>/new/x.json` -> its benchmark.json id, else the dirs."""
    meta = file.parent / "benchmark.json"
    if meta.is_file():
        try:
            full_id = json.loads(meta.read_text(encoding="utf-8")).get("full_id")
        except (ValueError, OSError, AttributeError):
            full_id = None
        if isinstance(full_id, str) and full_id:
            return full_id
    parts = file.parent.parts
    parts = parts[:-1] if parts and parts[-1] in ("new", "base") else parts
    if "criterion" in parts:
        parts = parts[parts.index("criterion") + 1 :]
    return "/".join(parts[-2:]) or file.stem


def _from_criterion_sample(data: Mapping[str, Any], path: Path) -> Benchmark:
    name = _criterion_name(path)
    iters, times = data.get("iters"), data.get("times")
    if not isinstance(iters, list) or not isinstance(times, list) or len(iters) != len(times):
        msg = "expected Criterion sample.json with equally long 'iters' and 'times' lists."
        raise ConfigError(msg, path=path)
    counts = _timings(iters, path, name)
    totals = _timings(times, path, name)
    return Benchmark(
        name=name, unit="ns", samples=tuple(t / n for t, n in zip(totals, counts, strict=False))
    )


def _from_criterion_estimates(data: Mapping[str, Any], path: Path) -> Benchmark:
    name = _criterion_name(path)
    median = data.get("median") or {}
    point = median.get("point_estimate")
    interval = median.get("confidence_interval") or {}
    (value,) = _timings(point, path, name)
    low, high = interval.get("lower_bound"), interval.get("upper_bound")
    spread = None
    if isinstance(low, (int, float)) and isinstance(high, (int, float)):
        spread = (float(high) - float(low)) / 2
    return Benchmark(name=name, unit="ns", samples=(value,), spread=spread)


def _load_criterion_dir(root: Path) -> BenchRun:
    out: dict[str, Benchmark] = {}
    for estimates in sorted(root.rglob("new/estimates.json")):
        sample = estimates.with_name("sample.json")
        file = sample if sample.is_file() else estimates
        data = _read_json(file)
        reader = _from_criterion_sample if file is sample else _from_criterion_estimates
        _add(out, reader(data, file), file)
    return _check_not_empty(
        BenchRun(benchmarks=out, format="criterion", source=str(root)),
        root,
        "directory (looked for Criterion's */new/estimates.json)",
    )


# -- Rust libtest ------------------------------------------------------------------------

_LIBTEST = re.compile(
    r"^test\s+(?P<name>\S.*?)\s+\.\.\.\s+bench:\s+(?P<value>[\d,._]+)\s*(?P<unit>\S+?)/iter"
    r"(?:\s+\(\+/-\s+(?P<spread>[\d,._]+)\))?\s*$"
)


def _number(text: str) -> float:
    return float(text.replace(",", "").replace("_", ""))


def parse_libtest(text: str, path: Path) -> BenchRun:
    """`test name ... bench:   1,234 ns/iter (+/- 56)` lines; other lines are ignored."""
    out: dict[str, Benchmark] = {}
    for line in text.splitlines():
        match = _LIBTEST.match(line.strip())
        if match is None:
            continue
        name = match["name"]
        unit = _unit(match["unit"], path, name)
        (value,) = _timings(_number(match["value"]), path, name)
        spread = _number(match["spread"]) if match["spread"] else None
        _add(out, Benchmark(name=name, unit=unit, samples=(value,), spread=spread), path)
    return _check_not_empty(
        BenchRun(benchmarks=out, format="libtest", source=str(path)),
        path,
        "file (expected JSON, or Rust `test NAME ... bench: N ns/iter` lines)",
    )


# -- generic -----------------------------------------------------------------------------


def _from_generic(data: Mapping[str, Any], path: Path) -> BenchRun:
    out: dict[str, Benchmark] = {}
    for index, entry in enumerate(data.get("benchmarks") or ()):
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            msg = f"benchmarks[{index}] is not an object with a string 'name'."
            raise ConfigError(msg, path=path)
        name = entry["name"]
        if ("samples" in entry) == ("value" in entry):
            msg = f"benchmark '{name}' needs exactly one of 'samples' (a list) or 'value'."
            raise ConfigError(msg, path=path)
        unit = _unit(entry.get("unit", "s"), path, name)
        samples = _timings(entry.get("samples", entry.get("value")), path, name)
        spread = entry.get("spread")
        bench = Benchmark(
            name=name,
            unit=unit,
            samples=samples,
            spread=float(spread) if isinstance(spread, (int, float)) else None,
        )
        _add(out, bench, path)
    machine = data.get("machine")
    return _check_not_empty(
        BenchRun(
            benchmarks=out,
            format="generic",
            source=str(path),
            machine={str(k): str(v) for k, v in machine.items()}
            if isinstance(machine, dict)
            else None,
            commit=str(data["commit"]) if data.get("commit") else None,
        ),
        path,
        "file",
    )


def to_generic(run: BenchRun) -> dict[str, Any]:
    """`run` in shipyard's generic JSON format (numbers and units as read)."""
    data: dict[str, Any] = {"version": 1}
    if run.machine:
        data["machine"] = dict(run.machine)
    if run.commit:
        data["commit"] = run.commit
    benchmarks: list[dict[str, Any]] = []
    for bench in run.benchmarks.values():
        entry: dict[str, Any] = {"name": bench.name, "unit": bench.unit}
        entry["samples"] = list(bench.samples)
        if bench.spread is not None:
            entry["spread"] = bench.spread
        benchmarks.append(entry)
    data["benchmarks"] = benchmarks
    return data


# -- several files of one run ------------------------------------------------------------


def merged(runs: Sequence[BenchRun]) -> BenchRun:
    """One run of several result files: a benchmark named in several pools their samples.

    Repeated runs of one suite (libtest's one median per run) become samples this way.
    """
    if not runs:
        msg = "no benchmark results to merge"
        raise ValueError(msg)
    out: dict[str, Benchmark] = {}
    for run in runs:
        for name, bench in run.benchmarks.items():
            out[name] = out[name].pooled(bench) if name in out else bench
    formats = "+".join(dict.fromkeys(r.format for r in runs))
    sources = ", ".join(dict.fromkeys(r.source for r in runs if r.source))
    return dataclasses.replace(runs[0], benchmarks=out, format=formats, source=sources)


# -- dispatch ----------------------------------------------------------------------------


def _read_json(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("no such benchmark results file.", path=path) from None
    except UnicodeDecodeError as exc:
        msg = f"not UTF-8 text ({exc.reason})."
        raise ConfigError(msg, path=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        at_end = exc.pos >= len(text.rstrip()) or exc.msg.startswith("Unterminated")
        hint = " (the file looks truncated)" if at_end else ""
        msg = f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}{hint}."
        raise ConfigError(msg, path=path) from None


def _from_json(data: Any, path: Path) -> BenchRun:
    if isinstance(data, dict):
        entries = data.get("benchmarks")
        if isinstance(entries, list):
            if "machine_info" in data or any(isinstance(e, dict) and "stats" in e for e in entries):
                return _from_pytest(data, path)
            return _from_generic(data, path)
        if "iters" in data and "times" in data:
            bench = _from_criterion_sample(data, path)
            return BenchRun(benchmarks={bench.name: bench}, format="criterion", source=str(path))
        if isinstance(data.get("median"), dict) and "point_estimate" in data["median"]:
            bench = _from_criterion_estimates(data, path)
            return BenchRun(benchmarks={bench.name: bench}, format="criterion", source=str(path))
    msg = (
        "not a benchmark results file: expected pytest-benchmark JSON, Criterion "
        "estimates.json/sample.json, or shipyard's format ({'benchmarks': [...]})."
    )
    raise ConfigError(msg, path=path)


def load(path: Path) -> BenchRun:
    """Read any supported results file (or a Criterion directory), detecting its format."""
    if path.is_dir():
        return _load_criterion_dir(path)
    if not path.is_file():
        raise ConfigError("no such benchmark results file.", path=path)
    text = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".json" or text.lstrip()[:1] in ("{", "["):
        return _from_json(_read_json(path), path)
    return parse_libtest(text, path)

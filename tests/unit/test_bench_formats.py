from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from shipyard.errors import ConfigError
from shipyard.stages.bench import formats


def write(path: Path, data: object) -> Path:
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def pytest_benchmark_file(path: Path, data: list[float] | None = None) -> Path:
    stats: dict[str, object] = {"median": 0.002, "min": 0.001}
    if data is not None:
        stats["data"] = data
    return write(
        path,
        {
            "machine_info": {
                "system": "Linux",
                "machine": "x86_64",
                "python_version": "3.12.4",
                "cpu": {"brand_raw": "Some CPU", "count": 4},
            },
            "commit_info": {"id": "abc123"},
            "benchmarks": [{"name": "test_a", "fullname": "b/test_x.py::test_a", "stats": stats}],
        },
    )


def test_pytest_benchmark_raw_rounds_and_machine(tmp_path: Path) -> None:
    run = formats.load(pytest_benchmark_file(tmp_path / "r.json", [0.001, 0.002, 0.003]))
    bench = run.benchmarks["b/test_x.py::test_a"]
    assert bench.samples == (0.001, 0.002, 0.003)
    assert bench.selector == "b/test_x.py::test_a"
    assert run.machine == {
        "os": "Linux",
        "arch": "x86_64",
        "python": "3.12",
        "cpu": "Some CPU",
        "cpus": "4",
    }
    assert run.commit == "abc123"


def test_pytest_benchmark_without_data_keeps_the_median(tmp_path: Path) -> None:
    run = formats.load(pytest_benchmark_file(tmp_path / "r.json"))
    assert run.benchmarks["b/test_x.py::test_a"].samples == (0.002,)


def test_libtest_lines_with_commas_and_spread(tmp_path: Path) -> None:
    path = tmp_path / "bench.txt"
    path.write_text(
        "running 2 tests\n"
        "test parse::big   ... bench:       1,234 ns/iter (+/- 56)\n"
        "test parse::small ... bench:          12.5 ns/iter (+/- 0.5)\n"
        "test result: ok. 0 passed; 0 failed; 0 ignored; 2 measured\n",
        encoding="utf-8",
    )
    run = formats.load(path)
    big = run.benchmarks["parse::big"]
    assert (big.unit, big.samples, big.spread) == ("ns", (1234.0,), 56.0)
    assert big.median_exact() == Decimal("0.000001234")
    assert run.benchmarks["parse::small"].samples == (12.5,)


def test_criterion_directory_reads_samples_per_iteration(tmp_path: Path) -> None:
    new = tmp_path / "criterion" / "group" / "fib" / "new"
    new.mkdir(parents=True)
    write(new / "benchmark.json", {"full_id": "group/fib 20"})
    write(new / "sample.json", {"sampling_mode": "Linear", "iters": [1, 2], "times": [10, 30]})
    point = {"point_estimate": 12.0, "confidence_interval": {"lower_bound": 11, "upper_bound": 13}}
    write(new / "estimates.json", {"median": point, "mean": point})
    run = formats.load(tmp_path / "criterion")
    assert run.benchmarks["group/fib 20"].samples == (10.0, 15.0)
    only_estimates = formats.load(new / "estimates.json")
    bench = only_estimates.benchmarks["group/fib 20"]
    assert (bench.samples, bench.spread) == ((12.0,), 1.0)


def test_generic_format_round_trips(tmp_path: Path) -> None:
    data = {
        "benchmarks": [
            {"name": "a", "unit": "ms", "samples": [1.1, 1.2]},
            {"name": "b", "unit": "us", "value": 3},
        ],
        "machine": {"os": "Linux"},
    }
    run = formats.load(write(tmp_path / "g.json", data))
    assert run.benchmarks["a"].median_exact() == Decimal("0.00115")
    again = formats.load(write(tmp_path / "h.json", formats.to_generic(run)))
    assert again.benchmarks == run.benchmarks
    assert again.machine == {"os": "Linux"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"benchmarks": [{"name": "a", "samp', "looks truncated"),
        ("{not json", "invalid JSON at line 1"),
        ('{"benchmarks": []}', "no benchmarks"),
        ('{"benchmarks": [{"name": "a", "value": 0}]}', "expected a positive time"),
        ('{"benchmarks": [{"name": "a", "samples": [1, -2]}]}', "timing -2"),
        ('{"benchmarks": [{"name": "a", "unit": "MB", "value": 1}]}', "expected a time unit"),
        ('{"benchmarks": [{"name": "a"}]}', "exactly one of 'samples'"),
        ('{"benchmarks": [{"name": "a", "value": 1}, {"name": "a", "value": 2}]}', "twice"),
        ('{"something": 1}', "not a benchmark results file"),
    ],
)
def test_bad_input_is_a_config_error_naming_the_file(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as caught:
        formats.load(path)
    assert str(path) in str(caught.value)


def test_text_without_bench_lines_says_what_was_expected(tmp_path: Path) -> None:
    path = tmp_path / "out.txt"
    path.write_text("hello\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="ns/iter"):
        formats.load(path)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such benchmark results file"):
        formats.load(tmp_path / "nope.json")


def test_pooled_converts_units() -> None:
    a = formats.Benchmark(name="a", unit="ms", samples=(1.0,))
    b = formats.Benchmark(name="a", unit="s", samples=(0.002,))
    assert a.pooled(b).samples == (1.0, 2.0)

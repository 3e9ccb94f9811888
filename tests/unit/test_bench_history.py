from __future__ import annotations

import json
import multiprocessing
import random
import subprocess
from decimal import Decimal
from pathlib import Path

from shipyard.stages.bench import history, plot, trend
from shipyard.stages.bench.formats import Benchmark, BenchRun

MACHINE = {"os": "Linux", "arch": "x86_64", "python": "3.12", "cpu": "CPU X", "cpus": "2"}


def record(i: int, level: float = 1.0, machine: dict[str, str] = MACHINE) -> history.Record:
    samples = tuple(level * (1 + 0.001 * k) for k in range(5))
    run = BenchRun(
        benchmarks={"a": Benchmark(name="a", unit="ms", samples=samples)},
        format="generic",
        machine=machine,
        commit=f"{i:040x}",
    )
    return history.Record(run=run, time=float(i), branch="main")


def test_fingerprints_and_differences() -> None:
    mine = history.fingerprint(python="3.12")
    assert set(mine) == set(history.FINGERPRINT_KEYS)
    assert mine["python"] == "3.12"
    other = {**MACHINE, "cpus": "4"}
    assert history.differences(MACHINE, other) == ["cpus: '2' != '4'"]
    assert history.comparable(MACHINE, dict(MACHINE))
    assert "unknown" in history.differences(MACHINE, None)[0]
    assert history.file_name(MACHINE) != history.file_name(other)


def test_dir_store_round_trip(tmp_path: Path) -> None:
    store = history.DirStore(tmp_path)
    store.append(record(1))
    store.append(record(2, level=2.0))
    past = store.read(MACHINE)
    assert [r.commit for r in past.records] == [f"{1:040x}", f"{2:040x}"]
    assert past.records[1].run.benchmarks["a"].samples[0] == 2.0
    assert history.latest(past.records, commit=f"{1:040x}") == past.records[0]
    assert history.latest(past.records, branch="main") == past.records[1]
    assert store.read({**MACHINE, "cpus": "64"}).records == ()


def test_damaged_last_line_is_kept_reported_and_appended_after(tmp_path: Path) -> None:
    store = history.DirStore(tmp_path)
    store.append(record(1))
    path = store.path(MACHINE)
    with path.open("a", encoding="utf-8") as fh:
        fh.write('{"schema": 1, "time": 2, "bench')  # a writer died mid-line
    past = store.read(MACHINE)
    assert len(past.records) == 1
    assert past.damaged[0][0] == 2
    assert "damaged line skipped" in past.problems()[0]
    store.append(record(3))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[1] == '{"schema": 1, "time": 2, "bench'
    assert len(store.read(MACHINE).records) == 2


def _writer(directory: str, worker: int, count: int) -> None:
    store = history.DirStore(Path(directory))
    for i in range(count):
        store.append(record(worker * 1000 + i))


def test_concurrent_writers_from_several_processes(tmp_path: Path) -> None:
    workers, count = 4, 25
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(str(tmp_path), w, count)) for w in range(workers)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(timeout=120)
        assert proc.exitcode == 0
    past = history.DirStore(tmp_path).read(MACHINE)
    assert past.damaged == ()
    assert len(past.records) == workers * count
    assert len({r.commit for r in past.records}) == workers * count


def test_branch_store_commits_without_touching_the_work_tree(tmp_path: Path) -> None:
    subprocess.run(["git", "init", "-q", "-b", "main", str(tmp_path)], check=True)
    store = history.BranchStore(tmp_path, "bench-history")
    assert store.read(MACHINE).records == ()
    store.append(record(1))
    store.append(record(2))
    past = store.read(MACHINE)
    assert [r.time for r in past.records] == [1.0, 2.0]
    log = subprocess.run(
        ["git", "log", "--oneline", "bench-history"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(log.stdout.splitlines()) == 2
    assert list(tmp_path.iterdir()) == [tmp_path / ".git"]


def series_with_steps() -> list[history.Record]:
    rng = random.Random(3)  # noqa: S311 (test data)
    records = []
    for i in range(30):
        level = 1.0 if i < 12 else 1.3 if i < 22 else 1.1
        samples = tuple(level * (1 + rng.gauss(0, 0.01)) for _ in range(7))
        flat = tuple(1 + rng.gauss(0, 0.02) for _ in range(7))
        run = BenchRun(
            benchmarks={
                "stepped": Benchmark(name="stepped", unit="ms", samples=samples),
                "flat": Benchmark(name="flat", unit="ms", samples=flat),
            },
            format="generic",
            machine=MACHINE,
            commit=f"{i:040x}",
        )
        records.append(history.Record(run=run, time=float(i)))
    return records


def test_detect_steps_reports_size_and_first_commit_after() -> None:
    steps = trend.detect_steps(series_with_steps())
    assert [(s.benchmark, s.index) for s in steps] == [("stepped", 12), ("stepped", 22)]
    assert steps[0].commit == f"{12:040x}"
    assert 27 < steps[0].change < 33
    assert -18 < steps[1].change < -12
    assert json.dumps(steps[0].to_json())
    assert trend.detect_steps(series_with_steps(), min_step=Decimal(50)) == []
    assert trend.detect_steps(series_with_steps()[:4]) == []


def test_html_and_png(tmp_path: Path) -> None:
    records = series_with_steps()
    steps = trend.detect_steps(records)
    page = plot.write_html(records, steps, tmp_path / "t.html", title="trend <x>")
    text = page.read_text(encoding="utf-8")
    assert text.count("<svg") == 2
    assert "trend &lt;x&gt;" in text
    assert "+30" in text or "+29" in text or "+31" in text
    assert "<script" not in text
    assert "<link" not in text
    assert 'src="' not in text
    png = plot.write_png(records, steps, tmp_path / "t.png")
    assert png is not None
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

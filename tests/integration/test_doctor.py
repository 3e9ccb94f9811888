"""`shipyard doctor` on sample projects: real interpreters, uv, git, and the Docker engine."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import python_discovery

from helpers.adopt import HATCH_SRC, git_init
from shipyard import doctor, matrix
from shipyard.adopt.init import NOXFILE
from shipyard.cli import main
from shipyard.report import Status

pytestmark = pytest.mark.slow

HERE = matrix.host()


def _missing_python() -> str:
    for version in reversed(matrix.SUPPORTED_PYTHONS):
        if python_discovery.get_interpreter(version) is None:
            return version
    pytest.skip("every supported Python is installed here")


def _current() -> str:
    import sys  # noqa: PLC0415

    return f"{sys.version_info.major}.{sys.version_info.minor}"


def project(tmp_path: Path, pythons: list[str]) -> Path:
    root = HATCH_SRC.make(tmp_path)
    (root / "noxfile.py").write_text(NOXFILE)
    platform = f"{HERE[0]}_{HERE[1]}"
    with (root / "pyproject.toml").open("a") as fh:
        fh.write(f"\n[tool.shipyard.matrix]\npython = {pythons!r}\nplatforms = [{platform!r}]\n")
    git_init(root)
    return root


def doctor_json(root: Path, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:
    code = main(["--root", str(root), "doctor", "--json", *args])
    return code, json.loads(capsys.readouterr().out)


def test_everything_found_exits_0(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = project(tmp_path, [_current()])
    code, data = doctor_json(root, capsys)
    assert code == 0, data
    assert data["ok"] is True
    checks = {c["name"]: c for c in data["checks"]}
    assert checks[f"python {_current()}"]["status"] == "passed"
    assert checks["noxfile"]["detail"].startswith("sessions: lint, test, coverage")
    assert checks["git"]["status"] == "passed"
    assert checks["uv"]["status"] == "passed"
    assert checks["state dir"]["status"] == "passed"
    stages = {s["stage"]: s for s in data["stages"]}
    assert list(stages) == ["lint", "test", "coverage", "audit", "docker", "bench"]
    # No Dockerfile and no benchmarks: those stages have nothing to do here.
    assert stages.pop("docker")["status"] == "skipped"
    assert stages.pop("bench")["status"] == "skipped"
    assert all(s["status"] == "passed" for s in stages.values())


def test_messages_quoting_config_tables_keep_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    root = project(tmp_path / "fine", [_current()])
    main(["--root", str(root), "doctor", "--timeout", "1"])
    out = " ".join(capsys.readouterr().out.split())
    assert "no image variants (no Dockerfiles, no [tool.shipyard.docker] variants)" in out

    root = project(tmp_path / "empty", [_current()])
    with (root / "pyproject.toml").open("a") as fh:
        fh.write('skip = ["*"]\n')
    main(["--root", str(root), "doctor", "--timeout", "1"])
    out = " ".join(capsys.readouterr().out.split())
    assert "Widen build or narrow skip in [tool.shipyard.matrix]." in out


def test_missing_interpreter_is_partial_locally_and_failed_on_ci(tmp_path: Path) -> None:
    missing = _missing_python()
    root = project(tmp_path, [_current(), missing])
    local = doctor.diagnose(root, on_ci=False)
    test = next(s for s in local.stages if s.stage == "test")
    assert test.status is Status.WARNED
    assert test.reason == f"runs on {_current()}; no interpreter for {missing}"
    assert local.ok

    on_ci = doctor.diagnose(root, on_ci=True)
    assert next(s for s in on_ci.stages if s.stage == "test").status is Status.FAILED
    assert not on_ci.ok


def test_no_interpreter_at_all_exits_3(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = _missing_python()
    root = project(tmp_path, [missing])
    code = main(["--root", str(root), "doctor"])
    out = capsys.readouterr().out
    assert code == 3
    assert f"python {missing}" in out
    assert "no interpreter of the matrix is installed" in out
    assert "✕ no" in out


def test_a_config_the_noxfile_stops_on_is_invalid_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    root = project(tmp_path, [_current()])
    pyproject = root / "pyproject.toml"
    platform = f"{HERE[0]}_{HERE[1]}"
    pyproject.write_text(pyproject.read_text().replace(platform, f"{HERE[0]}_arm"))
    code = main(["--root", str(root), "doctor", "--timeout", "1"])
    out, err = capsys.readouterr()
    assert code == 2
    row = next(line for line in out.splitlines() if line.startswith("│ noxfile "))
    assert "✕ invalid" in row
    assert "key 'tool.shipyard.matrix.platforms[0]': unknown architecture 'arm'" in row
    assert "nox --list" not in out
    assert "unknown architecture 'arm'" in err

    code, data = doctor_json(root, capsys, "--timeout", "1")
    assert code == 2
    assert data["ok"] is False
    assert "tool.shipyard.matrix.platforms[0]" in data["invalid"]


def test_an_unknown_key_still_shows_the_machine_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "400")
    root = project(tmp_path, [_current()])
    with (root / "pyproject.toml").open("a") as fh:
        fh.write("\n[tool.shipyard.gates]\ncoverge = 90\n")

    code = main(["--root", str(root), "doctor", "--timeout", "1"])
    out, err = capsys.readouterr()

    assert code == 2
    rows = {line.split("│")[1].strip(): line for line in out.splitlines() if line.startswith("│")}
    assert "✕ invalid" in rows["project"]
    assert "'tool.shipyard.gates.coverge': unknown key" in rows["project"]
    assert "✕ invalid" in rows["noxfile"]
    assert f"python {_current()}" in rows  # the rest of the machine is still looked at
    assert "Did you mean 'tool.shipyard.gates.coverage'?" in err

    code, data = doctor_json(root, capsys, "--timeout", "1")
    assert code == 2
    assert data["ok"] is False
    assert "tool.shipyard.gates.coverge" in data["invalid"]


def test_stages_with_nothing_to_do_are_skipped_as_their_sessions_skip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = project(tmp_path, [_current()])
    (root / "noxfile.py").write_text(NOXFILE)

    code, data = doctor_json(root, capsys, "--timeout", "1")

    assert code == 0, data
    stages = {s["stage"]: s for s in data["stages"]}
    assert stages["bench"]["status"] == "skipped"
    assert stages["bench"]["reason"].startswith("no benchmark suite")
    assert stages["docker"]["status"] == "skipped"
    (root / "benchmarks").mkdir()
    _, data = doctor_json(root, capsys, "--timeout", "1")
    stages = {s["stage"]: s for s in data["stages"]}
    assert stages["bench"]["status"] != "skipped"


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A TCP server on 127.0.0.1 that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"tcp://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    server.close()


def test_docker_engine_that_never_answers_is_cut_short(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    silent_server: str,
) -> None:
    if doctor.shutil.which("docker") is None:
        pytest.skip("no docker CLI here")
    monkeypatch.setenv("DOCKER_HOST", silent_server)
    root = project(tmp_path, [_current()])
    start = time.monotonic()
    checks = doctor._docker(timeout=1.0)
    assert time.monotonic() - start < 3
    assert [(c.name, c.status) for c in checks] == [("docker engine", Status.FAILED)]
    assert checks[0].detail == f"no answer from {silent_server} within 1 s; is the daemon up?"
    # The project has no docker stage: the engine does not decide the exit code.
    code, _ = doctor_json(root, capsys, "--timeout", "1")
    assert code == 0


def test_without_pyproject_or_noxfile_it_still_reports(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, data = doctor_json(tmp_path, capsys)
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["project"]["status"] == "warned"
    assert "shipyard's defaults assumed" in checks["project"]["detail"]
    assert checks["noxfile"]["status"] == "warned"
    assert checks["git"]["status"] == "warned"
    assert "is not a git repository" in checks["git"]["detail"]
    assert [s["stage"] for s in data["stages"]] == ["lint", "test", "coverage"]
    assert code == (0 if data["ok"] else 3)
    assert not (tmp_path / ".shipyard").exists()  # doctor writes nothing


@pytest.mark.docker
def test_docker_engine_buildx_and_platforms(tmp_path: Path) -> None:
    checks = {c.name: c for c in doctor._docker(timeout=10)}
    assert checks["docker engine"].status is Status.PASSED, checks["docker engine"].detail
    assert checks["docker engine"].detail.startswith("Docker ")
    assert checks["docker buildx"].status is Status.PASSED
    assert (
        f"linux/{'amd64' if HERE[1] == 'x86_64' else 'arm64'}" in checks["docker platforms"].detail
    )

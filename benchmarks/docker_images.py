"""How big are shipyard's own images, and how long do they take to build and check?

Copies the checkout's tracked files into a temp dir, then runs the docker stage
on it (the gpu variant on the local stand-in base py-base:3.11), and prints each
variant's size against the seed's figures, its budget and its build time, plus
the stage's total. Target: the minimal image <= 15 MB. Needs the engine from
`.ci/docker-up.sh`. Images are labelled and removed afterwards.

    python benchmarks/docker_images.py [VARIANT ...]
"""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from python_on_whales import DockerClient

from shipyard import config as config_mod
from shipyard.stages.docker import run_docker

ROOT = Path(__file__).resolve().parents[1]
#: What the seed's images weigh (the issue's figures), for comparison.
SEED_MB = {"cpu": 50, "gpu": 800, "minimal": 20}
MINIMAL_TARGET_MB = 15
LABEL = "shipyard.benchmark"


def copy_checkout(dest: Path) -> None:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True, text=True
    ).stdout
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(source.read_bytes())
            (dest / name).chmod(source.stat().st_mode)
    for argv in (["git", "init", "-q", "-b", "main"], ["git", "add", "-A"]):
        subprocess.run(argv, cwd=dest, check=True, capture_output=True)
    subprocess.run(
        ["git", "-c", "user.name=b", "-c", "user.email=b@example.invalid", "commit", "-qm", "b"],
        cwd=dest,
        check=True,
        capture_output=True,
    )


def main(variants: tuple[str, ...]) -> int:
    run_id = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        copy_checkout(root)
        config = config_mod.load(root)
        settings = dict(config.docker.variants or {})
        # On the offline stand-in base (python:3.11-slim and the CUDA base cannot be pulled).
        for variant in ("cpu", "gpu"):
            settings[variant] = dataclasses.replace(settings[variant], base_image="py-base:3.11")
        config = dataclasses.replace(
            config, docker=dataclasses.replace(config.docker, variants=settings)
        )
        start = time.perf_counter()
        result = run_docker(
            config,
            variants=variants or ("cpu", "minimal", "gpu"),
            labels={LABEL: run_id},
            env={},
            log=lambda line: print(f"  {line}", file=sys.stderr),
        )
        total = time.perf_counter() - start
    client = DockerClient()
    for image in client.image.list(filters=[("label", f"{LABEL}={run_id}")]):
        client.image.remove(image.id, force=True)

    print(f"{'variant':8} {'size MB':>8} {'seed MB':>8} {'budget':>7} {'build s':>8}")
    for name in variants or ("cpu", "minimal", "gpu"):
        size = result.metrics.get(f"docker.{name}.size_mb", "-")
        built = result.metrics.get(f"docker.{name}.build_seconds", "-")
        budget = (config.docker.variants or {})[name].size_budget_mb
        print(f"{name:8} {size:>8} {SEED_MB[name]:>8} {budget or '-'!s:>7} {built:>8}")
    print(f"stage: {result.status.value} in {total:.1f} s {result.reason}")
    minimal = result.metrics.get("docker.minimal.size_mb")
    if minimal is not None:
        ok = Decimal(str(minimal)) <= MINIMAL_TARGET_MB
        print(
            f"minimal: {minimal} MB, target <= {MINIMAL_TARGET_MB} MB: {'met' if ok else 'MISSED'}"
        )
        return 0 if ok else 1
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main(tuple(sys.argv[1:])))

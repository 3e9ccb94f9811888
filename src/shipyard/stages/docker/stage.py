"""The docker stage: build each variant, check it, and push it when asked."""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from python_on_whales import Image
from python_on_whales.exceptions import DockerException

from shipyard.config import Config
from shipyard.errors import ConfigError, ToolMissing
from shipyard.report import Finding, Severity, StageResult, Status, console, write_atomic
from shipyard.stages.docker import verify
from shipyard.stages.docker.build import build_image, run_prepare
from shipyard.stages.docker.engine import Engine, connect
from shipyard.stages.docker.meta import Variant, git_ref, nothing_to_build, oci_labels
from shipyard.stages.docker.meta import resolve_variants as resolve
from shipyard.stages.docker.publish import login, merge_manifest, push, registry_host
from shipyard.stages.docker.steps import StepFailed, tail
from shipyard.stages.docker.tags import GitRef, image_ref
from shipyard.stages.docker.wheels import build_shared, variant_wheels

__all__ = ["IMAGES_REPORT", "run_docker"]

#: The images built and pushed, written next to the stage result.
IMAGES_REPORT = "docker-images.json"

Log = Callable[[str], None]


@dataclasses.dataclass(kw_only=True)
class _Run:
    """What one stage run shares between its variants."""

    config: Config
    engine: Engine
    labels: Mapping[str, str]
    build_args: Mapping[str, str]
    python: str
    python_version: str
    env: Mapping[str, str]
    log: Log
    shared: Path | None = None
    findings: list[Finding] = dataclasses.field(default_factory=list)
    metrics: dict[str, float | int | str] = dataclasses.field(default_factory=dict)
    images: list[dict[str, object]] = dataclasses.field(default_factory=list)
    warned_multiarch: bool = False


@dataclasses.dataclass(frozen=True, kw_only=True)
class _Built:
    platform: str
    image: Image
    refs: tuple[str, ...]


def on_ci(env: Mapping[str, str]) -> bool:
    return env.get("CI", "").strip().lower() not in ("", "0", "false", "no")


def _arch(platform: str) -> str:
    return platform.split("/", 1)[-1].replace("/", "")


def _finding(variant: str, rule: str, message: str, severity: Severity, **extra: object) -> Finding:
    return Finding(
        rule=f"docker.{rule}",
        message=message,
        severity=severity,
        path=variant,
        tool="docker",
        extra=extra,
    )


def _previous_size(run: _Run, variant: Variant) -> int | None:
    for ref in variant.refs:
        try:
            return run.engine.client.image.inspect(ref).size
        except DockerException:
            continue
    return None


def _platforms(run: _Run, variant: Variant) -> tuple[str, ...]:
    wanted = variant.settings.platforms or (run.engine.platform,)
    if run.engine.builder == "buildx" or wanted == (run.engine.platform,):
        return wanted
    if not run.warned_multiarch:
        run.warned_multiarch = True
        message = (
            f"multi-arch builds need the buildx plugin; building {run.engine.platform} only "
            f"(asked for {', '.join(wanted)})"
        )
        run.log(message)
        run.findings.append(_finding(variant.name, "platforms", message, Severity.MEDIUM))
    return (run.engine.platform,)


def _build_all(run: _Run, variant: Variant, platforms: Sequence[str]) -> list[_Built]:
    root = run.config.root
    foreign = [p for p in platforms if p != run.engine.platform]
    clock = time.perf_counter()
    wheels = variant_wheels(
        variant,
        root=root,
        python=run.python,
        python_version=run.python_version,
        shared=run.shared,
        foreign_platforms=foreign,
    )
    if wheels is not None:
        count = len(list(wheels.glob("*.whl")))
        run.log(f"{variant.name}: {count} wheels in {time.perf_counter() - clock:.1f} s")
    if variant.settings.prepare:
        clock = time.perf_counter()
        run_prepare(variant, root=root, wheels=wheels, platform=run.engine.platform)
        run.log(f"{variant.name}: prepare step in {time.perf_counter() - clock:.1f} s")
    args = dict(variant.settings.build_args)
    if wheels is not None:
        args["WHEELS"] = wheels.relative_to(variant.context).as_posix()
    if variant.settings.base_image:
        args["BASE_IMAGE"] = variant.settings.base_image
    args.update(run.build_args)
    built = []
    clock = time.perf_counter()
    for platform in platforms:
        refs = variant.refs if platform == run.engine.platform else ()
        if len(platforms) > 1:
            refs = (
                *refs,
                image_ref(variant.repository, tag=f"{variant.tags[0]}-{_arch(platform)}"),
            )
        image = build_image(
            run.engine,
            variant,
            refs=refs,
            platform=platform if variant.settings.platforms else None,
            build_args=args,
            labels=run.labels,
            network=run.config.docker.network,
            cache_from=run.config.docker.cache_from,
            cache_to=run.config.docker.cache_to,
        )
        built.append(_Built(platform=platform, image=image, refs=refs))
    run.log(f"{variant.name}: image built in {time.perf_counter() - clock:.1f} s")
    return built


def _verify(run: _Run, variant: Variant, built: _Built, previous: int | None) -> list[Finding]:
    settings = variant.settings
    client = run.engine.client
    findings = [
        verify.check_size(
            variant.name,
            built.image.size or 0,
            budget_mb=settings.size_budget_mb,
            previous=previous,
        )
    ]
    if built.platform != run.engine.platform:
        return findings  # another architecture: it cannot run here
    findings.append(
        verify.check_user(variant.name, built.image.config.user, expected=settings.user)
    )
    ref = built.refs[0]
    if settings.smoke:
        findings.append(
            verify.check_smoke(client, variant.name, ref, args=settings.smoke, labels=run.labels)
        )
    findings.append(
        verify.check_health(
            client,
            variant.name,
            ref,
            built.image,
            required=settings.healthcheck,
            args=settings.health_args,
            labels=run.labels,
        )
    )
    return findings


def _push(run: _Run, variant: Variant, built: Sequence[_Built]) -> list[str]:
    """Push every tag of the variant to every registry; per-arch images become one list."""
    attempts = run.config.docker.push_attempts
    client = run.engine.client
    pushed: list[str] = []

    def warn(attempt: int, exc: Exception) -> None:
        run.log(f"push failed (attempt {attempt} of {attempts}), retrying: {str(exc)[:200]}")

    for registry in run.config.docker.registries:
        login(client, registry_host(registry), run.env)
        if len(built) == 1:
            for tag in variant.tags:
                target = image_ref(variant.repository, tag=tag, registry=registry)
                push(
                    client, f"{variant.repository}:{tag}", target, attempts=attempts, on_retry=warn
                )
                pushed.append(target)
            continue
        sources = []
        for item in built:
            arch_tag = item.refs[-1].rsplit(":", 1)[1]
            target = image_ref(variant.repository, tag=arch_tag, registry=registry)
            push(client, item.refs[-1], target, attempts=attempts, on_retry=warn)
            sources.append(target)
        for tag in variant.tags:
            target = image_ref(variant.repository, tag=tag, registry=registry)
            merge_manifest(client, target, sources, attempts=attempts)
            pushed.append(target)
    return pushed


def _variant(run: _Run, variant: Variant, *, push_images: bool) -> None:
    """Build, check and (when asked and every check passed) push one variant."""
    start = time.perf_counter()
    platforms = _platforms(run, variant)
    previous = _previous_size(run, variant)
    run.log(f"building {variant.name}: {variant.dockerfile.name} -> {', '.join(variant.refs)}")
    try:
        built = _build_all(run, variant, platforms)
    except StepFailed as exc:
        output = exc.output
        run.findings.append(
            _finding(variant.name, "build", exc.message, Severity.HIGH, output=output)
        )
        run.log(f"{variant.name}: {exc.message}" + (f"\n{tail(output, 10)}" if output else ""))
        return
    run.metrics[f"docker.{variant.name}.build_seconds"] = round(time.perf_counter() - start, 1)

    findings = []
    for item in built:
        findings += _verify(
            run, variant, item, previous if item.platform == run.engine.platform else None
        )
    run.findings += findings
    host = next((b for b in built if b.platform == run.engine.platform), built[0])
    size = verify.megabytes(host.image.size or 0)
    run.metrics[f"docker.{variant.name}.size_mb"] = float(size)
    failed = [f for f in findings if f.severity is Severity.HIGH]
    for finding in findings:
        mark = "✕" if finding.severity is Severity.HIGH else "✓"
        run.log(f"{variant.name}: {mark} {finding.rule.removeprefix('docker.')}: {finding.message}")

    pushed: list[str] = []
    if push_images and not failed:
        try:
            clock = time.perf_counter()
            pushed = _push(run, variant, built)
            run.log(f"{variant.name}: pushed in {time.perf_counter() - clock:.1f} s")
        except DockerException as exc:
            message = f"push failed: {tail(exc.stderr or exc.stdout or str(exc), 5)}"
            run.findings.append(_finding(variant.name, "push", message, Severity.HIGH))
        else:
            message = f"pushed {len(pushed)} reference(s)"
            run.findings.append(_finding(variant.name, "push", message, Severity.INFO, refs=pushed))
    elif push_images:
        message = "not pushed: its checks failed"
        run.findings.append(_finding(variant.name, "push", message, Severity.HIGH))
    run.images.append(
        {
            "variant": variant.name,
            "id": host.image.id,
            "size_bytes": host.image.size,
            "platforms": [b.platform for b in built],
            "refs": [r for b in built for r in b.refs],
            "pushed": pushed,
        }
    )


def _shared_wheels(run: _Run, variants: Sequence[Variant]) -> Path | None:
    """One resolution for every variant's wheels; None (each builds its own) when it fails."""
    clock = time.perf_counter()
    try:
        shared = build_shared(variants, root=run.config.root, python=run.python)
    except StepFailed as exc:
        run.log(f"{exc.message}; building each variant's wheels on its own")
        return None
    if shared is not None:
        count = len(list(shared.glob("*.whl")))
        run.log(f"{count} wheels for all variants in {time.perf_counter() - clock:.1f} s")
    return shared


def _status(findings: Sequence[Finding]) -> tuple[Status, str]:
    failed = [f for f in findings if f.severity is Severity.HIGH]
    if failed:
        return Status.FAILED, "; ".join(f"{f.path}: {f.message}" for f in failed[:3])
    warned = [f for f in findings if f.severity is Severity.MEDIUM]
    if warned:
        return Status.WARNED, "; ".join(f"{f.path}: {f.message}" for f in warned[:3])
    return Status.PASSED, ""


def _skip(reason: str, start: float) -> StageResult:
    return StageResult(
        stage="docker", status=Status.SKIPPED, reason=reason, duration=time.perf_counter() - start
    )


def _console_log(message: str) -> None:
    console().print(f"docker: {message}", markup=False)


def run_docker(
    config: Config,
    *,
    variants: Sequence[str] = (),
    push: bool | None = None,
    python: str | None = None,
    python_version: str | None = None,
    git: GitRef | None = None,
    version: str | None = None,
    build_args: Mapping[str, str] | None = None,
    labels: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
    log: Log | None = None,
) -> StageResult:
    """Build, check and optionally push the project's image variants.

    `python` builds the wheels (default: this interpreter; the images' Python
    must have the same minor version). `build_args` and `labels` are added to
    every variant's (tests use them for stand-in bases and cleanup). With no
    engine reachable the stage is skipped, unless CI is set: then ToolMissing.
    """
    start = time.perf_counter()
    env = os.environ if env is None else env
    log = log or _console_log
    meta = config.project
    version = version or (meta.version if meta else None)
    git = git or git_ref(config.root, env)

    selected = resolve(config, git=git, version=version, only=tuple(variants))
    if not selected:
        return _skip(nothing_to_build(config) or "no image variant selected", start)
    python_version = python_version or f"{sys.version_info.major}.{sys.version_info.minor}"
    wanted = config.docker.python
    if wanted and python_version != wanted:
        msg = (
            f"the images run Python {wanted} (docker.python), but this runs {python_version}: "
            f"the wheels built here would not install in them. Run it with Python {wanted}."
        )
        raise ConfigError(msg, path=config.pyproject, key="tool.shipyard.docker.python")
    engine = connect(config.docker)
    if isinstance(engine, str):
        if on_ci(env):
            msg = (
                f"{engine}; CI is set, so the docker stage cannot be skipped (see docs/docker.md)."
            )
            raise ToolMissing(msg)
        return _skip(f"{engine}; skipped locally (an error when CI is set)", start)
    log(engine.describe())

    title = config.docker.image or (meta.name if meta else config.root.name)
    run = _Run(
        config=config,
        engine=engine,
        labels={
            **oci_labels(root=config.root, git=git, version=version, title=title, env=env),
            **config.docker.labels,
            **(labels or {}),
        },
        build_args=dict(build_args or {}),
        python=python or sys.executable,
        python_version=python_version,
        env=env,
        log=log,
    )
    push_images = config.docker.push if push is None else push
    if push_images and not config.docker.registries:
        message = "push asked for, but docker.registries is empty"
        run.findings.append(_finding("*", "push", message, Severity.MEDIUM))
    run.shared = _shared_wheels(run, selected)
    for variant in selected:
        _variant(run, variant, push_images=push_images)

    report = config.reports / IMAGES_REPORT
    write_atomic(report, json.dumps({"images": run.images}, indent=2, default=str) + "\n")
    status, reason = _status(run.findings)
    run.metrics["docker.images"] = len(run.images)
    return StageResult(
        stage="docker",
        status=status,
        reason=reason,
        duration=time.perf_counter() - start,
        findings=tuple(run.findings),
        metrics=run.metrics,
        artifacts=(_relative(report, config.root),),
    )


def _relative(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return path.as_posix()

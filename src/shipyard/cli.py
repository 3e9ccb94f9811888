"""The `shipyard` command. Each subcommand is a `_cmd_*` function returning an exit code.

Errors below this door are `ShipyardError`s: caught once in `main`, printed as
one paragraph (with a traceback only under `--debug`), and turned into their
exit code.
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from rich.markup import escape

from shipyard import __version__, config, matrix
from shipyard.errors import ConfigError, ExitCode, ShipyardError, ToolMissing, UsageError
from shipyard.report import console

__all__ = ["main"]

Command = Callable[[argparse.Namespace], int]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse would exit 2 itself; go through our error channel instead.
        raise UsageError(message)


def _print_json(data: object) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=True) + "\n")


# -- shipyard config -------------------------------------------------------------------


def _add_config(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "config",
        help="check the [tool.shipyard] configuration as nox and invoke would, and print it "
        "resolved (TOML)",
    )
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--schema", action="store_true", help="print the JSON schema of the table")
    p.set_defaults(func=_cmd_config)


def _checked_config(root: Path) -> config.Config:
    """The config, put through what the noxfile and `invoke ci` check when they load it.

    So `shipyard config` passing means the stages start (see `validate.check`).
    """
    from shipyard import validate  # noqa: PLC0415

    resolved = config.load(root)
    for warning in validate.check(resolved):
        sys.stderr.write(f"shipyard: warning: {warning}\n")
    return resolved


def _cmd_config(args: argparse.Namespace) -> int:
    if args.schema:
        _print_json(config.schema())
        return ExitCode.OK
    resolved = _checked_config(args.root)
    if args.json:
        _print_json(config.to_json(resolved))
    else:
        sys.stdout.write(config.to_toml(resolved))
    return ExitCode.OK


# -- shipyard matrix -------------------------------------------------------------------


def _add_matrix(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("matrix", help="print the build matrix: targets, runners, what runs here")
    show = p.add_mutually_exclusive_group()
    show.add_argument("--json", action="store_true", help="print the GitHub matrix include list")
    show.add_argument("--only", metavar="ID", help="print the nox command that runs target ID")
    show.add_argument("--print-identifiers", action="store_true", help="print one id a line")
    p.set_defaults(func=_cmd_matrix)


def _cmd_matrix(args: argparse.Namespace) -> int:
    resolved = config.load(args.root)
    plan = matrix.plan(resolved)
    for warning in plan.warnings:
        sys.stderr.write(f"shipyard: warning: {warning}\n")

    if args.json:
        sys.stdout.write(json.dumps(matrix.github_include(plan)) + "\n")
    elif args.print_identifiers:
        sys.stdout.write("".join(f"{target_id}\n" for target_id in plan.ids))
    elif args.only:
        sys.stdout.write(_reproduce(plan, args.only, resolved.root) + "\n")
    else:
        console(stderr=False).print(matrix.render_table(plan))
    return ExitCode.OK


def _reproduce(plan: matrix.Plan, target_id: str, root: Path) -> str:
    target = plan.find(target_id)
    os_name, arch = matrix.host()
    if (target.os, target.arch) != (os_name, arch):
        msg = (
            f"{target.id} needs a {target.os}/{target.arch} machine (CI runs it on "
            f"{target.runner}); this one is {os_name}/{arch}."
        )
        raise ToolMissing(msg)
    session = matrix.session_for(matrix.nox_sessions(root), target)
    return matrix.nox_command(target, session)


# -- shipyard health ---------------------------------------------------------------------


def _add_health(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "health", help="score the repository: sp-repo-review's checks plus shipyard's own"
    )
    p.add_argument("--json", action="store_true", help="print every check as JSON")
    p.set_defaults(func=_cmd_health)


def _cmd_health(args: argparse.Namespace) -> int:
    from shipyard.monitor import health  # noqa: PLC0415
    from shipyard.monitor.run import check_health  # noqa: PLC0415

    resolved = config.load(args.root)
    result = check_health(resolved)
    checks = json.loads((resolved.reports / "health-checks.json").read_text(encoding="utf-8"))
    if args.json:
        _print_json(checks)
    else:
        console(stderr=False).print(health.render_checks(checks["checks"]))
        console().print(f"health: {result.status.value}: {result.reason}", markup=False)
    return ExitCode.GATE_FAILED if result.status.value == "failed" else ExitCode.OK


# -- shipyard init ---------------------------------------------------------------------


def _add_init(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "init", help="adopt the project: noxfile.py, tasks.py, workflows, [tool.shipyard]"
    )
    p.add_argument("--dry-run", action="store_true", help="show what would be written, as a diff")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace a noxfile.py, tasks.py or workflow that exists",
    )
    p.add_argument(
        "--no-workflows", action="store_true", help="write no GitHub workflows (another CI)"
    )
    p.set_defaults(func=_cmd_init)


def _cmd_init(args: argparse.Namespace) -> int:
    from shipyard.adopt import init  # noqa: PLC0415

    plan = init.make_plan(args.root, force=args.force, workflows=not args.no_workflows)
    out = console()
    out.print(init.summary(plan))
    for info in plan.infos:
        sys.stderr.write(f"shipyard: {info}\n")
    for warning in plan.warnings:
        sys.stderr.write(f"shipyard: warning: {warning}\n")
    if args.dry_run:
        sys.stdout.write(init.diff(plan))
        out.print(init.changes_table(plan, dry_run=True))
        out.print(f"dry run: {len(plan.writes)} file(s) would be written; nothing was.")
        return ExitCode.OK

    written = init.apply(plan)
    out.print(init.changes_table(plan, dry_run=False))
    if not written:
        out.print("nothing to change: the project has adopted shipyard already.")
    out.print("next:")
    for command, what in init.next_commands(plan):
        out.print(f"  [bold]{escape(command)}[/]  [dim]# {escape(what)}[/]", soft_wrap=True)
    return ExitCode.OK


# -- shipyard doctor -------------------------------------------------------------------


def _add_doctor(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("doctor", help="what this machine can run, and why not")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument(
        "--timeout",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="how long to wait for the Docker engine (default: 5)",
    )
    p.set_defaults(func=_cmd_doctor)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from shipyard import doctor  # noqa: PLC0415

    diagnosis = doctor.diagnose(args.root, timeout=args.timeout)
    if args.json:
        _print_json(diagnosis.to_json())
    else:
        console(stderr=False).print(doctor.render(diagnosis))
    if diagnosis.invalid is not None:
        sys.stderr.write(f"shipyard: error: {diagnosis.invalid}\n")
    return diagnosis.exit_code


# -- shipyard version / changelog -------------------------------------------------------


def _add_version(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "version", help="print the current version, or with --next the one a release makes now"
    )
    p.add_argument(
        "--next", action="store_true", help="the next version (exit 5: nothing to release)"
    )
    p.add_argument("--pre", metavar="LABEL", help="as a pre-release: alpha, beta or rc")
    p.add_argument("--pep440", action="store_true", help="print the PEP 440 form (1.3.0rc1)")
    p.set_defaults(func=_cmd_version)


def _cmd_version(args: argparse.Namespace) -> int:
    from shipyard import release  # noqa: PLC0415 - git and httpx only when asked
    from shipyard.release.semver import to_pep440  # noqa: PLC0415

    resolved = config.load(args.root)
    if args.next:
        version = release.plan_release(resolved, pre=args.pre, resume=False).version
    elif args.pre:
        msg = "--pre goes with --next."
        raise UsageError(msg)
    else:
        found = release.current_version(resolved)
        if found is None:
            msg = "no version yet: [project].version is dynamic and no release tag exists."
            raise ConfigError(msg, path=resolved.pyproject, key="project.version")
        version = found
    sys.stdout.write(f"{to_pep440(version) if args.pep440 else version}\n")
    return ExitCode.OK


def _add_changelog(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("changelog", help="print a changelog section")
    p.add_argument(
        "--unreleased",
        action="store_true",
        help="the section a release would add now (default: the current version's section)",
    )
    p.add_argument("--pre", metavar="LABEL", help="with --unreleased: as a pre-release")
    p.set_defaults(func=_cmd_changelog)


def _cmd_changelog(args: argparse.Namespace) -> int:
    from shipyard import release  # noqa: PLC0415 - git and httpx only when asked
    from shipyard.release.changelog import find_section  # noqa: PLC0415

    if args.pre and not args.unreleased:
        msg = "--pre goes with --unreleased."
        raise UsageError(msg)
    resolved = config.load(args.root)
    if args.unreleased:
        section = release.plan_release(resolved, pre=args.pre, resume=False).section
    else:
        version = release.current_version(resolved)
        path = resolved.root / resolved.release.changelog
        if not path.is_file():
            msg = (
                f"this file does not exist (so it has no section for {version}); "
                "`invoke release` creates it with the release's section, and "
                "`shipyard changelog --unreleased` shows that section now."
            )
            raise ConfigError(msg, path=path)
        text = path.read_text(encoding="utf-8")
        found = find_section(text, str(version)) if version else None
        if found is None:
            msg = f"no section for version {version} in this file; try --unreleased."
            raise ConfigError(msg, path=path)
        section = found
    sys.stdout.write(section)
    return ExitCode.OK


# -- shipyard workflows ----------------------------------------------------------------


def _add_workflows(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "workflows", help="write .github/workflows from the sessions, flows and build matrix"
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="write nothing; print a unified diff and exit 1 when the files are out of date",
    )
    p.add_argument(
        "--force", action="store_true", help="also replace workflow files shipyard did not write"
    )
    p.set_defaults(func=_cmd_workflows)


def _cmd_workflows(args: argparse.Namespace) -> int:
    from shipyard.workflows import check, generate  # noqa: PLC0415

    resolved = config.load(args.root)
    rendered = generate.render(resolved, generate.gather(resolved))
    changes = check.plan(resolved, rendered, force=args.force)
    if not args.check:
        check.apply(changes)
    for change in changes:
        if not args.check or change.kind is not check.Kind.SAME:
            sys.stderr.write(
                f"shipyard: {check.describe(change, resolved.root, checking=args.check)}\n"
            )
    diff = check.unified_diff(changes, resolved.root) if args.check else ""
    if diff:
        sys.stdout.write(diff)
        sys.stderr.write("shipyard: workflows out of date; run `shipyard workflows`\n")
        return ExitCode.GATE_FAILED
    if args.check:
        sys.stderr.write("shipyard: workflows are up to date\n")
    return ExitCode.OK


# -- shipyard bench --------------------------------------------------------------------


def _add_bench(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser("bench", help="compare benchmark results, show trends, make baselines")
    bench = p.add_subparsers(title="bench commands", metavar="ACTION", parser_class=_Parser)
    cmp = bench.add_parser("compare", help="compare two results files: baseline A, current B")
    cmp.add_argument("baseline", type=Path, metavar="A")
    cmp.add_argument("current", type=Path, metavar="B")
    cmp.add_argument("--json", action="store_true", help="print the comparisons as JSON")
    cmp.set_defaults(func=_cmd_bench_compare)
    trend = bench.add_parser("trend", help="steps in this machine's history, with charts")
    trend.add_argument(
        "--html", type=Path, help="HTML report (default: <reports>/bench-trend.html)"
    )
    trend.add_argument("--png", type=Path, help="PNG summary (default: <reports>/bench-trend.png)")
    trend.add_argument("--python", help="the benchmarks' Python ('3.12'; default: this one)")
    trend.set_defaults(func=_cmd_bench_trend)
    base = bench.add_parser("baseline", help="run the suite on another commit, as a baseline")
    base.add_argument("--ref", required=True, help="the commit, branch or tag to measure")
    base.add_argument("--output", type=Path, help="also write the results to this file")
    base.set_defaults(func=_cmd_bench_baseline)
    run = bench.add_parser("run", help="the bench stage here (what `nox -s bench` runs)")
    run.set_defaults(func=_cmd_bench_run)


def _cmd_bench_run(args: argparse.Namespace) -> int:
    import time  # noqa: PLC0415

    from shipyard.report import StageResult, Status, append_step_summary, write_result  # noqa: PLC0415
    from shipyard.stages import bench  # noqa: PLC0415
    from shipyard.tools import ToolEnv  # noqa: PLC0415

    resolved = config.load(args.root)
    start = time.perf_counter()
    try:
        result = bench.run_bench(resolved, ToolEnv.current())
    except ShipyardError as exc:
        duration = time.perf_counter() - start
        result = StageResult(
            stage="bench", status=Status.FAILED, reason=str(exc), duration=duration
        )
    write_result(result, resolved.reports)
    markdown = resolved.reports / "bench" / "bench.md"
    if markdown.is_file():
        text = markdown.read_text(encoding="utf-8")
        sys.stdout.write(text)
        append_step_summary(text)
    sys.stderr.write(f"shipyard: bench: {result.status.value} ({result.reason})\n")
    return ExitCode.GATE_FAILED if result.status is Status.FAILED else ExitCode.OK


def _cmd_bench_compare(args: argparse.Namespace) -> int:
    from shipyard.stages import bench  # noqa: PLC0415
    from shipyard.stages.bench.compare import Verdict  # noqa: PLC0415
    from shipyard.stages.bench.render import render_markdown  # noqa: PLC0415

    root = Path(args.root)
    resolved = config.load(root) if (root / "pyproject.toml").is_file() else config.Config()
    comparisons, differences = bench.compare_files(resolved, args.baseline, args.current)
    if args.json:
        _print_json({"comparisons": [c.to_json() for c in comparisons], "machine": differences})
    else:
        notes = [f"not gated: machines differ ({'; '.join(differences)})"] if differences else []
        sys.stdout.write(render_markdown(comparisons, baseline=str(args.baseline), notes=notes))
    critical = any(c.verdict is Verdict.CRITICAL for c in comparisons)
    return ExitCode.GATE_FAILED if critical and not differences else ExitCode.OK


def _cmd_bench_trend(args: argparse.Namespace) -> int:
    from shipyard.stages import bench  # noqa: PLC0415
    from shipyard.stages.bench import history, plot, trend  # noqa: PLC0415

    resolved = config.load(args.root)
    store = bench.store_for(resolved)
    if store is None:
        raise UsageError("bench history is off ([tool.shipyard.bench] history = 'off').")
    past = store.read(history.fingerprint(python=args.python))
    for problem in past.problems():
        sys.stderr.write(f"shipyard: warning: {problem}\n")
    steps = trend.detect_steps(past.records, min_step=resolved.bench.trend_min_step)
    for step in steps:
        sys.stdout.write(
            f"{step.benchmark}: {step.change:+.1f} % at {(step.commit or '?')[:12]} "
            f"(run {step.index + 1} of the series)\n"
        )
    if not steps:
        sys.stdout.write(f"no steps in {len(past.records)} run(s) of {past.source}\n")
    html = args.html or resolved.reports / "bench-trend.html"
    png = args.png or resolved.reports / "bench-trend.png"
    plot.write_html(past.records, steps, html, title=f"bench trend: {past.source}")
    plot.write_png(past.records, steps, png)
    sys.stderr.write(f"shipyard: wrote {html} and {png}\n")
    return ExitCode.OK


def _cmd_bench_baseline(args: argparse.Namespace) -> int:
    from shipyard.stages import bench  # noqa: PLC0415
    from shipyard.tools import ToolEnv  # noqa: PLC0415

    resolved = config.load(args.root)
    run, where = bench.make_baseline(resolved, ToolEnv.current(), args.ref, output=args.output)
    sys.stderr.write(
        f"shipyard: measured {len(run.benchmarks)} benchmark(s) at {run.commit}; "
        f"recorded in {where or 'nowhere (history is off)'}\n"
    )
    return ExitCode.OK


# -- shipyard docker -------------------------------------------------------------------


def _add_docker(sub: argparse._SubParsersAction[_Parser]) -> None:
    p = sub.add_parser(
        "docker", help="build the image variants, check size/smoke/user/health, push"
    )
    p.add_argument(
        "variants", nargs="*", metavar="VARIANT", help="variants to build (default: all)"
    )
    p.add_argument("--push", action="store_true", help="push to docker.registries when checks pass")
    p.set_defaults(func=_cmd_docker)


def _cmd_docker(args: argparse.Namespace) -> int:
    from shipyard.report import Status, render_table, write_result  # noqa: PLC0415

    try:
        from shipyard.stages.docker import run_docker  # noqa: PLC0415
    except ImportError as exc:  # shipyard's minimal image leaves the Docker client out
        msg = f"the docker stage needs python-on-whales ({exc}); use shipyard's cpu image."
        raise ToolMissing(msg) from None

    resolved = config.load(args.root)
    result = run_docker(resolved, variants=tuple(args.variants), push=args.push or None)
    write_result(result, resolved.reports)
    console().print(render_table([result], title="shipyard docker"))
    return ExitCode.GATE_FAILED if result.status is Status.FAILED else ExitCode.OK


# -- the parser and the door -------------------------------------------------------------

#: Each adds its subparser and sets `func`. Later subcommands append themselves here.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction[_Parser]], None]] = [
    _add_config,
    _add_matrix,
    _add_init,
    _add_doctor,
    _add_health,
    _add_workflows,
    _add_bench,
    _add_version,
    _add_changelog,
    _add_docker,
]


def build_parser() -> _Parser:
    parser = _Parser(
        prog="shipyard",
        description="One CI/CD pipeline for Python projects, defined in pyproject.toml.",
    )
    parser.add_argument("--version", action="version", version=f"shipyard {__version__}")
    parser.add_argument(
        "--root", type=Path, default=Path(), help="project root (default: current directory)"
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks for errors")
    sub = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    for add in SUBCOMMANDS:
        add(sub)
    return parser


def _check_root(root: Path) -> None:
    """UsageError for a --root that names a file: every command reads files below it."""
    if root.exists() and not root.is_dir():
        msg = f"--root must be a directory: '{root}' is a file; pass the project's directory."
        raise UsageError(msg)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
        _check_root(args.root)
        func: Command | None = getattr(args, "func", None)
        if func is None:
            build_parser().print_help(sys.stderr)
            return ExitCode.CONFIG
        return int(func(args))
    except ShipyardError as exc:
        if debug:
            traceback.print_exc()
        sys.stderr.write(f"shipyard: error: {exc}\n")
        return int(exc.code)
    except KeyboardInterrupt:
        sys.stderr.write("shipyard: interrupted\n")
        return ExitCode.INTERRUPTED

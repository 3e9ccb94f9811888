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
    p = sub.add_parser("config", help="print the resolved [tool.shipyard] configuration")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--schema", action="store_true", help="print the JSON schema of the table")
    p.set_defaults(func=_cmd_config)


def _cmd_config(args: argparse.Namespace) -> int:
    if args.schema:
        _print_json(config.schema())
        return ExitCode.OK
    resolved = config.load(args.root)
    data = config.to_json(resolved)
    if args.json:
        _print_json(data)
        return ExitCode.OK
    from rich.console import Console  # noqa: PLC0415
    from rich.pretty import Pretty  # noqa: PLC0415

    Console(highlight=False).print(Pretty(data, expand_all=True))
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
        text = path.read_text(encoding="utf-8") if path.is_file() else ""
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


# -- the parser and the door -------------------------------------------------------------

#: Each adds its subparser and sets `func`. Later subcommands append themselves here.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction[_Parser]], None]] = [
    _add_config,
    _add_matrix,
    _add_workflows,
    _add_version,
    _add_changelog,
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


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in argv
    try:
        args = build_parser().parse_args(argv)
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

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

from shipyard import __version__, config
from shipyard.errors import ExitCode, ShipyardError, UsageError

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


# -- the parser and the door -------------------------------------------------------------

#: Each adds its subparser and sets `func`. Later subcommands append themselves here.
SUBCOMMANDS: list[Callable[[argparse._SubParsersAction[_Parser]], None]] = [_add_config]


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

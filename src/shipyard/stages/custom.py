"""A custom stage: the commands of `[tool.shipyard.stages.<name>]`, run in order."""

from __future__ import annotations

import shlex
import time

from shipyard.config import Config
from shipyard.errors import ConfigError, ToolMissing
from shipyard.graph import split_command
from shipyard.report import StageResult, Status
from shipyard.tools import ToolEnv

__all__ = ["check_commands", "run_custom"]


def _spec(config: Config, name: str) -> list[list[str]]:
    spec = config.stages.get(name)
    if spec is None:
        msg = f"no custom stage '{name}'."
        raise ConfigError(msg, path=config.pyproject, key=f"tool.shipyard.stages.{name}")
    return [split_command(name, i, command, config) for i, command in enumerate(spec.commands)]


def check_commands(config: Config, name: str, tools: ToolEnv) -> None:
    """Raise ToolMissing (exit 3) naming the first command of stage `name` that is not found."""
    for argv in _spec(config, name):
        if tools.which(argv[0]) is None:
            where = f"in {tools.bin_dir} or " if tools.bin_dir else ""
            msg = (
                f"stage '{name}': command '{argv[0]}' was not found {where}on PATH "
                f"(tool.shipyard.stages.{name}.commands); install it, or add it to the "
                "stage's `requirements`."
            )
            raise ToolMissing(msg)


def run_custom(config: Config, name: str, tools: ToolEnv) -> StageResult:
    """Run the stage's commands in order, from the project root; stop at the first failure."""
    start = time.perf_counter()
    spec = config.stages[name]
    report = spec.report or name
    commands = _spec(config, name)
    check_commands(config, name, tools)
    for argv in commands:
        done = tools.run(argv, cwd=config.root, env=spec.env, stream=True)
        if done.returncode != 0:
            shown = shlex.join(argv)
            return StageResult(
                stage=report,
                status=Status.FAILED,
                reason=f"`{shown}` exited with code {done.returncode}",
                duration=time.perf_counter() - start,
                metrics={"custom.commands": len(commands)},
            )
    return StageResult(
        stage=report,
        status=Status.PASSED,
        reason=f"{len(commands)} command(s) passed",
        duration=time.perf_counter() - start,
        metrics={"custom.commands": len(commands)},
    )

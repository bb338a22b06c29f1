"""Generate docs/commands.md from the real `--help` output of every command.

    python -m tests.support.cli_reference     # rewrite docs/commands.md
"""

from __future__ import annotations

from pathlib import Path

import click

from gpuctl.cli import cli

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "commands.md"


def _walk(command: click.Command, path: list[str]):
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=path[-1])
        for name in command.list_commands(ctx):
            yield from _walk(command.get_command(ctx, name), [*path, name])


def _help(path: list[str]) -> str:
    from click.testing import CliRunner

    result = CliRunner(env={"COLUMNS": "100"}).invoke(cli, [*path[1:], "--help"], prog_name="gpu", terminal_width=100)
    assert result.exit_code == 0, result.output
    return result.output


def render() -> str:
    parts = ["# Command reference\n", "Generated from the real `--help` output by `python -m tests.support.cli_reference`; a test fails when it is stale.\n"]
    for path, command in _walk(cli, ["gpu"]):
        parts.append(f"\n## `{' '.join(path)}`\n\n```text\n{_help(path).rstrip()}\n```\n")
    return "".join(parts)


if __name__ == "__main__":
    DOC.write_text(render())

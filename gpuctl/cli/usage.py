"""Usage errors in gpuctl's own words: what is wrong, in which command, and how to fix it.

click's messages repeat what was typed ("Got unexpected extra argument (sk_live_...)"), and a
pasted API key is exactly what lands in a wrong place on a command line. So the rule is: a
usage error quotes only gpuctl's own words (command and option names, allowed choices, number
ranges) and never anything the user typed; an unexpected argument, an unknown option or
command, and a rejected value are described, not shown.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TextIO

import click

from gpuctl.commands import suggest
from gpuctl.errors import UsageError, doc_ref
from gpuctl.words import agreeing

NOT_SHOWN = "not shown, in case it is a secret"
NO_ARGS_IS_HELP = getattr(click.exceptions, "NoArgsIsHelpError", ())  # click >= 8.2


def show(exc: click.ClickException, root: click.Command, args: list[str], stream: TextIO) -> None:
    """Print a click error: a group's help when it was given no command, else `describe`."""
    if isinstance(exc, NO_ARGS_IS_HELP):
        exc.show(file=stream)
    else:
        stream.write(describe(exc, root, args).format() + "\n")  # the line and its newline in one write


def describe(exc: click.ClickException, root: click.Command, args: list[str]) -> UsageError:
    """The error for a click error raised while `root` (the `gpu` group) parsed `args`."""
    reached = walk(root, args)
    ctx = getattr(exc, "ctx", None) or reached.ctx  # click leaves some parser errors without one
    more = f"see `{ctx.command_path} --help`"
    if isinstance(exc, click.NoSuchOption):
        meant = _synonym(ctx.command, exc.option_name)
        return UsageError(f"unknown option for `{ctx.command_path}` ({NOT_SHOWN})",
                          hint=_did_you_mean([meant] if meant else exc.possibilities, more))
    if isinstance(exc, click.BadParameter) and not isinstance(exc, click.MissingParameter):
        return UsageError(_bad_value(exc, ctx, args), hint=more)
    extra = len(reached.leftover) if reached.ctx.command is ctx.command and isinstance(exc, click.UsageError) else 0
    if extra and isinstance(ctx.command, click.Group):
        # click's NoSuchCommand (8.4+), or before it a plain UsageError: a group is only left
        # with words when the first is not one of its commands.
        more = f"`{ctx.command_path} --help` lists them"
        meant = COMMAND_SYNONYMS.get((ctx.command_path, reached.leftover[0]))
        if meant == _NO_INIT:
            return UsageError(f"unknown command for `{ctx.command_path}` ({NOT_SHOWN})", hint=f"{meant}; {more}")
        return UsageError(f"unknown command for `{ctx.command_path}` ({NOT_SHOWN})",
                          hint=_did_you_mean([meant] if meant else _close_commands(ctx, reached.leftover[0]), more))
    if extra:
        return _extra_arguments(ctx, extra)
    return UsageError(_own_words(exc.format_message(), ctx, args), hint=more)


@dataclass
class Reached:
    """The deepest command a command line gets to, and the words its parser leaves over."""

    ctx: click.Context
    leftover: list[str]


def walk(root: click.Command, args: list[str]) -> Reached:
    """Run each command's own parser over `args` from `gpu` down, as click does, but only to
    find where they lead: no callback runs and no value is kept. A group's words end at its
    subcommand's name."""
    ctx = click.Context(root, info_name="gpu", resilient_parsing=True)
    words = list(args)
    while True:
        try:
            _, rest, _ = ctx.command.make_parser(ctx).parse_args(args=words)
        except click.ClickException:
            return Reached(ctx, [])
        sub = ctx.command.get_command(ctx, rest[0]) if isinstance(ctx.command, click.Group) and rest else None
        if sub is None:
            return Reached(ctx, rest)
        ctx, words = click.Context(sub, info_name=rest[0], parent=ctx, resilient_parsing=True), rest[1:]


# What other tools call an option gpuctl has under another name (kubectl -f and --dry-run,
# terraform's plan): no close spelling, so click's matches miss them ("--dry-run" came out as
# "did you mean --prune?").
SYNONYMS = {"--dry-run": "--plan", "--dryrun": "--plan", "-f": "--config", "--file": "--config", "--filename": "--config"}


# What other tools call a command gpuctl has under another name (terraform apply/plan, kubectl
# apply, docker ls/rm), or has not at all (init: gpu.jsonc is written by hand). Only a key of
# this table is ever matched, and only its value is shown: never the word typed.
_NO_INIT = (f"gpuctl has no init command: write gpu.jsonc by hand, as in {doc_ref('first-deploy.md')} "
            f"(`{suggest('config', 'schema')}` prints its JSON Schema), then `{suggest('config', 'validate')}`")
COMMAND_SYNONYMS = {
    ("gpu", "init"): _NO_INIT, ("gpu serverless", "init"): _NO_INIT,
    ("gpu", "login"): "auth login", ("gpu", "logout"): "auth logout", ("gpu", "deploy"): "serverless deploy",
    ("gpu serverless", "apply"): "deploy", ("gpu serverless", "up"): "deploy", ("gpu serverless", "plan"): "deploy --plan",
    ("gpu serverless", "ls"): "list", ("gpu serverless", "rm"): "delete", ("gpu serverless", "destroy"): "delete",
    ("gpu serverless", "down"): "delete", ("gpu serverless", "describe"): "status", ("gpu serverless", "run"): "invoke",
}


def _synonym(command: click.Command, typed: str | None) -> str | None:
    """gpuctl's name for `typed` when it is another tool's name and `command` has the option.
    Only a fixed table's keys are matched, so nothing typed is ever shown."""
    meant = SYNONYMS.get(typed or "")
    return meant if meant and any(meant in p.opts for p in command.params if isinstance(p, click.Option)) else None


def _close_commands(ctx: click.Context, typed: str) -> list[str]:
    """The group's command names close to `typed`, from every command it has: click's own
    suggestions see only the ones a LazyGroup has imported. Only the names are shown."""
    from difflib import get_close_matches

    return get_close_matches(typed, ctx.command.list_commands(ctx))


def _did_you_mean(possibilities: list[str] | None, more: str) -> str:
    """click's close matches are names gpuctl defines, so they may be shown."""
    return f"did you mean {' or '.join(possibilities)}? {more}" if possibilities else more


def _extra_arguments(ctx: click.Context, count: int) -> UsageError:
    takes = [_label(p) for p in ctx.command.params if isinstance(p, click.Argument)]
    return UsageError(f"unexpected extra {agreeing(count, 'argument')} for `{ctx.command_path}` ({count} given; {NOT_SHOWN})",
                      hint=f"it takes {' '.join(takes) if takes else 'no arguments'}; see `{ctx.command_path} --help`")


def _bad_value(exc: click.BadParameter, ctx: click.Context, args: list[str]) -> str:
    """Which parameter, and what it accepts: from its type when click's type says so, else the
    message with the rejected value taken out."""
    param = exc.param or _param_named(ctx, exc.param_hint)
    name = _label(param) if param else exc.param_hint
    where = f"invalid value for {name if isinstance(name, str) else '/'.join(name)} of `{ctx.command_path}`" if name else f"invalid value for `{ctx.command_path}`"
    from gpuctl.cli.paths import OwnWords

    accepted = _accepted(param.type) if param and not isinstance(exc, OwnWords) else None
    return f"{where}: {accepted or _own_words(exc.message, ctx, args)}"


def _label(param: click.Parameter) -> str:
    """An option by its names, an argument as its help shows it (`[NAME|ID]`, `NAME`)."""
    return "/".join(param.opts) if isinstance(param, click.Option) else (param.metavar or param.human_readable_name)


def _param_named(ctx: click.Context, hint) -> click.Parameter | None:
    names = {hint} if isinstance(hint, str) else set(hint or ())
    return next((p for p in ctx.command.params if names & set(p.opts)), None)


def _accepted(kind: click.ParamType) -> str | None:
    """What a parameter of this type accepts, in gpuctl's words; None for a type whose own
    message has to do."""
    from gpuctl.cli.durations import Duration
    from gpuctl.cli.paths import NamedFile

    if isinstance(kind, NamedFile):
        return kind.accepts
    if isinstance(kind, click.Choice):
        return "must be one of " + ", ".join(str(c) for c in kind.choices)
    if isinstance(kind, Duration):
        return kind.accepts
    whole = isinstance(kind, click.types.IntParamType)
    if isinstance(kind, (click.IntRange, click.FloatRange)):
        return f"must be {'a whole number' if whole else 'a number'}{_bounds(kind)}"
    if isinstance(kind, (click.types.IntParamType, click.types.FloatParamType)):
        return "must be a whole number" if whole else "must be a number"
    return None


def _bounds(kind: click.IntRange | click.FloatRange) -> str:
    low = None if kind.min is None else f"{'above' if kind.min_open else 'at least'} {kind.min}"
    high = None if kind.max is None else f"{'below' if kind.max_open else 'at most'} {kind.max}"
    return " " + " and ".join(part for part in (low, high) if part) if low or high else ""


def _own_words(message: str, ctx: click.Context, args: list[str]) -> str:
    """`message` with every typed word it quotes replaced by "the value given"; if a typed word
    (other than gpuctl's own names) still shows, the message is not used at all."""
    typed = _typed_words(args) - _own_names(ctx)
    for word in sorted(typed, key=len, reverse=True):
        message = message.replace(repr(word), "the value given")
    # click names a rejected path by its kind: "File 'x' does not exist."
    message = re.sub(r"^(File|Directory|Path) the value given\b", lambda m: f"the {m[1].lower()} given", message)
    if any(re.search(rf"(?<!\w){re.escape(word)}(?!\w)", message) for word in typed if len(word) >= 4):
        return f"the value given was not accepted ({NOT_SHOWN})"
    return message[:1].lower() + message[1:].rstrip(".")


def _typed_words(args: list[str]) -> set[str]:
    """Every word of the command line, and the value part of each `--option=value`."""
    return set(args) | {arg.split("=", 1)[1] for arg in args if arg.startswith("--") and "=" in arg}


def _own_names(ctx: click.Context | None) -> set[str]:
    """The command names and option names of `ctx` and its parents: gpuctl's words."""
    names: set[str] = set()
    while ctx is not None:
        names |= {ctx.info_name or ""} | {opt for p in ctx.command.params for opt in (*p.opts, *p.secondary_opts)}
        ctx = ctx.parent
    return names

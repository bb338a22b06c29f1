"""The `gpu` command line. The single error boundary lives in `main`.

Only click is imported here, so `gpu --help` stays fast; each command imports what it needs.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from gpuctl import __version__
from gpuctl.cli.config_cmd import config_group
from gpuctl.cli.context import AppContext
from gpuctl.cli.lazy import LazyGroup
from gpuctl.cli.local_cmd import local_group
from gpuctl.cli.serverless import serverless_group
from gpuctl.errors import ExitCode

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


class ClosedPipe(Exception):
    """The reader of gpu's stdout or stderr went away. Deliberately not an OSError: click
    turns an EPIPE it sees into a silent exit 1, the same code as any error, and a pipeline
    under `set -o pipefail` could not tell `gpu ... | head -1` from a failure."""


@contextmanager
def _pipe_closes() -> Iterator[None]:
    try:
        yield
    except BrokenPipeError:
        raise ClosedPipe() from None


class Root(LazyGroup):
    """The `gpu` group: every write of every command (and of `--help`) happens inside its
    make_context or invoke, so a closed pipe is caught here, before click's own handling."""

    def make_context(self, *args, **kwargs) -> click.Context:
        with _pipe_closes():
            return super().make_context(*args, **kwargs)

    def invoke(self, ctx: click.Context):
        with _pipe_closes(), _interrupt_is_an_error():
            return super().invoke(ctx)


@contextmanager
def _interrupt_is_an_error() -> Iterator[None]:
    """Ctrl-C or SIGTERM that a command does not report itself ends as an error of its own
    (`error: interrupted`, exit 130), like every other end of a command; click turned it into a
    blank line and its Abort, which printed a bare `interrupted` (review L7)."""
    try:
        yield
    except KeyboardInterrupt:
        from gpuctl.interrupts import Interrupted

        raise Interrupted("interrupted") from None


@click.group(cls=Root, lazy={"auth": "gpuctl.cli.auth_cmd:auth_group", "github": "gpuctl.cli.github_cmd:github_group", "doctor": "gpuctl.cli.doctor_cmd:doctor"}, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, prog_name="gpuctl")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """gpuctl: deploy and manage RunPod Serverless endpoints from gpu.jsonc.

    Every deploy is a plan/apply cycle against what is live in the account. Add --debug to any
    command for a traceback on unexpected errors.
    """
    if ctx.obj is None:
        ctx.obj = AppContext()


cli.add_command(serverless_group)
cli.add_command(config_group)
cli.add_command(local_group)


def main(argv: list[str] | None = None, context: AppContext | None = None) -> int:
    """Run the CLI; map every error to a message and an exit code (never a traceback unless
    --debug). Returns the exit code when `context` is given (tests), else exits."""
    debug, args = _debug_flag(list(sys.argv[1:] if argv is None else argv))
    app = context or AppContext()
    app.debug = debug or bool(app.environ.get("GPUCTL_DEBUG"))
    if context is None:  # the process is gpu's: SIGTERM ends it as Ctrl-C does (a test's own process keeps its handlers)
        from gpuctl.interrupts import sigterm_as_ctrl_c

        sigterm_as_ctrl_c()
    try:
        code = _run(args, app)
    except BrokenPipeError:  # stderr's reader went away while an error was being reported
        code = ExitCode.CLOSED_PIPE
    if context is not None:
        return code
    if code == ExitCode.CLOSED_PIPE:
        _end_on_closed_pipe()
    sys.exit(code)


def _debug_flag(args: list[str]) -> tuple[bool, list[str]]:
    """Whether `--debug` was given, and the arguments without it. `--debug` is the global flag
    wherever click would read it as an option of the command named so far, and only there: a
    `--debug` after `--` is an argument (`gpu serverless delete -- --debug` names an endpoint)
    and one that is the value of an option is that value (`--input --debug`). Every token was
    searched for and removed, so those reached the command changed and turned on tracebacks.
    Only the commands on the path typed are loaded, as click itself loads them."""
    command: click.Command = cli
    kept: list[str] = []
    debug, values = False, 0
    for index, word in enumerate(args):
        if values:  # the value of the option before
            values -= 1
        elif word == "--":
            kept.extend(args[index:])
            break
        elif word == "--debug":
            debug = True
            continue
        elif word.startswith("-") and word != "-":
            values = _values_taken(command, word)
        elif isinstance(command, click.Group):
            command = command.get_command(click.Context(command), word) or command
        kept.append(word)
    return debug, kept


def _values_taken(command: click.Command, word: str) -> int:
    """How many of the words after option `word` of `command` are its values: `--name=value`
    and `-nvalue` hold theirs; a cluster of short flags (`-yq`) ends at the first that takes one."""

    def values(name: str) -> int | None:
        for param in command.params:
            if isinstance(param, click.Option) and name in (*param.opts, *param.secondary_opts):
                return 0 if param.is_flag or param.count or name in param.secondary_opts else max(param.nargs, 1)
        return None

    if word.startswith("--"):
        return 0 if "=" in word else values(word) or 0
    for at, letter in enumerate(word[1:], 1):
        taken = values(f"-{letter}")
        if taken:
            return taken if at == len(word) - 1 else taken - 1
        if taken is None:
            return 0
    return 0


def _end_on_closed_pipe() -> None:
    """The reader of gpu's output went away (`gpu serverless status --watch | head -1`): end
    quietly, the way git and kubectl do, killed by SIGPIPE (a shell reports exit 141). Output
    still buffered for a stream whose reader is gone is dropped first (that stream now points
    at /dev/null), so the interpreter's last flush cannot print "Exception ignored"; output for
    a stream that still has a reader is flushed."""
    import os
    import signal

    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            try:
                os.dup2(os.open(os.devnull, os.O_WRONLY), stream.fileno())
            except (OSError, ValueError):
                pass
    if hasattr(signal, "SIGPIPE"):  # not on Windows, which has no such signal: exit 141 there
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGPIPE)
    sys.exit(ExitCode.CLOSED_PIPE)


def _run(args: list[str], app: AppContext) -> int:
    from gpuctl.errors import GpuctlError

    try:
        result = cli.main(args=args, prog_name="gpu", standalone_mode=False, obj=app)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):  # Ctrl-C at a prompt: click turns it into Abort
            app.stderr.write("interrupted\n")
            return ExitCode.INTERRUPTED
        app.stderr.write("aborted\n")
        return ExitCode.ERROR
    except click.ClickException as exc:
        from gpuctl.cli.usage import show

        show(exc, cli, args, app.stderr)  # never the words typed: click's own messages repeat them
        return ExitCode.ERROR  # usage errors exit 1: exit 2 means "changes pending"
    except GpuctlError as exc:
        from gpuctl.safetext import printable

        app.protect_variables(exc)
        app.stderr.write(printable(exc.format()) + "\n")  # errors may quote names from the account
        return exc.exit_code
    except KeyboardInterrupt:
        app.stderr.write("interrupted\n")
        return ExitCode.INTERRUPTED
    except (ClosedPipe, BrokenPipeError):  # `gpu ... | head -1`: not an error of gpu's (see _end_on_closed_pipe)
        return ExitCode.CLOSED_PIPE
    except Exception as exc:  # the one place that catches everything
        if app.debug:
            import traceback

            traceback.print_exc(file=app.stderr)
        else:
            from gpuctl.safetext import printable

            app.stderr.write(f"error: internal error: {type(exc).__name__}: {printable(str(exc))}\nhint: run again with --debug for a traceback, and report it\n")
        return ExitCode.ERROR

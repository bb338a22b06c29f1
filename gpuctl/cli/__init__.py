"""The `gpu` command line. The single error boundary lives in `main`.

Only click is imported here, so `gpu --help` stays fast; each command imports what it needs.
"""

from __future__ import annotations

import sys

import click

from gpuctl import __version__
from gpuctl.cli.config_cmd import config_group
from gpuctl.cli.context import AppContext
from gpuctl.cli.lazy import LazyGroup
from gpuctl.cli.local_cmd import local_group
from gpuctl.cli.serverless import serverless_group
from gpuctl.errors import ExitCode

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


@click.group(cls=LazyGroup, lazy={"auth": "gpuctl.cli.auth_cmd:auth_group", "github": "gpuctl.cli.github_cmd:github_group", "doctor": "gpuctl.cli.doctor_cmd:doctor"}, context_settings=CONTEXT_SETTINGS)
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
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    app = context or AppContext()
    app.debug = debug or bool(app.environ.get("GPUCTL_DEBUG"))
    code = _run(args, app)
    if context is not None:
        return code
    sys.exit(code)


def _run(args: list[str], app: AppContext) -> int:
    from gpuctl.errors import GpuctlError

    try:
        result = cli.main(args=args, prog_name="gpu", standalone_mode=False, obj=app)
        return result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.exceptions.Abort as exc:
        if isinstance(exc.__context__, KeyboardInterrupt):  # Ctrl-C at a prompt: click turns it into Abort
            print("interrupted", file=app.stderr)
            return ExitCode.INTERRUPTED
        print("aborted", file=app.stderr)
        return ExitCode.ERROR
    except click.ClickException as exc:
        from gpuctl.cli.usage import show

        show(exc, cli, args, app.stderr)  # never the words typed: click's own messages repeat them
        return ExitCode.ERROR  # usage errors exit 1: exit 2 means "changes pending"
    except GpuctlError as exc:
        from gpuctl.safetext import printable

        print(printable(exc.format()), file=app.stderr)  # errors may quote names from the account
        return exc.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=app.stderr)
        return ExitCode.INTERRUPTED
    except BrokenPipeError:
        return ExitCode.ERROR
    except Exception as exc:  # the one place that catches everything
        if app.debug:
            import traceback

            traceback.print_exc(file=app.stderr)
        else:
            from gpuctl.safetext import printable

            print(f"error: internal error: {type(exc).__name__}: {printable(str(exc))}\nhint: run again with --debug for a traceback, and report it", file=app.stderr)
        return ExitCode.ERROR

"""`gpu serverless list` and `gpu serverless status`: read-only views of the account."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import click

from gpuctl.cli.context import AppContext
from gpuctl.cli.durations import Duration
from gpuctl.cli.resolve import provider_options, record_option
from gpuctl.errors import ExitCode


@click.command("list")
@click.option("--all", "show_all", is_flag=True, help="Every endpoint in the account, with its owning project (\"-\" for none; a project named \"-\" is shown quoted).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@provider_options
@record_option
@click.pass_obj
def list_endpoints(app: AppContext, show_all: bool, as_json: bool, provider: str | None, config: str | None, record: str | None) -> int:
    """Endpoints of this project (gpu.jsonc's, and its orphans: those that left it) and whether they match it; --all for the account."""
    from gpuctl.cli import views
    from gpuctl.cli.resolve import open_target, start_recording
    from gpuctl.config.source import nearby_config
    from gpuctl.errors import UsageError

    start_recording(app, record, "gpu serverless list")
    target = open_target(app, provider, config, reads_only=show_all, blocks_optional=True)  # a pod config lists no endpoint of its own
    try:
        if not show_all and target.loaded is None:
            near = nearby_config(app.cwd)
            raise UsageError("no gpu.jsonc here, so there is no project to list",
                             hint=f"{near}; or use --all" if near else "run it in the project directory, pass --config, or use --all")
        if not show_all and not target.loaded.blocks:
            from gpuctl.commands import Flags, suggest

            flags = Flags(config or None, provider or None)
            app.note(f'{target.loaded.source.display} declares no serverless endpoints (it has no "serverless" block, as a GPU CLI pod config has none); '
                     f"`{suggest('serverless', 'import', 'NAME', '--write', flags=flags)}` writes the block of an endpoint the account has, "
                     f"and `{suggest('serverless', 'list', '--all', flags=flags)}` lists the account's")
        rows = views.account_rows(target) if show_all else views.project_rows(app, target)
    finally:
        target.close()
    views.print_rows(app, rows, as_json, show_all)
    return ExitCode.OK


@click.command("status")
@click.argument("ref", metavar="NAME|ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout (with --watch, one document a line per refresh).")
@click.option("--watch", is_flag=True, help="Refresh until interrupted: in place on a terminal, else one line per refresh.")
@click.option("--interval", type=Duration(minimum=0.1), default="2", show_default=True, help="Time between refreshes with --watch (seconds, or 5s, 1m).")
@provider_options
@record_option
@click.pass_obj
def status(app: AppContext, ref: str, as_json: bool, watch: bool, interval: float, provider: str | None, config: str | None, record: str | None) -> int:
    """Workers by state, queue and job counters, scaling, release and rollout, URL and cost.

    --watch stops on Ctrl-C or SIGTERM, exiting 0."""
    from gpuctl.cli import views
    from gpuctl.cli.resolve import endpoint, open_target, start_recording, while_it_exists

    start_recording(app, record, "gpu serverless status")
    target = open_target(app, provider, config, reads_only=True)
    try:
        endpoint_id = endpoint(target, ref)["id"]
        grace = app.seconds("GPUCTL_WARM_SWEEP_GRACE", 300)  # as warm's sweep: a pod shown here is one the next warm-up deletes
        with while_it_exists(target, ref, endpoint_id, "status --watch followed it" if watch else "its status was read"):
            if not watch:
                _show(app, views.status_doc(target, endpoint_id, grace), as_json, target.flags)
                return ExitCode.OK
            try:  # SIGTERM is a Ctrl-C in gpu (gpuctl.interrupts.sigterm_as_ctrl_c): both end the watch
                _watch(app, lambda: views.status_doc(target, endpoint_id, grace), interval, as_json, flags=target.flags)
            except KeyboardInterrupt:
                return ExitCode.OK
    finally:
        target.close()


def _show(app: AppContext, doc: dict, as_json: bool, flags=None) -> None:
    from gpuctl.cli.output import print_document

    from gpuctl.cli import views

    if as_json:
        print_document(app, doc)
    else:
        views.print_table(app, views.status_panel(doc, flags))


def _watch(app: AppContext, refresh: Callable[[], dict], interval: float, as_json: bool,
           sleep: Callable[[float], None] | None = None, flags=None) -> NoReturn:
    """Refresh until interrupted. On a terminal the panel is redrawn in place (AppContext.live).
    In a pipe, a log or CI, under TERM=dumb, or with --json anywhere, each refresh is one line
    (a JSON document with --json), flushed as it is written, so a reader sees every refresh when it happens. `sleep` waits
    between refreshes (time.sleep; a test's own). `flags` (gpuctl.commands.Flags): the run's
    options, which the commands the panel suggests repeat."""
    import time

    sleep = sleep or time.sleep

    from gpuctl.cli import views
    from gpuctl.cli.output import json_text

    if app.live(app.stdout) and not as_json:  # the one rule of every live view: not under TERM=dumb
        from rich.live import Live

        with Live(views.status_panel(refresh(), flags), console=app.console(), auto_refresh=False) as live:
            while True:
                sleep(interval)
                live.update(views.status_panel(refresh(), flags), refresh=True)
    while True:
        doc = refresh()
        if as_json:  # gpuctl's own document, one a line, written as made (ADR 38)
            app.verbatim.write(json_text(doc, indent=None) + "\n")
        else:
            app.stdout.write(f"{time.strftime('%H:%M:%S')} {views.status_line(doc)}\n")
        app.stdout.flush()
        sleep(interval)

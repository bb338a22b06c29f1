"""`gpu serverless list` and `gpu serverless status`: read-only views of the account."""

from __future__ import annotations

import click

from gpuctl.cli.context import AppContext
from gpuctl.cli.resolve import provider_options


@click.command("list")
@click.option("--all", "show_all", is_flag=True, help="Every endpoint in the account, with its owning project.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@provider_options
@click.pass_obj
def list_endpoints(app: AppContext, show_all: bool, as_json: bool, provider: str | None, config: str | None) -> int:
    """Endpoints of this project (from gpu.jsonc) and whether they match it; --all for the account."""
    from gpuctl.cli import views
    from gpuctl.cli.resolve import open_target
    from gpuctl.errors import UsageError

    target = open_target(app, provider, config)
    try:
        if not show_all and target.loaded is None:
            raise UsageError("no gpu.jsonc here, so there is no project to list", hint="run it in the project directory, pass --config, or use --all")
        rows = views.account_rows(target) if show_all else views.project_rows(app, target)
    finally:
        target.close()
    views.print_rows(app, rows, as_json, show_all)
    return 0


@click.command("status")
@click.argument("ref", metavar="NAME|ID")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout.")
@click.option("--watch", is_flag=True, help="Refresh in place until interrupted.")
@click.option("--interval", default=2.0, show_default=True, help="Seconds between refreshes with --watch.")
@provider_options
@click.pass_obj
def status(app: AppContext, ref: str, as_json: bool, watch: bool, interval: float, provider: str | None, config: str | None) -> int:
    """Workers by state, queue and job counters, scaling, release and rollout, URL and cost."""
    import json
    import time

    from gpuctl.cli import views
    from gpuctl.cli.resolve import endpoint, open_target

    target = open_target(app, provider, config)
    try:
        found = endpoint(target, ref)
        if not watch:
            doc = views.status_doc(target, found["id"])
            if as_json:
                app.stdout.write(json.dumps(doc, indent=2) + "\n")
            else:
                app.console().print(views.status_panel(doc))
            return 0
        from rich.live import Live

        try:
            with Live(views.status_panel(views.status_doc(target, found["id"])), console=app.console(), auto_refresh=False) as live:
                while True:
                    time.sleep(interval)
                    live.update(views.status_panel(views.status_doc(target, found["id"])), refresh=True)
        except KeyboardInterrupt:
            return 0
    finally:
        target.close()

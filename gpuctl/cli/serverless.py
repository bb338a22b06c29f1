"""`gpu serverless ...`: deploy and the day-2 commands."""

from __future__ import annotations

import click

from gpuctl.cli.context import AppContext


@click.group("serverless")
def serverless_group() -> None:
    """Deploy and manage RunPod Serverless endpoints."""


def _override_options(func):
    for option in reversed([
        click.option("--template", type=click.Choice(["auto", "comfyui", "vllm", "whisper", "custom-image"]), help="Template for this run."),
        click.option("--gpu-type", help="Primary GPU type id for this run."),
        click.option("--min-workers", type=int, help="scaling.min_workers for this run."),
        click.option("--max-workers", type=int, help="scaling.max_workers for this run."),
        click.option("--idle-timeout", type=int, help="scaling.idle_timeout (seconds) for this run."),
    ]):
        func = option(func)
    return func


@serverless_group.command("deploy")
@click.option("--plan", "plan_only", is_flag=True, help="Show the plan and stop; change nothing.")
@click.option("--observed", type=click.Path(dir_okay=False), help="Plan against this snapshot instead of the live account (no network, no credentials).")
@click.option("--config", "config", type=click.Path(), help="Path to gpu.jsonc (default: ./gpu.jsonc).")
@click.option("--json", "as_json", is_flag=True, help="Print the JSON plan/result document on stdout.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), help="How to print the plan.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when nothing changes, 2 when there are changes, 1 on error.")
@click.option("--prune", is_flag=True, help="Allow deleting owned endpoints that left gpu.jsonc.")
@click.option("--provider", type=click.Choice(["runpod", "local"]), help="Where to deploy (default: GPU_PROVIDER, gpu.jsonc, runpod with a key, else local).")
@_override_options
@click.pass_obj
def deploy(app: AppContext, plan_only: bool, observed: str | None, config: str | None, as_json: bool, fmt: str | None,
           detailed_exitcode: bool, prune: bool, provider: str | None, **override_values) -> int:
    """Make the account match gpu.jsonc: plan, show, confirm, apply, verify."""
    from gpuctl.catalog import load_catalog
    from gpuctl.cli import planning
    from gpuctl.config import build_desired, load_config
    from gpuctl.errors import EXIT_CHANGES, EXIT_OK, UsageError
    from gpuctl.plan import plan as make_plan
    from gpuctl.snapshot import read_snapshot

    fmt = planning.output_format(fmt, as_json)
    if observed is None or not plan_only:
        raise UsageError(
            "this version plans against a snapshot only: use --plan --observed SNAPSHOT.json",
            hint="applying to RunPod and to the local provider comes with the provider layer",
        )
    catalog = load_catalog()
    path, display = planning.config_path(app, config)
    loaded = load_config(path, planning.overrides(override_values), catalog, display)
    desired = build_desired(loaded, app.environ, catalog)
    target, _ = planning.choose_provider(app, provider, loaded.provider)
    account = read_snapshot(planning.config_path(app, observed)[0])
    plan = make_plan(desired, account, catalog, target=target, prune=prune)
    planning.write_plan(app, plan, fmt)
    return EXIT_CHANGES if detailed_exitcode and plan.has_changes else EXIT_OK

"""`gpu serverless ...`: deploy and the day-2 commands."""

from __future__ import annotations

import click

from gpuctl.cli.context import AppContext
from gpuctl.cli.lazy import LazyGroup
from gpuctl.cli.durations import DURATION
from gpuctl.cli.lease_options import lease_options
from gpuctl.cli.paths import CONFIG_FILE, named_file
from gpuctl.commands import suggest
from gpuctl.cli.resolve import record_option
from gpuctl.errors import ExitCode, UsageError


DAY_TWO = {
    "list": "gpuctl.cli.inspect_cmd:list_endpoints",
    "status": "gpuctl.cli.inspect_cmd:status",
    "delete": "gpuctl.cli.delete_cmd:delete",
    "template": "gpuctl.cli.delete_cmd:template_group",
    "warm": "gpuctl.cli.warm_cmd:warm",
    "logs": "gpuctl.cli.logs_cmd:logs",
    "invoke": "gpuctl.cli.invoke_cmd:invoke",
    "job": "gpuctl.cli.invoke_cmd:job_group",
    "drift": "gpuctl.cli.drift_cmd:drift",
    "pull": "gpuctl.cli.pull_cmd:pull",
    "import": "gpuctl.cli.import_cmd:import_endpoint",
    "history": "gpuctl.cli.history_cmd:history",
    "rollback": "gpuctl.cli.history_cmd:rollback",
}


@click.group("serverless", cls=LazyGroup, lazy=DAY_TWO)
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
@click.option("--plan", "plan_only", is_flag=True, help="Show the plan and stop; change nothing. A ${VAR} that is not set shows as unknown instead of failing.")
@click.option("--observed", type=named_file(f"save the snapshot with `{suggest('serverless', 'snapshot', '--out', 'FILE')}`"), metavar="FILE", help="Plan against this snapshot instead of the account (no network, no credentials).")
@click.option("--config", "config", type=CONFIG_FILE, help="Path to gpu.jsonc (default: ./gpu.jsonc).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document on stdout (the plan with --plan, else the result); never prompts.")
@click.option("--format", "fmt", type=click.Choice(["text", "markdown", "json"]), help="How to print the plan.")
@click.option("--detailed-exitcode", is_flag=True, help="Exit 0 when nothing changes, 2 when there are (or were) changes, 1 on error.")
@click.option("--prune", is_flag=True, help="Allow deleting owned endpoints that left gpu.jsonc.")
@click.option("--provider", type=click.Choice(["runpod", "local"]), help="Where to deploy (default: GPU_PROVIDER, gpu.jsonc, runpod with a key, else local for a person at a terminal; with --observed, the snapshot's).")
@click.option("-y", "--yes", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--out", type=named_file("`--plan --json` prints the plan document on stdout", dir_okay=False), help="Save the plan as JSON to this file and stop (implies --plan).")
@click.option("--from-plan", type=named_file("save the plan with `--out FILE` and pass that FILE"), metavar="FILE", help="Apply exactly this saved plan; refused if the account or gpu.jsonc changed since.")
@lease_options("this project")
@click.option("--parallelism", type=click.IntRange(1, 64), default=10, show_default=True, help="Apply up to N independent changes at once; 1 applies them one by one in the plan's order.")
@click.option("--policy", "policy", type=named_file("give the path of the policy file", dir_okay=False), help="A policy file (JSONC) every plan must keep; with gpu.jsonc's policy block, each rule takes the stricter. A plan that breaks one exits 4 and applies nothing.")
@click.option("--wait-healthy", is_flag=True, help="After applying, wait until each endpoint's rollout is done (and its smoke input passes); exit 5 if one fails.")
@click.option("--smoke", type=named_file("give the path of a JSON file holding the job input", dir_okay=False), help="With --wait-healthy: a JSON job input (or, for vllm, an OpenAI request body) each endpoint must answer.")
@click.option("--rollback-on-failure", is_flag=True, help="With --wait-healthy: put an endpoint that fails back on the version it had before this deploy.")
@click.option("--timeout", "health_timeout", type=DURATION, default="10m", show_default=True, help="With --wait-healthy: how long the gate may take in all (90s, 10m).")
@_override_options
@record_option
@click.pass_obj
def deploy(app: AppContext, plan_only: bool, observed: str | None, config: str | None, as_json: bool, fmt: str | None,
           detailed_exitcode: bool, prune: bool, provider: str | None, yes: bool, out: str | None, from_plan: str | None,
           lock_timeout: float, break_lock: bool, parallelism: int, policy: str | None, wait_healthy: bool, smoke: str | None, rollback_on_failure: bool,
           health_timeout: float, record: str | None, **override_values) -> int:
    """Make the account match gpu.jsonc: plan, show, confirm, apply, verify."""
    from contextlib import nullcontext

    from gpuctl.model import collector_paused

    as_json = as_json or fmt == "json"  # `--format json` is `--json`: one document, whether it plans or applies
    if from_plan:
        clash = [flag for flag, given in (("--plan", plan_only), ("--out", out), ("--observed", observed)) if given]
        if clash:
            from gpuctl.words import agreeing

            raise UsageError(f"--from-plan applies a saved plan, and {' and '.join(clash)} only {agreeing(len(clash), 'plans', 'plan')}", hint=f"drop {' and '.join(clash)} to apply {from_plan}, or drop --from-plan to plan")
    if record is not None:
        _record_plan(app, record, plan_only or bool(out), observed)

    # A plan-only run makes one plan and ends: no cyclic collection for the whole of it, imports
    # included (ADR 13). Restored on return, so a caller in the same process (tests) keeps it.
    with collector_paused() if plan_only or out else nullcontext():
        from gpuctl.cli import deploy as flow
        from gpuctl.cli.planning import output_format

        options = flow.DeployOptions(
            plan_only=plan_only, observed=observed, config=config, fmt=output_format(fmt, as_json),
            detailed_exitcode=detailed_exitcode, prune=prune, provider=provider, yes=yes, out=out, from_plan=from_plan,
            lock_timeout=lock_timeout, break_lock=break_lock, json_result=as_json and not plan_only, overrides=override_values,
            parallelism=parallelism, policy=policy, unknown_env=(plan_only or bool(out)) and not from_plan, offers_template=True,
            health=flow.health_options(app, plan_only or bool(out), wait_healthy, smoke, rollback_on_failure, health_timeout),
        )
        return flow.run(app, options)


def _record_plan(app: AppContext, record: str, plan_only: bool, observed: str | None) -> None:
    """--record on deploy: only for a plan against the account (it records reads only)."""
    from gpuctl.cli.resolve import start_recording
    from gpuctl.errors import UsageError

    if not plan_only:
        raise UsageError("--record records read-only runs, and deploy without --plan applies", hint="add --plan (or --out FILE)")
    if observed:
        raise UsageError("--record records the exchanges with the account, and --observed plans against a snapshot without any", hint="drop --observed")
    start_recording(app, record, "gpu serverless deploy --plan")


@serverless_group.command("snapshot")
@click.option("--provider", type=click.Choice(["runpod", "local"]), help="Which account to read (default as for deploy); the snapshot records it.")
@click.option("--config", "config", type=CONFIG_FILE, help="gpu.jsonc: env values it holds as plain literals are kept, all others redacted.")
@click.option("--out", type=named_file("without --out the snapshot goes to stdout", dir_okay=False), help="Write to this file instead of stdout.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON on stdout: the snapshot is JSON either way (accepted as by every serverless command).")
@record_option
@click.pass_obj
def snapshot(app: AppContext, provider: str | None, config: str | None, out: str | None, as_json: bool, record: str | None) -> int:
    """Write the observed account in the snapshot format that `deploy --observed` reads.

    Env values are secrets until shown otherwise: only gpuctl's own markers and the values
    gpu.jsonc holds as plain literals are written; every other value is redacted, and plans
    against the snapshot do not compare it. The snapshot records the provider it was read from,
    so `deploy --observed` plans for that provider."""
    from gpuctl.cli.output import json_text

    from gpuctl.cli.connect import connect
    from gpuctl.cli.planning import choose_provider, literal_env
    from gpuctl.commands import Flags
    from gpuctl.cli.resolve import start_recording
    from gpuctl.snapshot import snapshot_document

    start_recording(app, record, "gpu serverless snapshot")
    literals, configured = literal_env(app, config)
    target, _ = choose_provider(app, provider, configured)
    account = connect(app, target, flags=Flags.of_run(config, provider))
    try:
        observed = account.observe(model_references=True, registries=True)
    finally:
        account.close()

    from gpuctl.redact import env_shown
    from gpuctl.v2 import env_of

    def shown(endpoint: dict, key: str) -> bool:
        return env_shown(key, env_of(endpoint).get(key), literals.get((endpoint.get("name"), key)))

    text = json_text(snapshot_document(observed, shown, provider=target)) + "\n"
    if out:
        from gpuctl.cli.output import write_output

        write_output(app, out, text, flag="--out", inputs=(config,))
    else:  # the same document --out writes, byte for byte (ADR 38)
        from gpuctl.cli.output import write_document_text

        write_document_text(app, text)
    return ExitCode.OK

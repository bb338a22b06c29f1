"""`gpu github ...`: what the GitHub Action (action.yml) runs in a job. Each command reads
GitHub's variables (GITHUB_API_URL, GITHUB_TOKEN, GITHUB_REPOSITORY, GITHUB_EVENT_PATH) and
writes the job summary and step outputs; loaded only when used."""

from __future__ import annotations

import click

from gpuctl.cli.context import AppContext
from gpuctl.cli.durations import DURATION
from gpuctl.cli.lease_options import lease_options
from gpuctl.cli.paths import named_file
from gpuctl.errors import doc_ref

DEFAULT_PLAN_DIR = ".gpuctl-plans"
DEFAULT_PREFIX = "gpuctl-plan"

# What each path option says when given "-" (paths.named_file): a job reads and writes named files only.
CONFIG_FILE = named_file("give the path of a gpu.jsonc in the checkout; a job reads no config from stdin")
POLICY_FILE = named_file("give the path of the policy file in the checkout", dir_okay=False)


def _configs(func):
    func = click.option("--provider", type=click.Choice(["runpod", "local"]), help="Which account (default as for deploy; the fork flow passes runpod).")(func)
    return click.option("--config", "configs", multiple=True, type=CONFIG_FILE, help="A gpu.jsonc to work on; repeat for several (default: ./gpu.jsonc).")(func)


def _prune(func):
    return click.option("--prune", is_flag=True, help="As deploy --prune: endpoints of the project no longer in gpu.jsonc are planned for deletion "
                        "and deleted on apply. Give plan and apply the same setting: a plan reviewed with the other one is refused.")(func)


def _policy(func):
    return click.option("--policy", type=POLICY_FILE, help=f"A policy file every plan must keep, as `deploy --policy` ({doc_ref('policy.md')}).")(func)


def _job(app: AppContext, body):
    """Run `body(job)` with the job's REST client closed afterwards."""
    from gpuctl.github.job import Job

    job = Job.start(app)
    try:
        return body(job)
    finally:
        job.close()


@click.group("github", help=f"""Run gpuctl inside GitHub Actions: plan comments, apply on merge, drift issues.

    The GitHub Action in this repository (action.yml) calls these; see {doc_ref('github.md')}.""")
def github_group() -> None:
    """The `gpu github` commands (the help is given above, to name the doc page through doc_ref)."""


@github_group.command("plan")
@_configs
@_policy
@_prune
@click.option("--plan-dir", type=named_file("give a directory; the job summary and the plan_json output show the plans", file_okay=False), default=DEFAULT_PLAN_DIR, show_default=True, help="Where to write one plan file per config (the plan artifact).")
@click.option("--comment/--no-comment", default=True, show_default=True, help="Post or update the sticky comment on the pull request.")
@click.option("--pr-file", type=named_file("give the file the fork flow's first job wrote the pull request's number to", dir_okay=False), help="workflow_run runs (fork flow): a file holding the pull request's number, checked against the run's head commit.")
@click.option("--artifact-prefix", default=DEFAULT_PREFIX, show_default=True, help="The plan artifact is named PREFIX-<head SHA> (the `artifact` output).")
@click.pass_obj
def plan(app: AppContext, configs: tuple[str, ...], provider: str | None, policy: str | None, prune: bool, plan_dir: str, comment: bool, pr_file: str | None,
         artifact_prefix: str) -> int:
    """Plan each config; show the plans on the pull request and in the job summary.

    One sticky comment per config, found again by a hidden marker and edited in place on every
    push; a plan longer than one GitHub comment is split over several. Outputs: has_changes,
    exit_code (0 no changes, 2 changes, 4 policy violations, 1 error), plan_json, summary,
    artifact, pr. Exits 1 on an error, 4 when a plan breaks the policy."""
    from gpuctl.github import plan_flow

    opts = plan_flow.PlanOptions(configs or ("gpu.jsonc",), provider, app.cwd / plan_dir, comment, app.cwd / pr_file if pr_file else None, artifact_prefix, policy,
                                     prune)
    return _job(app, lambda job: plan_flow.run(job, opts))


@github_group.command("apply")
@_configs
@_policy
@_prune
@click.option("--plan-dir", type=named_file("give the directory the plan artifact was downloaded to", file_okay=False), help="The reviewed plans (the downloaded plan artifact).")
@click.option("--replan", is_flag=True, help="Apply the plan as it is now even when it is not the reviewed one (a person's decision).")
@click.option("--pr", type=click.IntRange(min=1), help="The merged pull request, for the result comment.")
@click.option("--comment/--no-comment", default=True, show_default=True, help="Post or update the result comment on --pr.")
@lease_options("the project", default="10m", examples="600, 30s, 10m", break_lock=False)
@click.option("--parallelism", type=click.IntRange(1, 64), default=10, show_default=True, help="As deploy --parallelism: apply up to N independent changes at once.")
@click.option("--wait-healthy", is_flag=True, help="As deploy --wait-healthy: after applying, wait for each rollout (and smoke input); exit 5 if one fails.")
@click.option("--smoke", type=named_file("give the path of a JSON file holding the job input", dir_okay=False), help="With --wait-healthy: the JSON job input each endpoint must answer.")
@click.option("--rollback-on-failure", is_flag=True, help="With --wait-healthy: put an endpoint that fails back on its previous version.")
@click.option("--timeout", "health_timeout", type=DURATION, default="10m", show_default=True, help="With --wait-healthy: how long the gate may take in all.")
@click.pass_obj
def apply(app: AppContext, configs: tuple[str, ...], provider: str | None, policy: str | None, prune: bool, plan_dir: str | None, replan: bool, pr: int | None, comment: bool,
          lock_timeout: float, parallelism: int, wait_healthy: bool, smoke: str | None, rollback_on_failure: bool, health_timeout: float) -> int:
    """Apply the reviewed plan of each config, if it is still the plan.

    The reviewed plan is still the plan when every write of a plan made now is exactly a write
    of the reviewed plan (ADR 16; reviewed writes already in place are left out, so a rerun
    after a failure applies the rest); then it is applied with --from-plan. Otherwise nothing
    is written, the new plan is shown, and the command exits 1, unless --replan. With --wait-healthy an applied endpoint that
    fails its health gate exits 5. Outputs: has_changes, exit_code, summary."""
    from gpuctl.cli.deploy import health_options
    from gpuctl.github import apply_flow

    health = health_options(app, False, wait_healthy, smoke, rollback_on_failure, health_timeout)
    opts = apply_flow.ApplyOptions(configs or ("gpu.jsonc",), provider, app.cwd / plan_dir if plan_dir else None, replan, pr, comment, lock_timeout, policy,
                                   parallelism, health, prune, plan_dir)
    return _job(app, lambda job: apply_flow.run(job, opts))


@github_group.command("drift")
@_configs
@click.option("--label", default="gpuctl-drift", show_default=True, help="The drift issue's label (created if missing).")
@click.option("--issue/--no-issue", default=True, show_default=True, help="Open, update or close the drift issue.")
@click.option("--policy", type=POLICY_FILE, help="The policy file the apply workflow keeps: the deploy commands the report suggests carry it "
                                                 "as --policy (drift itself checks no policy).")
@click.pass_obj
def drift(app: AppContext, configs: tuple[str, ...], provider: str | None, label: str, issue: bool, policy: str | None) -> int:
    """Report drift per config: open or update one issue while there is drift, close it when
    there is none; a failed read, or one made while a deploy of the project held its account
    lease, touches no issue. Outputs: has_changes (drift), exit_code (0 in sync, 2 drift, 1
    error), summary. Exits 1 only on an error."""
    from gpuctl.github import drift_flow

    opts = drift_flow.DriftOptions(configs or ("gpu.jsonc",), provider, label, issue, policy)
    return _job(app, lambda job: drift_flow.run(job, opts))


@github_group.command("reviewed-plan")
@click.option("--sha", help="The merged commit (default: GITHUB_SHA).")
@click.option("--pr", "pr_input", metavar="NUMBER", help="The merged pull request instead (apply.yml's `pr` input, run by hand): checked to be a "
              "pull request merged into the run's branch.")
@click.option("--pull-only", is_flag=True, help="With --pr: check the pull request and output it, but look for no plan artifact (a run with replan applies none).")
@click.option("--artifact-prefix", default=DEFAULT_PREFIX, show_default=True, help="As given to `gpu github plan`.")
@click.pass_obj
def reviewed_plan(app: AppContext, sha: str | None, pr_input: str | None, pull_only: bool, artifact_prefix: str) -> int:
    """Find the plan artifact reviewed in the pull request merged as this commit (or --pr).

    Outputs: found (true/false), pr, head_sha, run_id and artifact, for
    actions/download-artifact's run-id and name. Finding none is not an error: `gpu github
    apply` then refuses unless there is nothing to apply. A --pr that is not a pull request
    merged into the run's branch is."""
    return _job(app, lambda job: _found_or_said(job, sha or job.actions.sha, artifact_prefix, pr_input or None, pull_only))


def _found_or_said(job, sha: str | None, prefix: str, pr_input: str | None = None, pull_only: bool = False) -> int:
    """`_find`, and when GitHub fails it (a token without `actions: read`, a rate limit), the
    error in the job summary and the action's outputs (exit_code 1) before it fails the step:
    the apply step after it does not run."""
    from gpuctl.errors import GpuctlError
    from gpuctl.github.job import error_markdown

    try:
        return _find(job, sha, prefix, pr_input, pull_only)
    except GpuctlError as exc:
        job.summary(error_markdown("gpuctl could not find the reviewed plan of this merge", exc.format()) + "\nNothing was applied.\n")
        job.outputs({"found": "false", "has_changes": "false", "exit_code": "1", "summary": f"error: {exc.summary}"})
        raise


def _find(job, sha: str | None, prefix: str, pr_input: str | None = None, pull_only: bool = False) -> int:
    from gpuctl.errors import UsageError
    from gpuctl.github.reviewed import chosen_pull, merged_pull, plan_artifact

    if pr_input is not None:
        pull = chosen_pull(job.github, pr_input, job.actions.ref)
    elif not sha:
        raise UsageError("no commit to look up: GITHUB_SHA is not set", hint="pass --sha")
    else:
        pull = merged_pull(job.github, sha)
    if pull_only:
        job.app.note(f"pull request #{pull['number']}: its comment says what this run applies" if pull else "no pull request named (--pr)")
        job.outputs({"found": "false", "pr": str(pull["number"]) if pull else "", "head_sha": pull["head"]["sha"] if pull else "", "run_id": "", "artifact": ""})
        return 0
    artifact = plan_artifact(job.github, prefix, pull["head"]["sha"]) if pull else None
    found = {"found": "true" if artifact else "false", "pr": str(pull["number"]) if pull else "",
             "head_sha": pull["head"]["sha"] if pull else "", "run_id": str(artifact["workflow_run"]["id"]) if artifact else "",
             "artifact": artifact["name"] if artifact else ""}
    if pull is None:
        job.app.note(f"no merged pull request produced {sha[:12]}, so no plan was reviewed for it")
    elif artifact is None:
        job.app.note(f"pull request #{pull['number']} has no plan artifact for its head {pull['head']['sha'][:12]}")
    else:
        job.app.note(f"pull request #{pull['number']}: reviewed plan {artifact['name']} from run {artifact['workflow_run']['id']}")
    job.outputs(found)
    return 0

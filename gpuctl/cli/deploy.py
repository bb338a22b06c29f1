"""`gpu serverless deploy`: resolve what to deploy and where, then drive the deploy flow
(gpuctl.engine.flow) and render what it reports. The click options live in `serverless.py`;
this module is imported only when deploy runs."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from gpuctl.catalog import load_catalog
from gpuctl.cli import planning
from gpuctl.cli.connect import connect
from gpuctl.cli.context import AppContext
from gpuctl.cli.output import ResultDocument
from gpuctl.config import build_desired, load_config
from gpuctl.errors import ConfigError, ExitCode, UsageError
from gpuctl.model import Sensitive
from gpuctl.plan import plan as make_plan
from gpuctl.render.document import dumps, read_saved, to_document, unknown_variables
from gpuctl.snapshot import read_snapshot
from gpuctl.words import agreeing, joined


@dataclass
class DeployOptions:
    plan_only: bool
    observed: str | None
    config: str | None
    fmt: str
    detailed_exitcode: bool
    prune: bool
    provider: str | None
    yes: bool
    out: str | None
    from_plan: str | None
    lock_timeout: float
    break_lock: bool
    json_result: bool
    overrides: dict
    parallelism: int = 10
    health: object | None = None  # gpuctl.engine.health.HealthCheck, under --wait-healthy
    policy: str | None = None  # --policy FILE: the platform team's rules, merged with gpu.jsonc's `policy` block
    policy_shown: str | None = None  # the name the policy file is shown by (`platform.jsonc@main`, a base branch's copy); None: its path
    unknown_env: bool = False  # a plan-only run: an unset ${VAR} is an unknown value, not an error (ADR 24)
    variables: Mapping[str, str] | None = None  # what ${VAR} reads; None: the environment. The fork flow gives {} (ADR 17)
    before_write: Callable[[], None] | None = None  # engine.flow.DeployRequest.before_write (the GitHub apply's newer-commit check)
    config_chooses_provider: bool = True  # False in the `gpu github` jobs: gpu.jsonc's `provider: local` is refused there (ADR 31)
    offers_template: bool = False  # the command has --template/--gpu-type (deploy): without --config, they may replace gpu.jsonc
    suggested: object | None = None  # gpuctl.commands.Flags the messages' commands carry, when not this run's own (a GitHub job's: as from the repository root)

    @property
    def flags(self):
        """The run's options (`gpuctl.commands.Flags`), which every command the deploy's
        messages suggest repeats."""
        from gpuctl.commands import Flags

        return self.suggested or Flags.of_run(self.config, self.provider, self.policy)

    def named(self, display: str, policy: bool = False) -> str:
        """The name the config (or, `policy`, the policy file) is shown by in the run's messages,
        an error's `FILE:LINE:COL` among them: `display`, as typed (planning.user_path), or, when
        the run's suggestions carry options of their own (`suggested`: a GitHub job's, Job.flags,
        named from the repository root, ADR 50), the name they carry, so an error and the
        commands it suggests name one file alike, and one the repository has."""
        if self.suggested is None:
            return display
        from gpuctl.commands import DEFAULT_CONFIG

        return (self.suggested.policy if policy else self.suggested.config) or (display if policy else DEFAULT_CONFIG)


@dataclass
class Session:
    """Everything one deploy run has resolved before talking to the account."""

    app: AppContext
    opts: DeployOptions
    catalog: object
    desired: object
    target: str
    project_dir: Path
    snapshot: object | None = None  # gpuctl.snapshot.Snapshot, under --observed
    policy: object | None = None  # gpuctl.policy.guard.Guard, when gpu.jsonc or --policy gives a policy
    loaded: object | None = None  # gpuctl.config.loader.LoadedConfig: gpu.jsonc as read, with its source positions
    result: ResultOut | None = None  # under `deploy --json` (an apply): where its one result document goes
    _locator: object | None = field(default=None, repr=False)

    def locate(self, kind: str, name: str, path: str) -> list[dict]:
        """The gpu.jsonc keys (and lines) that declare one field (gpuctl.config.locate), for the
        plan to name beside each change. Imported and built at the first changed field: a plan
        that changes nothing never loads it, nor scans gpu.jsonc for positions."""
        if self._locator is None:
            from gpuctl.config.locate import ConfigLocator

            self._locator = ConfigLocator(self.loaded)
        return self._locator(kind, name, path)

    def plan(self, observed, report: bool = False):
        """The plan against `observed`; `report` for drift, whose plan is never applied."""
        plan = make_plan(self.desired, observed, self.catalog, target=self.target, prune=self.opts.prune, report=report, flags=self.opts.flags)
        return self.policy.check(plan) if self.policy is not None else plan



def session(app: AppContext, opts: DeployOptions) -> Session:
    """Load gpu.jsonc and choose the provider as deploy does; public because `drift` plans
    with exactly this session."""
    catalog = load_catalog()
    path, display = planning.user_path(app, opts.config)
    display = opts.named(display)
    try:
        loaded = load_config(path, planning.overrides(opts.overrides), catalog, display, flags_may_replace=opts.offers_template and opts.config is None)
    except ConfigError as error:
        app.protect_variables(error)  # before anything shows it: drift and the GitHub jobs report it themselves
        raise
    desired = build_desired(loaded, app.environ if opts.variables is None else opts.variables, catalog, unknown_ok=opts.unknown_env)
    for spec in desired.endpoints:
        for _, value in spec.env:
            if isinstance(value, Sensitive):
                app.protect(value.value)
    snapshot = None
    if opts.observed:
        snapshot_path, shown = planning.user_path(app, opts.observed)
        snapshot = read_snapshot(snapshot_path, shown, opts.flags)
        target, _ = planning.snapshot_provider(app, opts.provider, loaded.provider, snapshot.provider, shown)
    else:
        if not opts.config_chooses_provider:
            planning.refuse_config_provider(app, opts.provider, loaded)
        target, _ = planning.choose_provider(app, opts.provider, loaded.provider)
    return Session(app, opts, catalog, desired, target, path.resolve().parent, snapshot, policy_guard(app, opts, loaded, catalog), loaded)


def policy_guard(app: AppContext, opts: DeployOptions, loaded, catalog):
    """The policy in force: --policy FILE and gpu.jsonc's block, each rule the stricter of the
    two (docs/adr/0022-policy.md); None when neither gives one."""
    if opts.policy is None and loaded.policy is None:
        return None
    from gpuctl.config.policy import load_policy_file, merge
    from gpuctl.policy.guard import Guard

    given = None
    if opts.policy is not None:
        path, display = planning.user_path(app, opts.policy)
        given = load_policy_file(path, opts.policy_shown or opts.named(display, policy=True), catalog)
    return Guard.of(merge(given, loaded.policy), loaded)


def health_options(app: AppContext, plan_only: bool, wait: bool, smoke: str | None, rollback: bool, timeout: float):
    """The health gate --wait-healthy asks for, with its smoke input read and checked now,
    before anything is applied; None without --wait-healthy."""
    if not wait:
        given = [flag for flag, on in (("--smoke", smoke), ("--rollback-on-failure", rollback)) if on]
        if given:
            raise UsageError(f"{' and '.join(given)} only {agreeing(len(given), 'works', 'work')} with --wait-healthy", hint="add --wait-healthy")
        return None
    if plan_only:
        raise UsageError("--wait-healthy checks endpoints after an apply; --plan and --out apply nothing", hint="drop --wait-healthy, or drop --plan/--out")
    if timeout <= 0:
        raise UsageError("--timeout must be more than 0", hint="give a duration such as 90s or 10m")
    from gpuctl.cli.job_input import SMOKE, load_input_file
    from gpuctl.engine.health import HealthCheck, Smoke

    body = None
    if smoke is not None:
        value = load_input_file(app, smoke, SMOKE)
        if not isinstance(value, dict):
            raise UsageError(f"the smoke input in {smoke} is not a JSON object", hint='write {"input": {...}} (or, for vllm, an OpenAI request body)')
        body = Smoke(value, smoke)
        from gpuctl.jobs import check_body_size

        check_body_size("run", body.payload, smoke)  # the gate sends it by /run, after the apply: refused now, before it
    return HealthCheck(body, rollback, timeout)


class ResultOut(ResultDocument):
    """`deploy --json`'s ResultDocument: the result of the apply (`print`), or, when the run
    ended before it printed one (a policy refusal, the lease another run holds, a stale saved
    plan, gpu.jsonc that does not load, an interrupt), the document saying why nothing was
    applied, or what was, with the plan it made (review F18)."""

    def __init__(self, app: AppContext):
        super().__init__(app, as_made=True)  # built with its secret fields hidden (render.result, ADR 38)
        self.session: Session | None = None
        self.deployment = None  # gpuctl.engine.flow.Deployment, once made: the plan it made, what it applied

    def ended(self, reason: str) -> dict:
        from gpuctl.render.result import refused_document, result_document

        s, d = self.session, self.deployment
        locate = s.locate if s is not None else None
        if d is not None and d.applied is not None:  # applied, then ended otherwise (an inconsistent result)
            return result_document(d.applied, s.target, locate=locate, mask=self.app.mask, error=reason)
        return refused_document(s.target if s is not None else None, reason, mask=self.app.mask, plan=getattr(d, "planned", None), locate=locate)


def run(app: AppContext, opts: DeployOptions) -> int:
    if opts.observed and not (opts.plan_only or opts.out):  # a usage error, as click's are: before gpu.jsonc is read
        raise UsageError("--observed plans against a snapshot and cannot apply", hint="add --plan, or drop --observed to deploy to the account")
    if not opts.json_result or opts.out:
        return _run(app, opts, None)
    with ResultOut(app).guard() as out:
        return _run(app, opts, out)


def _run(app: AppContext, opts: DeployOptions, out: ResultOut | None) -> int:
    s = session(app, opts)
    s.result = out
    if out is not None:
        out.session = s
    if opts.observed:
        from dataclasses import replace

        return _show_plan(s, replace(s.plan(s.snapshot.observed), observed_from=opts.observed))  # said in every rendering
    provider = connect(app, s.target, flags=s.opts.flags)
    try:
        deployment = deployment_for(s, provider)
        if out is not None:
            out.deployment = deployment
        if opts.plan_only or opts.out:
            return _show_plan(s, deployment.plan())
        return _apply(s, deployment)
    finally:
        provider.close()


def deployment_for(s: Session, provider, view: type | None = None):
    """The deploy flow for this session, with this command's view subscribed to it: `view`, a
    DeployView class (the GitHub apply's says how a workflow job applies the rest), else deploy's."""
    from gpuctl.cli.deploy_view import DeployView
    from gpuctl.author import applied_from, applier
    from gpuctl.cli.warm_cmd import warm_io
    from gpuctl.engine.flow import DeployRequest, Deployment
    from gpuctl.warm import run_prewarm

    opts = s.opts
    request = DeployRequest(
        desired=s.desired, catalog=s.catalog, target=s.target, project_dir=s.project_dir, prune=opts.prune,
        saved=read_saved(*planning.user_path(s.app, opts.from_plan), opts.flags) if opts.from_plan else None, reviewed=not (opts.yes or opts.json_result or opts.from_plan),
        lock_timeout=opts.lock_timeout, break_lock=opts.break_lock, parallelism=opts.parallelism,
        grace=s.app.seconds("GPUCTL_VISIBILITY_GRACE", 20), health=opts.health, policy=s.policy, before_write=opts.before_write,
        applied_by=None if opts.plan_only or opts.out else applier(s.app.environ, s.project_dir),
        applied_from=(None, None) if opts.plan_only or opts.out else applied_from(s.app.environ), flags=opts.flags)

    def warm(spec, endpoint: dict) -> dict:
        return run_prewarm(warm_io(s.app, opts.flags), provider, endpoint, spec.prewarm.mode, spec.prewarm.models, cached_model=spec.cached_model)

    return Deployment(provider, request, (view or DeployView)(s.app, None if opts.json_result else opts.fmt, s.locate), lambda plan: _confirm(s), warm)


def _show_plan(s: Session, plan) -> int:
    if s.opts.out:
        from gpuctl.cli.output import write_output

        opts = s.opts
        config = opts.config or "gpu.jsonc"
        doc = to_document(plan, s.locate)
        write_output(s.app, opts.out, dumps(doc), flag="--out", inputs=(config, opts.policy, opts.observed))
        s.app.note(_saved_note(s, unknown_variables(doc)))
    planning.write_plan(s.app, plan, s.opts.fmt, s.locate)
    if plan.policy is not None:
        from gpuctl.policy.guard import refuse
        from gpuctl.render.document import policy_section

        refuse({"policy": policy_section(plan)}, shown=True)
    return ExitCode.CHANGES if s.opts.detailed_exitcode and not plan.in_sync else ExitCode.OK


def _saved_note(s: Session, unset: list[str]) -> str:
    """What `--out` says of the plan it saved: the command that applies exactly it; or, for a
    plan with unknown values (a `${VAR}` this run does not have, ADR 24), which `--from-plan`
    never applies, that it is for review only and how to save one that can be applied."""
    if not unset:
        return f"saved the plan to {s.opts.out}; apply exactly it with: {apply_command(s)}"
    import shlex

    names, verb = joined(unset), agreeing(len(unset), "is", "are")
    again = shlex.join(["gpu", "serverless", "deploy", "--plan", "--out", s.opts.out, *_run_flags(s), *(["--observed", s.opts.observed] if s.opts.observed else [])])
    return (f"warning: the plan saved to {s.opts.out} has unknown values ({names} {verb} not set in this run), and `--from-plan` refuses "
            f"a plan with unknown values: it is for review, not for applying. To save a plan that can be applied, plan where {names} {verb} set: {again}")


def apply_command(s: Session) -> str:
    """The command that applies the plan this run saved: the same config, provider, policy and
    per-run overrides, or the plan is refused as made for something else."""
    import shlex

    return shlex.join(["gpu", "serverless", "deploy", "--from-plan", s.opts.out, *_run_flags(s)])


def _run_flags(s: Session) -> list[str]:
    """The flags a saved plan is made and applied with: config, provider, policy, --prune and
    the per-run overrides."""
    opts = s.opts
    words = ["--config", opts.config] if opts.config else []
    words += ["--provider", s.target] if opts.provider or opts.observed else []
    words += ["--policy", opts.policy] if opts.policy else []
    words += ["--prune"] if opts.prune else []
    for override in planning.overrides(opts.overrides):
        words += [override.flag, str(override.value)]
    return words


def _confirm(s: Session) -> bool:
    """A no ends the flow with `cancelled: nothing was changed` (exit 1); Ctrl-C there says
    that the apply never began (exit 130)."""
    if s.opts.yes or s.opts.json_result or s.opts.from_plan:
        return True
    from gpuctl.cli.confirm import confirm

    return confirm(s.app, "Apply these changes?", what="deploy", flag="-y (or --json)", then="apply", review="review the plan, then ")


def _apply(s: Session, deployment) -> int:
    """Apply, then print the result with SIGINT/SIGTERM held: once the flow has returned, what
    was applied is decided and is printed whole. An interrupt that comes after the apply, in the
    flow's checks or before the result is printed, ends as an interrupted apply does: the
    summary of what was applied, then exit 130 (docs/deploy.md)."""
    from gpuctl.engine.apply import ApplyFailed
    from gpuctl.engine.flow import Cancelled
    from gpuctl.interrupts import held

    try:
        result = deployment.apply()
        with held(interrupt_after=False) as caught:
            code = _report(s, result)
    except Cancelled as cancelled:
        s.app.note(cancelled.summary)
        return ExitCode.ERROR
    except ApplyFailed as failure:
        raise _stopped(s, deployment, failure) from None
    except KeyboardInterrupt:  # after `apply` returned, before the result was being printed
        failure = deployment.interrupted_after_apply()
        if failure is None:
            raise
        raise _stopped(s, deployment, failure) from None
    if caught:
        s.app.note("interrupted while the result was printed; the result above stands")
        return ExitCode.INTERRUPTED
    return code


def _stopped(s: Session, deployment, failure):
    """Print what an apply that stopped (failed, or was interrupted) did; the error to end with."""
    from gpuctl.engine.flow import InterruptedAfterApply, LeaseLost
    from gpuctl.render.progress import outcome_lines
    from gpuctl.render.result import result_document
    from gpuctl.interrupts import held

    with held(interrupt_after=False):
        heads = {InterruptedAfterApply: "Applied, then interrupted:", LeaseLost: "Applied, but the account lease was taken meanwhile:"}
        head = heads.get(type(failure.cause), "Apply stopped:")
        if isinstance(failure.cause, LeaseLost) and (failure.outcome.failed or failure.outcome.not_attempted):
            head = "Apply stopped, the account lease was taken meanwhile:"  # not every change was applied
        s.app.note("\n".join([head, *outcome_lines(failure.outcome)]))
        if s.result is not None:
            s.result.print(result_document(failure.result, s.target, locate=s.locate, mask=s.app.mask, error=failure.cause.summary))
    return deployment.emit.stopped(failure)  # the view deployment_for subscribed


def _report(s: Session, result) -> int:
    from gpuctl.cli.prewarming import prewarm_failure, with_retry_commands
    from gpuctl.render.progress import result_lines
    from gpuctl.render.result import result_document

    result.warmed = with_retry_commands(result.warmed, s.opts)
    if s.result is not None:
        s.result.print(result_document(result, s.target, locate=s.locate, mask=s.app.mask))
    else:
        s.app.stdout.write("\n".join(result_lines(result, s.target == "local")) + "\n")
    failure = prewarm_failure(result.warmed)
    if failure:
        raise failure
    if not result.healthy:
        raise unhealthy(result.health)
    return ExitCode.CHANGES if s.opts.detailed_exitcode and result.outcome is not None else ExitCode.OK


def unhealthy(health: dict):
    """Exit 5: which endpoints failed which step, and what became of them."""
    from gpuctl.engine.health import Unhealthy

    failed = [e for e in health["endpoints"] if not e["healthy"]]
    lines = []
    for e in failed:
        for step in e["steps"]:
            if step["status"] == "failed":
                lines.append(f"{e['name']}: {step['step']} failed: {step['error']}")
            elif step["step"] == "rollback":
                lines.append(f"{e['name']}: rolled back to the configuration of version {step['to_version']} (now version {step['new_version']})"
                             if step["status"] == "passed" else f"{e['name']}: not rolled back: {step['reason']}")
    rollbacks = [s["status"] for e in failed for s in e["steps"] if s["step"] == "rollback"]
    if "passed" in rollbacks:  # a rollback wrote the release of the version before: gpu.jsonc asks for the one it undid
        hint = "gpu.jsonc now differs from the account; fix the cause, then deploy again"
    elif rollbacks:  # asked for, but nothing was rolled back (skipped, or it failed): what the deploy applied stands
        hint = "the apply itself is done and stands; fix the cause and deploy again"
    else:
        hint = "the apply itself is done; fix the cause and deploy again, or pass --rollback-on-failure to go back automatically"
    said = [f"{e['name']}: {s['hint']}" for e in failed for s in e["steps"] if s["step"] == "rollback" and s.get("hint")]  # a failed rollback's own advice
    hint = "\n".join([hint, *said])
    return Unhealthy(f"endpoint {', '.join(e['name'] for e in failed)} failed the health gate", detail="\n".join(lines), hint=hint)

"""The one place the GitHub commands reach into the deploy flow (gpuctl.engine.flow): a plan
document, a drift document, their Markdown, and applying a saved plan. Everything else in
gpuctl/github works on the documents these return."""

from __future__ import annotations

from pathlib import Path

from gpuctl.cli.context import AppContext
from gpuctl.cli.deploy_view import DeployView
from gpuctl.commands import Flags
from gpuctl.errors import ExitCode, GpuctlError
from gpuctl.events import Finished


def _session(app: AppContext, config: str, provider: str | None, from_plan: str | None = None, lock_timeout: float = 0.0, policy: str | None = None,
             parallelism: int = 10, health: object | None = None, prune: bool = False, variables: dict | None = None, before_write=None,
             policy_shown: str | None = None, *, flags: Flags):
    """gpu.jsonc and the provider resolved as `deploy` resolves them; the flow prints no plan
    (the job posts it), only notes and progress on stderr. gpu.jsonc's `provider: local` is
    refused unless --provider or GPU_PROVIDER chose it (ADR 31). A plan (no `from_plan`) shows a
    `${VAR}` the run does not have as unknown, as `deploy --plan` does: a fork's pull request
    gets no secrets (ADR 17, ADR 24). `flags` (`Job.flags`): the options every command its
    messages suggest carries, as a person runs it from the repository root: never the paths
    the job was given (a subdirectory's, the fork flow's download, a base branch's policy copy),
    which name no file there (ADR 50). Required: no GitHub run suggests the terminal's."""
    from gpuctl.cli.deploy import DeployOptions, session

    return session(app, DeployOptions(plan_only=from_plan is None, observed=None, config=config, fmt="json", detailed_exitcode=False,
                                      prune=prune, provider=provider, yes=False, out=None, from_plan=from_plan, lock_timeout=lock_timeout,
                                      break_lock=False, json_result=True, overrides={}, policy=policy, policy_shown=policy_shown,
                                      unknown_env=from_plan is None, parallelism=parallelism, health=health, variables=variables,
                                      before_write=before_write, config_chooses_provider=False, suggested=flags))


def plan_document(app: AppContext, config: str, provider: str | None, policy: str | None = None, allow=None, prune: bool = False,
                  untrusted: bool = False, *, flags: Flags, repository: str | None, policy_shown: str | None = None, also: str | None = None) -> dict:
    """The plan document of `deploy --plan --config CONFIG` against the account. Never starts
    the local provider: a plan against an account that is not there is an error. `allow`, if
    given, is called with the loaded config (gpuctl.model.Desired: the project it plans, its
    endpoints) before the account is read, and raises to refuse it, or returns what the plan
    may see of the account: an object whose `view(observed)` narrows it (the fork flow's
    `Scope`), or None for all of it. An `untrusted` config (the fork flow's) reads no variable
    of this run's environment, which holds the RunPod key, the GitHub token and GitHub's own
    variables: every `${VAR}` of it is unknown (ADR 17, ADR 24). `policy_shown`: the name the
    policy file is shown by (a base branch's copy). `also`, another policy file: the same plan
    is checked against it too (no second read of the account), and what it would report is
    kept in `also_policy` (its `policy` section, or `error`: why it could not be read), which
    the caller takes out before the document is saved. Everything made of it is written to
    GitHub (the comment, the job summary, the plan artifact), so it is the document as gpu github
    publishes it in `repository` (`Job.actions.repository`; `document.published`: no host, ADR 39;
    another owner's repository never named, review 11 F4); also the plan saved for the apply."""
    from gpuctl.cli.connect import connect
    from gpuctl.cli.deploy import deployment_for
    from gpuctl.render.document import published, to_document

    s = _session(app, config, provider, policy=policy, prune=prune, variables={} if untrusted else None, policy_shown=policy_shown, flags=flags)
    if untrusted and s.desired.config_id is not None:  # the fork's configs, downloaded without .git, are laid out as in the repository
        from dataclasses import replace

        from gpuctl.author import repository
        from gpuctl.github.fork import repository_path

        s.desired = replace(s.desired, config_id=repository_path(app.cwd, config),  # the name the records keep (ADR 35)
                            config_root=None,  # the fork's other configs were not downloaded: none can be told gone (ADR 52)
                            config_repository=lambda: repository(app.environ, None))  # the base repository's (GITHUB_REPOSITORY), not ${VAR}s (ADR 60)
    scope = allow(s.desired) if allow is not None else None
    account = connect(app, s.target, start_local=False, flags=s.opts.flags)
    try:
        plan = deployment_for(s, account if scope is None else _Narrowed(account, scope.view)).plan()
    finally:
        account.close()
    doc = to_document(plan, s.locate)
    if also is not None:
        doc["also_policy"] = _checked_against(s, plan, also)
    return published(doc, repository)


def _checked_against(s, plan, policy: str) -> dict:
    """What the policy file `policy` (with gpu.jsonc's own block) says of `plan`."""
    from dataclasses import replace

    from gpuctl.cli.deploy import policy_guard
    from gpuctl.render.document import policy_section

    try:
        guard = policy_guard(s.app, replace(s.opts, policy=policy, policy_shown=None), s.loaded, s.catalog)
    except GpuctlError as exc:
        return {"error": exc.summary}
    return policy_section(guard.check(plan)) or {}


class _Narrowed:
    """A provider for a plan only: `observe` gives the account through `view`. It has nothing
    else, so no other read can go around the view."""

    def __init__(self, provider, view):
        self._provider, self._view = provider, view

    def observe(self, model_references: bool = False, registries: bool = False, pods: bool = False):
        return self._view(self._provider.observe(model_references, registries=registries, pods=pods))


def plan_markdown(doc: dict, *, source_url: str | None) -> str:
    """The plan as Markdown, for the comment code to split over at most MAX_PARTS comments:
    cut, with a note naming what it leaves out, only past MARKDOWN_LIMIT. `source_url`, the
    config's URL at the commit planned or applied (`Job.source_url`), links each gpu.jsonc key
    to its line; required, so every comment showing a plan links its keys alike (None only
    when the run knows no commit)."""
    from gpuctl.github.parts import MARKDOWN_LIMIT
    from gpuctl.render.markdown import render_markdown

    return render_markdown(doc, limit=MARKDOWN_LIMIT, source_url=source_url)


def plan_summary(doc: dict) -> str:
    """The plan's one-line summary, as the terminal shows it."""
    from gpuctl.render.words import summary_line

    return summary_line(doc)


def drift_document(app: AppContext, config: str, provider: str | None, flags=None, *, repository: str | None) -> dict:
    """The drift document of `gpu serverless drift --json --config CONFIG`, made as that
    command makes it (never printed and read back), as gpu github publishes it in `repository`
    (`document.published`, ADR 39, review 11 F4): all of it goes to GitHub (the issue, the job summary, the log).
    `flags` (`gpuctl.commands.Flags`): the options its advice's commands carry, as a person
    runs them from the repository root."""
    from gpuctl.cli.drift_cmd import drift_doc
    from gpuctl.render.document import published

    return published(drift_doc(app, None, provider, config, config_chooses_provider=False, flags=flags), repository)


def lasting(doc: dict) -> dict:
    """A drift document as the drift issue shows it: an issue lasts across runs and is edited
    only when what it reports changes, so what changes from one read of the account to the next
    though the drift is the same is left out: how far a lease's expiry is ahead of this
    machine's clock, and its holder's clock, or the seconds it has left (`lease.lasting_detail`).
    The job summary, made anew by each run, keeps them. `doc` itself is not changed."""
    from gpuctl.engine.lease import lasting_detail

    lease = doc.get("lease")
    if not isinstance(lease, dict) or not isinstance(lease.get("detail"), str):
        return doc
    detail, steady = lease["detail"], lasting_detail(lease["detail"])
    return doc | {"lease": lease | {"detail": steady, "message": str(lease.get("message", "")).replace(detail, steady)}}


KEY_HINT = ("the workflow gives gpuctl the RunPod key from the action's `api-key` input (the RUNPOD_API_KEY repository secret): "
            "set or replace that secret with a valid key, then re-run this workflow job")


def key_advice(error: GpuctlError) -> GpuctlError:
    """`error` with a workflow's fix when RunPod's key is missing or refused: a job has no
    terminal for `gpu auth login`, the advice such an error gives by itself, and its key comes
    from a repository secret. Other errors (and the local provider's own token) are as they were."""
    from gpuctl.cli.planning import NoApiKey
    from gpuctl.provider.errors import RUNPOD, AuthError

    if isinstance(error, NoApiKey) or (isinstance(error, AuthError) and error.hint == RUNPOD.key):
        return error.with_hint(KEY_HINT)
    return error


VARIABLE_HINT = ("the workflow passes gpu.jsonc's variables to the gpuctl step in its `env:`: add `{name}: ${{{{ secrets.{name} }}}}` "
                 "there (and the {name} repository secret, if the repository lacks it), then re-run this workflow job")


def setup_advice(error: GpuctlError) -> GpuctlError:
    """`error` with a workflow's fix for what a job sets in its workflow file or its secrets,
    not at a terminal: the RunPod key (`key_advice`), and the `${VAR}`s gpu.jsonc reads, which
    a job has only when its step's `env:` passes them (an `export` is no fix there)."""
    from gpuctl.errors import MissingVariables

    error = key_advice(error)
    return error.with_variable_hint(VARIABLE_HINT) if isinstance(error, MissingVariables) else error


def drift_markdown(doc: dict, source_url: str | None = None, flags=None) -> str:
    from gpuctl.commands import NONE
    from gpuctl.render.drift_view import render_markdown

    return render_markdown(doc, source_url=source_url, flags=flags or NONE)


class Superseded(GpuctlError):
    """A newer commit of the branch changed the config (github.reviewed.superseded): nothing was written."""


class Stale(GpuctlError):
    """The account changed between the fresh plan and the apply: nothing was written."""


class Stopped(GpuctlError):
    """The apply failed part-way, or was interrupted (exit 130, as its cause): `result` is the
    deploy result document of what it reached (`outcome.done`, `outcome.failed`,
    `outcome.not_attempted`, `endpoints`)."""

    def __init__(self, cause: GpuctlError, result: dict):
        super().__init__(cause.summary, detail=cause.detail, hint=cause.hint)
        self.result = result
        self.exit_code = cause.exit_code


RERUN = "re-run this workflow job: it plans again and applies the rest of the reviewed plan while it is still the plan, and refuses it if the plan now differs"


class ApplyJobView(DeployView):
    """The deploy flow's view in an apply job: deploy's, except for what it says to do after a
    failure. The causes' own hints are deploy's ("run deploy again", "deploying again is safe"),
    and a manual deploy would apply a plan nobody reviewed: here every failure says to re-run
    the workflow job, which is what applies the rest (ADR 16); its cause (what failed, where)
    is kept."""

    rerun = RERUN

    def __init__(self, app: AppContext, fmt: str | None, locate=None):
        super().__init__(app, fmt, locate)
        self.done: list[dict] = []  # each change applied, as the result document lists it: what a cancel outside the apply reports

    def __call__(self, event) -> None:
        if isinstance(event, Finished):
            self.done.append({"address": event.address, "action": event.action, "id": event.id})
        super().__call__(event)

    def advice(self, error: GpuctlError) -> GpuctlError:
        return job_advice(super().advice(error))


def job_advice(error: GpuctlError) -> GpuctlError:
    """`error` with the apply job's advice as its hint (a new error, as `DeployView.advice`
    makes): after an interrupt (the job cancelled), re-run the job; after a failure, fix the
    cause and re-run it; after a failed health gate, fix the cause and re-run it, which checks
    the endpoints again. A policy violation keeps its own hint (re-running changes nothing; the
    plan must change)."""
    from gpuctl.engine.health import Unhealthy

    if error.exit_code == ExitCode.POLICY:
        return error
    if error.exit_code == ExitCode.INTERRUPTED:
        return error.with_hint(RERUN)
    if isinstance(error, Unhealthy):
        return error.with_hint("fix the cause, then re-run this workflow job: it applies what the reviewed plan still needs while it is still the plan, "
                               "and checks the endpoints again")
    return error.with_hint("fix the cause (or wait for it to pass), then " + RERUN)


def apply_saved(app: AppContext, config: str, provider: str | None, plan_file: Path, lock_timeout: float, policy: str | None = None,
                parallelism: int = 10, health: object | None = None, prune: bool = False, before_write=None, *, flags: Flags) -> dict:
    """`deploy --from-plan PLAN_FILE --json [--parallelism N] [--wait-healthy ...]`: apply
    exactly that plan, refused (`Stale`) if the account or the config moved since it was made.
    Returns the deploy result document (its `health` says how the gate went); an apply that
    fails part-way, or is interrupted, raises `Stopped`, with what it did, when it wrote
    anything, else its error (an interrupt's: exit 130, saying to re-run the job)."""
    from gpuctl.cli.connect import connect
    from gpuctl.cli.deploy import deployment_for
    from gpuctl.engine.apply import ApplyFailed
    from gpuctl.engine.flow import InterruptedBeforeApply, StalePlan
    from gpuctl.render.result import result_document

    s = _session(app, config, provider, str(plan_file), lock_timeout, policy, parallelism, health, prune, before_write=before_write, flags=flags)
    account = connect(app, s.target, flags=s.opts.flags)
    deployment = deployment_for(s, account, ApplyJobView)
    try:
        result = deployment.apply()
    except StalePlan as exc:
        raise Stale(exc.summary, hint=exc.hint) from None
    except Superseded:
        raise  # before anything was written: the caller says which commit to apply instead
    except ApplyFailed as failure:
        error = deployment.emit.stopped(failure)
        reached = getattr(failure, "result", None)
        if failure.outcome.done and reached is not None:
            raise Stopped(error, result_document(reached, s.target, locate=s.locate, mask=app.mask, error=error.summary)) from None
        raise error from None
    except (KeyboardInterrupt, InterruptedBeforeApply):  # the job cancelled outside the apply itself (whose interrupt is an ApplyFailed)
        raise _cancelled(deployment.emit) from None
    except GpuctlError as exc:  # after the apply (a read-back that differs), or before it (the lock, the lease, the account)
        raise _reached(deployment.emit, deployment.emit.advice(exc)) from None
    finally:
        account.close()
    return result_document(result, s.target, locate=s.locate, mask=app.mask)


def _cancelled(view) -> GpuctlError:
    """The error of a job cancelled while the flow waited for the lock or the account lease, read
    the account, or ran the health gate: `Stopped` with what was applied, if anything was."""
    from gpuctl.engine.apply import Interrupted

    if not view.done:
        return view.advice(Interrupted("interrupted: the job was cancelled before anything was written"))
    return _reached(view, view.advice(Interrupted("interrupted: the job was cancelled after the apply, before its checks had finished")))


def _reached(view, error: GpuctlError) -> GpuctlError:
    """`error`, the end of a flow that stopped outside the apply itself; once the apply had
    written (the read after it differs, the job was cancelled in the health gate), `Stopped`
    with what it wrote, so the job says what is now in the account."""
    if not view.done:
        return error
    return Stopped(error, {"outcome": {"done": view.done, "failed": [], "not_attempted": []}, "endpoints": [], "error": error.summary})


def unhealthy_lines(health: dict) -> str:
    """What failed the health gate, as `deploy --wait-healthy` says it, with the job's advice."""
    from gpuctl.cli.deploy import unhealthy

    return job_advice(unhealthy(health)).format()


def save_plan(doc: dict, path: Path) -> None:
    """Write a plan document as `deploy --out` does (whole or not at all), so `--from-plan`
    reads it back. A directory that cannot be made or written is a user error naming it."""
    from gpuctl.files import replace_text
    from gpuctl.render.document import dumps

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        replace_text(path, dumps(doc))
    except OSError as exc:
        raise GpuctlError(f"cannot write the plan file {path}: {exc.strerror or exc}",
                          hint="give --plan-dir a directory the job can create and write (the default is .gpuctl-plans in the checkout)") from None


def read_plan(path: Path) -> dict:
    from gpuctl.render.document import read_saved

    return read_saved(path)

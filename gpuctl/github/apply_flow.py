"""`gpu github apply`: on merge, apply the plan that was reviewed, and only that
([ADR 16](../../docs/adr/0016-apply-the-reviewed-plan.md)).

For each config: plan now; with nothing to write, done. Otherwise compare with the reviewed
plan from the pull request's plan artifact. Only reviewed writes (those already in place
left out: a rerun after a failure part-way applies the rest): save the fresh plan and apply it
with `--from-plan`, which refuses it if the account moves in the seconds between; then plan
and decide again (another run of this merge may have applied it meanwhile). Other writes, or
no reviewed plan: refuse, show the new plan in the job summary and on the pull request, and
fail, unless `--replan` (a person's decision, from workflow_dispatch) says to apply the plan as
it is now."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from gpuctl.engine.apply import Interrupted
from gpuctl.errors import ExitCode, GpuctlError
from gpuctl.github import comments, runner
from gpuctl.github.job import Job, combined, error_markdown, plan_file
from gpuctl.github.parts import read_marker
from gpuctl.github.reviewed import differences, in_place, superseded
from gpuctl.render.document import unknown_variables
from gpuctl.render.md import code as md_code, fenced, text as md_text


@dataclass(frozen=True)
class ApplyOptions:
    configs: tuple[str, ...]
    provider: str | None
    plan_dir: Path | None
    replan: bool
    pr: int | None
    comment: bool
    lock_timeout: float
    policy: str | None = None  # --policy FILE: a plan that breaks it is refused like a stale one
    parallelism: int = 10  # deploy --parallelism
    health: object | None = None  # deploy --wait-healthy [--smoke] [--rollback-on-failure] [--timeout]
    prune: bool = False  # deploy --prune; a reviewed plan made with the other setting is refused (reviewed.differences)
    plan_dir_shown: str | None = None  # --plan-dir as given, to name it when it does not exist


ATTEMPTS = 3  # fresh plan and apply, while the account keeps moving between the two


@dataclass
class Applied:
    key: str
    code: int  # 0 nothing to do (no comment: it would replace the one saying what was applied), 2 changes applied, 1 refused or failed, 5 applied but unhealthy, 130 interrupted
    summary: str
    markdown: str
    changed: bool = False  # something was written to the account (the has_changes output)
    project: str | None = None  # the config's project_id, when it was planned: its comment's marker names it, as a plan comment's does (ADR 43)


def run(job: Job, opts: ApplyOptions) -> int:
    job.one_project_per_config(opts.configs)  # before anything is read from the account or GitHub (ADR 35)
    results = []
    with tempfile.TemporaryDirectory(prefix="gpuctl-apply-") as scratch:
        for config in opts.configs:
            results.append(_apply_one(job, config, opts, Path(scratch)))
            if results[-1].code == ExitCode.INTERRUPTED:
                break  # the job is being cancelled: say what was done, start nothing else
    return job.report(lambda: _report(job, opts, results))


def _report(job: Job, opts: ApplyOptions, results: list[Applied]) -> int:
    by_hand = _by_hand(job, opts, results)
    for result in results:
        job.summary(result.markdown)
        if opts.pr is not None and opts.comment and (result.changed or result.code != 0):
            comments.post(job, opts.pr, result, kind="apply")  # a refusal makes this result a failure; the next comment is still tried
        elif by_hand is not None and result.changed:
            _tell_the_merged_pull(job, by_hand, result)
        job.app.stdout.write(f"{result.key}: {result.summary}\n")
    code = combined([r.code for r in results])
    job.outputs({"has_changes": "true" if any(r.changed for r in results) else "false", "exit_code": str(code),  # after the comments: the step's result
                 "plan_json": "", "summary": "\n".join(f"{r.key}: {r.summary}" for r in results)})
    return code if code in (1, 5, ExitCode.INTERRUPTED) else 0


def _by_hand(job: Job, opts: ApplyOptions, results: list[Applied]) -> int | None:
    """The pull request merged as the commit a run by hand with `replan` applied (apply.yml's
    workflow_dispatch, which looks for no reviewed plan and so names no pull request): after its
    merge's run refused, that pull request still says so. None when no config wrote, comments
    are off, the run is not a workflow_dispatch of a GitHub repository, or no pull request was
    merged as the commit; GitHub failing the look-up is noted, and leaves the pull request as it is."""
    actions = job.actions
    if not (opts.replan and opts.pr is None and opts.comment and any(r.changed for r in results)):
        return None
    if not (actions.event_name == "workflow_dispatch" and actions.repository and actions.sha and actions.token):
        return None
    from gpuctl.github.reviewed import merged_pull

    try:
        pull = merged_pull(job.github, actions.sha)
    except GpuctlError as exc:
        job.app.note(f"note: the pull request merged as {actions.sha[:12]} could not be looked up, so its comment was not updated: {exc.format()}")
        return None
    number = (pull or {}).get("number")
    return number if isinstance(number, int) else None


def _tell_the_merged_pull(job: Job, number: int, result: Applied) -> None:
    """Replace the merged pull request's apply comment of a run that wrote nothing (the merge's
    refusal) with what this run applied, the refusal kept under it (`comments.upsert`). A
    pull request whose apply comment says what a run applied, or that has none, is left as it
    is: this run's changes are not its merge's."""
    try:
        existing = comments.ours(job.github, number, result.key, "apply")
    except GpuctlError as exc:
        job.app.note(f"{result.key}: the apply comment on pull request #{number} could not be read: {exc.format()}")
        return
    first = existing.get(1, [])[:1]
    if not first or read_marker(first[0].get("body")).wrote:
        return
    comments.post(job, number, result, kind="apply")


def _apply_one(job: Job, config: str, opts: ApplyOptions, scratch: Path) -> Applied:
    """The result of applying `config`, with the project its fresh plan named (None when no
    plan was made), for the comment's marker."""
    planned: dict = {}
    result = _apply_attempts(job, config, opts, scratch, planned)
    result.project = planned.get("project_id") if isinstance(planned.get("project_id"), str) else None
    return result


def _apply_attempts(job: Job, config: str, opts: ApplyOptions, scratch: Path, planned: dict) -> Applied:
    """`planned` gets the last fresh plan's project_id."""
    key, suggested = job.key(config), job.flags(config, opts.provider, opts.policy)
    try:
        job.readable(config)  # before anything reads it (ADR 50)
        for attempt in range(1, ATTEMPTS + 1):
            fresh = runner.plan_document(job.app, config, opts.provider, opts.policy, prune=opts.prune, flags=suggested, repository=job.actions.repository)
            planned["project_id"] = fresh.get("project_id")
            if not fresh["has_changes"] and opts.health is None:
                return Applied(key, 0, "nothing to apply: " + runner.plan_summary(fresh), f"### gpuctl: nothing to apply for `{key}`\n\n{runner.plan_summary(fresh)}\n" + job.footer("Checked", key))
            newer = _superseded(job, config, key, fresh, opts.policy) if fresh["has_changes"] else None  # again after a Stale: a newer merge may have applied meanwhile
            if newer:
                return _newer_commit(job, key, fresh, newer)
            # With nothing to write and --wait-healthy, the apply below is the gate alone, as for
            # `deploy --wait-healthy`: a rerun after a failed gate checks again, never passes unchecked.
            refusal = None if opts.replan or not fresh["has_changes"] else _refusal(opts.plan_dir, key, fresh, opts.plan_dir_shown)
            if refusal:
                return _refused(job, key, fresh, refusal)
            saved = plan_file(scratch, key)
            runner.save_plan(fresh, saved)
            try:
                result = runner.apply_saved(job.app, config, opts.provider, saved, opts.lock_timeout, opts.policy, opts.parallelism, opts.health, opts.prune,
                                            before_write=lambda: _refuse_if_superseded(job, config, key, fresh, opts.policy), flags=suggested)
            except runner.Superseded as exc:
                return _newer_commit(job, key, fresh, exc.summary)
            except runner.Stale as exc:
                # Nothing was written. Another run of this merge may have applied it while this
                # one waited for the lock, or the account moved elsewhere: plan and decide again.
                if attempt == ATTEMPTS:
                    return _refused(job, key, None, [f"the account changed between the fresh plan and the apply {ATTEMPTS} times in a row (the last: {exc.summary})"])
                job.app.note(f"{key}: the account changed between the fresh plan and the apply, so nothing was written; planning again")
                continue
            if not fresh["has_changes"]:
                return _checked(job, key, fresh, result)
            if not result["plan"]["has_changes"] and attempt < ATTEMPTS:
                # `--from-plan` found the saved plan applied already (ADR 30): another run of this
                # merge applied it while this one waited for the lock. Nothing was written here.
                job.app.note(f"{key}: another run applied this plan while this one waited, so nothing was written; planning again")
                continue
            return _applied(job, key, result, reviewed=not opts.replan, done=[] if opts.replan else _in_place(opts.plan_dir, key, fresh))
    except runner.Stopped as exc:
        return _stopped(job, key, exc)
    except KeyboardInterrupt:  # planning (the apply's own interrupt is a Stopped or an error of exit 130)
        return _cancelled(job, key)
    except GpuctlError as exc:
        exc = runner.setup_advice(exc)  # a missing key or ${VAR} is fixed in the workflow, not by `export`
        job.app.note(f"{key}: {exc.format()}")
        return Applied(key, _failed(exc), f"error: {exc.summary}", error_markdown(f"gpuctl could not apply `{key}`", exc.format()) + job.footer("Tried", key))
    raise AssertionError("unreachable")


def _superseded(job: Job, config: str, key: str, fresh: dict, policy: str | None) -> str | None:
    """Why this run's commit is no longer the one to apply (reviewed.superseded), or None;
    not checked outside a GitHub run of a branch (no repository, commit, ref or token). What
    the plan read: the config, what `template: auto` reads beside it when a block of `fresh`
    (this config's plan) uses it, and the policy file."""
    from gpuctl.github import inputs

    actions = job.actions
    if not (actions.repository and actions.sha and actions.ref and actions.token):
        return None
    if not _in_checkout(key):
        return None  # a config outside the checkout has no version on the branch to compare
    root = job.placed(config)[0]
    auto = any((r.get("template") or {}).get("requested") == "auto" for r in fresh.get("resource_changes", []))
    named = job.in_checkout(policy, config) if policy else None
    if named is None or named.key is None or named.root != root:
        return superseded(job.github, actions.ref, actions.sha, inputs.of(root, key, auto, None))  # no policy file, or one from elsewhere
    through = [p for p in (*named.links, named.target) if p is not None and p != named.key]  # a link is compared as itself, and what it leads to
    return superseded(job.github, actions.ref, actions.sha, inputs.of(root, key, auto, named.key, through))


def _in_checkout(key: str) -> bool:
    path = PurePosixPath(key)
    return not path.is_absolute() and ".." not in path.parts


def _refuse_if_superseded(job: Job, config: str, key: str, fresh: dict, policy: str | None) -> None:
    """Asked again under the account lease, right before the writes: a newer commit's run may
    have applied (or found nothing to apply) while this one waited for the lease."""
    why = _superseded(job, config, key, fresh, policy)
    if why:
        raise runner.Superseded(why)


def _newer_commit(job: Job, key: str, fresh: dict, why: str) -> Applied:
    """A newer commit of the branch changed the config: applying this run's would undo it."""
    job.app.note(f"{key}: refusing to apply: {why}")
    body = (f"### gpuctl did not apply `{key}`: a newer commit changed it\n\n- {md_text(why)}\n\n"
            "Nothing was written. The apply run of the newer commit applies it (if that run failed or was cancelled, re-run "
            "that one, not this one); to apply the branch as it is now, run the apply workflow by hand (workflow_dispatch) on it. "
            "The plan this run would have applied:\n\n")
    body += runner.plan_markdown(fresh, source_url=job.source_url(key, job.actions.sha))
    return Applied(key, 1, "refused: a newer commit changed this config", body + job.footer("Checked", key))


def _cancelled(job: Job, key: str) -> Applied:
    """GitHub cancelled the job while this config was being planned: nothing was written."""
    error = runner.job_advice(Interrupted("interrupted: the job was cancelled before anything was written"))
    job.app.note(f"{key}: {error.format()}")
    return Applied(key, ExitCode.INTERRUPTED, f"error: {error.summary}", error_markdown(f"gpuctl did not apply `{key}`: the job was cancelled", error.format())
                   + job.footer("Tried", key))


def _failed(exc: GpuctlError) -> int:
    """130 for an interrupt (GitHub cancelling the job), as `deploy` exits; else 1."""
    return ExitCode.INTERRUPTED if exc.exit_code == ExitCode.INTERRUPTED else 1


def _in_place(plan_dir: Path | None, key: str, fresh: dict) -> list[str]:
    path = plan_file(plan_dir, key) if plan_dir else None
    return in_place(runner.read_plan(path), fresh) if path is not None and path.exists() else []


def _refusal(plan_dir: Path | None, key: str, fresh: dict, shown_dir: str | None = None) -> list[str]:
    """Why the fresh plan may not be applied; empty when it is the reviewed one. A --plan-dir
    given that does not exist is named (a typo is the likeliest cause, and the action gives it
    only when it downloaded the artifact there); none given means no artifact was found."""
    path = plan_file(plan_dir, key) if plan_dir else None
    if plan_dir is not None and not plan_dir.is_dir():
        return [f"no reviewed plan was read: the plan directory {shown_dir or plan_dir} (--plan-dir) does not exist; give --plan-dir the directory "
                "the plan artifact was downloaded to (the action's `plan-dir` input), then re-run this workflow job"]
    if path is None or not path.exists():
        return ["no reviewed plan was found for this config (no plan artifact for the merged pull request, or none for this config in it)"]
    try:
        reviewed = runner.read_plan(path)
    except GpuctlError as exc:  # not `deploy --out`'s hint: nobody here made the file by hand
        return [f"the reviewed plan in the plan artifact cannot be used ({exc.summary}): run the pull request's plan job again, "
                "or apply the plan below by hand with `replan`"]
    found = differences(reviewed, fresh)
    unset = unknown_variables(reviewed)
    if found and unset:
        names = ", ".join(f"${name}" for name in unset)
        found.append(f"the reviewed plan was made without {names} (shown as unknown): give the plan job the same variables as this one "
                     "(a step-level env: from secrets), so the plan it shows is the plan applied")
    return broken_policy(reviewed) + found


def broken_policy(reviewed: dict) -> list[str]:
    """A reviewed plan that broke its policy is never applied, whatever policy this run has,
    as `deploy --from-plan` refuses one (policy.guard.refuse); the pull request's check failed on it."""
    from gpuctl.policy.guard import violations_of
    from gpuctl.render.policy import violation_line

    return [f"the reviewed plan breaks the policy: {violation_line(v)}" for v in violations_of(reviewed)]


def _refused(job: Job, key: str, fresh: dict | None, why: list[str]) -> Applied:
    job.app.note(f"{key}: refusing to apply: " + "; ".join(why))
    lines = "".join(f"- {md_text(line)}\n" for line in why)
    if fresh is None:  # the account would not hold still: nothing says the plan is wrong
        body = (f"### gpuctl did not apply `{key}`\n\n{lines}\n"
                "Nothing was written. Run the job again when the account is quieter.\n\n")
        return Applied(key, 1, "refused: the account kept changing", body + job.footer("Checked", key))
    body = (f"### gpuctl did not apply `{key}`: the plan is not the one reviewed\n\n{lines}\n"
            "Nothing was written. Review the plan below; to apply it as it is now, run the apply workflow by hand "
            "(workflow_dispatch) with `replan` set, or open a pull request that brings gpu.jsonc and the account back in line.\n\n")
    body += runner.plan_markdown(fresh, source_url=job.source_url(key, job.actions.sha))  # the keys at the commit this run checked out
    return Applied(key, 1, "refused: the plan is not the one reviewed", body + job.footer("Checked", key))


def _counts(done: list[dict]) -> str:
    return ", ".join(f"{sum(d['action'] == a for d in done)} {past}" for a, past in
                     (("create", "created"), ("update", "updated"), ("replace", "replaced"), ("delete", "deleted")))


def _endpoint_lines(result: dict) -> str:
    return "".join(f"- {md_code(e['name'])} ({md_code(e['endpoint_id'])}): {md_code(e['url'])}\n" for e in result.get("endpoints", []))


def _applied(job: Job, key: str, result: dict, reviewed: bool, done: list[str]) -> Applied:
    counts = _counts(result["outcome"]["done"])
    what = "the reviewed plan" if reviewed else "the plan as it was at this run (replan)"
    actor = job.app.environ.get("GITHUB_ACTOR")
    if not reviewed and job.actions.event_name == "workflow_dispatch" and actor:
        what += f", run by hand by {md_code(actor)} with `replan`"
    earlier = (f"Already in place, so not applied again: {', '.join(md_text(a) for a in done)}.\n\n" if done else "")
    body = (f"### gpuctl applied `{key}`\n\nApplied {what}: {counts}.\n\n{earlier}{_endpoint_lines(result)}\n"
            + runner.plan_markdown(result["plan"], source_url=job.source_url(key, job.actions.sha)))  # as the plan comment reads, at the commit applied
    health = result.get("health")
    if health is not None and not health["healthy"]:
        failed = runner.unhealthy_lines(health)
        job.app.note(f"{key}: {failed}")
        body = f"### gpuctl applied `{key}`, and it failed the health gate\n\n{fenced(failed)}\n" + body.split("\n", 1)[1]
        return Applied(key, 5, f"applied: {counts}; failed the health gate", body + job.footer("Applied", key), changed=True)
    return Applied(key, 2, f"applied: {counts}", body + job.footer("Applied", key), changed=True)


def _checked(job: Job, key: str, fresh: dict, result: dict) -> Applied:
    """Nothing to apply, and the health gate (--wait-healthy) ran on the endpoints as they are."""
    head = f"### gpuctl: nothing to apply for `{key}`\n\n{runner.plan_summary(fresh)}\n"
    health = result.get("health")
    if health is not None and not health["healthy"]:
        failed = runner.unhealthy_lines(health)
        job.app.note(f"{key}: {failed}")
        body = f"### gpuctl: nothing to apply for `{key}`, and it fails the health gate\n\n{fenced(failed)}\n{_endpoint_lines(result)}"
        return Applied(key, 5, "nothing to apply; failed the health gate", body + job.footer("Checked", key))
    return Applied(key, 0, "nothing to apply: " + runner.plan_summary(fresh) + " Healthy.", head + "\nEvery endpoint passed the health gate.\n" + job.footer("Checked", key))


def _stopped(job: Job, key: str, exc: runner.Stopped) -> Applied:
    """The apply failed part-way, or stopped after it (cancelled, or the read after it differs):
    say what is now in the account, what failed, what was not tried, and that running the job
    again applies the rest while it is still the plan."""
    job.app.note(f"{key}: {exc.format()}")
    outcome = exc.result["outcome"]
    lines = ([f"- done: {d['action']} {md_code(d['address'])}" + (f" ({md_text(d['id'])})" if d.get("id") else "") for d in outcome["done"]]
             + [f"- failed: {f['action']} {md_code(f['address'])}: {md_text(f['error'])}" for f in outcome["failed"]]
             + [f"- not attempted: {n['action']} {md_code(n['address'])}" for n in outcome["not_attempted"]])
    counts = _counts(outcome["done"])
    code = _failed(exc)
    again = ("The job was cancelled. Run it again" if code == ExitCode.INTERRUPTED else "Run the job again once the cause is fixed")
    whole = not outcome["failed"] and not outcome["not_attempted"]  # stopped after the apply (the read after it differs, the health gate)
    if not whole:
        title, part = f"gpuctl applied part of `{key}`, then stopped", "part of the plan"
    else:
        title, part = f"gpuctl applied `{key}`, then " + ("the job was cancelled" if code == ExitCode.INTERRUPTED else "stopped"), "the plan"
    body = (f"### {title}\n\n" + "\n".join(lines) + "\n\n" + _endpoint_lines(exc.result)
            + f"\n{again}: it applies the rest of the reviewed plan while it is still the plan.\n\n"
            + fenced(exc.format(), "text"))
    return Applied(key, code, f"error: {exc.summary}; applied {part} first: {counts}", body + job.footer("Tried", key), changed=True)

"""`gpu github plan`: plan each config, keep the plan files for the artifact, and show the
plans where a reviewer looks: the sticky pull-request comment and the job summary."""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path, PurePosixPath

from gpuctl.errors import GpuctlError
from gpuctl.files import read_bytes
from gpuctl.github import comments, runner
from gpuctl.github import fork as forks
from gpuctl.github import policy_base
from gpuctl.github.job import Job, combined, error_markdown, plan_file
from gpuctl.github.env import SHA
from gpuctl.github.reviewed import artifact_name
from gpuctl.render.md import code as md_code
from gpuctl.words import counted


@dataclass(frozen=True)
class PlanOptions:
    configs: tuple[str, ...]
    provider: str | None
    plan_dir: Path
    comment: bool
    pr_file: Path | None
    artifact_prefix: str
    policy: str | None = None  # --policy FILE
    prune: bool = False  # --prune: plan the deletion of the project's endpoints no longer in gpu.jsonc, as deploy --prune


@dataclass
class Planned:
    key: str
    code: int  # 0 no changes, 2 changes, 4 policy violations, 1 error
    summary: str
    path: Path | None
    markdown: str
    changes: bool = False
    project: str | None = None  # the config's project_id, when it was planned: its comment's marker names it (ADR 43)


def run(job: Job, opts: PlanOptions) -> int:
    job.one_project_per_config(opts.configs)  # before anything is read from the account or GitHub (ADR 35)
    pull = pull_request(job, opts.pr_file)
    if pull is None and opts.comment:
        job.app.note("note: this run is not for a pull request, so the plan goes to the job summary only")
    results = _plan_all(job, opts, pull[1] if pull is not None else None, opts.pr_file is not None, pull[2] if pull is not None else None)
    return job.report(lambda: _report(job, opts, results, pull))


def _report(job: Job, opts: PlanOptions, results: list[Planned], pull: tuple[int, str, str | None] | None) -> int:
    shown = []
    for result in results:
        job.summary(result.markdown)
        if pull is not None and opts.comment and comments.post(job, pull[0], result):  # a refusal makes this result a failure; the next comment is still tried
            shown.append(result)
        job.app.stdout.write(f"{result.key}: {result.summary}\n")
    if pull is not None and shown:
        # What a config moved by this pull request left under its old path; the fork flow's
        # checkout is the base branch, so there "gone" is asked of the pull request's head.
        gone = partial(forks.gone_at, job.github, pull[1]) if opts.pr_file is not None else None
        comments.supersede(job, pull[0], shown, gone)
    code = combined([r.code for r in results])
    job.outputs({  # after the comments, so exit_code is the step's result
        "has_changes": "true" if any(r.changes for r in results) else "false",
        "exit_code": str(code),
        "plan_json": "\n".join(str(r.path) for r in results if r.path),
        "summary": "\n".join(f"{r.key}: {r.summary}" for r in results),
        "artifact": artifact_name(opts.artifact_prefix, pull[1]) if pull else "",
        "pr": str(pull[0]) if pull else "",
    })
    return code if code in (1, 4) else 0


def _plan_all(job: Job, opts: PlanOptions, head: str | None, fork: bool, base: str | None = None) -> list[Planned]:
    """Each config planned once. A config listed twice (`gpu.jsonc`, `./gpu.jsonc`) is one key:
    planned and commented once. Two keys whose plan files would have one name (`a b/gpu.jsonc`,
    `a_b/gpu.jsonc`) would leave one plan in the artifact for both, so the second is an error.
    In the fork flow (`fork`), a config's files must be the pull request's at `head`, and it
    may plan only the project the same path declares at the pull request's `base` commit."""
    with tempfile.TemporaryDirectory(prefix="gpuctl-policy-") as scratch:
        return _plan_each(job, opts, head, fork, base, Path(scratch))


def _plan_each(job: Job, opts: PlanOptions, head: str | None, fork: bool, base: str | None, scratch: Path) -> list[Planned]:
    results: list[Planned] = []
    files: dict[Path, str] = {}
    read_at = read_commit(job, head, fork)
    untrusted = _policy_among_the_configs(job, opts) if fork else None
    choice = policy_base.PolicyChoice()
    if not fork:
        try:
            choice = policy_base.choose(job, opts.policy, scratch, opts.configs)
        except GpuctlError as exc:
            untrusted = exc
    for config in opts.configs:
        key = job.key(config)
        path = plan_file(opts.plan_dir, key)
        if any(r.key == key for r in results):
            job.app.note(f"note: {key} is listed more than once; it is planned once")
        elif path in files:
            results.append(_failed(job, key, head, GpuctlError(f"{key} and {files[path]} would share the plan file {path.name} in the plan artifact",
                                                         hint="rename one of the two directories (or files) so that their names differ in more than spaces and punctuation")))
        else:
            files[path] = key
            allow = None
            try:
                job.readable(config)  # before anything reads it (ADR 50)
                if untrusted is not None:
                    raise untrusted
                if fork and head is not None:
                    forks.verify(job.github, job.app.cwd, config, head)
                    where = forks.repository_path(job.app.cwd, config)
                    allow = partial(forks.check_scope, job.github, where, key, base)  # before the account is read
            except GpuctlError as exc:
                results.append(_failed(job, key, head, exc))
                continue
            results.append(_plan_one(job, config, key, path, opts, head, allow, untrusted=fork, read_at=read_at, choice=choice))
    return results


def read_commit(job: Job, head: str | None, fork: bool) -> str | None:
    """The commit whose files the plan reads, to which the comment links each gpu.jsonc key's
    line. A pull_request run reads its checkout: GitHub's merge of the pull request into its base
    (`GITHUB_SHA`, `refs/pull/N/merge`), whose lines differ from the head's once the base changed
    the config since the branch. The fork flow reads the configs the fork's run uploaded, each
    checked (`fork.verify`) to be the file at the pull request's `head` before it is planned, and
    its own checkout (`GITHUB_SHA`) is the base branch, which it plans nothing from."""
    return head if fork else job.actions.sha


def link_commit(job: Job, config: str, key: str, head: str | None, read_at: str | None) -> str | None:
    """The commit the comment links `key`'s lines at. The plan read the merge commit
    (`read_commit`), which GitHub keeps only while the pull request is open
    (`refs/pull/N/merge` is rewritten on every push to it or its base, and may be
    garbage-collected once it is closed), so a link to it can rot. When the config's blob at the
    pull request's `head` is the one the plan read (the base did not change the file since the
    branch), the head commit has the same lines and stays reachable: link there. Otherwise (the
    base changed it, the head has no such file, GitHub cannot say) the merge commit, whose lines
    are the ones planned. One call: the contents API's listing of the config's directory at
    `head`, which names each file's blob id."""
    from gpuctl.github.fork import blob_id
    from gpuctl.github.inputs import listing as listed

    if head is None or read_at is None or head == read_at or job.source_url(key, head) is None or not job.actions.token:
        return read_at
    try:
        data = read_bytes(job.app.cwd / config, forks.MAX_FILE_BYTES)
    except OSError:  # a FileRefused too: the plan read it, so this hardly happens
        return read_at
    folder = str(PurePosixPath(key).parent)
    try:
        entries = listed(job.github, "" if folder == "." else folder, head)
    except GpuctlError as exc:
        job.app.note(f"note: {key}: GitHub did not list the pull request's head commit {head[:12]} ({exc.summary}), "
                     f"so the comment links each key at the merge commit {read_at[:12]}, which GitHub may delete once the pull request is closed")
        return read_at
    return head if (entries or {}).get(key) == ("blob", blob_id(data)) else read_at


def _policy_among_the_configs(job: Job, opts: PlanOptions) -> GpuctlError | None:
    """In the fork flow the working directory holds the configs the fork's own run of
    fork-configs.yml uploaded: a policy file there is the fork's to choose, and a plan checked
    against it would pass whatever the base branch's policy says (and a reviewed plan without
    violations is applied on merge). So the policy must come from outside it: the base
    branch's checkout."""
    if opts.policy is None:
        return None
    hint = "give the base branch's policy file by its path in the checkout, e.g. `policy: ${{ github.workspace }}/platform.jsonc` in fork-plan.yml"
    named = job.in_checkout(opts.policy, root=job.app.cwd)  # the path as written, as plan and apply judge it: a link there is the fork's too
    if named.key is not None:
        return GpuctlError(f"the policy file {opts.policy} is among the downloaded configs, which the fork's own run chose, so no config was planned against it",
                           hint=hint)
    real, root = Path(os.path.realpath(job.app.cwd / opts.policy)), job.app.cwd.resolve()
    if real.is_relative_to(root):  # a link elsewhere that leads among them: reading it would read the fork's file
        return GpuctlError(f"the policy file {opts.policy} is a symbolic link that leads among the downloaded configs ({real.relative_to(root).as_posix()}), "
                           "which the fork's own run chose, so no config was planned against it", hint=hint)
    return None


def _failed(job: Job, key: str, head: str | None, exc: GpuctlError, note: str = "") -> Planned:
    job.app.note(f"{key}: {exc.format()}")
    return Planned(key, 1, f"error: {exc.summary}", None, note + error_markdown(f"gpuctl could not plan {md_code(key)}", exc.format()) + job.footer("Planned", key, head))


def _plan_one(job: Job, config: str, key: str, path: Path, opts: PlanOptions, head: str | None, allow=None, untrusted: bool = False,
              read_at: str | None = None, choice: policy_base.PolicyChoice = policy_base.PolicyChoice()) -> Planned:
    """`choice`: the policy file the plan is checked against (policy_base.choose), and the note
    that tops the comment when the pull request changes it."""
    try:
        doc = runner.plan_document(job.app, config, opts.provider, choice.path or opts.policy, allow, opts.prune, untrusted,
                                   policy_shown=choice.shown, also=choice.also, flags=job.flags(config, opts.provider, opts.policy),
                                   repository=job.actions.repository)
        note = policy_base.note(choice, doc)  # takes the pull request's version's verdict out of the document
        runner.save_plan(doc, path)
    except GpuctlError as exc:
        return _failed(job, key, head, runner.setup_advice(exc), policy_base.note(choice, None))
    violations = len((doc.get("policy") or {}).get("violations") or [])
    code = 4 if violations else 2 if not doc["in_sync"] else 0
    summary = runner.plan_summary(doc) + (f" Breaks {counted(violations, 'policy rule')}." if violations else "")
    if not untrusted and _links(doc):  # the fork flow's read_at is the head already
        read_at = link_commit(job, config, key, head, read_at)
    return Planned(key, code, summary, path.resolve(), note + runner.plan_markdown(doc, source_url=job.source_url(key, read_at)) + job.footer("Planned", key, head),
                   not doc["in_sync"], doc.get("project_id"))


def _links(doc: dict) -> bool:
    """Whether the plan's Markdown links a gpu.jsonc line (a change named by its config key)."""
    return any(k.get("line") is not None for r in doc.get("resource_changes", []) for c in r.get("changes", []) for k in c.get("config_keys") or [])


def pull_request(job: Job, pr_file: Path | None) -> tuple[int, str, str | None] | None:
    """(number, head SHA, base SHA) of the pull request to comment on: the event's own (no
    base SHA: only the fork flow needs it), or, in a `workflow_run` run of the fork flow, the
    number in `pr_file`, which came from an untrusted run and is believed only if that pull
    request's head is the commit the run was for."""
    if pr_file is None:
        pull = job.actions.pull_request()
        return (*pull, None) if pull is not None else None
    run = job.actions.event.get("workflow_run")
    if job.actions.event_name != "workflow_run" or not isinstance(run, dict):
        raise GpuctlError("--pr-file is for runs started by workflow_run (the fork flow)", hint="drop --pr-file: a pull_request run knows its pull request")
    run_head = job.actions.event_field("workflow_run.head_sha", SHA)
    number = _number_in(pr_file)
    pull = job.github.request("GET", job.github.repo("pulls", number), fields={"head.sha": str, "base.sha": (str, type(None))})
    if pull["head"]["sha"] != run_head:
        raise GpuctlError(f"pull request #{number} is at {pull['head']['sha'][:12]}, but the configs came from a run for {run_head[:12]}",
                          hint="the number in the artifact does not belong to that run; nothing was commented (a newer push re-runs the flow)")
    base = (pull.get("base") or {}).get("sha")
    return number, run_head, base if isinstance(base, str) and base else None


def _number_in(path: Path) -> int:
    try:
        text = read_bytes(path, 1024).decode("ascii", "replace").strip()  # a fork's artifact: any bytes at all
    except OSError as exc:
        raise GpuctlError(f"cannot read the pull request number from {path}: {exc.strerror or exc}", hint="the fork flow's first job uploads it with the configs") from None
    if not re.fullmatch(r"[0-9]{1,9}", text):
        raise GpuctlError(f"{path} does not hold a pull request number", hint="it must hold digits only, as the fork flow's first job writes it")
    return int(text)

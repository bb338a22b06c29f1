"""`gpu serverless drift`: a read-only drift report, built for cron and CI schedules.

It plans exactly as `deploy --plan` does (the same session, the same planner) and reports
only what differs, each difference labelled by where it came from. Exit codes: 0 in sync,
2 drift, 1 error (a read that fails after its retries is an error, never "in sync"). It makes
no write, never takes the account lease or the `.gpu/` lock, and never starts the local
provider.
"""

from __future__ import annotations

import click

from gpuctl.cli.context import AppContext
from gpuctl.cli.paths import named_file
from gpuctl.commands import suggest
from gpuctl.cli.resolve import provider_options
from gpuctl.errors import ExitCode
from gpuctl.words import counted


@click.command("drift")
@click.option("--json", "as_json", is_flag=True, help="Print the drift document (schema/drift.schema.json) on stdout.")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "markdown"]), help="text (default), json, or markdown (an issue body).")
@click.option("--observed", type=named_file(f"save the snapshot with `{suggest('serverless', 'snapshot', '--out', 'FILE')}`"), metavar="FILE", help="Report against this snapshot instead of the account (no network, no credentials).")
@click.option("--detailed-exitcode", "_detailed", is_flag=True,
              help="Accepted as `deploy --plan --detailed-exitcode` takes it; drift's exit codes are always the detailed ones.")
@provider_options
@click.pass_obj
def drift(app: AppContext, as_json: bool, fmt: str | None, observed: str | None, _detailed: bool, provider: str | None, config: str | None) -> int:
    """Report how the account differs from gpu.jsonc, and who moved; change nothing.

    Every difference is labelled: changed in gpu.jsonc, applied from another gpu.jsonc (an
    apply from another branch or checkout, with who and where), changed in the account,
    changed in both, origin unknown; a resource may be deleted in the account, an orphan,
    unmanaged, or have lost its marker. The report says what each asks you to do and what the drift costs
    per hour. Exits 0 in sync, 2 on drift, 1 on any error (a failed read is never 0)."""
    from gpuctl.cli.planning import output_format
    from gpuctl.commands import Flags, suggest
    from gpuctl.interrupts import Interrupted

    try:
        return report(app, output_format(fmt, as_json), observed, provider, config)
    except KeyboardInterrupt:
        raise Interrupted("interrupted before the drift report was made: drift only reads, so nothing was changed",
                          hint=f"run `{suggest('serverless', 'drift', flags=Flags.of_run(config, provider))}` again") from None


def report(app: AppContext, fmt: str, observed: str | None, provider: str | None, config: str | None) -> int:
    """Print the drift report in `fmt` (text, json, markdown); exit 0 in sync, 2 on drift."""
    from gpuctl.commands import Flags

    flags = Flags.of_run(config, provider)
    doc = drift_doc(app, observed, provider, config, flags=flags)
    _write(app, doc, fmt, flags)
    return ExitCode.OK if doc["in_sync"] else ExitCode.CHANGES


def drift_doc(app: AppContext, observed: str | None, provider: str | None, config: str | None, config_chooses_provider: bool = True,
              flags=None) -> dict:
    """The drift document (schema/drift.schema.json) of gpu.jsonc against the account (or the
    `observed` snapshot), as `gpu serverless drift --json` prints it: made here and written by
    `report`, so every reader (the GitHub drift job too) gets the same document without
    printing and parsing it. Plain JSON values only (`dumps` of it, read back, is equal to it).
    `config_chooses_provider` False: the GitHub drift job's (DeployOptions' field of that name).
    `flags` (`gpuctl.commands.Flags`): the options the advice's commands repeat; by default
    `--config` and `--provider` as given here."""
    from gpuctl.plan.planner import observed_digest
    from gpuctl.render.document import to_document
    from gpuctl.commands import Flags
    from gpuctl.render.drift import build

    s = _session(app, observed, provider, config, config_chooses_provider, flags)  # a terminal's run (None) names its files as typed
    flags = Flags.of_run(config, provider) if flags is None else flags
    state = s.snapshot.observed if s.snapshot is not None else _observe(app, s, flags)
    planned = s.plan(state, report=True)
    _refuse_unreported(planned.notices, flags)
    plan = to_document(planned)
    doc = build(plan, s.catalog, {e["id"]: e for e in state.endpoints if isinstance(e.get("id"), str)}, s.locate, flags)
    # The fingerprint of what this report covers, not of the whole account: another project's
    # deploy must not change tonight's document when this project's drift did not move.
    doc["observed_digest"] = observed_digest(state, {str(r["id"]) for r in plan["resource_changes"] if r["id"]})
    doc |= _lease(state, doc["project_id"], s.snapshot is not None)
    return doc


def _refuse_unreported(notices, flags=None) -> None:
    """A field the account's answer lacks cannot be compared. Reporting it as changed (to null)
    would blame someone in the console for an API change, and "in sync" would claim what was
    not seen: like a read that failed, it is an error, never 0 or 2."""
    from gpuctl.commands import NONE, suggest
    from gpuctl.errors import GpuctlError
    from gpuctl.plan.planner import UNREPORTED

    unreported = [n for n in notices if n.code == UNREPORTED]
    if unreported:
        raise GpuctlError(f"the account did not report fields this report compares, on {counted(len(unreported), 'endpoint')}: "
                          "no drift report can be made (nothing is known to have changed)",
                          detail="\n".join(f"  {n.address}: {n.message}" for n in unreported),
                          hint=f"run `{suggest('doctor', flags=flags or NONE)}`: it checks RunPod's answers against the API's shape and says which fields are missing; "
                               "a gpuctl that reads the new shape ends this")


def _lease(state, project_id: str, snapshot: bool) -> dict:
    """`applying` and `lease` of the drift document: the project's account lease as `deploy
    --plan` judges it from the same account (`seen_by_plan`, one rule for both). `lease`, as the
    plan's, is there only when a lease is: `held` by a command applying now, whose changes may
    show as drift until it is done, or `unclear` (a damaged expiry, a holder's clock far ahead).
    `applying` names the holder of a `held` one only, so an unclear lease never keeps `gpu github
    drift` from reporting. A snapshot has no lease to judge: it was read at another time, and
    the plan against it reads none."""
    import time

    from gpuctl.engine.lease import seen_by_plan
    from gpuctl.render.document import DRIFT_STILL, lease_section

    lease = None if snapshot else seen_by_plan(state.templates, project_id, time.time())
    applying = f"{lease.holder or 'an unknown holder'} ({lease.detail})" if lease is not None and lease.status == "held" else None
    return {"applying": applying} | ({"lease": lease_section(lease, DRIFT_STILL)} if lease is not None else {})


def _session(app: AppContext, observed: str | None, provider: str | None, config: str | None, config_chooses_provider: bool = True, flags=None):
    """The deploy session of `deploy --plan` with these flags: no overrides, no --prune (an
    orphan is reported, never planned for deletion)."""
    from gpuctl.cli.deploy import DeployOptions, session

    opts = DeployOptions(plan_only=True, observed=observed, config=config, fmt="text", detailed_exitcode=True, prune=False,
                         provider=provider, yes=False, out=None, from_plan=None, lock_timeout=0.0, break_lock=False,
                         json_result=False, overrides={}, config_chooses_provider=config_chooses_provider, suggested=flags)
    return session(app, opts)


READS = 3  # reads of the account a report makes at most while it keeps changing under it


def _observe(app: AppContext, s, flags=None):
    """Read the account. The local provider is never started: a report against an account
    that is not there is an error, not a plan to create everything. The endpoints and the
    templates (the last-applied records) are separate reads: a record whose endpoint the first
    did not have, of a block of gpu.jsonc, is checked by the endpoint's id, and when it is there
    (made between the reads, by a deploy done before the second) the account is read again,
    rather than report the endpoint DELETED IN THE ACCOUNT. An account that keeps changing is
    an error: no report can be made of it."""
    from gpuctl.cli.connect import connect
    from gpuctl.errors import GpuctlError
    from gpuctl.words import counted

    account = connect(app, s.target, start_local=False, flags=flags)
    try:
        for _ in range(READS):
            state = s.desired.observe(account)
            raced = _made_between_reads(account, state, s.desired)
            if not raced:
                return state
        raise GpuctlError(f"the account changed while it was read, {READS} times: each list of endpoints left out {counted(len(raced), 'endpoint')} "
                          f"then found by id ({', '.join(raced)}); another command is creating endpoints now, so no drift report can be made",
                          hint="run the report again once that command is done")
    finally:
        account.close()


def _made_between_reads(account, state, desired) -> list[str]:
    """Ids of this project's endpoints a last-applied record of a block names, missing from the
    endpoints read but found by id: made after that read. Only a record the report would call
    deleted in the account is checked, so a report checks none in the usual case."""
    from gpuctl.plan.drift import deleted_records, records_of
    from gpuctl.provider.errors import NotFound

    names = {spec.name for spec in desired.endpoints} | {spec.renamed_from for spec in desired.endpoints if spec.renamed_from}
    gone = deleted_records(records_of(state.templates, desired.project_id), {str(e.get("id")) for e in state.endpoints})
    found = []
    for name in sorted(names & set(gone)):
        try:
            account.get_endpoint(gone[name].endpoint_id)
        except NotFound:
            continue
        found.append(gone[name].endpoint_id)
    return found


def _write(app: AppContext, doc: dict, fmt: str, flags) -> None:
    if fmt == "json":
        from gpuctl.render.document import dumps

        from gpuctl.cli.output import write_document_text

        write_document_text(app, dumps(doc))  # gpuctl's own document, written as made (ADR 38)
    elif fmt == "markdown":
        from gpuctl.render.drift_view import render_markdown

        app.stdout.write(render_markdown(doc, flags=flags))
    else:
        from gpuctl.render.drift_view import render_text

        app.stdout.write(render_text(doc, flags))

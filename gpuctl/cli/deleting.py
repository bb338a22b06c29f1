"""The delete flows behind `delete_cmd`: pick or resolve, show, confirm, delete, report.

A NAME or ID that is not in the account is an error (exit 1, with a did-you-mean), as in
kubectl, so a script learns about its typo; `--ignore-not-found` turns exactly that case into
success with a one-line note."""

from __future__ import annotations

from gpuctl.cli.context import AppContext
from gpuctl.cli.resolve import Ambiguous, NotFound, Target, find_endpoint
from gpuctl.commands import NONE, suggest
from gpuctl.v2 import data_center, image, owned_by, owner, volume_ids
from gpuctl.errors import ExitCode, GpuctlError, UsageError
from gpuctl.safetext import one_line
from gpuctl.words import counted

SHOWN = 200  # RunPod's names are at most 191 characters; what another tool wrote may be anything


def _s(value: object) -> str:
    """A name, id, image or marker the account holds, as one line for a message: this module
    writes straight to stderr, and an endpoint named with ESC or a newline in it (made by
    another tool) recoloured the terminal, or began a line reading like gpuctl's own."""
    return one_line(value, SHOWN)


class Refused(GpuctlError):
    pass


class Deleted:
    """What a delete has done so far, for its --json document: `{"deleted": ID or null,
    "not_found", "already_gone", "volumes_kept" (endpoints), "error"}`. The document a delete
    prints when it ends otherwise (not found, a refusal, the lease another run holds, a no, an
    interrupt before or after the delete) says exactly that, with the reason in `error`."""

    def __init__(self, volumes: bool):
        self.doc: dict = {"deleted": None, "not_found": False, "already_gone": False} | ({"volumes_kept": []} if volumes else {})

    def document(self, error: str | None = None) -> dict:
        return self.doc | {"error": error}


def _number_type(count: int):
    """The answer to a picker: 0 to `count`. Anything else is told what to type, never shown
    back (click's IntRange said "'\\x1b[B' is not a valid integer range" to an arrow key)."""
    import click

    class Number(click.ParamType):
        name = "number"

        def convert(self, value, param, ctx):
            text = str(value).strip()
            if text.isascii() and text.isdigit() and int(text) <= count:
                return int(text)
            self.fail(f"type the number of one of the {count} listed above (1 to {count}), or 0 to cancel", param, ctx)

    return Number()


def pick(app: AppContext, items: list[dict], label, what: str) -> dict:
    """Ask which of `items` to act on, as a numbered list on the terminal; 0 and the end of
    input cancel (gpuctl.cli.confirm)."""
    from gpuctl.cli.confirm import cancel, choose, interactive

    if not items:
        raise UsageError(f"there is no {what} to choose from", hint=f"the account has no {what} to delete; if you meant another account, check --provider and the API key (`gpu auth status`)")
    if not interactive(app):
        raise UsageError(f"no {what} given and no terminal to choose one on", hint=f"name the {what} on the command line")
    for number, item in enumerate(items, 1):
        app.stderr.write(f"  {number}) {label(item)}\n")
    choice = choose(f"Which {what}? (number, 0 to cancel)", _number_type(len(items)))
    if not choice:
        cancel(app, "deleted")
    return items[choice - 1]


def confirm(app: AppContext, question: str, ask: bool, flag: str) -> None:
    """Ask before deleting, unless not `ask`; a no ends the command (gpuctl.cli.confirm)."""
    from gpuctl.cli.confirm import confirm_or_stop

    if ask:
        confirm_or_stop(app, question, what="deleting", flag=flag, then="delete", unchanged="deleted")


def _endpoint_label(e: dict) -> str:
    whose = f'project "{_s(owner(e))}"' if owner(e) else "no project"  # a project may be called "unmanaged"
    return f"{_s(e.get('name'))} ({_s(e.get('id'))}, {whose})"


def _choose_endpoint(app: AppContext, target: Target, ref: str | None, pick_all: bool) -> dict:
    """The endpoint `ref` names, else the one picked on the terminal: from this project's, or
    from every endpoint with --all or where there is no gpu.jsonc (no project to narrow to)."""
    endpoints = target.provider.list_endpoints()
    if ref is not None:
        return find_endpoint(endpoints, ref, target.project_id, target.flags)
    every = pick_all or target.project_id is None
    offered = endpoints if every else [e for e in endpoints if owner(e) == target.project_id]
    if not offered and endpoints and not every:
        raise UsageError(f'project "{target.project_id}" has no endpoint in the account to choose from',
                         hint=f"pass --all to pick from every endpoint ({len(endpoints)} in the account)")
    return pick(app, sorted(offered, key=lambda e: str(e.get("name"))), _endpoint_label, "endpoint")


def _absent(app: AppContext, missing: NotFound, ignore_not_found: bool, as_json: bool, so_far: Deleted) -> int:
    """What a NAME or ID that is not there comes to: exit 1 saying how to forgive it, or, with
    --ignore-not-found, exit 0 with one line on stderr (and a JSON result saying nothing was
    deleted)."""
    so_far.doc["not_found"] = True
    if not ignore_not_found:
        hint = f"{missing.hint} (or pass --ignore-not-found if it may already be gone)" if missing.hint else "pass --ignore-not-found if it may already be gone"
        raise type(missing)(missing.summary, detail=missing.detail, hint=hint) from None
    app.note(f"nothing to delete: {missing.summary} (--ignore-not-found)")
    return _report(app, as_json, so_far)


def delete_endpoint(app: AppContext, target: Target, ref: str | None, *, force: bool, ask: bool, pick_all: bool, as_json: bool, ignore_not_found: bool,
                    lock_timeout: float = 0.0, break_lock: bool = False, so_far: Deleted | None = None) -> int:
    """Resolve, show and confirm without the lease (as deploy plans and asks), then delete the
    endpoint and gpuctl's records of it under the account lease of its project (ADR 9), so a
    deploy or rollback of that project never finds its endpoint gone between its plan and its
    write. An endpoint a deploy replaced or deleted while this one waited is reported as
    already gone."""
    from gpuctl.engine.lease import account_lease, lease_project

    so_far = so_far or Deleted(volumes=True)
    try:
        chosen = _choose_endpoint(app, target, ref, pick_all)
    except NotFound as missing:
        return _absent(app, missing, ignore_not_found, as_json, so_far)
    owned = owned_by(chosen, target.project_id)
    by_id_forced = force and ref == chosen["id"]
    whose = f'project "{_s(owner(chosen))}"' if owner(chosen) else "no project (it has no GPUCTL_PROJECT marker)"
    name, ident = _s(chosen["name"]), _s(chosen["id"])
    picked = ref is None  # chosen on the terminal from a list that shows each endpoint's project
    if not owned and not by_id_forced and not picked and target.project_id is None:
        from gpuctl.config.source import nearby_config

        of = f'of project "{owner(chosen)}"' if owner(chosen) else "of no project"
        raise Refused(f"no gpu.jsonc here, so endpoint {chosen['name']} ({chosen['id']}) {of} cannot be checked as this project's",
                      hint=f"{nearby_config(app.cwd) or 'run it in the project directory, or pass --config'}; "
                           f"or, to delete it anyway, name it by id with --force: {suggest('serverless', 'delete', ident, '--force', flags=target.flags)}")
    if not owned and not by_id_forced and not picked:
        raise Refused(f"endpoint {name} ({ident}) belongs to {whose}, not to this project", hint=f"to delete it anyway, name it by id with --force: {suggest('serverless', 'delete', ident, '--force', flags=target.flags)}")
    volumes = _volumes(target, chosen)
    app.stderr.write(f"This deletes endpoint {_endpoint_label(chosen)}, its workers and its queued jobs.\n")
    unfinished = _unfinished_jobs(target, chosen["id"])
    if unfinished:
        app.stderr.write(f"It has {unfinished}, lost with it: a running job is stopped, and no job's result can be read afterwards.\n")
    for v in volumes:
        app.stderr.write(f"Network volume {_s(v['name'])} ({_s(v['id'])}, {_s(data_center(v))}) is kept.\n")
    confirm(app, f"Delete endpoint {name}?" if owned else f"Delete endpoint {name}, which belongs to {whose}?", ask, "-y (--yes)")
    kept = f"; kept {counted(len(volumes), 'network volume')}" if volumes else ""
    again = suggest("serverless", "delete", ident, flags=target.flags)
    with deleting_one(app, f"endpoint {name} ({ident})", kept, again=f"run `{again}` again to delete it",
                      look=f"`{suggest('serverless', 'list', flags=target.flags)}` shows whether it is still there; if it is, run `{again}` again") as write:
        with account_lease(target.provider, lease_project(chosen, target.project_id), "gpu serverless delete", app.note, wait=lock_timeout, break_lock=break_lock):
            with write.step():
                gone_now = write.send(lambda: _deleting(target, chosen["id"], ident))
                so_far.doc |= {"deleted": chosen["id"], "already_gone": not gone_now, "volumes_kept": [v["id"] for v in volumes]}
                if not gone_now:
                    app.note(f"endpoint {ident} was already gone")
                _forget_records(app, target, chosen["id"])
    app.note(f"deleted endpoint {name} ({ident}){kept}")
    return _report(app, as_json, so_far)


def deleting_one(app: AppContext, what: str, kept: str = "", *, again: str, look: str):
    """`gpuctl.interrupts.writing` for a command whose change is the one DELETE of `what`
    ("endpoint NAME (ID)"): the one way `delete` and `template delete` word an interrupt. One
    before the DELETE was sent says `what` was not deleted (`again`: how to delete it); one
    during it waits for it and says `what` is deleted (`kept`: what was not); a second one says
    the outcome is unknown and how to find out (`look`). A bare `interrupted` once left an
    operator to guess whether the template was gone."""
    from gpuctl.interrupts import Interrupted, writing

    before = lambda: Interrupted(f"interrupted before the delete was sent: {what} was not deleted", hint=again)  # noqa: E731
    after = lambda: Interrupted(f"interrupted, after the delete: {what} is deleted{kept}", hint="the delete was carried out: there is nothing to repeat")  # noqa: E731
    unknown = lambda why: Interrupted(f"interrupted while the delete of {what} was in flight: its outcome is unknown ({why})", hint=look)  # noqa: E731
    say = lambda: app.note("interrupted: waiting for the delete in flight to finish (a second interrupt stops waiting)")  # noqa: E731
    return writing(before, after, say=say, unknown=unknown)


def _deleting(target: Target, endpoint_id: str, ident: str) -> bool:
    """The DELETE, with a hint that fits a delete when it fails after its retries: the
    provider's own (a FailedChange's) says deploying again is safe (review 5, R5-2)."""
    from gpuctl.provider.errors import FailedChange, Stopped

    try:
        return target.provider.delete_endpoint(endpoint_id)
    except FailedChange as exc:
        if isinstance(exc, Stopped):
            raise
        raise exc.with_hint(f"the delete may have been carried out: `{suggest('serverless', 'list', flags=target.flags)}` shows whether endpoint {ident} is still there; "
                            f"if it is, run `{suggest('serverless', 'delete', ident, flags=target.flags)}` again") from None


def _unfinished_jobs(target: Target, endpoint_id: str) -> str | None:
    """"2 running jobs and 1 queued job" from the endpoint's /health, or None when there are
    none or it cannot be read (the question is asked anyway; this only says what is at stake)."""
    from gpuctl.provider.errors import ProviderError

    try:
        jobs = target.provider.health(endpoint_id).get("jobs") or {}
    except ProviderError:
        return None
    counts = [(int(jobs.get(key) or 0), word) for key, word in (("inProgress", "running"), ("inQueue", "queued"))]
    parts = [counted(n, f"{word} job") for n, word in counts if n > 0]
    return " and ".join(parts) or None


def _forget_records(app: AppContext, target: Target, endpoint_id: str) -> None:
    """gpuctl's records of the endpoint (last applied, ADR 10; pre-warm, ADR 8) go with it, so
    the next plan does not report an endpoint deleted on purpose as deleted in the account. One
    that cannot be deleted is left to the sweep of a later applying deploy of the project (records
    are pod templates, which `template delete` never offers, so it is no way out)."""
    from gpuctl.plan.drift import record_name as applied
    from gpuctl.prewarm import record_name as warmed
    from gpuctl.provider.errors import NotFound as Gone, ProviderError

    names = {applied(endpoint_id), warmed(endpoint_id)}
    for record in (t for t in target.provider.list_templates() if t.get("name") in names):
        try:
            target.provider.delete_template(record["id"])
        except Gone:
            continue
        except ProviderError as exc:
            app.note(f"warning: could not delete gpuctl's record {_s(record['name'])} ({exc.summary}); "
                     f"a later deploy of project {_s(owner(record) or target.project_id)} that applies a change deletes it")


def _volumes(target: Target, endpoint: dict) -> list[dict]:
    ids = set(volume_ids(endpoint))
    return [v for v in target.provider.list_volumes() if v.get("id") in ids] if ids else []


def _report(app: AppContext, as_json: bool, so_far: Deleted) -> int:
    if as_json:  # ids and flags, and no error: written as made (ADR 38)
        from gpuctl.cli.output import print_document

        print_document(app, so_far.document())
    return ExitCode.OK


class TemplateNotFound(NotFound):
    pass


def find_template(templates: list[dict], ref: str, flags=None) -> dict:
    """The template with id `ref`, else the one named exactly `ref`. RunPod keeps template names
    unique per account, but if several ever share one, gpuctl lists their ids rather than guess."""
    from gpuctl.spelling import did_you_mean

    by_id = [t for t in templates if t.get("id") == ref]
    if by_id:
        return by_id[0]
    named = [t for t in templates if t.get("name") == ref]
    if len(named) == 1:
        return named[0]
    if named:
        raise Ambiguous(f'{counted(len(named), "template")} are named "{_s(ref)}": {", ".join(_s(t["id"]) for t in named)}', hint="name the one you mean by its id")
    if not templates:
        hint = ("the account has no serverless template of yours (gpuctl's own records are not yours to delete); "
                "if you meant another account, check --provider and the API key (`gpu auth status`)")
    else:
        hint = did_you_mean(ref, [str(t.get("name", "")) for t in templates]) or f"run `{suggest('serverless', 'template', 'delete', flags=flags or NONE)}` on a terminal to pick one"
    raise TemplateNotFound(f'no serverless template of yours named or with id "{_s(ref)}"', hint=hint)


def _template_label(t: dict) -> str:
    return f"{_s(t.get('name'))} ({_s(t.get('id'))}, {_s(image(t))})"


def delete_template(app: AppContext, target: Target, ref: str | None, *, force: bool, as_json: bool, ignore_not_found: bool,
                    so_far: Deleted | None = None) -> int:
    so_far = so_far or Deleted(volumes=False)
    owned = [t for t in target.provider.list_templates() if t.get("serverless") and not t.get("public")]
    if ref is None:
        chosen = pick(app, sorted(owned, key=lambda t: str(t.get("name"))), _template_label, "template")
    else:
        try:
            chosen = find_template(owned, ref, target.flags)
        except NotFound as missing:
            return _absent(app, missing, ignore_not_found, as_json, so_far)
    users = target.provider.template_users().get(chosen["id"], [])
    name, ident = _s(chosen.get("name")), _s(chosen["id"])
    if users:
        names = ", ".join(f"{_s(u['name'])} ({_s(u['id'])})" for u in users)
        raise Refused(f"template {name} ({ident}) is used by endpoint {names}", hint="delete or move those endpoints first")
    app.stderr.write(f"This deletes template {name} ({ident}).\n")
    confirm(app, f"Delete template {name}?", not force, "-y (--yes)")
    again = suggest("serverless", "template", "delete", ident, "--ignore-not-found", flags=target.flags)
    with deleting_one(app, f"template {name} ({ident})", again=f"run `{again}` again to delete it",
                      look=f"run `{again}`: it deletes the template if it is still there, and says so if it is gone") as write:
        with write.step():
            gone_now = write.send(lambda: target.provider.delete_template(chosen["id"]))
            so_far.doc |= {"deleted": chosen["id"], "already_gone": not gone_now}
    app.note(f"deleted template {name} ({ident})" if gone_now else f"template {ident} was already gone")
    return _report(app, as_json, so_far)

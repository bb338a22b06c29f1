"""`gpu serverless history` and `gpu serverless rollback`: an endpoint's RunPod releases, and
going back to the configuration of one of them.

`history` only reads. `rollback` rebuilds version N's configuration from the release diffs
(gpuctl/releases.py), shows what it changes, asks (as deploy does: -y, and no question without
a terminal means no), writes it with one PATCH under the project's account lease, reads it
back, keeps it in the last-applied record as gpuctl's apply (engine.rollback), and says that
gpu.jsonc now differs: the next deploy would undo the rollback unless gpu.jsonc takes the
restored values (`pull --write`, and, for an env value gpu.jsonc reads from a `${VAR}` or a
RunPod secret, which pull never writes, setting that). Ctrl-C and SIGTERM follow deploy's rule
(gpuctl.interrupts.writing).
"""

from __future__ import annotations


import click

from gpuctl.cli.context import AppContext
from gpuctl.cli.lease_options import lease_options
from gpuctl.cli.resolve import provider_options
from gpuctl.errors import ExitCode, GpuctlError


class Refused(GpuctlError):
    pass


class ChangedMeanwhile(GpuctlError):
    pass


@click.command("history")
@click.argument("ref", metavar="NAME|ID")
@click.option("--json", "as_json", is_flag=True, help="Print the history document (schema/history.schema.json) on stdout.")
@provider_options
@click.pass_obj
def history(app: AppContext, ref: str, as_json: bool, provider: str | None, config: str | None) -> int:
    """An endpoint's releases, newest first: version, when, source, who, workers on it, what
    changed (env values hidden) and whether gpuctl made it (gpuctl, marker, account or unknown)."""
    from gpuctl.cli.output import print_document

    from gpuctl.cli.resolve import endpoint, open_target
    from gpuctl.cli.views import print_table
    from gpuctl.render.history import history_document, history_footer, history_table

    target = open_target(app, provider, config, reads_only=True)
    try:
        found = endpoint(target, ref)
        doc = history_document(found, target.provider.releases(found["id"]), target.provider.list_templates(), mask=app.mask)
    finally:
        target.close()
    if as_json:  # env hidden and outside text masked as it was built: written as made (ADR 38)
        print_document(app, doc)
        return ExitCode.OK
    print_table(app, history_table(doc))
    for line in history_footer(doc):
        app.stdout.write(line + "\n")
    return ExitCode.OK


@click.command("rollback")
@click.argument("ref", metavar="NAME|ID")
@click.option("--to", "version", type=int, required=True, metavar="VERSION", help="The version whose configuration to restore (see `history`).")
@click.option("--plan", "plan_only", is_flag=True, help="Show what the rollback changes and stop (any endpoint; nothing is written).")
@click.option("-y", "--yes", is_flag=True, help="Apply without asking for confirmation.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout (still asks, unless -y).")
@click.option("--force", is_flag=True, help="Also roll back an endpoint that is not this project's (another project's marker, none, or no gpu.jsonc here).")
@lease_options("the endpoint's project")
@provider_options
@click.pass_obj
def rollback(app: AppContext, ref: str, version: int, plan_only: bool, yes: bool, as_json: bool, force: bool, lock_timeout: float,
             break_lock: bool, provider: str | None, config: str | None) -> int:
    """Restore the configuration of an earlier version, rebuilt from the release diffs.

    Shows the plan, asks, applies under the project's account lease and reads it back. Then
    gpu.jsonc differs from the account: run `gpu serverless pull NAME --write` to make it match,
    or the next deploy undoes the rollback."""
    from gpuctl.cli.output import result_document
    from gpuctl.cli.resolve import endpoint, open_target
    from gpuctl.engine.lease import lease_project

    from gpuctl.commands import Flags

    so_far = Progress(version)
    so_far.flags, so_far.force = Flags.of_run(config, provider), force
    with result_document(app, as_json, so_far.document):
        target = open_target(app, provider, config)
        try:
            chosen = endpoint(target, ref)
            so_far.endpoint = chosen
            if not plan_only:
                _check_owner(target, chosen, force, app.cwd)
            from gpuctl.v2 import owned_by

            # gpu.jsonc's literals say nothing about another project's endpoint of the same name
            ours = owned_by(chosen, target.project_id)
            literals = {key: value for (_, key), value in target.literals(chosen.get("name")).items()} if ours else {}
            return _rollback(app, target.provider, chosen["id"], version, plan_only=plan_only, yes=yes, as_json=as_json,
                             wait=lock_timeout, break_lock=break_lock, project=lease_project(chosen, target.project_id), literals=literals,
                             indirect=target.indirect(chosen.get("name")) if ours else {}, so_far=so_far)
        finally:
            target.close()


class Progress:
    """What a rollback has done so far, for its --json document: the endpoint once found, the
    plan once made, and, once its write has landed, the release it made. The document a
    rollback prints when it ends otherwise (a refusal, the lease another run holds, a no, an
    interrupt before or after its write) says exactly that, with the reason in `error`."""

    def __init__(self, version: int):
        self.version = version
        from gpuctl.commands import NONE

        self.flags, self.force = NONE, False  # the run's options and --force, which a command it suggests repeats
        self.endpoint: dict | None = None
        self.before: object = None  # the version the endpoint was on when planned
        self.latest: object = None  # the version it is on now
        self.changes: list[dict] = []
        self.literals: dict[str, str] = {}
        self.indirect: dict[str, str] = {}
        self.applied = False

    def document(self, error: str | None = None) -> dict:
        from gpuctl.render.history import rollback_changes_json

        endpoint = self.endpoint
        return {"format_version": "1", "endpoint": {"id": endpoint.get("id"), "name": endpoint.get("name")} if endpoint else None,
                "to_version": self.version, "from_version": self.before, "new_version": self.latest, "applied": self.applied,
                "gpu_jsonc_differs": self.applied, "changes": rollback_changes_json(self.changes, self.literals),
                "env_read_elsewhere": [{"key": k, "from": where, "removed": removed} for k, where, removed in _read_elsewhere(self.changes, self.indirect)],  # env values as the text plan shows them (env_shown)
                "error": error}


def _check_owner(target, chosen: dict, force: bool, cwd) -> None:
    from gpuctl.config.source import nearby_config
    from gpuctl.v2 import owned_by, owner

    if force or owned_by(chosen, target.project_id):
        return
    project = owner(chosen)
    label = f"endpoint {chosen.get('name')} ({chosen.get('id')})"
    if target.project_id is None:
        raise Refused(f"no gpu.jsonc here, so {label} cannot be checked as this project's",
                      hint=f"{nearby_config(cwd) or 'run it in the project directory, or pass --config'}; or pass --force to roll it back anyway")
    whose = f'project "{project}"' if project else "no project (it has no GPUCTL_PROJECT marker)"
    raise Refused(f"{label} belongs to {whose}, not to project \"{target.project_id}\"", hint="pass --force to roll it back anyway")


def _protect(app: AppContext, literals: dict[str, str], *envs: dict) -> None:
    """Every env value the rollback handles is registered as a secret, a last line of defence in
    case one ever reaches an output, except those the plan shows: gpuctl's own GPUCTL_* values
    and the values gpu.jsonc holds as plain literals for the same key (`literals`); a RunPod
    secret reference is a name (resolve.env_secrets)."""
    from gpuctl.cli.resolve import env_secrets

    for env in envs:
        for key, value in (env or {}).items():
            for secret in env_secrets(str(key), value, literals.get(key)):  # a secret reference is a name
                app.protect(secret)


def _rollback(app: AppContext, provider, endpoint_id: str, version: int, *, plan_only: bool, yes: bool, as_json: bool,
              wait: float, break_lock: bool, project: str | None, literals: dict[str, str] | None = None, indirect: dict[str, str] | None = None,
              so_far: Progress | None = None) -> int:
    from gpuctl.engine.rollback import apply_rollback, plan_rollback
    from gpuctl.render.history import plan_lines
    from gpuctl.v2 import env_of, release_version

    so_far = so_far or Progress(version)
    planned = plan_rollback(provider, endpoint_id, version, so_far.flags)
    current, doc, changes, config = planned.endpoint, planned.releases, planned.changes, planned.config
    literals, indirect = literals or {}, indirect or {}
    _protect(app, literals, env_of(current), config.get("env"))
    so_far.endpoint, so_far.before, so_far.latest, so_far.changes, so_far.literals, so_far.indirect = (
        current, release_version(doc), release_version(doc), changes, literals, indirect)
    out = app.stderr if as_json else app.stdout
    for line in plan_lines(current, release_version(doc), version, changes, config.get("env"), literals):
        out.write(line + "\n")
    if not changes or plan_only:
        return _report(app, as_json, so_far)
    _confirm(app, yes, f"Roll back {current.get('name')} to version {version}?")
    from gpuctl.author import applier
    from gpuctl.engine.lease import account_lease
    from gpuctl.interrupts import Interrupted, writing

    from gpuctl.commands import suggest

    name, done = current.get("name"), []
    again_command = suggest("serverless", "rollback", endpoint_id, "--to", str(version), *(["--force"] if so_far.force else []), flags=so_far.flags)
    before = lambda: Interrupted("interrupted before the rollback was written: nothing was changed",  # noqa: E731
                                 hint=f"run `{again_command}` again")
    after = lambda: Interrupted(f"interrupted, after the rollback was written: endpoint {name} is on the configuration of version {version} "  # noqa: E731
                                f"(now version {done[0].version})", hint="; ".join(line.rstrip(".") for line in _left_to_do(current, changes, indirect, so_far.flags)))
    unknown = lambda why: Interrupted(f"interrupted while the rollback's write was in flight: its outcome is unknown ({why})",  # noqa: E731
                                      hint=f"`{suggest('serverless', 'history', endpoint_id, flags=so_far.flags)}` shows whether it made a release; if not, run "
                                           f"`{again_command}` again")
    with writing(before, after, say=lambda: app.note("interrupted: waiting for the rollback's write in flight to finish"), unknown=unknown) as write:
        with account_lease(provider, project, "gpu serverless rollback", app.note, wait=wait, break_lock=break_lock):
            again = plan_rollback(provider, endpoint_id, version, so_far.flags)
            if again.version != planned.version or again.changes != changes:
                raise ChangedMeanwhile(f"endpoint {name} changed after the plan was shown (now version {again.version})",
                                       hint="run rollback again and review the new plan")
            with write.step():
                done.append(write.send(lambda: apply_rollback(provider, endpoint_id, changes, version, by=applier(app.environ, app.cwd), flags=so_far.flags)))
                so_far.endpoint, so_far.latest, so_far.applied = done[0].endpoint, done[0].version, True
    return _report(app, as_json, so_far)


def _env_written(changes: list[dict]) -> dict[str, bool]:
    """Each env key the rollback wrote, sorted, and whether it removed it."""
    out: dict[str, bool] = {}
    for change in (c for c in changes if c["path"] == "env"):
        keys = _keys(change)
        out |= {k: k in keys["removed"] for k in (*keys["added"], *keys["changed"], *keys["removed"])}
    return dict(sorted(out.items()))


def _read_elsewhere(changes: list[dict], indirect: dict[str, str]) -> list[tuple[str, str, bool]]:
    """(key, where gpu.jsonc reads it from, whether the rollback removed it) for each env key the
    rollback wrote that gpu.jsonc reads from a `${VAR}` or a RunPod secret: `pull --write`
    never writes those (review 3, R4)."""
    return [(k, indirect[k], removed) for k, removed in _env_written(changes).items() if k in indirect]


def _left_to_do(endpoint: dict, changes: list[dict], indirect: dict[str, str], flags=None) -> list[str]:
    """What a rollback leaves to do, one line each: gpu.jsonc still declares what it undid, so
    the next deploy undoes it unless gpu.jsonc takes the restored values: `pull --write` for
    what pull writes, with `--literal-env KEY` for each env literal restored (pull copies one
    the account changed only when named: review 3 R11, review 4 R4-4), and, for each env value
    gpu.jsonc reads from a `${VAR}` or a RunPod secret (which pull never writes), setting that
    to the restored value. Commands carry the run's options (`flags`, `gpuctl.commands.Flags`)."""
    from gpuctl.commands import NONE, suggest
    from gpuctl.v2 import owner

    name = endpoint.get("name")
    if not owner(endpoint):
        return ["The endpoint has no GPUCTL_PROJECT marker, so no gpu.jsonc deploys it and nothing will undo this rollback."]
    lines = [f"gpu.jsonc now differs from the account (project {owner(endpoint)}): the next `{suggest('serverless', 'deploy', flags=flags or NONE)}` would undo this rollback."]
    env = _env_written(changes)
    elsewhere = _read_elsewhere(changes, indirect)
    if len(elsewhere) < len(env) + sum(1 for c in changes if c["path"] != "env"):  # something pull can take
        literal = [k for k, removed in env.items() if not removed and k not in indirect]
        command = suggest("serverless", "pull", str(name), "--write", *(f for k in literal for f in ("--literal-env", k)), flags=flags or NONE)
        lines.append(f"To make gpu.jsonc match the account, run: {command}" + (" (for every field but the env values below)" if elsewhere else ""))
    for key, where, removed in elsewhere:
        lines.append(f"env.{key}: the rollback removed it, but gpu.jsonc sets it from {where}: remove it from gpu.jsonc, or the next deploy sets it again"
                     if removed else
                     f"env.{key}: gpu.jsonc reads it from {where}, which pull never writes: set that to the value the rollback restored, "
                     "or the next deploy undoes the rollback of it")
    return lines


def _keys(change: dict) -> dict[str, list[str]]:
    """The env keys a rollback's env change adds, changes and removes."""
    from gpuctl.releases import env_keys

    return env_keys(change["before"], change["after"])


def _confirm(app: AppContext, yes: bool, question: str) -> None:
    """Ask `question` unless `yes`; a no, or Ctrl-C, ends the rollback saying nothing was changed."""
    from gpuctl.cli.confirm import confirm_or_stop

    if not yes:
        confirm_or_stop(app, question, what="rollback", flag="-y", then="apply", review="review the plan (--plan), then ")


def _report(app: AppContext, as_json: bool, so_far: Progress) -> int:
    from gpuctl.cli.output import print_document

    from gpuctl.safetext import printable

    if so_far.applied:
        lines = [f"Rolled back endpoint {so_far.endpoint.get('name')} to the configuration of version {so_far.version}; it is now version {so_far.latest}.",
                 *_left_to_do(so_far.endpoint, so_far.changes, so_far.indirect, so_far.flags)]
        out = app.stderr if as_json else app.stdout
        out.write("".join(printable(line, keep_newlines=False) + "\n" for line in lines))
    if as_json:  # env values hidden as it was built (render.history.shown_env): written as made (ADR 38)
        print_document(app, so_far.document())
    return ExitCode.OK

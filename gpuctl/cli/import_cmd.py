"""`gpu serverless import NAME|ID [--name BLOCK] [--write]`: adopt a live endpoint.

The block comes from `gpuctl/config/from_account.py`; it carries `"adopt": "<id>"`, which
makes the next deploy write this project's marker on that endpoint (ADR 11). Before anything
is shown, the config with the block in it is loaded and planned against the account: what
import prints as "deploy will" is that plan, so the marker write, and anything the block
cannot reproduce, are visible before the block is written. Import itself never writes to
the account, and never prints an env value.

The preview is the whole plan deploy will then make, not only the imported endpoint's part:
its cost and its headline are that plan's, and the note before it says which part is the
imported endpoint's and how many other changes gpu.jsonc already has pending. A command the
notes suggest (`... --write`) repeats the options given (`_again`), so it does what it says.
"""

from __future__ import annotations

import click

from gpuctl.cli.context import AppContext
from gpuctl.cli.resolve import provider_options
from gpuctl.errors import ExitCode, GpuctlError
from gpuctl.words import counted


class ForeignEndpoint(GpuctlError):
    """The endpoint carries another project's marker and --force was not given."""


class ImportFailed(GpuctlError):
    """The endpoint cannot be written as a valid block."""


@click.command("import")
@click.argument("ref", metavar="NAME|ID")
@click.option("--name", "block_name", metavar="BLOCK", help="The endpoint's name in gpu.jsonc (default: its name now); deploy renames it to this.")
@click.option("--write", is_flag=True, help="Insert the block into gpu.jsonc (default: print it and change nothing).")
@click.option("--force", is_flag=True, help="Take over an endpoint that carries another project's marker.")
@click.option("--literal-env", "literal", multiple=True, metavar="KEY",
              help="Write this env var's value from the account as plain text (it is no secret); needs --write. Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print the block, what it leaves to you and the plan as JSON on stdout.")
@provider_options
@click.pass_obj
def import_endpoint(app: AppContext, ref: str, block_name: str | None, write: bool, force: bool, literal: tuple[str, ...],
                    as_json: bool, provider: str | None, config: str | None) -> int:
    """Generate the serverless block of a live endpoint, so deploy adopts it.

    The block reproduces the endpoint: template (from the image), GPU types (from its pools
    and exclusions), scaling, volume, env. Env values are written as {"secret": ...}: a RunPod
    secret reference as it is, any other value as a placeholder to create, unless
    --literal-env names it. The block carries "adopt": the next deploy writes this project's
    marker on the endpoint, and nothing else when the block reproduces it. An endpoint of
    another project is refused without --force."""
    from gpuctl.cli.resolve import open_target
    from gpuctl.errors import UsageError

    if literal and not write:
        raise UsageError("--literal-env writes an env value from the account into gpu.jsonc, so it needs --write",
                         hint="add --write (import never prints env values)")
    target = open_target(app, provider, config, blocks_optional=True)  # a gpu.jsonc without a block yet gets its first
    try:
        return _run(app, target, ref, block_name, write, force, set(literal), as_json, config, provider)
    finally:
        target.close()


def _run(app: AppContext, target, ref: str, block_name: str | None, write: bool, force: bool, literal: set[str], as_json: bool,
         config: str | None, provider: str | None) -> int:
    from gpuctl.catalog import load_catalog
    from gpuctl.cli.planning import user_path
    from gpuctl.cli.resolve import endpoint as find
    from gpuctl.config import edit, from_account
    from gpuctl.v2 import registry

    path, display = user_path(app, config)
    project_id = target.project_id or path.resolve().parent.name
    live = find(target, ref)
    for value in from_account.account_env(live).values():  # every value but gpuctl's own markers
        app.protect(value if isinstance(value, str) else None)
    name = block_name or live.get("name") or ""
    adopt = _adoption(target, live, project_id, name, force)
    _check_literal(live, literal)
    catalog = load_catalog()
    declared = any(b.model.runpod.registry_auth for b in target.loaded.blocks) if target.loaded else False
    observed = target.provider.observe(True, registries=declared or registry(live) is not None)  # the name of its credential, for registry_auth
    made = from_account.block_of(live, catalog, list(observed.network_volumes), name=name, literal=literal,
                                 project_dir=path.resolve().parent, adopt=adopt, registries=observed.registries)
    read = target.loaded.source.text if target.loaded else None  # written over only if the file still holds it (edit.save)
    text = edit.add_block(read, made.block) if read is not None else edit.new_file(project_id, made.block)
    # A file with no project_id (a GPU CLI pod config) gets the one its marker is now, as a new
    # file does: without it the plan warns that a clone under another name is another project.
    named = read is not None and not target.loaded.source.data.get("project_id")
    text = edit.set_value(text, ("project_id",), project_id) if named else text
    address = f"endpoint.{name}"
    plan = _plan(app, target, path, display, text, catalog, observed, made.problems)
    if write:
        edit.save(path, text, read=read, by="gpu serverless import", shown=display)
    _report(app, live, made, plan, address, display, write, as_json, _again(live.get("id") or ref, block_name, force, config, provider),
            project_id if named else None, target.flags)
    return ExitCode.OK


def _again(ref: str, block_name: str | None, force: bool, config: str | None, provider: str | None) -> str:
    """`gpu serverless import ID` with every option given that the block or the account
    depends on (--name, --force, --config, --provider), quoted for a shell: the start of each
    command the notes suggest, which the caller ends with --write and what it adds."""
    from gpuctl.commands import Flags, suggest

    words = ["serverless", "import", ref]
    words += ["--name", block_name] if block_name else []
    words += ["--force"] if force else []
    return suggest(*words, flags=Flags(config or None, provider or None))


def _adoption(target, live: dict, project_id: str, name: str, force: bool) -> str | None:
    """The `adopt` value of the block: the endpoint id, or None when it is this project's
    already under that name (an orphan: only its block was missing). Refuses another
    project's endpoint without --force, an endpoint gpu.jsonc declares, and a name it declares."""
    from gpuctl.commands import suggest
    from gpuctl.v2 import owner
    from gpuctl.errors import UsageError

    project = owner(live)
    if target.loaded is not None:
        from gpuctl.config.sourcemap import dotted

        names = {b.model.name or project_id: b.prefix for b in target.loaded.blocks}
        if project == project_id and live.get("name") in names:
            raise UsageError(f'endpoint "{live.get("name")}" ({live.get("id")}) is this project\'s and {target.loaded.source.display} declares it ({dotted(names[live["name"]])})',
                             hint=f"there is nothing to import; `{suggest('serverless', 'pull', str(live.get('name')), flags=target.flags)}` brings its account values into gpu.jsonc")
        if name in names:
            from gpuctl.plan.adopt import adopt_advice

            block = f"the block at {dotted(names[name])}"
            raise UsageError(f'{target.loaded.source.display} already declares an endpoint named "{name}" ({dotted(names[name])})',
                             hint=f"if {live.get('id')} is that block's endpoint (made by hand in its place), {adopt_advice(live, project_id, block)}; "
                                  "otherwise pass --name to give the imported endpoint another name in gpu.jsonc (deploy renames it)")
    if project == project_id and name == live.get("name"):
        return None  # an orphan: the marker is there, only the block was missing
    if project and not force:
        raise ForeignEndpoint(f'endpoint "{live.get("name")}" ({live.get("id")}) belongs to project "{project}"',
                              hint=f'pass --force to take it over: deploy then writes the marker of project "{project_id}", and project "{project}" no longer manages it')
    return live.get("id")


def _check_literal(live: dict, literal: set[str]) -> None:
    from gpuctl.config.from_account import account_env
    from gpuctl.errors import UsageError
    from gpuctl.spelling import did_you_mean

    env = account_env(live)
    unknown = sorted(k for k in literal if k not in env)
    if unknown:
        raise UsageError(f"--literal-env {unknown[0]}: the endpoint has no env var of that name",
                         hint=did_you_mean(unknown[0], list(env)) or f"its env: {', '.join(sorted(env)) or 'none'}")


def _plan(app: AppContext, target, path, display: str, text: str, catalog, observed, problems):
    """The plan deploy will make with the block in gpu.jsonc (checked, not written): the
    whole of it, since its cost and headline are the whole plan's. A block gpu.jsonc refuses
    (a CPU endpoint, a value outside gpu.jsonc's bounds) stops here."""
    from gpuctl.cli.views import _Unset
    from gpuctl.config import build_desired, load_config
    from gpuctl.errors import ConfigError
    from gpuctl.plan import plan

    try:
        loaded = load_config(path, catalog=catalog, display=display, text=text)
    except ConfigError as exc:
        app.protect_variables(exc)  # the error is quoted in the one raised here
        found = [f"{p.field}: {p.message}" for p in problems] + [f"{d.path}: {d.message}" for d in exc.diagnostics]
        raise ImportFailed(f"gpu.jsonc cannot declare this endpoint ({'; '.join(found)}); nothing was written",
                           hint="change the endpoint in the RunPod console so it fits, then import it again") from None
    environ = _Unset(app.environ)
    environ.missing = set()
    return plan(build_desired(loaded, environ, catalog), observed, catalog, target=target.name)


def _report(app: AppContext, live: dict, made, plan, address: str, display: str, write: bool, as_json: bool, again: str,
            project_id: str | None, flags=None) -> None:
    from gpuctl.config.edit import render
    from gpuctl.render.document import to_document

    doc = to_document(plan)
    if as_json:
        from gpuctl.cli.output import print_json

        from gpuctl.redact import hide_env

        out = {"format_version": "1", "endpoint": {"id": live.get("id"), "name": live.get("name"), "address": address}, "config": display, "written": write,
               "block": _hidden(made.block), "placeholders": made.placeholders,
               "cannot_reproduce": [{"field": p.field, "message": p.message} for p in made.problems], "plan": hide_env(doc)}
        print_json(app, out)
        return
    from gpuctl.safetext import printable

    app.stdout.write(printable(render(_hidden(made.block), "", "  ")) + "\n")  # render escapes only C0; the block quotes the account
    _notes(app, made, display, write, again, plan.provider, project_id, flags)
    from gpuctl.render.text import render_text

    app.note(_headline(plan, address))
    render_text(doc, app.console(stderr=True))


def _headline(plan, address: str) -> str:
    """What the plan below is: deploy's whole plan, the imported endpoint's part named, and
    the changes gpu.jsonc has pending elsewhere counted, so a change or a cost that is not the
    import's is not mistaken for it."""
    from gpuctl.plan.model import CHANGING
    from gpuctl.render.words import PHRASE

    own = next((c for c in plan.changes if c.address == address), None)
    others = sum(1 for c in plan.changes if c.address != address and c.action in CHANGING)
    if not plan.has_changes:
        return f"deploy will then change nothing: {address} matches the account, and so does the rest of gpu.jsonc:"
    part = f"{address} {PHRASE[own.action.value]}" if own is not None and own.action in CHANGING else f"{address}: no change"
    if not others:
        return f"deploy will then make this plan ({part}; nothing else in gpu.jsonc changes):"
    return (f"deploy will then make this plan, the whole of it ({part}; {counted(others, 'other change')} "
            "pending elsewhere in gpu.jsonc, counted in the cost and the totals too):")


def _hidden(block: dict) -> dict:
    """The block as it may be shown: a literal env value (--literal-env) is never printed."""
    env = (block.get("runpod") or {}).get("env") or {}
    if not any(isinstance(v, str) for v in env.values()):
        return block
    shown = {k: (v if not isinstance(v, str) else "(written to gpu.jsonc, not shown)") for k, v in env.items()}
    return {**block, "runpod": {**block["runpod"], "env": shown}}


def _notes(app: AppContext, made, display: str, write: bool, again: str, target: str, project_id: str | None, flags=None) -> None:
    """`project_id`: the one import adds to a file that has none (the directory's name)."""
    from gpuctl.commands import NONE, suggest

    name = made.block["name"]
    named = (f' and project_id "{project_id}" (the directory\'s name, the marker deploy writes: kept in the file, a clone or a '
             "CI checkout under another name stays this project)") if project_id else ""
    if write:
        app.note(f'added the block of endpoint "{name}"{named} to {display}; `{suggest("serverless", "deploy", flags=flags or NONE)}` adopts it')
    else:
        app.note(f"nothing was written; `{again} --write` inserts this block{named} into {display}")
    if made.placeholders:
        from gpuctl.plan.planner import create_secret_fix

        keys = ", ".join(made.placeholders)
        app.note(f'env {keys}: the account\'s values are not copied; the block says {{"secret": "<KEY>"}}, and a worker gets the value only '
                 f"from a secret of that name (the plan names each). Before deploying, {create_secret_fix(target, made.placeholders)}; "
                 "or, for a value that is no secret, "
                 + (f'write the value in place of {{"secret": "<KEY>"}} in {display}' if write else f"import again: {again} --write --literal-env KEY"))
    for problem in made.problems:
        app.note(f"cannot reproduce {problem.field}: {problem.message}")

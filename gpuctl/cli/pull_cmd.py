"""`gpu serverless pull [NAME] [--write]`: take the account's values back into gpu.jsonc.

It plans as `deploy --plan` does, then rewrites the text of gpu.jsonc for every difference whose
origin is not gpu.jsonc itself (gpuctl/config/pull.py). Before anything is shown the edited
text is loaded and planned again: the file must still be valid, keep every comment, and
declare what the account holds for each pulled field. Read-only towards the account; the
local provider is never started.
"""

from __future__ import annotations

import json

import click

from gpuctl.cli.context import AppContext
from gpuctl.cli.resolve import provider_options
from gpuctl.errors import ExitCode, GpuctlError


class PullFailed(GpuctlError):
    """The edit pull made does not mean what it should (a bug): nothing is written."""


@click.command("pull")
@click.argument("name", required=False)
@click.option("--write", is_flag=True, help="Write the edit to gpu.jsonc (default: print it as a unified diff, change nothing).")
@click.option("--literal-env", "literal", multiple=True, metavar="KEY",
              help="Copy this env var's value from the account as plain text (it is no secret); without it a value the account changed "
                   "or added is listed, never copied. Repeatable.")
@click.option("--json", "as_json", is_flag=True, help="Print what pull changes (or would change) as JSON on stdout.")
@provider_options
@click.pass_obj
def pull(app: AppContext, name: str | None, write: bool, literal: tuple[str, ...], as_json: bool, provider: str | None, config: str | None) -> int:
    """Rewrite gpu.jsonc to declare the values changed in the account.

    Each field the account changed since the last apply (or whose origin is unknown) is written
    into gpu.jsonc, keeping its comments, key order, indentation and trailing commas. Fields
    changed in gpu.jsonc are kept: deploy applies them. Env values read from ${VAR} or a RunPod
    secret, env the account added, and an env literal the account changed (it may be a pasted
    credential) are listed for you, never written, unless --literal-env KEY says that value is
    no secret. NAME limits it to one endpoint."""
    from gpuctl.cli.resolve import open_target
    from gpuctl.commands import Flags

    target = open_target(app, provider, config)
    try:
        return _run(app, target, name, write, as_json, frozenset(literal), Flags.of_run(config, provider))
    finally:
        target.close()


def _run(app: AppContext, target, name: str | None, write: bool, as_json: bool, literal: frozenset[str] = frozenset(), flags=None) -> int:
    """Pull; `flags` (`gpuctl.commands.Flags`): the run's --config and --provider, which every
    command it suggests repeats."""
    from gpuctl.catalog import load_catalog
    from gpuctl.config.pull import Left, pull as pull_text
    from gpuctl.config.source import nearby_config
    from gpuctl.errors import UsageError
    from gpuctl.plan.planner import unreported
    from gpuctl.commands import NONE, suggest
    from gpuctl.render.document import to_document

    flags = flags or NONE
    if target.loaded is None:
        raise UsageError("no gpu.jsonc here, so there is nothing to pull into", hint=nearby_config(app.cwd) or "run it in the project directory or pass --config")
    loaded, catalog = target.loaded, load_catalog()
    _check_name(loaded, name, flags)
    observed, plan, gone, unknown = _plan(app, target, loaded, catalog, None)
    text = loaded.source.text  # the text the plan was made from: written back only if the file still holds it (edit.save)
    endpoints = {e.get("id"): e for e in observed.endpoints}
    result = pull_text(text, loaded, to_document(plan)["resource_changes"], endpoints, list(observed.network_volumes), catalog, name,
                       unreported(plan, observed), literal, list(observed.registries) if observed.registries is not None else None, flags, gone)
    for block, problem in unknown.items():  # gpu.jsonc's own name: kept, and said at the key
        if not name or block == name:
            result.left.append(Left(f"endpoint.{block}", "registry", "config",
                                    f"{problem.location()}: {problem.path}: {problem.message}; {problem.hint}"))
    _protect(app, loaded, observed, result)
    if result.pulled:
        _verify(app, target, loaded, catalog, observed, text, result)
    diff = _diff(text, result.text, loaded.source.display)
    if write and result.pulled:
        from gpuctl.config.edit import save

        save(loaded.source.path, result.text, read=text, by="gpu serverless pull", shown=loaded.source.display)
    for block, value in gone.items():
        if not name or block == name:
            app.note(f'endpoint {block}: the account has no container registry credential named {json.dumps(value)} (deleted in the console?), '
                     "so its runpod.registry_auth takes the endpoint's credential, or none (above); if the image is private, "
                     "create the credential again and write its name back")
    again = suggest("serverless", "pull", *([name] if name else []), "--write", *(w for k in sorted(literal) for w in ("--literal-env", k)), flags=flags)
    _report(app, loaded.source.display, result, diff, write, as_json, again, suggest("serverless", "deploy", "--plan", flags=flags))
    unused = sorted(k for k in literal if not any(p.field == f"env.{k}" for p in result.pulled))
    if unused:
        app.note(f"--literal-env {', '.join(unused)}: no such env value differs from gpu.jsonc{f' on endpoint {name}' if name else ''}, so nothing was copied for it")
    return ExitCode.OK


def _check_name(loaded, name: str | None, flags) -> None:
    from gpuctl.errors import UsageError
    from gpuctl.commands import suggest
    from gpuctl.spelling import did_you_mean

    names = [b.model.name or loaded.project_id for b in loaded.blocks]
    if name and name not in names:
        renamed = [b.model.name or loaded.project_id for b in loaded.blocks if b.model.renamed_from == name]
        if renamed:  # the account still has the old name until deploy renames it (ADR 29)
            raise UsageError(f'no endpoint named "{name}" in {loaded.source.display}: endpoint "{renamed[0]}" is renamed from it ("renamed_from": "{name}")',
                             hint=f"run `{suggest('serverless', 'pull', renamed[0], flags=flags)}`: it pulls the account's values of \"{name}\" into that block")
        raise UsageError(f'no endpoint named "{name}" in {loaded.source.display}', hint=did_you_mean(name, names) or f"declared: {', '.join(names)}")


def _plan(app: AppContext, target, loaded, catalog, observed):
    """(observed, plan, gone, unknown) as `deploy --plan` makes it; a `${VAR}` that is not set
    here is left out of the comparison, as `list` does, so pull needs no secrets. A
    `runpod.registry_auth` the account has no credential for stops deploy; pull tells why
    (`registries.removed_in_account`, from the endpoint's last-applied record). `gone`: by block
    name, the name of a credential gpuctl set that the account took away (deleted in the
    console): pull's job is the account's value, so the block is planned as if it did not
    declare the key. `unknown`: by block name, the warning at any other such name (a typo, a
    credential not made yet), which is gpu.jsonc's own: the block is planned as if it named the
    credential the endpoint holds, so pull writes nothing for the key and keeps it."""
    from dataclasses import replace

    from gpuctl.cli.views import _Unset
    from gpuctl.config import build_desired
    from gpuctl.model import RegistryAuth
    from gpuctl.plan import drift, plan, registries
    from gpuctl.plan.model import Kind
    from gpuctl.v2 import registry

    environ = _Unset(app.environ)
    environ.missing = set()
    desired = build_desired(loaded, environ, catalog)
    for spec in desired.endpoints:
        for _, value in spec.env:
            app.protect(getattr(value, "value", None))  # a `${VAR}` value read from here is never shown
    if observed is None:
        observed = desired.observe(target.provider)
    missing = {s.name: s for s in desired.endpoints if registries.gone(s, observed)}
    undeclared = replace(desired, endpoints=tuple(replace(s, registry_auth=None) if s.name in missing else s for s in desired.endpoints))
    first = plan(undeclared, observed, catalog, target=target.name)
    if not missing:
        return observed, first, {}, {}
    records = drift.records_of(observed.templates, desired.project_id)
    endpoints = {str(e.get("id")): e for e in observed.endpoints}
    ids = {c.name: str(c.id) for c in first.changes if c.kind == Kind.ENDPOINT and c.id}
    gone, unknown, holds = {}, {}, {}
    for block, spec in missing.items():
        live = endpoints.get(ids.get(block, ""))
        if registries.removed_in_account(records.get(ids.get(block, "")), live):
            gone[block] = spec.registry_auth.value  # pull then writes the endpoint's credential, or none (config.pull)
            continue
        unknown[block] = registries.unknown(spec, observed, target.name, live, target.flags)
        held = registry(live) if live is not None else None
        listed = any(isinstance(r, dict) and r.get("id") == held for r in observed.registries or ())
        holds[block] = RegistryAuth(held, spec.registry_auth.key) if held and listed else None
    if not unknown:
        return observed, first, gone, unknown
    desired = replace(undeclared, endpoints=tuple(replace(s, registry_auth=holds[s.name]) if s.name in unknown else s for s in undeclared.endpoints))
    return observed, plan(desired, observed, catalog, target=target.name), gone, unknown


def _protect(app: AppContext, loaded, observed, result) -> None:
    """Every env value of the account is kept out of the output, except those redact.env_shown
    shows: gpuctl's markers, the literals gpu.jsonc holds for that endpoint and key (they are in
    git, and the diff's context shows them), the literals pull writes over one (the diff
    shows them too), and RunPod secret references, which are names (resolve.env_secrets)."""
    from gpuctl.cli.planning import env_literals
    from gpuctl.cli.resolve import env_secrets
    from gpuctl.v2 import env_of

    literals = env_literals(loaded)
    for p in result.pulled:
        if isinstance(p.after, str) and p.field.startswith("env.") and p.address.startswith("endpoint."):
            literals[(p.address.removeprefix("endpoint."), p.field.removeprefix("env."))] = p.after
    for endpoint in observed.endpoints:
        name = endpoint.get("name")
        for key, value in env_of(endpoint).items():
            for secret in env_secrets(key, value, literals.get((name, key))):  # a secret reference is a name
                app.protect(secret)


def _verify(app: AppContext, target, loaded, catalog, observed, before: str, result) -> None:
    """The edited text is valid, keeps every comment, and leaves no pulled field differing."""
    from gpuctl.commands import suggest
    from gpuctl.config import load_config
    from gpuctl.config.edit import comments_kept
    from gpuctl.errors import ConfigError

    if not comments_kept(before, result.text):
        raise PullFailed("pull's edit of gpu.jsonc would remove a comment; nothing was written", hint="report this; edit gpu.jsonc by hand meanwhile")
    try:
        edited = load_config(loaded.source.path, catalog=catalog, display=loaded.source.display, text=result.text)
    except ConfigError as exc:
        app.protect_variables(exc)  # the error is quoted in the one raised here
        problems = "; ".join(f"{d.path}: {d.message}" for d in exc.diagnostics)
        raise PullFailed(f"the account's values do not fit gpu.jsonc ({problems}); nothing was written",
                         hint=f"pull the other endpoints with `{suggest('serverless', 'pull', 'NAME', flags=target.flags)}`, and set these by hand") from None
    _, again, _, _ = _plan(app, target, edited, catalog, observed)
    pulled = {(p.address, p.field) for p in result.pulled}
    still = sorted(f"{c.address} {fc.path}" for c in again.changes for fc in c.changes if (c.address, fc.path) in pulled)
    if still:
        raise PullFailed(f"after the edit these still differ: {', '.join(still)}; nothing was written", hint="report this; edit gpu.jsonc by hand meanwhile")


def _diff(before: str, after: str, display: str) -> str:
    import difflib

    return "".join(difflib.unified_diff(before.splitlines(keepends=True), after.splitlines(keepends=True), f"a/{display}", f"b/{display}"))


_ORIGIN = {
    "account": "changed in the account",
    "both": "changed in both gpu.jsonc and the account; the account's value is taken",
    "other-config": "applied from another gpu.jsonc, outside this one's review; the account's value is taken (review the diff)",
    "unknown": "origin unknown: there is no last-applied record, so some may be gpu.jsonc's own changes not yet deployed (check the diff)",
}


def _shown(value) -> str:
    import json

    from gpuctl.safetext import printable

    return "(removed)" if value is None else printable(json.dumps(value, ensure_ascii=False), keep_newlines=False)


def _report(app: AppContext, display: str, result, diff: str, write: bool, as_json: bool, again: str, check: str) -> None:
    """Print what pull did. `again`: this pull with --write; `check`: the plan that checks the
    edit (both with the run's options)."""
    if as_json:
        from gpuctl.cli.output import print_json

        doc = {"format_version": "1", "config": display, "written": write and bool(result.pulled), "diff": diff,
               "pulled": [vars(p) for p in result.pulled], "left": [vars(item) for item in result.left], "kept": [vars(item) for item in result.kept]}
        print_json(app, doc)
        return
    from gpuctl.safetext import printable

    app.stdout.write(printable(diff))  # the account's values, quoted: a U+202E or a \x9b in one is shown, not obeyed
    for origin, label in _ORIGIN.items():
        lines = [f"  {p.address} {p.field}: {p.key} = {_shown(p.after)}" for p in result.pulled if p.origin == origin]
        if lines:
            app.note("\n".join([f"pulled ({label}):", *lines]))
    if result.kept:
        app.note("\n".join(["kept (changed in gpu.jsonc since the last apply; deploy applies them):", *(f"  {k.address} {k.field}" for k in result.kept)]))
    if result.left:
        app.note("\n".join(["left for you:", *(f"  {' '.join(filter(None, (i.address, i.field)))}: {i.reason}" for i in result.left)]))
    if not result.pulled and result.left:
        app.note("nothing pull can write: what differs, or could not be compared, is left for you (above)")
    elif not result.pulled:
        app.note("nothing to pull: gpu.jsonc already declares every value the account changed")
    elif write:
        app.note(f"wrote {display}; check it with `{check}`")
    else:
        app.note(f"nothing was written; `{again}` applies this to {display}")

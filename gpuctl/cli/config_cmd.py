"""`gpu config validate|schema`."""

from __future__ import annotations

import click

from gpuctl.cli.context import AppContext
from gpuctl.cli.paths import CONFIG_FILE
from gpuctl.errors import ExitCode
from gpuctl.words import counted


@click.group("config")
def config_group() -> None:
    """Check gpu.jsonc and print its JSON Schema."""


@config_group.command("validate")
@click.option("--config", "config", type=CONFIG_FILE, help="Path to gpu.jsonc (default: ./gpu.jsonc).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@click.pass_obj
def validate(app: AppContext, config: str | None, as_json: bool) -> int:
    """Check gpu.jsonc without contacting any API. ${VAR} references are listed, not required."""
    from gpuctl.cli.output import print_json

    from gpuctl.cli import planning
    from gpuctl.config import load_config, variables
    from gpuctl.errors import ConfigError

    path, display = planning.user_path(app, config)
    try:
        loaded = load_config(path, display=display)
    except ConfigError as exc:
        if not as_json:
            raise
        app.protect_variables(exc)
        errors = [{"file": d.file, "line": d.line, "column": d.col, "path": d.path, "message": d.message, "hint": d.hint} for d in exc.diagnostics]
        print_json(app, {"valid": False, "errors": errors})
        return ExitCode.ERROR
    endpoints = [
        {"name": b.model.name or loaded.project_id, "template": b.template.resolved, "gpu_type": b.model.gpu_type, "volume": b.model.volume.name if b.model.volume else None}
        for b in loaded.blocks
    ]
    needed = sorted({(f"endpoint.{b.model.name or loaded.project_id}", key, var) for b, key, var in variables(loaded)})
    missing = [n for n in needed if n[2] not in app.environ]
    if as_json:
        doc = {"valid": True, "project_id": loaded.project_id, "endpoints": endpoints,
               "warnings": [{"code": n.code, "address": n.address, "message": n.message} for n in loaded.notices if n.level == "warning"],
               "notes": [{"code": n.code, "address": n.address, "message": n.message} for n in loaded.notices if n.level == "note"],
               "variables": [{"address": a, "env": k, "variable": v, "set": v in app.environ} for a, k, v in needed]}
        print_json(app, doc)
        return ExitCode.OK
    listing = described(display, endpoints)
    if len(listing) > 1 and (loaded.notices or missing):
        listing.append("")  # the warnings below are not more endpoints
    app.stdout.write("".join(line + "\n" for line in listing))
    for n in sorted(loaded.notices, key=lambda n: n.level != "warning"):
        mark = "!" if n.level == "warning" else "-"
        app.stdout.write(f"  {mark} {n.address + ': ' if n.address else ''}{n.message}\n")
    for address, key, var in missing:
        app.stdout.write(f"  ! {address}: env.{key} reads ${{{var}}}, which is not set here; deploy will need it\n")
    return ExitCode.OK


INLINE_UP_TO = 3  # endpoints named on the "is valid" line; more get a line each, as after a deploy


def described(display: str, endpoints: list[dict]) -> list[str]:
    """"gpu.jsonc is valid: 2 endpoints: a (whisper on NVIDIA L4), b (...)" for a few endpoints;
    past `INLINE_UP_TO`, the count and then one aligned line each (name, template, GPU type,
    volume), so a platform team's config is not one line hundreds of characters wide."""
    count = counted(len(endpoints), "endpoint")
    if len(endpoints) <= INLINE_UP_TO:
        return [f"{display} is valid: {count}: " + ", ".join(f"{e['name']} ({e['template']} on {e['gpu_type']})" for e in endpoints)]
    name_w, template_w = (max(len(str(e[k])) for e in endpoints) for k in ("name", "template"))
    rows = [f"  {e['name']:<{name_w}}  {e['template']:<{template_w}}  {e['gpu_type']}" + (f"  volume {e['volume']}" if e["volume"] else "") for e in endpoints]
    columns = "name, template, GPU type" + (", volume" if any(e["volume"] for e in endpoints) else "")
    return [f"{display} is valid: {count} ({columns}):", *rows]


@config_group.command("schema")
@click.pass_obj
def schema(app: AppContext) -> int:
    """Print the JSON Schema of gpu.jsonc (the same as schema/gpu.schema.json)."""
    from gpuctl.cli.output import print_json

    from gpuctl.config.jsonschema import config_schema

    print_json(app, config_schema())
    return ExitCode.OK

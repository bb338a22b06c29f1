"""What `deploy` and `config validate` share: finding gpu.jsonc, per-run overrides, choosing
the provider, and writing a plan in the asked-for format."""

from __future__ import annotations

from pathlib import Path

from gpuctl.cli.context import AppContext
from gpuctl.errors import UsageError
from gpuctl.model import Override

OVERRIDE_FLAGS = {
    "template": ("--template", "template"),
    "gpu_type": ("--gpu-type", "gpu_type"),
    "min_workers": ("--min-workers", "scaling.min_workers"),
    "max_workers": ("--max-workers", "scaling.max_workers"),
    "idle_timeout": ("--idle-timeout", "scaling.idle_timeout"),
}


def config_path(app: AppContext, given: str | None) -> tuple[Path, str]:
    """The config file and the name to print for it (relative when inside the cwd)."""
    path = Path(given) if given else app.cwd / "gpu.jsonc"
    if not path.is_absolute():
        path = app.cwd / path
    try:
        display = str(path.relative_to(app.cwd))
    except ValueError:
        display = str(path)
    return path, display


def literal_env(app: AppContext, given: str | None) -> tuple[dict[tuple[str, str], str], str | None]:
    """{(endpoint name, env key): value} for env values gpu.jsonc holds as plain literals (not
    `${VAR}`, not secrets), and the config's provider; empty when there is no config."""
    from gpuctl.config import load_config

    path, display = config_path(app, given)
    if given is None and not path.exists():
        return {}, None
    loaded = load_config(path, display=display)
    literals = {
        (b.model.name or loaded.project_id, key): value
        for b in loaded.blocks for key, value in b.model.runpod.env.items()
        if isinstance(value, str) and "${" not in value
    }
    return literals, loaded.provider


def overrides(options: dict) -> list[Override]:
    return [Override(flag, path, options[key]) for key, (flag, path) in OVERRIDE_FLAGS.items() if options.get(key) is not None]


def choose_provider(app: AppContext, flag: str | None, configured: str | None) -> tuple[str, str]:
    """(provider, why): --provider, else GPU_PROVIDER, else the config's provider, else runpod
    when an API key is configured, else local."""
    for value, source in ((flag, "--provider"), (app.environ.get("GPU_PROVIDER"), "GPU_PROVIDER"), (configured, "gpu.jsonc provider")):
        if value:
            if value not in ("runpod", "local"):
                raise UsageError(f'unknown provider "{value}" (from {source})', hint="use runpod or local")
            return value, source
    from gpuctl.credentials import ENV_VAR, api_key

    key, where = api_key(app.environ)
    if key:
        return "runpod", f"{ENV_VAR} is set" if app.environ.get(ENV_VAR) else f"an API key is stored in {where}"
    return "local", "no RunPod API key is configured"


def output_format(fmt: str | None, as_json: bool) -> str:
    if as_json and fmt not in (None, "json"):
        raise UsageError(f"--json conflicts with --format {fmt}", hint="use one of them")
    return "json" if as_json else (fmt or "text")


def write_plan(app: AppContext, plan, fmt: str) -> None:
    from gpuctl.render.document import dumps, to_document

    doc = to_document(plan)
    if fmt == "json":
        app.stdout.write(dumps(doc))
    elif fmt == "markdown":
        from gpuctl.render.markdown import render_markdown

        app.stdout.write(render_markdown(doc))
    else:
        from gpuctl.render.text import render_text

        render_text(doc, app.console())

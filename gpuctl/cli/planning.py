"""What `deploy` and `config validate` share: finding gpu.jsonc, per-run overrides, choosing
the provider, and writing a plan in the asked-for format."""

from __future__ import annotations

from pathlib import Path

from gpuctl.cli.context import AppContext
from gpuctl.commands import suggest
from gpuctl.errors import GpuctlError, UsageError
from gpuctl.model import Override, acyclic

OVERRIDE_FLAGS = {
    "template": ("--template", "template"),
    "gpu_type": ("--gpu-type", "gpu_type"),
    "min_workers": ("--min-workers", "scaling.min_workers"),
    "max_workers": ("--max-workers", "scaling.max_workers"),
    "idle_timeout": ("--idle-timeout", "scaling.idle_timeout"),
}


def user_path(app: AppContext, given: str | None) -> tuple[Path, str]:
    """A path the user named (`given`; gpu.jsonc when None) and the name to print for it: a
    relative one as typed, an absolute one relative to the cwd when inside it (an error named
    `--from-plan ../plan.json` by its absolute path). Every path from the command line goes through here: a
    relative one is relative to the command's working directory, `app.cwd`, never the process's
    (`deploy --from-plan` and `local --data-dir` read the process's, so a caller that runs gpu
    in-process for another directory, or a test, got another file)."""
    path = Path(given) if given else app.cwd / "gpu.jsonc"
    if not path.is_absolute():
        path = app.cwd / path
    if given and not Path(given).is_absolute():
        return path, given
    try:
        display = str(path.relative_to(app.cwd))
    except ValueError:
        display = str(path)
    return path, display


def literal_env(app: AppContext, given: str | None) -> tuple[dict[tuple[str, str], str], str | None]:
    """{(endpoint name, env key): value} for env values gpu.jsonc holds as plain literals (not
    `${VAR}`, not secrets), and the config's provider; empty when there is no config."""
    from gpuctl.config import load_config

    path, display = user_path(app, given)
    if given is None and not path.exists():
        return {}, None
    loaded = load_config(path, display=display)
    return env_literals(loaded), loaded.provider


def env_literals(loaded) -> dict[tuple[str, str], str]:
    """{(endpoint name, env key): value} for the env values `loaded` (a LoadedConfig, or None)
    holds as plain literals: what the user wrote and committed, so no secret (ADR 6). A
    `${VAR}` reference and a RunPod secret are no plain literal. The one rule for every output
    that shows an env value from the account (snapshots, logs, the rollback plan)."""
    from gpuctl.config import references

    if loaded is None:
        return {}
    return {
        (b.model.name or loaded.project_id, key): value
        for b in loaded.blocks for key, value in b.model.runpod.env.items()
        if isinstance(value, str) and not references.names(value)
    }


def env_indirect(loaded) -> dict[tuple[str, str], str]:
    """{(endpoint name, env key): where gpu.jsonc reads it from} for the env values `loaded`
    (a LoadedConfig, or None) reads from a `${VAR}` or a RunPod secret (config.pull.indirect):
    those `pull --write` never writes."""
    from gpuctl.config.pull import indirect

    if loaded is None:
        return {}
    found = {(b.model.name or loaded.project_id, key): indirect(value) for b in loaded.blocks for key, value in b.model.runpod.env.items()}
    return {k: v for k, v in found.items() if v}


def overrides(options: dict) -> list[Override]:
    return [Override(flag, path, options[key]) for key, (flag, path) in OVERRIDE_FLAGS.items() if options.get(key) is not None]


class NoApiKey(GpuctlError):
    """No RunPod API key, and nobody at a terminal for whom the local provider is a fallback."""


class LocalCredentials(GpuctlError):
    """Provider runpod was chosen, but the key or base URL in the environment is the local
    provider's (what `gpu local env` exported): every request would reach the local server
    while the output says runpod."""


PROVIDERS = ("runpod", "local")
BASE_URL_VARS = ("RUNPOD_API_BASE_URL", "RUNPOD_ENDPOINT_BASE_URL")


def choose_provider(app: AppContext, flag: str | None, configured: str | None) -> tuple[str, str]:
    """(provider, why): --provider, else GPU_PROVIDER, else the config's provider, else the API
    key decides: the local provider's own token or base URLs (what `gpu local env` exports) mean
    local, any other key means runpod. With no key it is local, with a one-line notice, but only
    for a person at a terminal; unattended (CI, cron, a pipe) no key is an error, because a plan
    against an empty local account reports every endpoint as missing: a false drift alert."""
    explicit = _explicit_provider(app, flag, configured)
    if explicit:
        if explicit[0] == "runpod":
            _refuse_local_credentials(app, explicit[1])
        return explicit
    from gpuctl.credentials import ENV_VAR, KeyProblem, api_key

    try:
        key, where = api_key(app.environ)
    except KeyProblem:
        local = local_credentials(app, None)  # the URLs `gpu local env` exports choose local whatever the key
        if local:
            return "local", local
        raise
    local = local_credentials(app, key)
    if local:
        return "local", local
    if key:
        return "runpod", f"{ENV_VAR} is set" if app.environ.get(ENV_VAR) else f"an API key is stored in {where}"
    unattended = _unattended(app)
    if unattended:
        raise NoApiKey(f"no RunPod API key is configured, and {unattended}, so gpuctl will not fall back to the local provider",
                       hint=f"set {ENV_VAR} (or run `gpu auth login`) to use RunPod, or pass --provider local (or set GPU_PROVIDER=local) to use the local provider")
    app.note(f"note: no RunPod API key is configured, so this uses the local provider ({suggest('local', 'status')}); run `gpu auth login` to use RunPod")
    return "local", "no RunPod API key is configured"


CONFIG_PROVIDER_HINT = ("remove the `provider` key from gpu.jsonc, so the job uses RunPod with the workflow's api-key; if the job is really meant to "
                        "use the local provider, set the workflow's `provider` input to `local` (`gpu github ... --provider local`, or GPU_PROVIDER=local)")


def refuse_config_provider(app: AppContext, flag: str | None, loaded) -> None:
    """Raise a ConfigError at gpu.jsonc's `provider` key when it would choose the local
    provider for a job that a pull request's gpu.jsonc must not steer: the `gpu github` jobs
    (docs/adr/0031-github-provider-choice.md). There a pull request adding `provider: local`
    would plan against an empty throwaway account and "apply" to it on merge, every check green
    and RunPod untouched. Only --provider or GPU_PROVIDER, which the workflow sets, may choose
    local; gpu.jsonc saying runpod changes nothing and passes."""
    from gpuctl.errors import ConfigError

    if flag or app.environ.get("GPU_PROVIDER") or loaded.provider != "local":
        return
    message = ('is "local", and in a `gpu github` job the workflow chooses the account, not gpu.jsonc: a pull request could add this key, and '
               "its plan and its apply on merge would go to an empty local provider, every check green, while RunPod is left untouched")
    raise ConfigError("gpu.jsonc's provider key may not choose the local provider for a GitHub job",
                      [loaded.source.diagnostic(("provider",), message, CONFIG_PROVIDER_HINT)])


def snapshot_provider(app: AppContext, flag: str | None, configured: str | None, recorded: str | None, display: str) -> tuple[str, str]:
    """(provider, why) for a plan against a snapshot: the provider the snapshot was taken from,
    which --provider may not contradict. A snapshot that does not say (written by hand, or taken
    before snapshots recorded it) gets --provider, GPU_PROVIDER or the config's provider, else
    runpod, whose plans never add the local provider's GPUCTL_LOCAL_* env. Never reads the API
    key and never starts a server: such plans need no credentials."""
    if recorded is None:
        return _explicit_provider(app, flag, configured) or ("runpod", f"{display} does not record a provider")
    if flag and flag != recorded:
        raise UsageError(f"{display} was taken from the {recorded} provider, but --provider says {flag}",
                         hint=f"drop --provider or pass --provider {recorded}: a snapshot is planned for the provider it was taken from")
    return recorded, f"{display} was taken from it"


def _explicit_provider(app: AppContext, flag: str | None, configured: str | None) -> tuple[str, str] | None:
    """(provider, source) from --provider, GPU_PROVIDER or the config, in that order; None when
    none of them says."""
    for value, source in ((flag, "--provider"), (app.environ.get("GPU_PROVIDER"), "GPU_PROVIDER"), (configured, "gpu.jsonc provider")):
        if value:
            if value not in PROVIDERS:
                raise UsageError(f'unknown provider "{value}" (from {source})', hint="use runpod or local")
            return value, source
    return None


def local_credentials(app: AppContext, key: str | None) -> str | None:
    """Why the configured key or base URLs belong to the local provider of this environment's
    data dir (the one `connect` would use), or None. Read-only: nothing is started."""
    from gpuctl.local.client import lifecycle

    try:
        data_dir = lifecycle.default_data_dir(app.environ)
    except lifecycle.LocalProviderError:  # not a directory: no local provider's key or URL lives there
        return None
    if key and lifecycle.owns_key(data_dir, key):
        return f"the API key is the local provider's token (as `{suggest('local', 'env')}` exports it)"
    for name in BASE_URL_VARS:
        if app.environ.get(name) and lifecycle.owns_url(data_dir, app.environ[name]):
            return f"{name} is the local provider's URL (as `{suggest('local', 'env')}` exports it)"
    return None


def _refuse_local_credentials(app: AppContext, source: str) -> None:
    """Raise LocalCredentials when provider runpod (chosen by `source`) would talk to the
    local provider: its token as the key, or one of its URLs as a base URL, as
    `eval "$(gpu local env)"` leaves them. Any other URL (a proxy, a test double, a recording
    replay) is the user's to choose and passes."""
    from gpuctl.credentials import KeyProblem, api_key
    from gpuctl.local.client.lifecycle import EXPORTED

    try:
        key, _ = api_key(app.environ)
    except KeyProblem:  # connecting reports it, with its own fix
        key = None
    local = local_credentials(app, key)
    if local:
        raise LocalCredentials(
            f"{source} chooses provider runpod, but {local}: this command would reach the local provider while saying runpod",
            hint=f"to use RunPod, undo `{suggest('local', 'env')}` with `eval \"$({suggest('local', 'env', '--unset')})\"` (it runs `unset {' '.join(EXPORTED)}`) "
                 "and set RUNPOD_API_KEY to your RunPod key (or run `gpu auth login`); to use the local provider, pass --provider local")


def _unattended(app: AppContext) -> str | None:
    """Why nobody is at a terminal to be told about a fallback, or None when someone is."""
    if app.environ.get("CI"):
        return "CI is set"
    if not app.stdin_tty:
        return "stdin is not a terminal"
    if not app.stderr_tty:
        return "stderr is not a terminal"
    return None


def output_format(fmt: str | None, as_json: bool) -> str:
    if as_json and fmt not in (None, "json"):
        raise UsageError(f"--json conflicts with --format {fmt}", hint="use one of them")
    return "json" if as_json else (fmt or "text")


@acyclic  # one pause for the document and its rendering: a collection between them walks all of it
def write_plan(app: AppContext, plan, fmt: str, locate=None) -> None:
    """The plan in `fmt`; `locate` (`Session.locate`) names the gpu.jsonc key and line of each
    changed field."""
    from gpuctl.render.document import to_document, write_document

    if fmt == "json":
        write_document(plan, app.verbatim.write, locate)  # gpuctl's own document, written as made (ADR 38)
    elif fmt == "markdown":
        from gpuctl.render.markdown import render_markdown

        app.stdout.write(render_markdown(to_document(plan, locate)))
    else:
        from gpuctl.render.text import render_text

        render_text(to_document(plan, locate), app.console())

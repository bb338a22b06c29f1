"""Build the provider a command talks to: RunPod, or the embedded local provider (started on
demand). The API key and the local token are registered as secrets so no output shows them.
Under `--record DIR` every client sends through the recorder's transport, which writes the
exchanges with RunPod's public hosts in place of the base URLs actually used."""

from __future__ import annotations

from gpuctl.cli.context import AppContext
from gpuctl.commands import NONE, suggest
from gpuctl.errors import GpuctlError

RUNPOD_API = "https://api.runpod.io"
RUNPOD_JOBS = "https://api.runpod.ai/v2"


def api_base(environ) -> str:
    """RunPod's control-plane base URL: RUNPOD_API_BASE_URL (a proxy, a test server), else RunPod's."""
    return environ.get("RUNPOD_API_BASE_URL") or RUNPOD_API


def client(app: AppContext, base: str, key: str, public: str = RUNPOD_API, retry=None, provider: str = "runpod", flags=None):
    """The one HTTP client stack of the client side: an ApiClient for `base` that reports each
    call under --debug and sends through the recorder under --record (`public` is the RunPod
    host the recording names). `retry` narrows the default RetryPolicy for a quick check.
    `provider` ("runpod" or "local") is the one its errors' hints name, and `flags`
    (gpuctl.commands.Flags) the run's options the commands they suggest repeat. GPU_HTTP_TIMEOUT
    (seconds, more than 0) replaces the default 30 s a request may go unanswered."""
    from gpuctl.provider.errors import Who
    from gpuctl.provider.http import DEFAULT_TIMEOUT_S, ApiClient, RetryPolicy

    on_call = (lambda call: app.note(f"debug: {call.method} {call.url} -> {call.status} ({call.seconds * 1000:.0f} ms)")) if app.debug else None
    transport = app.recorder.transport(base, public) if app.recorder is not None else None
    timeout = app.seconds("GPU_HTTP_TIMEOUT", DEFAULT_TIMEOUT_S, positive=True)
    return ApiClient(base, key, timeout=timeout, retry=retry or RetryPolicy(), on_call=on_call, transport=transport, provider=Who.of(provider, flags or NONE))


def connect(app: AppContext, provider: str, start_local: bool = True, flags=None):
    """A RunPodProvider for `provider` ("runpod" or "local"); `flags` (gpuctl.commands.Flags):
    the run's options, which the commands its errors suggest repeat."""
    from gpuctl.provider.graphql import GraphQL
    from gpuctl.provider.runpod import RunPodProvider

    if provider == "local":
        from gpuctl.local.client import lifecycle

        data_dir = lifecycle.default_data_dir(app.environ)
        info = lifecycle.ensure_running(data_dir, environ=app.environ) if start_local else lifecycle.read_server_info(data_dir)
        if info is None:
            raise GpuctlError("the local provider is not running", hint=f"start it with `{suggest('local', 'up')}`")
        key = lifecycle.read_token(data_dir)
        control_base, jobs_base = info["api_base_url"], info["endpoint_base_url"]
    else:
        from gpuctl.credentials import api_key

        key, _ = api_key(app.environ)
        if not key:
            raise GpuctlError("no RunPod API key is configured", hint="run `gpu auth login`, set RUNPOD_API_KEY, or use --provider local")
        control_base = api_base(app.environ)
        jobs_base = app.environ.get("RUNPOD_ENDPOINT_BASE_URL") or RUNPOD_JOBS
    app.protect(key)
    if app.recorder is not None:
        app.recorder.provider = provider
    control, jobs = client(app, control_base, key, RUNPOD_API, provider=provider, flags=flags), client(app, jobs_base, key, RUNPOD_JOBS, provider=provider, flags=flags)
    if provider == "local":
        for each in (control, jobs):
            each.unreachable_hint = f"the local provider stopped answering (`{suggest('local', 'down')}`?); start it again with `{suggest('local', 'up')}`"
    if provider == "local":
        from gpuctl.local.client import secrets

        return RunPodProvider(provider, control, jobs, GraphQL(control), secrets=lambda: secrets.verdicts(data_dir))
    return RunPodProvider(provider, control, jobs, GraphQL(control))

"""Pre-warming an endpoint (`gpu serverless warm`, and `deploy` when `prewarm.enabled`).

Two modes (docs/prewarm.md): `cpu` downloads the models into the endpoint's network volume
from a short-lived CPU pod, so a cold worker reads them from disk instead of the Hub; `gpu`
runs one job through a real worker, so a worker is up (and FlashBoot has a snapshot).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from gpuctl.warm.errors import NoVolume

if TYPE_CHECKING:
    from gpuctl.cli.context import AppContext

DEFAULT_TIMEOUT_S = 900.0


def choose_mode(endpoint: dict, requested: str | None) -> str:
    """`cpu` when the endpoint has a network volume to fill, else `gpu`, unless asked."""
    volumes = endpoint.get("networkVolumes") or []
    mode = requested or ("cpu" if volumes else "gpu")
    if mode == "cpu" and not volumes:
        raise NoVolume(f"endpoint {endpoint.get('name')} has no network volume, so a CPU pod has nowhere to download the models to",
                       hint='use --gpu to start a worker instead, or add a "volume" block to gpu.jsonc and deploy')
    return mode


def run_prewarm(app: AppContext, provider: Any, endpoint: dict, mode: str | None = None, models: Sequence[str] = (),
                timeout: float = DEFAULT_TIMEOUT_S, *, cached_model: str | None = None) -> dict[str, Any]:
    """Warm `endpoint` (a REST v2 Endpoint object) and return the result document; progress
    goes to app.stderr. `models` are gpu.jsonc's `prewarm.models` (empty: the endpoint's
    MODEL_NAME, else `cached_model`, else its live cached model). Raises a GpuctlError when the
    warm-up fails, times out or is interrupted; no pod and no queued job is left behind."""
    from gpuctl.warm.models import choose_models
    from gpuctl.warm.signals import Interrupted, sigterm_as_interrupt
    from gpuctl.warm.view import make_view

    mode = choose_mode(endpoint, mode)
    chosen = choose_models(endpoint, models, cached_model, lambda: provider.graphql.model_references().get(endpoint["id"], [])) if mode == "cpu" else None
    with make_view(app) as view:
        try:
            with sigterm_as_interrupt():
                detail = _warm(app, provider, endpoint, mode, chosen, timeout, view)
        except KeyboardInterrupt:
            raise Interrupted("interrupted; the warm-up was stopped and nothing was left running") from None
    return {"format_version": "1", "provider": provider.name, "endpoint": {"id": endpoint["id"], "name": endpoint.get("name")},
            "mode": mode, "timeout": timeout, **detail}


def _warm(app: AppContext, provider: Any, endpoint: dict, mode: str, models: Any, timeout: float, view: Any) -> dict:
    if mode == "cpu":
        from gpuctl.warm.cpu import warm_cpu

        app.protect(app.environ.get("HF_TOKEN"))
        return warm_cpu(provider, endpoint, models, timeout, view, dict(app.environ))
    from gpuctl.warm.gpu import warm_gpu

    return warm_gpu(provider, endpoint, timeout, view)

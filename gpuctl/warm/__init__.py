"""Pre-warming an endpoint (`gpu serverless warm`, and `deploy` when `prewarm.enabled`).

Two modes (docs/prewarm.md): `cpu` downloads the models into the endpoint's network volume
from a short-lived CPU pod, so a cold worker reads them from disk instead of the Hub; `gpu`
runs one job through a real worker, so a worker is up (and FlashBoot has a snapshot).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gpuctl.warm.errors import NoVolume
from gpuctl.prewarm import WARM_POD_GRACE_S
from gpuctl.v2 import volume_ids
from gpuctl.provider.protocol import Provider

DEFAULT_TIMEOUT_S = 900.0


@dataclass(frozen=True)
class WarmIO:
    """What a warm-up needs from its surroundings, given by whoever runs it (the CLI)."""

    environ: Mapping[str, str]  # HF_TOKEN for the CPU pod's downloads
    view: Callable[[], Any]  # makes the progress view (gpuctl.render.warm.PlainView or RichView)
    note: Callable[[str], None]  # a one-line message for people
    protect: Callable[[str | None], None]  # a value no output may show
    sweep_grace: float = WARM_POD_GRACE_S  # how long past its run's deadline a warm-up pod is swept (clock skew between machines)
    flags: Any = None  # the run's options (gpuctl.commands.Flags), which the commands its messages suggest repeat; None: none


def choose_mode(endpoint: dict, requested: str | None, flags=None) -> str:
    """`gpu` unless `cpu` is asked for, as the seed's `warm NAME` and `warm NAME --cpu` are;
    `cpu` needs a network volume to download into. (deploy asks for gpu.jsonc's prewarm.mode.)"""
    from gpuctl.jobs import refuse_if_paused

    mode = requested or "gpu"
    if mode == "gpu":
        from gpuctl.commands import NONE, suggest

        refuse_if_paused(endpoint, "the warm-up job", f"or, with a network volume, `{suggest('serverless', 'warm', str(endpoint.get('id')), '--cpu', flags=flags or NONE)}` "
                         "downloads the models without a worker", flags)
    if mode == "cpu" and not volume_ids(endpoint):
        raise NoVolume(f"endpoint {endpoint.get('name')} has no network volume, so a CPU pod has nowhere to download the models to",
                       hint='use --gpu to start a worker instead, or add a "volume" block to gpu.jsonc and deploy')
    return mode


def run_prewarm(io: WarmIO, provider: Provider, endpoint: dict, mode: str | None = None, models: Sequence[str] = (),
                timeout: float = DEFAULT_TIMEOUT_S, *, cached_model: str | None = None) -> dict[str, Any]:
    """Warm `endpoint` (a REST v2 Endpoint object) and return the result document; progress
    goes to `io.view()`. `models` are gpu.jsonc's `prewarm.models` (empty: the endpoint's
    MODEL_NAME, else `cached_model`, else its live cached model). Raises a GpuctlError when the
    warm-up fails, times out or is interrupted; no pod and no queued job is left behind. A
    warm-up that succeeded is recorded in the account (`record`: the template's name, or null)."""
    from gpuctl.warm.models import choose_models
    from gpuctl.interrupts import Interrupted

    from gpuctl.warm.cpu import sweep

    sweep(provider, io.note, io.sweep_grace)  # first: a leftover pod bills, whatever stops this warm-up below
    mode = choose_mode(endpoint, mode, io.flags)
    chosen = choose_models(endpoint, models, cached_model, lambda: provider.graphql.model_references().get(endpoint["id"], [])) if mode == "cpu" else None
    with io.view() as view:
        try:  # SIGTERM too, in gpu (gpuctl.interrupts.sigterm_as_ctrl_c)
            detail = _warm(io, provider, endpoint, mode, chosen, timeout, view)
        except KeyboardInterrupt:
            raise Interrupted("interrupted; the warm-up was stopped and nothing was left running") from None
    doc = {"format_version": "1", "provider": provider.name, "endpoint": {"id": endpoint["id"], "name": endpoint.get("name")},
           "mode": mode, "timeout": timeout, **detail}
    return doc | {"record": _record(io, provider, endpoint, doc)}


def _record(io: WarmIO, provider: Provider, endpoint: dict, doc: dict) -> str | None:
    """Write the pre-warm record. The warm-up itself succeeded, so a failure here is a warning:
    the next deploy sees no record and warms again."""
    from gpuctl.provider.errors import ProviderError
    from gpuctl.warm.record import remember

    try:
        record = remember(provider, endpoint, doc)
    except ProviderError as exc:
        io.note(f"warning: endpoint {endpoint.get('name')} is warm, but its pre-warm record could not be written ({exc.summary}); "
                 "the next deploy will warm it again")
        return None
    return record["name"] if record else None


def _warm(io: WarmIO, provider: Provider, endpoint: dict, mode: str, models: Any, timeout: float, view: Any) -> dict:
    from gpuctl.commands import NONE

    if mode == "cpu":
        from gpuctl.warm.cpu import warm_cpu

        io.protect(io.environ.get("HF_TOKEN"))
        return warm_cpu(provider, endpoint, models, timeout, view, dict(io.environ), flags=io.flags or NONE)
    from gpuctl.warm.gpu import warm_gpu

    return warm_gpu(provider, endpoint, timeout, view, flags=io.flags or NONE)

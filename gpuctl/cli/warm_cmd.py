"""`gpu serverless warm NAME|ID`: make the endpoint's first real request fast (docs/prewarm.md).
Only click is imported here; the work lives in gpuctl.warm."""

from __future__ import annotations

import click

from gpuctl.cli.durations import POSITIVE_DURATION
from gpuctl.cli.resolve import provider_options
from gpuctl.errors import ExitCode


def warm_io(app, flags=None):
    """What gpuctl.warm needs of this command's surroundings: env, a progress view on stderr,
    notes, the secrets no output may show, and how long past its deadline an abandoned warm-up
    pod is swept (GPUCTL_WARM_SWEEP_GRACE, seconds; for tests)."""
    from gpuctl.warm import WarmIO
    from gpuctl.render.warm import make_view

    return WarmIO(app.environ, lambda: make_view(app.stderr, lambda: app.console(stderr=True), app.stderr_live), app.note, app.protect,
                  app.seconds("GPUCTL_WARM_SWEEP_GRACE", 300), flags)


def declared(loaded, endpoint: dict) -> tuple[tuple[str, ...], str | None]:
    """(`prewarm.models`, `runpod.cached_model`) of the gpu.jsonc block that declares this
    endpoint; nothing when there is no gpu.jsonc or it does not declare it. An endpoint of
    another project is never this gpu.jsonc's, whatever its name: warming it with this
    project's models would download them into that project's volume."""
    from gpuctl.v2 import owner

    if loaded is None or owner(endpoint) not in (None, loaded.project_id):
        return (), None
    for block in loaded.blocks:
        if (block.model.name or loaded.project_id) == endpoint.get("name"):
            return tuple(block.model.prewarm.models), block.model.runpod.cached_model
    return (), None


@click.command("warm")
@click.argument("name")
@click.option("--cpu/--gpu", "cpu", default=None,
              help="cpu: a CPU pod downloads the models into the network volume, then is deleted. "
                   "gpu: a warm-up job runs on a real worker. Default: gpu.")
@click.option("--timeout", type=POSITIVE_DURATION, default="900", show_default=True, help="Give up after this long (seconds, or 30s, 15m, 1h); what was started is removed.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON result document on stdout.")
@provider_options
@click.pass_obj
def warm(app, name: str, cpu: bool | None, timeout: float, as_json: bool, provider: str | None, config: str | None) -> int:
    """Pre-warm endpoint NAME (or ID) so its first real request is fast.

    The CPU pod and the warm-up job never outlive the command: they are removed on success,
    failure, --timeout, Ctrl-C and SIGTERM. The command prints what the pod cost. A warm-up
    that succeeds is recorded in the account, where deploy looks before warming it again."""
    from gpuctl.cli.output import json_text

    from gpuctl.cli.resolve import endpoint, open_target, while_it_exists
    from gpuctl.warm import run_prewarm
    from gpuctl.warm.report import result_lines

    target = open_target(app, provider, config, start_local=True, reads_only=True)
    try:
        found = endpoint(target, name)
        models, cached = declared(target.loaded, found)
        mode = None if cpu is None else ("cpu" if cpu else "gpu")
        with while_it_exists(target, name, found["id"], "it was warmed"):
            doc = run_prewarm(warm_io(app, target.flags), target.provider, found, mode, models, timeout, cached_model=cached)
    finally:
        target.close()
    app.stdout.write(json_text(doc) + "\n" if as_json else "\n".join(result_lines(doc)) + "\n")
    return ExitCode.OK

"""The account reads behind `list` and `status` (rows, the status document) and printing them;
how they are drawn is gpuctl.render.status, which never sees the provider."""

from __future__ import annotations

from rich.panel import Panel
from rich.table import Table

from gpuctl import v2
from gpuctl.catalog import Catalog
from gpuctl.cli.context import AppContext
from gpuctl.cli.resolve import Target
from gpuctl.jobs import paused
from gpuctl.v2 import owned_by, owner
from gpuctl.model import REDACTED
from gpuctl.redact import hide_env
from gpuctl.render.status import WORKER_STATES, gpu_cell, rows_table, status_line, status_panel
from gpuctl.words import agreeing

# status_line and status_panel are gpuctl.render.status's, named here too for the commands
# that print what status_doc reads
__all__ = ["account_rows", "project_rows", "print_rows", "print_table", "status_doc", "status_line", "status_panel"]


def _read_back(endpoint: dict, catalog: Catalog) -> list[str] | None:
    """The GPU type ids an endpoint's pools stand for, when that is unambiguous: every pool
    is in the catalog and lets exactly one type through (its members not excluded). Else
    None: a pool of several types reads best as the pool."""
    excluded = set(v2.excluded_gpu_types(endpoint))
    pools = v2.gpu_pools(endpoint)
    accepted = [[m for m in catalog.pool_members(p) if m not in excluded] for p in pools]
    return [ids[0] for ids in accepted] if pools and all(len(ids) == 1 for ids in accepted) else None


def gpu_names(target: Target, endpoint: dict, catalog: Catalog, declared: dict[str, list[str]] | None = None) -> list[str] | None:
    """The GPU types of an endpoint as people name them: as this project's gpu.jsonc writes
    them for an endpoint of the project, else as the catalog reads its pools back (None when a
    pool stands for several types). `declared`: `_declared_gpus(target)`, when the caller has it."""
    if owned_by(endpoint, target.project_id):
        written = (declared if declared is not None else _declared_gpus(target)).get(endpoint.get("name"))
        if written:
            return written
    return _read_back(endpoint, catalog)


def _row(target: Target, e: dict, written: list[str] | None, catalog: Catalog, **extra) -> dict:
    """One endpoint for `list`: `gpus` are the GPU types as gpu.jsonc writes them (or as the
    catalog reads the pools back), `pools` and `gpu` what RunPod holds (`gpu` kept as it was
    for scripts)."""
    return {"name": e.get("name"), "id": e.get("id"), "url": target.provider.request_url(e["id"]), "gpu": gpu_cell(e),
            "gpus": written or _read_back(e, catalog), "pools": v2.gpu_pools(e),
            **dict(zip(("workers_min", "workers_max"), v2.effective_workers(e))), **extra}


def _declared_gpus(target: Target) -> dict[str, list[str]]:
    """Endpoint name (default: the project id, as the loader names it) -> gpu_type then
    gpu_types, as this project's gpu.jsonc writes them."""
    if target.loaded is None:
        return {}
    return {b.model.name or target.loaded.project_id: list(dict.fromkeys([b.model.gpu_type, *b.model.gpu_types]))
            for b in target.loaded.blocks if b.model.gpu_type}


def account_rows(target: Target) -> list[dict]:
    from gpuctl.catalog import load_catalog

    catalog, declared = load_catalog(), _declared_gpus(target)
    endpoints = sorted(target.provider.list_endpoints(), key=lambda e: (str(e.get("name")), str(e.get("id"))))
    # project: null for an endpoint of no project, as `status --json` says it (a project may be
    # called "unmanaged"); the table writes NO_PROJECT (gpuctl.render.status.project_cell)
    return [_row(target, e, gpu_names(target, e, catalog, declared), catalog, project=owner(e))
            for e in endpoints]


class _Unset(dict):
    """The environment for a read-only comparison: a `${VAR}` that is not set reads as
    REDACTED, so its value is left out of the comparison instead of failing the command."""

    def __missing__(self, key: str) -> str:
        self.missing.add(key)
        return REDACTED

    def __contains__(self, key: object) -> bool:
        return True


ORPHAN_NOTE = "not in gpu.jsonc, still running; deploy --prune deletes it"
RENAMED_NOTE = "renamed in the account, while its block has another endpoint or another claims it too; still running, never pruned (see drift)"  # ADR 59


def project_rows(app: AppContext, target: Target) -> list[dict]:
    from gpuctl.catalog import load_catalog
    from gpuctl.config import build_desired
    from gpuctl.plan import Action, plan
    from gpuctl.plan.model import Drift
    from gpuctl.plan.planner import UNPROVEN_CODE

    catalog = load_catalog()
    environ = _Unset(app.environ)
    environ.missing = set()
    desired = build_desired(target.loaded, environ, catalog)
    observed = desired.observe(target.provider)
    # as a drift report plans: a block whose name an endpoint of another project (or of none)
    # holds is a row of its own, where deploy's plan stops the whole command
    result = plan(desired, observed, catalog, target=target.name, report=True)
    live = {e["id"]: e for e in observed.endpoints}
    rows = []
    for spec in desired.endpoints:
        # the block's own change; an unmanaged endpoint of the same name beside ours is listed
        # by the plan too, as a change of that name
        named = [c for c in result.changes if c.kind.value == "endpoint" and c.name == spec.name and c.action is not Action.ORPHAN]
        if not named:  # endpoints renamed in the account claim it, and none holds its name: each is a row below (review 11, R11-4)
            continue
        change = next((c for c in named if c.drift not in (Drift.UNMANAGED, Drift.DUPLICATE)), named[0])  # a duplicate beside it: the one deploy keeps
        if change.action is Action.CREATE or change.drift is Drift.UNMANAGED:
            holder = live.get(change.id) if change.drift is Drift.UNMANAGED else None
            rows.append({"name": spec.name, "id": None, "url": None, "gpu": "-", "gpus": list(spec.gpu_types), "pools": None,
                         "workers_min": None, "workers_max": None, "state": "taken" if holder else "missing", "differs": [],
                         "taken_by": {"id": holder.get("id"), "project": owner(holder)} if holder else None})
            continue
        state = "in sync" if change.action is Action.NOOP else "drifted"
        rows.append(_row(target, live[change.id], list(spec.gpu_types), catalog, state=state, differs=[c.path for c in change.changes], taken_by=None))
    # the project's endpoints that left gpu.jsonc (a renamed or removed block): the plan's own
    # orphans, still running and billing; a list of gpu.jsonc's blocks alone hid exactly them
    rows += [_row(target, live[c.id], None, catalog, state="orphan", differs=[], taken_by=None,
                  note=RENAMED_NOTE if c.drift is Drift.RENAMED_IN_ACCOUNT else ORPHAN_NOTE)
             for c in result.changes if c.action is Action.ORPHAN and c.id in live]
    # and those the drift report counts as not in sync while no config here declares them: last
    # applied from a gpu.jsonc this checkout lacks, not proven gone (ADR 52), so kept (review 8)
    unproven = {n.address for n in result.notices if n.code == UNPROVEN_CODE}
    rows += [_row(target, live[c.id], None, catalog, state="unproven", differs=[], taken_by=None, note=c.reason)
             for c in result.changes if c.kind.value == "endpoint" and c.action is Action.NOOP and c.address in unproven and c.id in live]
    if environ.missing:
        missing = sorted(environ.missing)
        app.note(f"note: {', '.join(missing)} not set here; env values read from {agreeing(len(missing), 'it', 'them')} are not compared")
    return rows


def print_rows(app: AppContext, rows: list[dict], as_json: bool, show_all: bool) -> None:
    if as_json:
        from gpuctl.cli.output import print_document

        print_document(app, hide_env({"endpoints": rows}))
        return
    if not rows:
        app.note("no endpoints" + ("" if show_all else " declared in gpu.jsonc"))
        return
    print_table(app, rows_table(rows, show_all))


def print_table(app: AppContext, table: Table | Panel) -> None:
    """A table (or `status`'s panel) on stdout, folded to the terminal's width; but in a pipe
    or a log (`| grep`, CI) each row stays on one line, as wide as it is: a name, an id or a
    URL folded into pieces (or cut, at COLUMNS=20) can be neither matched nor pasted."""
    console = app.console()
    if not app.stdout_tty:
        wide = console.measure(table, options=console.options.update_width(1 << 16)).maximum
        if wide > console.width:
            console = app.console(width=wide)
    console.print(table)


def _cost(endpoint: dict) -> float | None:
    """The always-on cost per hour, by the plan's own formula (gpuctl.plan.cost)."""
    from gpuctl.catalog import load_catalog
    from gpuctl.plan.cost import live_always_on

    return live_always_on(endpoint, load_catalog())


def leftover_warm_pods(target: Target, endpoint_id: str, grace: float) -> list[dict] | None:
    """The endpoint's warm-up pods that their warm-up gave up on (gpuctl.warm.cpu.left_over):
    they bill until the next warm-up sweeps them. None when the account's pods cannot be read
    (a key without pod access): status shows the rest."""
    import time

    from gpuctl.provider.errors import ProviderError
    from gpuctl.warm.cpu import left_over

    try:
        pods = target.provider.list_pods()
    except ProviderError:
        return None
    return [{k: p.get(k) for k in ("id", "name", "status", "cost")} for p in left_over(pods, endpoint_id, time.time(), grace)]


def status_doc(target: Target, endpoint_id: str, sweep_grace: float = 300.0) -> dict:
    """`sweep_grace`: how long past its run's deadline a warm-up pod is left over (GPUCTL_WARM_SWEEP_GRACE)."""
    from gpuctl.catalog import load_catalog

    p = target.provider
    endpoint, workers, health, releases = p.get_endpoint(endpoint_id), p.workers(endpoint_id), p.health(endpoint_id), p.releases(endpoint_id)
    summary = workers.get("summary") or {}
    latest = (releases.get("releases") or [None])[0]
    return hide_env({
        "name": endpoint.get("name"), "id": endpoint_id, "url": p.request_url(endpoint_id), "project": owner(endpoint),
        "workers": {k: summary.get(k, 0) for k in (*WORKER_STATES, "total")},
        "worker_list": [{k: w.get(k) for k in ("id", "status", "gpuTypeId", "dataCenterId", "uptimeSeconds", "isStale")} for w in v2.worker_list(workers)],
        "jobs": health.get("jobs") or {},
        "scaling": {"workers": v2.workers(endpoint), "scaler": v2.scaling(endpoint), "gpu": gpu_cell(endpoint),
                    "gpus": gpu_names(target, endpoint, load_catalog()), "flashboot": v2.flashboot(endpoint)},
        "paused": paused(endpoint),  # max workers 0: no worker can start, a queued job waits until that changes
        "release": {"version": v2.release_version(releases), "rollout": v2.rollout(releases), "latest": latest},
        "always_on_usd_per_hour": _cost(endpoint),
        "leftover_warm_pods": leftover_warm_pods(target, endpoint_id, sweep_grace),
    })



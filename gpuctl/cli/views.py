"""The data and the rich renderings behind `list` and `status`."""

from __future__ import annotations

import json

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from gpuctl import v2
from gpuctl.catalog import Catalog
from gpuctl.cli.context import AppContext
from gpuctl.cli.resolve import Target
from gpuctl.jobs import paused
from gpuctl.v2 import owned_by, owner
from gpuctl.model import MARKER_ENV, REDACTED
from gpuctl.plan.cost import usd_per_hour
from gpuctl.redact import hide_env
from gpuctl.safetext import printable
from gpuctl.words import agreeing, counted

WORKER_STATES = ("running", "idle", "initializing", "throttled", "unhealthy")


def _gpu(endpoint: dict) -> str:
    if not v2.is_gpu(endpoint):
        return ", ".join(f"{flavor}×{vcpus}" for flavor, vcpus in v2.cpu_flavors(endpoint)) or "-"
    excluded = v2.excluded_gpu_types(endpoint)
    return ", ".join(v2.gpu_pools(endpoint)) + (f" minus {counted(len(excluded), 'type')}" if excluded else "")


def _read_back(endpoint: dict, catalog: Catalog) -> list[str] | None:
    """The GPU type ids an endpoint's pools stand for, when that is unambiguous: every pool
    is in the catalog and lets exactly one type through (its members not excluded). Else
    None: a pool of several types reads best as the pool."""
    excluded = set(v2.excluded_gpu_types(endpoint))
    pools = v2.gpu_pools(endpoint)
    accepted = [[m for m in catalog.pool_members(p) if m not in excluded] for p in pools]
    return [ids[0] for ids in accepted] if pools and all(len(ids) == 1 for ids in accepted) else None


def _row(target: Target, e: dict, written: list[str] | None, catalog: Catalog, **extra) -> dict:
    """One endpoint for `list`: `gpus` are the GPU types as gpu.jsonc writes them (or as the
    catalog reads the pools back), `pools` and `gpu` what RunPod holds (`gpu` kept as it was
    for scripts)."""
    return {"name": e.get("name"), "id": e.get("id"), "url": target.provider.request_url(e["id"]), "gpu": _gpu(e),
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
    mine = {e.get("id") for e in endpoints if owned_by(e, target.project_id)}
    # project: null for an endpoint of no project, as `status --json` says it (a project may be
    # called "unmanaged"); the table writes NO_PROJECT (project_cell)
    return [_row(target, e, declared.get(e.get("name")) if e.get("id") in mine else None, catalog, project=owner(e))
            for e in endpoints]


class _Unset(dict):
    """The environment for a read-only comparison: a `${VAR}` that is not set reads as
    REDACTED, so its value is left out of the comparison instead of failing the command."""

    def __missing__(self, key: str) -> str:
        self.missing.add(key)
        return REDACTED

    def __contains__(self, key: object) -> bool:
        return True


def project_rows(app: AppContext, target: Target) -> list[dict]:
    from gpuctl.catalog import load_catalog
    from gpuctl.config import build_desired
    from gpuctl.plan import Action, plan
    from gpuctl.plan.model import Drift

    catalog = load_catalog()
    environ = _Unset(app.environ)
    environ.missing = set()
    desired = build_desired(target.loaded, environ, catalog)
    observed = target.provider.observe(any(s.cached_model for s in desired.endpoints))
    # as a drift report plans: a block whose name an endpoint of another project (or of none)
    # holds is a row of its own, where deploy's plan stops the whole command
    result = plan(desired, observed, catalog, target=target.name, report=True)
    live = {e["id"]: e for e in observed.endpoints}
    rows = []
    for spec in desired.endpoints:
        # the block's own change; an unmanaged endpoint of the same name beside ours is listed
        # by the plan too, as a change of that name
        named = [c for c in result.changes if c.kind.value == "endpoint" and c.name == spec.name and c.action is not Action.ORPHAN]
        change = next((c for c in named if c.drift not in (Drift.UNMANAGED, Drift.DUPLICATE)), named[0])  # a duplicate beside it: the one deploy keeps
        if change.action is Action.CREATE or change.drift is Drift.UNMANAGED:
            holder = live.get(change.id) if change.drift is Drift.UNMANAGED else None
            rows.append({"name": spec.name, "id": None, "url": None, "gpu": "-", "gpus": list(spec.gpu_types), "pools": None,
                         "workers_min": None, "workers_max": None, "state": "taken" if holder else "missing", "differs": [],
                         "taken_by": {"id": holder.get("id"), "project": owner(holder)} if holder else None})
            continue
        state = "in sync" if change.action is Action.NOOP else "drifted"
        rows.append(_row(target, live[change.id], list(spec.gpu_types), catalog, state=state, differs=[c.path for c in change.changes], taken_by=None))
    if environ.missing:
        missing = sorted(environ.missing)
        app.note(f"note: {', '.join(missing)} not set here; env values read from {agreeing(len(missing), 'it', 'them')} are not compared")
    return rows


def _bounds(workers: object) -> str:
    """`min..max` workers for people: a bound RunPod left out is its default (as the cost
    counts it), one it reported as something other than a count is `?`, never "None"."""
    low, high = v2.worker_bounds(workers)
    return f"{'?' if low is None else low}..{'?' if high is None else high}"


def _cell(value: object) -> str:
    """A value from the account as one line of plain text: control characters escaped (the
    console is created with markup off, so brackets are shown as they are)."""
    return printable(str(value), keep_newlines=False)


NO_PROJECT = "-"  # the PROJECT cell of an endpoint of no project, as "-" is every other empty cell


def project_cell(project_id: str | None) -> str:
    """The PROJECT cell: NO_PROJECT for none. A project id may be any printable text, "-" and
    "unmanaged" included (config/shape.py PRINTABLE_NAME), so an id that would read as
    NO_PROJECT, or as a quoted one, is shown quoted: no project id looks like no project."""
    if project_id is None:
        return NO_PROJECT
    return json.dumps(project_id, ensure_ascii=False) if project_id == NO_PROJECT or project_id.startswith('"') else project_id


def print_rows(app: AppContext, rows: list[dict], as_json: bool, show_all: bool) -> None:
    if as_json:
        from gpuctl.cli.output import print_json

        print_json(app, hide_env({"endpoints": rows}))
        return
    if not rows:
        app.note("no endpoints" + ("" if show_all else " declared in gpu.jsonc"))
        return
    table = Table(box=None, pad_edge=False, header_style="bold")
    last = "project" if show_all else "state"
    for column in ("name", "id", "gpu", "workers", last, "url"):
        table.add_column(column.upper(), overflow="fold")
    for r in rows:
        state = project_cell(r["project"]) if show_all else r.get(last) or ""
        if r.get("differs"):
            state += f" ({', '.join(r['differs'][:3])}{'…' if len(r['differs']) > 3 else ''})"
        if r.get("taken_by"):
            holder = r["taken_by"]
            state += f" by {holder['id']} ({'project ' + holder['project'] if holder['project'] else 'unmanaged'})"
        workers = "-" if r["id"] is None else f"{'?' if r['workers_min'] is None else r['workers_min']}..{'?' if r['workers_max'] is None else r['workers_max']}"
        table.add_row(*map(_cell, (r["name"], r["id"] or "-", ", ".join(r["gpus"]) if r["gpus"] else r["gpu"], workers, state, r["url"] or "-")))
    print_table(app, table)


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


def status_doc(target: Target, endpoint_id: str) -> dict:
    p = target.provider
    endpoint, workers, health, releases = p.get_endpoint(endpoint_id), p.workers(endpoint_id), p.health(endpoint_id), p.releases(endpoint_id)
    summary = workers.get("summary") or {}
    latest = (releases.get("releases") or [None])[0]
    return hide_env({
        "name": endpoint.get("name"), "id": endpoint_id, "url": p.request_url(endpoint_id), "project": owner(endpoint),
        "workers": {k: summary.get(k, 0) for k in (*WORKER_STATES, "total")},
        "worker_list": [{k: w.get(k) for k in ("id", "status", "gpuTypeId", "dataCenterId", "uptimeSeconds", "isStale")} for w in v2.worker_list(workers)],
        "jobs": health.get("jobs") or {},
        "scaling": {"workers": v2.workers(endpoint), "scaler": v2.scaling(endpoint), "gpu": _gpu(endpoint), "flashboot": v2.flashboot(endpoint)},
        "paused": paused(endpoint),  # max workers 0: no worker can start, a queued job waits until that changes
        "release": {"version": v2.release_version(releases), "rollout": v2.rollout(releases), "latest": latest},
        "always_on_usd_per_hour": _cost(endpoint),
    })


def status_line(doc: dict) -> str:
    """The status document in one line, for `status --watch` without a terminal: a log gets
    one line per refresh that `grep` and `tail -f` can follow."""
    w, jobs = doc["workers"], doc["jobs"]
    workers = ", ".join(f"{w[k]} {k}" for k in WORKER_STATES)
    queue = f"{jobs.get('inQueue', 0)} in queue, {jobs.get('inProgress', 0)} in progress, {jobs.get('completed', 0)} completed, {jobs.get('failed', 0)} failed"
    paused = "; max workers 0 (paused: no worker can start)" if doc["paused"] else ""
    return _cell(f"{doc['name']}: workers {workers}; jobs {queue}; release v{doc['release']['version']}{paused}")


def _rollout(rollout: dict) -> str:
    """How far the release has reached the workers; with none running there is nothing to roll
    out to ("0% on latest (0/0)" read as a release that never rolled out)."""
    if not rollout:
        return ""
    progress = v2.rollout_progress(rollout)
    if not progress.total:
        return ", no workers running (each new one starts on it)"
    return f", rollout {progress.percent}% on latest ({progress.on_latest}/{progress.total})"


def status_panel(doc: dict) -> Panel:
    w, jobs, sc = doc["workers"], doc["jobs"], doc["scaling"]
    scaler = sc["scaler"] or {}
    value = scaler.get("queueDelay", scaler.get("requestCount"))
    rollout = doc["release"]["rollout"] or {}
    cost = doc["always_on_usd_per_hour"]
    grid = Table.grid(padding=(0, 2))
    grid.add_column(style="bold", no_wrap=True, min_width=len("release"))  # labels whole, however narrow
    grid.add_column(overflow="fold")  # a URL or an id too long for the width is folded, never cut to "http://…"
    workers = sc["workers"] or {}
    for label, text in (
        ("url", doc["url"]),
        ("project", doc["project"] or f"none (unmanaged: no {MARKER_ENV} marker)"),
        ("workers", "  ".join(f"{k} {w[k]}" for k in WORKER_STATES) + f"  (total {w['total']})"),
        ("queue", f"in queue {jobs.get('inQueue', 0)}  in progress {jobs.get('inProgress', 0)}  completed {jobs.get('completed', 0)}  failed {jobs.get('failed', 0)}  retried {jobs.get('retried', 0)}"),
        ("scaling", f"{_bounds(workers)} workers{' (paused: no worker can start)' if doc['paused'] else ''}, idle {workers.get('idleTimeout', '-')} s, {scaler.get('type')} {value}, flashboot {sc['flashboot']}"),
        ("gpu", sc["gpu"]),
        ("release", f"v{doc['release']['version']}" + _rollout(rollout)),
        ("cost", f"always-on {'unknown' if cost is None else usd_per_hour(cost)} (min workers at the first GPU pool's active rate)"),
    ):
        grid.add_row(label, _cell(text))
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("worker", "status", "gpu", "dc", "uptime"):
        table.add_column(column.upper(), overflow="fold")
    for worker in doc["worker_list"]:
        table.add_row(*map(_cell, (worker["id"], worker["status"], worker["gpuTypeId"] or "-", worker["dataCenterId"] or "-", f"{worker['uptimeSeconds'] or 0}s")))
    body = [grid] + ([table] if doc["worker_list"] else [])
    return Panel(Group(*body), title=_cell(f"{doc['name']} ({doc['id']})"), title_align="left", expand=False)

"""How `list` and `status` draw what gpuctl.cli.views read from the account: the list table,
the status panel and the one-line status of `status --watch` in a log. Pure rendering of
documents and v2 objects: it never sees the provider (the import contract of gpuctl.render)."""

from __future__ import annotations

import json

from rich.console import Group
from rich.panel import Panel
from rich.table import Table

from gpuctl import v2
from gpuctl.model import MARKER_ENV
from gpuctl.plan.cost import usd_per_hour
from gpuctl.safetext import printable
from gpuctl.words import agreeing, counted

WORKER_STATES = ("running", "idle", "initializing", "throttled", "unhealthy")


def gpu_cell(endpoint: dict) -> str:
    """The GPU column: the pools, less the types excluded; a CPU endpoint's flavors."""
    if not v2.is_gpu(endpoint):
        return ", ".join(f"{flavor}×{vcpus}" for flavor, vcpus in v2.cpu_flavors(endpoint)) or "-"
    excluded = v2.excluded_gpu_types(endpoint)
    return ", ".join(v2.gpu_pools(endpoint)) + (f" minus {counted(len(excluded), 'type')}" if excluded else "")


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


def rows_table(rows: list[dict], show_all: bool) -> Table:
    """`list`'s table of rows (gpuctl.cli.views.account_rows or project_rows): the PROJECT
    column with --all, else this project's STATE."""
    table = Table(box=None, pad_edge=False, header_style="bold")
    last = "project" if show_all else "state"
    for column in ("name", "id", "gpu", "workers", last, "url"):
        table.add_column(column.upper(), overflow="fold")
    for r in rows:
        state = project_cell(r["project"]) if show_all else r.get(last) or ""
        if r.get("differs"):
            state += f" ({', '.join(r['differs'][:3])}{'…' if len(r['differs']) > 3 else ''})"
        if r.get("note"):
            state += f" ({r['note']})"
        if r.get("taken_by"):
            holder = r["taken_by"]
            state += f" by {holder['id']} ({'project ' + holder['project'] if holder['project'] else 'unmanaged'})"
        workers = "-" if r["id"] is None else f"{'?' if r['workers_min'] is None else r['workers_min']}..{'?' if r['workers_max'] is None else r['workers_max']}"
        table.add_row(*map(_cell, (r["name"], r["id"] or "-", ", ".join(r["gpus"]) if r["gpus"] else r["gpu"], workers, state, r["url"] or "-")))
    return table


def leftover_text(doc: dict, flags=None) -> str | None:
    """The endpoint's warm-up pods left over by a warm-up that gave up on them, and what
    deletes them (with the run's options, `flags`); None when there are none (or they could
    not be read)."""
    from gpuctl.commands import NONE, suggest

    pods = doc.get("leftover_warm_pods") or []
    if not pods:
        return None
    listed, them = ", ".join(f"{p['id']} ({p['name']})" for p in pods), agreeing(len(pods), "it", "them")
    return (f"{counted(len(pods), 'warm-up pod')} left over by a warm-up that gave up on {them}: {listed}; "
            f"{agreeing(len(pods), 'it bills', 'they bill')} until deleted. Any warm-up (`{suggest('serverless', 'warm', str(doc['name']), flags=flags or NONE)}`) "
            f"deletes {them} first, or delete {them} in the RunPod console (Pods)")


def status_line(doc: dict) -> str:
    """The status document in one line, for `status --watch` without a terminal: a log gets
    one line per refresh that `grep` and `tail -f` can follow."""
    w, jobs = doc["workers"], doc["jobs"]
    workers = ", ".join(f"{w[k]} {k}" for k in WORKER_STATES)
    queue = f"{jobs.get('inQueue', 0)} in queue, {jobs.get('inProgress', 0)} in progress, {jobs.get('completed', 0)} completed, {jobs.get('failed', 0)} failed"
    paused = "; max workers 0 (paused: no worker can start)" if doc["paused"] else ""
    leftover = f"; {counted(len(doc['leftover_warm_pods']), 'leftover warm-up pod')}" if doc.get("leftover_warm_pods") else ""
    return _cell(f"{doc['name']}: workers {workers}; jobs {queue}; release v{doc['release']['version']}{paused}{leftover}")


def _rollout(rollout: dict) -> str:
    """How far the release has reached the workers; with none running there is nothing to roll
    out to ("0% on latest (0/0)" read as a release that never rolled out)."""
    if not rollout:
        return ""
    progress = v2.rollout_progress(rollout)
    if not progress.total:
        return ", no workers running (each new one starts on it)"
    return f", rollout {progress.percent}% on latest ({progress.on_latest}/{progress.total})"


def status_panel(doc: dict, flags=None) -> Panel:
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
        ("gpu", ", ".join(sc["gpus"]) if sc.get("gpus") else sc["gpu"]),  # as `list` names them
        ("release", f"v{doc['release']['version']}" + _rollout(rollout)),
        ("cost", f"always-on {'unknown' if cost is None else usd_per_hour(cost)} (min workers at the dearest GPU pool's active rate)"),
        ("warm-up", leftover_text(doc, flags)),
    ):
        if text is not None:
            grid.add_row(label, _cell(text))
    table = Table(box=None, pad_edge=False, header_style="bold")
    for column in ("worker", "status", "gpu", "dc", "uptime"):
        table.add_column(column.upper(), overflow="fold")
    for worker in doc["worker_list"]:
        table.add_row(*map(_cell, (worker["id"], worker["status"], worker["gpuTypeId"] or "-", worker["dataCenterId"] or "-", f"{worker['uptimeSeconds'] or 0}s")))
    body = [grid] + ([table] if doc["worker_list"] else [])
    return Panel(Group(*body), title=_cell(f"{doc['name']} ({doc['id']})"), title_align="left", expand=False)

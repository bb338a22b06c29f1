"""REST v2 `/v2/serverless`: list, create, get, sparse PATCH, delete, workers, releases and
the worker log stream (api-notes §4.2)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from gpuctl.local import ids, logs
from gpuctl.local.control import control, dropped_field, local_of, visible_from
from gpuctl.local.endpoints import create_doc, patch_doc, release_diff, render
from gpuctl.local.faults import drop_path
from gpuctl.local.runtime import Local
from gpuctl.local.web import ApiError, json_response, json_body


def endpoint_or_404(local: Local, endpoint_id: str) -> tuple[dict, dict]:
    found = local.store.get_with_extra("endpoint", endpoint_id)
    if found is None:
        raise ApiError(404, f"endpoint {endpoint_id} not found")
    return found


def rendered(local: Local, doc: dict) -> dict:
    return render(doc, local.endpoint_base_url, local.base_url)


def rendered_text(local: Local, endpoint_id: str, text: str) -> str:
    """One stored endpoint as response JSON. The stored text is already RunPod's shape; only
    requestUrls are spliced in, unless the document needs more than that (a queue endpoint
    scaling on requestCount hides its idleTimeout)."""
    if '"REQUEST_COUNT"' in text or '"LOAD_BALANCER"' in text:
        return json.dumps(rendered(local, json.loads(text)), separators=(",", ":"), ensure_ascii=False)
    urls = render({"id": endpoint_id, "name": "", "scaling": {"type": "QUEUE_DELAY"}}, local.endpoint_base_url, local.base_url)["requestUrls"]
    return '{"requestUrls":' + json.dumps(urls, separators=(",", ":")) + "," + text[1:]


@control("list", "endpoint")
async def list_endpoints(request: Request) -> Response:
    """Listing 1,000 endpoints splices stored JSON instead of decoding and re-encoding it."""
    local = local_of(request)
    body = '{"endpoints":[' + ",".join(rendered_text(local, i, t) for i, t in local.store.list_raw("endpoint")) + "]}"
    return Response(body, media_type="application/json")


@control("create", "endpoint")
async def create_endpoint(request: Request) -> Response:
    local = local_of(request)
    body = await json_body(request)
    if (field := dropped_field(request)) and isinstance(body, dict):
        drop_path(body, field)
    doc = create_doc(body, local.catalog, local.store)
    now = time.time()
    with local.store.transaction():
        local.store.put("endpoint", doc, {"version": 1}, visible_from(request, now))
        local.store.add_release(doc["id"], 1, ids.release_id(), doc["createdAt"], release_diff(None, doc))
    local.engine.wake.set()
    return json_response(rendered(local, doc), 201)


@control("get", "endpoint")
async def get_endpoint(request: Request) -> Response:
    local = local_of(request)
    doc, _ = endpoint_or_404(local, request.path_params["id"])
    return json_response(rendered(local, doc))


@control("update", "endpoint")
async def update_endpoint(request: Request) -> Response:
    local = local_of(request)
    doc, extra = endpoint_or_404(local, request.path_params["id"])
    body = await json_body(request)
    if (field := dropped_field(request)) and isinstance(body, dict):
        drop_path(body, field)
    new = patch_doc(doc, body, local.catalog, local.store)
    save_endpoint(local, doc, new, extra)
    return json_response(rendered(local, new))


def save_endpoint(local: Local, old: dict, new: dict, extra: dict) -> None:
    """Store a changed endpoint; container changes make a new release that workers roll to."""
    diff = release_diff(old, new)
    with local.store.transaction():
        if diff:
            extra = {**extra, "version": int(extra.get("version", 1)) + 1}
            local.store.add_release(new["id"], extra["version"], ids.release_id(), ids.timestamp(), diff)
        local.store.put("endpoint", new, extra)
    local.engine.wake.set()


@control("delete", "endpoint")
async def delete_endpoint(request: Request) -> Response:
    local = local_of(request)
    endpoint_id = request.path_params["id"]
    endpoint_or_404(local, endpoint_id)
    remove_endpoint(local, endpoint_id)
    return Response(status_code=204)


def remove_endpoint(local: Local, endpoint_id: str) -> None:
    """Delete the endpoint, its bound template, releases and jobs; stop its workers."""
    with local.store.transaction():
        local.store.delete("endpoint", endpoint_id)
        for template, extra in local.store.list_with_extra("template", hidden=True):
            if extra.get("boundEndpoint") == endpoint_id:
                local.store.delete("template", template["id"])
        job_ids = [r["id"] for r in local.store.db.execute("SELECT id FROM jobs WHERE endpoint_id=?", (endpoint_id,))]
        local.store.delete_endpoint_rows(endpoint_id)
    local.workers.stop_endpoint(endpoint_id, "endpoint deleted")
    local.signals.notify(("queue", endpoint_id))  # release job-take long polls
    for job_id in job_ids:
        local.signals.notify(("job", job_id))


def worker_view(worker, version: int) -> dict:
    return {
        "id": worker.id, "status": worker.status, "isStale": worker.version != version, "version": worker.version,
        "gpuCount": worker.placement["gpuCount"], "image": None, "uptimeSeconds": int(time.time() - worker.started_at),
        "gpuTypeId": worker.placement["gpu"], "dataCenterId": worker.placement["dc"], "startedAt": ids.timestamp(worker.started_at),
    }


@control("get", "endpoint")
async def list_workers(request: Request) -> Response:
    local = local_of(request)
    doc, extra = endpoint_or_404(local, request.path_params["id"])
    version = int(extra.get("version", 1))
    workers = [worker_view(w, version) | {"image": doc.get("image")} for w in local.workers.live(doc["id"])]
    summary = {s.lower(): sum(1 for w in workers if w["status"] == s) for s in ("RUNNING", "IDLE", "INITIALIZING", "THROTTLED", "UNHEALTHY")}
    summary["total"] = len(workers)
    return json_response({"endpointVersion": version, "summary": summary, "workers": workers})


@control("get", "endpoint")
async def list_releases(request: Request) -> Response:
    local = local_of(request)
    doc, extra = endpoint_or_404(local, request.path_params["id"])
    version = int(extra.get("version", 1))
    live = local.workers.live(doc["id"])
    on_latest = sum(1 for w in live if w.version == version)
    releases = [
        {"id": r["id"], "version": r["version"], "source": "MANUAL", "buildId": None, "createdByUserId": "user_local",
         "workerCount": sum(1 for w in live if w.version == r["version"]), "createdAt": r["createdAt"], "diff": r["diff"]}
        for r in local.store.releases(doc["id"])
    ]
    rollout = {"inProgress": on_latest < len(live), "workersOnLatest": on_latest, "workersTotal": len(live),
               "percentOnLatest": (100 * on_latest // len(live)) if live else 0}
    return json_response({"endpointVersion": version, "rollout": rollout, "releases": releases})


def log_stream(request: Request, path: Path, key: str, alive: Callable[[], bool]) -> Response:
    """RunPod's v2 log stream for one log file: validated query, backfill, then follow."""
    local = local_of(request)
    source = request.query_params.get("source")
    if source not in (None, "container", "system"):
        raise ApiError(400, "source must be container or system")
    if not path.exists():
        raise ApiError(404, f"{key} not found")
    after, since, tail = _resume_point(request)
    records, offset = logs.read_records(path)
    backfill = logs.select(records, source=source, tail=tail, after=after, since=since)
    body = logs.stream(path, backfill, offset, source, lambda: alive() and not local.signals.shutdown.is_set(),
                       lambda t: local.signals.wait(("logs", key), timeout=t))
    headers = {"Cache-Control": "no-cache", "Connection": "keep-alive", "X-Accel-Buffering": "no"}
    return StreamingResponse(body, media_type="text/event-stream", headers=headers)


def _resume_point(request: Request) -> tuple[str | None, str | None, int]:
    """(Last-Event-ID, since, tail) from the v2 log query, validated."""
    after = request.headers.get("last-event-id") or None
    since = request.query_params.get("since")
    if since:
        try:
            since = ids.precise_timestamp(datetime.fromisoformat(since.replace("Z", "+00:00")).timestamp())
        except ValueError:
            raise ApiError(400, "since must be an RFC 3339 timestamp") from None
    try:
        tail = int(request.query_params.get("tail", "100"))
    except ValueError:
        raise ApiError(400, "tail must be an integer from 0 to 5000") from None
    if not 0 <= tail <= logs.MAX_TAIL:
        raise ApiError(400, "tail must be an integer from 0 to 5000")
    return after, since, tail


@control("get", "endpoint")
async def worker_logs(request: Request) -> Response:
    local = local_of(request)
    doc, _ = endpoint_or_404(local, request.path_params["id"])
    worker_id = request.path_params["workerId"]
    path = logs.worker_log_path(local.logs_dir, doc["id"], worker_id)
    return log_stream(request, path, worker_id, lambda: worker_id in local.workers.workers)

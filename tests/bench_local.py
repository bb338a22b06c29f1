"""Benchmarks of the local provider (a script, not a test): `python tests/bench_local.py`.

Measures, in one run on 127.0.0.1 only, every load bounded in count and time:
1. server start to first answer: the local provider, a bare starlette-on-uvicorn app (the
   floor for this HTTP stack here), and RunPod's own `--rp_serve_api` test server;
2. /runsync round trips through one real `runpod.serverless.start` worker at client
   concurrency 1 and 8 (SDK default worker concurrency 1, and a worker allowing 8 jobs);
3. control-plane list latency with 1,000 endpoints (REST v2 and GraphQL).
Prints a Markdown report; `--write` also replaces docs/benchmarks-local.md.
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
WORKERS = ROOT / "tests" / "local" / "workers"
sys.path.insert(0, str(ROOT))

from gpuctl.local.client import lifecycle  # noqa: E402

TRIVIAL_APP = textwrap.dedent("""
    import socket, sys
    import uvicorn
    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route
    async def ok(request):
        return JSONResponse({"ok": True})
    sock = socket.socket(); sock.bind(("127.0.0.1", int(sys.argv[1]))); sock.listen()
    uvicorn.Server(uvicorn.Config(Starlette(routes=[Route("/", ok)]), log_level="warning")).run(sockets=[sock])
""")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def poll(url: str, method: str = "GET", body: dict | None = None, headers: dict | None = None, limit: float = 30.0) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            if httpx.request(method, url, json=body, headers=headers, timeout=5).status_code < 500:
                return
        except httpx.TransportError:
            time.sleep(0.002)
    raise RuntimeError(f"{url} did not answer within {limit} s")


def first_answer(argv: list[str], url: str, method: str = "GET", body: dict | None = None, cwd: Path | None = None) -> float:
    started = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        poll(url, method, body)
        return time.perf_counter() - started
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def local_first_answer() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        started = time.perf_counter()
        child = subprocess.Popen([sys.executable, "-m", "gpuctl.local", "--data-dir", tmp, "--port", "0"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            while not (data / "server.json").exists():
                time.sleep(0.001)
            info = json.loads((data / "server.json").read_text())
            poll(info["url"] + "/_admin/status", headers={"Authorization": f"Bearer {lifecycle.read_token(data)}"})
            return time.perf_counter() - started
        finally:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()


def bench_startup(runs: int) -> dict[str, float]:
    port = free_port()
    rp_serve = [sys.executable, "bench_worker.py", "--rp_serve_api", "--rp_api_port", str(port), "--rp_api_host", "127.0.0.1"]
    medians = {
        "local provider (`python -m gpuctl.local`)": statistics.median(local_first_answer() for _ in range(runs)),
        "bare starlette on uvicorn": statistics.median(
            first_answer([sys.executable, "-c", TRIVIAL_APP, str(p)], f"http://127.0.0.1:{p}/") for p in (free_port() for _ in range(runs))),
        "RunPod `--rp_serve_api` test server": statistics.median(
            first_answer(rp_serve, f"http://127.0.0.1:{port}/runsync", "POST", {"input": {"x": 1}}, WORKERS) for _ in range(max(runs // 2, 2))),
    }
    return medians


def timed_calls(call, count: int, concurrency: int, budget_s: float) -> dict[str, float]:
    deadline = time.monotonic() + budget_s
    latencies: list[float] = []

    def one(_: int) -> None:
        if time.monotonic() > deadline:
            return
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)

    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(one, range(count)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {"requests": len(latencies), "per_s": len(latencies) / elapsed, "p50_ms": 1000 * statistics.median(latencies),
            "p95_ms": 1000 * latencies[int(0.95 * (len(latencies) - 1))], "max_ms": 1000 * latencies[-1]}


def bench_runsync(client: httpx.Client, endpoint_base: str, worker_concurrency: int) -> dict[int, dict[str, float]]:
    body = {"name": f"bench-{worker_concurrency}", "type": "QUEUE", "image": "bench", "gpu": {"pools": ["ADA_24"]},
            "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "workers": {"min": 1, "max": 1, "idleTimeout": 60},
            "env": {"GPUCTL_LOCAL_COMMAND": json.dumps([sys.executable, "bench_worker.py"]), "GPUCTL_LOCAL_CWD": str(WORKERS),
                    "BENCH_CONCURRENCY": str(worker_concurrency), "RUNPOD_LOG_LEVEL": "ERROR"}}
    endpoint = client.post("/v2/serverless", json=body).json()
    url = f"{endpoint_base}/{endpoint['id']}/runsync"
    assert client.post(url, json={"input": {"warm": True}}).json()["status"] == "COMPLETED"  # the worker is up
    results = {}
    for concurrency, count in ((1, 20), (8, 80)):
        results[concurrency] = timed_calls(lambda: client.post(url, json={"input": {"n": 1}}).raise_for_status(), count, concurrency, 45.0)
    client.delete(f"/v2/serverless/{endpoint['id']}")
    return results


def bench_protocol(client: httpx.Client, endpoint_base: str) -> dict[int, dict[str, float]]:
    """The server's own job path, without the SDK's one-second poll floor: one worker thread
    speaking the worker protocol directly (job-take long poll, job-done) as fast as it can."""
    body = {"name": "bench-protocol", "type": "QUEUE", "image": "bench", "gpu": {"pools": ["ADA_24"]},
            "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "workers": {"min": 0, "max": 0, "idleTimeout": 60},
            "env": {"GPUCTL_LOCAL_COMMAND": '["true"]'}}  # max 0: the server starts no worker of its own
    endpoint = client.post("/v2/serverless", json=body).json()
    root = f"{endpoint_base}/{endpoint['id']}"
    key = client.get(f"/_admin/worker-key/{endpoint['id']}").json()["key"]  # worker routes take only the endpoint's worker key
    running = [True]

    def worker() -> None:
        with httpx.Client(headers={"Authorization": key}, timeout=60) as http:
            while running[0]:
                taken = http.get(f"{root}/job-take/benchworker0001?gpu=CPU&job_in_progress=0")
                if taken.status_code == 200:
                    job = taken.json()
                    http.post(f"{root}/job-done/benchworker0001/{job['id']}?gpu=CPU&isStream=false", content=json.dumps({"output": job["input"]}),
                              headers={"Content-Type": "application/x-www-form-urlencoded"})

    with ThreadPoolExecutor(1) as pool:
        pool.submit(worker)
        results = {c: timed_calls(lambda: client.post(f"{root}/runsync", json={"input": {"n": 1}}).raise_for_status(), n, c, 30.0)
                   for c, n in ((1, 200), (8, 800))}
        running[0] = False
        client.delete(f"/v2/serverless/{endpoint['id']}")  # releases the worker's long poll
    return results


def bench_list(client: httpx.Client) -> dict[str, dict[str, float]]:
    template = {"type": "QUEUE", "image": "img", "gpu": {"pools": ["ADA_24"], "count": 1, "allowedCudaVersions": [], "minCudaVersion": None},
                "workers": {"min": 0, "max": 3, "idleTimeout": 5}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "dataCenterIds": [],
                "networkVolumes": [], "timeout": 600000, "flashboot": "OFF", "env": {"GPUCTL_PROJECT": "bench"}, "createdAt": "2026-11-27T00:00:00Z"}
    seed = {"endpoints": [{**template, "id": f"bench{i:09d}", "name": f"bench-{i}"} for i in range(1000)]}
    client.post("/_admin/seed", json=seed).raise_for_status()
    assert len(client.get("/v2/serverless").json()["endpoints"]) >= 1000
    query = {"query": "query { myself { endpoints { id name gpuIds workersMin workersMax idleTimeout env { key value } } } }"}
    return {"REST v2 `GET /v2/serverless`": timed_calls(lambda: client.get("/v2/serverless").raise_for_status(), 30, 1, 30.0),
            "GraphQL `myself { endpoints }`": timed_calls(lambda: client.post("/graphql", json=query).raise_for_status(), 30, 1, 30.0)}


def report(startup: dict[str, float], runsync: dict[str, dict[int, dict[str, float]]], listing: dict[str, dict[str, float]]) -> str:
    local = startup["local provider (`python -m gpuctl.local`)"]
    lines = [f"Measured {time.strftime('%Y-%m-%d')} on {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
             f"loopback only, with `python tests/bench_local.py` (one run; ratios compare numbers from that run).", "",
             "## Server start to first answer (median)", "", "| server | seconds | vs local provider |", "|---|---|---|"]
    lines += [f"| {name} | {seconds:.3f} | {seconds / local:.2f}x |" for name, seconds in startup.items()]
    lines += ["", "## `/runsync` round trip through one real worker", "",
              "| worker | client concurrency | requests | req/s | p50 ms | p95 ms | max ms |", "|---|---|---|---|---|---|---|"]
    for worker, by_client in runsync.items():
        lines += [f"| {worker} | {c} | {r['requests']} | {r['per_s']:.1f} | {r['p50_ms']:.0f} | {r['p95_ms']:.0f} | {r['max_ms']:.0f} |"
                  for c, r in by_client.items()]
    lines += ["", "## Control-plane list latency with 1,000 endpoints", "", "| call | requests | p50 ms | p95 ms |", "|---|---|---|---|"]
    lines += [f"| {name} | {r['requests']} | {r['p50_ms']:.1f} | {r['p95_ms']:.1f} |" for name, r in listing.items()]
    return "\n".join(lines) + "\n"


def main() -> None:
    # An installed package carries compiled bytecode; an editable checkout under
    # PYTHONDONTWRITEBYTECODE would otherwise recompile every module on each start.
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "gpuctl")], check=True, env={**os.environ, "PYTHONDONTWRITEBYTECODE": ""})
    startup = bench_startup(runs=7)
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        info = lifecycle.start(data, 0)
        try:
            client = httpx.Client(base_url=info["url"], headers={"Authorization": f"Bearer {lifecycle.read_token(data)}"}, timeout=120)
            runsync = {f"SDK worker, concurrency {w}": bench_runsync(client, info["endpoint_base_url"], w) for w in (1, 8)}
            runsync["protocol-level worker (no SDK)"] = bench_protocol(client, info["endpoint_base_url"])
            listing = bench_list(client)
        finally:
            lifecycle.stop(data)
    text = report(startup, runsync, listing)
    print(text)
    if "--write" in sys.argv:
        doc = ROOT / "docs" / "benchmarks-local.md"
        head = doc.read_text().split("<!-- results -->")[0] if doc.exists() else "# Local provider benchmarks\n\n"
        doc.write_text(head + "<!-- results -->\n" + text)


if __name__ == "__main__":
    main()

"""Benchmark: `deploy -y --parallelism 1` against `--parallelism 10` when every request to the
control plane takes as long as RunPod's do.

    python bench/apply_parallel.py [--endpoints 50] [--latency 0.15] [--write]

The local provider holds every request for `--latency` seconds before answering (its `hang`
fault rule), so a run's wall time is dominated by round trips, as it is against RunPod. Each
parallelism creates `--endpoints` endpoints in an empty account, then updates all of them (one
env value changed in gpu.jsonc), and reports wall time and the requests the server saw. A
last run at parallelism 10 adds 429s with `Retry-After: 1` to 5 % of requests and counts
requests that reached the server before a Retry-After had passed (a request that arrives within
IN_FLIGHT_S of the 429 was already on its way when the 429 was answered). Loopback only;
every deploy is bounded by a timeout.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.startup_and_plan import write_section  # noqa: E402

IN_FLIGHT_S = 0.25
RETRY_AFTER_S = 1.0


@dataclass
class Run:
    what: str
    parallelism: int
    seconds: float
    requests: int
    writes: int
    early: int | None = None
    refused: int | None = None


def _config(endpoints: int, greeting: str) -> dict:
    from tests.e2e.conftest import echo_config

    blocks = []
    for i in range(endpoints):
        block = echo_config(name=f"ep-{i:03d}")["serverless"]
        block["runpod"]["env"]["GREETING"] = greeting
        blocks.append(block)
    return {"project_id": "bench", "serverless": blocks}


def _deploy(server, env: dict, proj: Path, what: str, parallelism: int, rules: list[dict]) -> Run:
    server.admin("POST", "requests/reset")
    server.admin("POST", "faults", {"seed": 1, "rules": rules})
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "gpuctl", "serverless", "deploy", "-y", "--parallelism", str(parallelism)],
                          cwd=proj, env=env, capture_output=True, text=True, timeout=1800, stdin=subprocess.DEVNULL)
    seconds = time.perf_counter() - start
    server.admin("DELETE", "faults")
    if done.returncode != 0:
        raise SystemExit(f"{what} at parallelism {parallelism} failed:\n{done.stderr}")
    log = server.admin("GET", "requests")
    return Run(what, parallelism, seconds, len(log["requests"]), log["writes"])


def _early(log: list[dict]) -> tuple[int, int]:
    """(requests sent before a Retry-After had passed, answers that asked for a pause)."""
    ordered = sorted(log, key=lambda r: r["at"])
    refused = [r for r in ordered if r["status"] == 429]
    early = {id(o) for r in refused for o in ordered if r["at"] + IN_FLIGHT_S < o["at"] < r["at"] + RETRY_AFTER_S * 0.99}
    return len(early), len(refused)


def _scenario(server, env: dict, directory: Path, endpoints: int, parallelism: int, latency: list[dict]) -> list[Run]:
    from tests.e2e.conftest import project

    server.admin("POST", "reset")
    proj = project(directory, _config(endpoints, "hello"))
    runs = [_deploy(server, env, proj, f"create {endpoints} endpoints", parallelism, latency)]
    project(directory, _config(endpoints, "bonjour"))
    runs.append(_deploy(server, env, proj, f"update {endpoints} endpoints", parallelism, latency))
    return runs


def _storm(server, env: dict, directory: Path, endpoints: int, latency: list[dict]) -> Run:
    from tests.e2e.conftest import project

    server.admin("POST", "reset")
    proj = project(directory, _config(endpoints, "hello"))
    rules = [{"action": "status", "status": 429, "retry_after": RETRY_AFTER_S, "probability": 0.05}, *latency]
    run = _deploy(server, env, proj, f"create {endpoints} endpoints, 5 % of requests 429", 10, rules)
    run.early, run.refused = _early(server.admin("GET", "requests")["requests"])
    return run


def main() -> None:
    from tests.local.conftest import start_server, stop_server

    parser = argparse.ArgumentParser()
    parser.add_argument("--endpoints", type=int, default=50)
    parser.add_argument("--latency", type=float, default=0.15, help="seconds the local provider holds every request")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    latency = [{"action": "hang", "seconds": args.latency}]
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "provider")
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "GPUCTL_", "GPU_")) and k != "CI"}
            env |= {"GPUCTL_LOCAL_DIR": str(server.data_dir), "GPU_PROVIDER": "local", "NO_COLOR": "1", "HOME": tmp}
            runs = []
            for parallelism in (1, 10):
                runs += _scenario(server, env, Path(tmp) / f"p{parallelism}", args.endpoints, parallelism, latency)
                print("\n".join(f"{r.what}, parallelism {r.parallelism}: {r.seconds:.1f} s, {r.requests} requests" for r in runs[-2:]), file=sys.stderr)
            runs.append(_storm(server, env, Path(tmp) / "storm", args.endpoints, latency))
        finally:
            stop_server(server)
    print(report(runs, args))
    if args.write:
        write_section("## Parallel apply (bench/apply_parallel.py)",
                      f"Measured {time.strftime('%Y-%m-%d')} on this 2-core machine: the local provider holds every request "
                      f"{args.latency * 1000:.0f} ms before answering (RunPod's calls take hundreds of ms), one run per row.\n\n"
                      f"{report(runs, args)}\n")


def report(runs: list[Run], args) -> str:
    one = {r.what: r for r in runs if r.parallelism == 1}
    rows = ["| what | parallelism | wall s | requests | writes | speed-up vs 1 | requests before a Retry-After passed |", "|---|---:|---:|---:|---:|---:|---:|"]
    for r in runs:
        base = one.get(r.what)
        speedup = f"{base.seconds / r.seconds:.1f}×" if base and r.parallelism != 1 else ""
        early = f"{r.early} (of {r.refused} answers 429)" if r.early is not None else ""
        rows.append(f"| {r.what} | {r.parallelism} | {r.seconds:.1f} | {r.requests} | {r.writes} | {speedup} | {early} |")
    return "\n".join(rows)


if __name__ == "__main__":
    main()

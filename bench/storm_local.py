"""Benchmark: how long `deploy -y` takes to converge while the local provider answers ~30 % of
all calls with 429 or 503 (each with `Retry-After: 1`), as in tests/e2e/test_storm.py.

    python bench/storm_local.py [--runs 10] [--grace 20] [--write]

Each run starts from an empty account (two endpoints and a network volume to create) with its
own fault seed, runs `deploy -y` until one exits 0 (a CI job that retries a failed deploy),
then checks with the faults cleared that the plan is empty and nothing was duplicated. The
visibility grace is the real default (20 s), so every grace wait shows in the numbers.
Loopback only; every deploy is bounded by a timeout.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.startup_and_plan import write_section  # noqa: E402

FAULTS = [
    {"action": "status", "status": 429, "retry_after": 1, "probability": 0.15},
    {"action": "status", "status": 503, "retry_after": 1, "probability": 0.18},
]
GRACE_WAIT = "may not be visible yet"
MAX_DEPLOYS = 5


@dataclass
class Run:
    seconds: float
    deploys: int
    requests: int
    refused: int
    grace_waits: int


def _project(directory: Path) -> Path:
    from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

    config = echo_config(name="a", volume="models")
    config["serverless"] = [config["serverless"], json.loads(json.dumps(config["serverless"])) | {"name": "b"}]
    return project(directory, config, {"handler.py": ECHO_HANDLER})


def _gpu(env: dict, cwd: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "gpuctl", *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900, stdin=subprocess.DEVNULL)


def one_run(server, env: dict, directory: Path, seed: int) -> Run:
    server.admin("POST", "reset")
    proj = _project(directory)
    server.admin("POST", "faults", {"seed": seed, "rules": FAULTS})
    seconds, grace_waits = 0.0, 0
    for deploys in range(1, MAX_DEPLOYS + 1):
        start = time.perf_counter()
        done = _gpu(env, proj, "serverless", "deploy", "-y")
        seconds += time.perf_counter() - start
        grace_waits += done.stderr.count(GRACE_WAIT)
        if done.returncode == 0:
            break
    else:
        raise SystemExit(f"seed {seed}: no convergence after {MAX_DEPLOYS} deploys:\n{done.stderr}")
    log = server.admin("GET", "requests")["requests"]
    server.admin("DELETE", "faults")
    check = _gpu(env, proj, "serverless", "deploy", "--plan", "--detailed-exitcode")
    names = sorted(e["name"] for e in server.http.get("/v2/serverless").json()["endpoints"])
    volumes = server.http.get("/v2/network-volumes").json()["networkVolumes"]
    if check.returncode != 0 or names != ["a", "b"] or len(volumes) != 1:
        raise SystemExit(f"seed {seed}: not converged (plan exit {check.returncode}, endpoints {names}, {len(volumes)} volumes)")
    refused = sum(1 for r in log if r["status"] in (429, 503))
    return Run(seconds, deploys, len(log), refused, grace_waits)


def main() -> None:
    from tests.local.conftest import start_server, stop_server

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--grace", type=float, default=20.0, help="GPUCTL_VISIBILITY_GRACE for the deploys")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "provider")
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "GPUCTL_", "GPU_")) and k != "CI"}
            env |= {"GPUCTL_LOCAL_DIR": str(server.data_dir), "GPU_PROVIDER": "local", "NO_COLOR": "1",
                    "GPUCTL_VISIBILITY_GRACE": str(args.grace), "HOME": tmp}
            for seed in range(1, args.runs + 1):
                run = one_run(server, env, Path(tmp) / f"p{seed}", seed)
                runs.append(run)
                print(f"seed {seed}: {run.seconds:.1f} s, {run.deploys} deploy(s), {run.requests} requests, "
                      f"{run.refused} answered 429/503, {run.grace_waits} grace waits", file=sys.stderr)
        finally:
            stop_server(server)
    seconds = [r.seconds for r in runs]
    fault_share = sum(r.refused for r in runs) / sum(r.requests for r in runs)
    table = "\n".join([
        "| what | median s | max s | deploys per run (max) | requests answered 429/503 | grace waits |",
        "|---|---:|---:|---:|---:|---:|",
        f"| `deploy -y` until it exits 0: 2 endpoints + 1 volume, {len(runs)} seeds | {statistics.median(seconds):.1f} | "
        f"{max(seconds):.1f} | {max(r.deploys for r in runs)} | {fault_share:.0%} | {sum(r.grace_waits for r in runs)} |",
    ])
    print(table)
    if args.write:
        write_section("## Convergence under a 429/503 storm (bench/storm_local.py)",
                      f"Measured {time.strftime('%Y-%m-%d')}, {len(runs)} runs (fault seeds 1–{len(runs)}), visibility grace "
                      f"{args.grace:.0f} s. The local provider answers 15 % of calls 429 and 18 % of the rest 503, each with "
                      "`Retry-After: 1`; a run is every `deploy -y` until one exits 0, then an empty plan and no duplicate "
                      f"with the faults cleared.\n\n{table}\n")


if __name__ == "__main__":
    main()

"""Benchmark: `deploy --plan` against the local provider for 1 and 1,000 endpoints, with the
number of HTTP requests each run makes, beside the import floor measured in the same run.

    python bench/deploy_local.py [--runs 5] [--write]

The account is seeded through the admin API (not timed). Loopback only; every run is bounded.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.startup_and_plan import timed, write_section  # noqa: E402


def _project(directory: Path, endpoints: int) -> None:
    blocks = [{"name": f"ep-{i:04d}", "template": "whisper", "gpu_type": "NVIDIA L4", "scaling": {"max_workers": 2},
               "runpod": {"env": {"MODEL": f"m{i}"}}} for i in range(endpoints)]
    (directory / "gpu.jsonc").write_text(json.dumps({"project_id": "bench", "serverless": blocks}))


def _seed(server, directory: Path) -> None:
    """The account already matches: seed it with what the plan would create."""
    from gpuctl.catalog import load_catalog
    from gpuctl.config import build_desired, load_config
    from gpuctl.model import Observed
    from gpuctl.plan import plan
    from gpuctl.snapshot import snapshot_document
    from tests.support.apply import apply_plan

    catalog = load_catalog()
    desired = build_desired(load_config(directory / "gpu.jsonc", catalog=catalog), {}, catalog)
    server.admin("POST", "reset")
    server.admin("POST", "seed", snapshot_document(apply_plan(plan(desired, Observed(), catalog, target="local"), Observed())))


def main() -> None:
    from tests.local.conftest import start_server, stop_server

    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    rows = [("`python -c \"import click, rich, pydantic, httpx, pyjson5\"`", timed([sys.executable, "-c", "import click, rich, pydantic, httpx, pyjson5"], args.runs), "")]
    with tempfile.TemporaryDirectory() as tmp:
        server = start_server(Path(tmp) / "provider")
        try:
            env = {k: v for k, v in os.environ.items() if not k.startswith("RUNPOD_")} | {"GPUCTL_LOCAL_DIR": str(server.data_dir)}
            for n in (1, 1000):
                project = Path(tmp) / f"p{n}"
                project.mkdir()
                _project(project, n)
                _seed(server, project)
                server.admin("POST", "requests/reset")
                argv = [sys.executable, "-m", "gpuctl", "serverless", "deploy", "--plan", "--provider", "local", "--detailed-exitcode"]
                samples = []
                for _ in range(args.runs):
                    start = time.perf_counter()
                    code = subprocess.run(argv, cwd=project, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=300).returncode
                    samples.append((time.perf_counter() - start) * 1000)
                    assert code == 0, f"plan for {n} endpoints was not clean (exit {code})"
                log = server.admin("GET", "requests")
                per_run = len(log["requests"]) / args.runs
                rows.append((f"`deploy --plan`, {n} endpoint(s), account in sync", statistics.median(samples), f"{per_run:.0f} requests, {log['writes']} writes"))
        finally:
            stop_server(server)
    floor = rows[0][1]
    lines = ["| what | median ms | vs import floor | HTTP requests per run |", "|---|---:|---:|---|"]
    lines += [f"| {name} | {ms:.0f} | {ms / floor:.2f}× | {extra} |" for name, ms, extra in rows]
    table = "\n".join(lines)
    print(table)
    if args.write:
        write_section("## deploy --plan against the local provider (bench/deploy_local.py)",
                      f"Measured {time.strftime('%Y-%m-%d')}, {args.runs} runs per row, median. Observed state costs one list call per kind (endpoints, network volumes, templates) whatever the number of endpoints.\n\n{table}\n")

if __name__ == "__main__":
    main()

"""Benchmark: CLI start-up and planning against snapshots. Prints a Markdown table and, with
--write, replaces the matching section of docs/benchmarks.md.

    python bench/startup_and_plan.py [--runs 15] [--write]

Everything is measured in one run on this machine so the ratios are meaningful; absolute
numbers move with machine load.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_CLICK = "import click\n@click.group()\ndef cli(): pass\n@cli.command()\ndef x(): pass\ncli(['--help'])"


def timed(argv: list[str], runs: int, cwd: Path | None = None) -> float:
    """Median wall time in ms of running argv `runs` times."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def big_project(directory: Path, endpoints: int) -> None:
    blocks = [{"name": f"ep-{i:04d}", "template": "whisper", "gpu_type": "NVIDIA L4", "gpu_types": ["NVIDIA RTX A4000"],
               "scaling": {"max_workers": 3}, "runpod": {"env": {"MODEL": f"m{i}"}}} for i in range(endpoints)]
    (directory / "gpu.jsonc").write_text(json.dumps({"project_id": "bench", "serverless": blocks}))
    (directory / "empty.json").write_text("{}")
    subprocess.run([sys.executable, "-m", "gpuctl", "serverless", "deploy", "--plan", "--observed", "empty.json", "--provider", "runpod", "--json"],
                   cwd=directory, stdout=open(directory / "plan.json", "w"), check=True)
    # The matching account: what the plan would create, as RunPod v2 objects.
    sys.path.insert(0, str(ROOT))
    from gpuctl.catalog import load_catalog
    from gpuctl.config import build_desired, load_config
    from gpuctl.model import Observed
    from gpuctl.plan import plan
    from gpuctl.snapshot import snapshot_document
    from tests.support.apply import apply_plan

    catalog = load_catalog()
    desired = build_desired(load_config(directory / "gpu.jsonc", catalog=catalog), {}, catalog)
    account = apply_plan(plan(desired, Observed(), catalog), Observed())
    (directory / "matching.json").write_text(json.dumps(snapshot_document(account)))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    py = sys.executable
    gpu = [py, "-m", "gpuctl"]
    rows = [
        ("`python3 -c pass` (interpreter floor)", timed([py, "-c", "pass"], args.runs)),
        ("bare click app `--help`", timed([py, "-c", BARE_CLICK], args.runs)),
        ("`import click, rich, pydantic, httpx, deepdiff, pyjson5`", timed([py, "-c", "import click, rich, pydantic, httpx, deepdiff, pyjson5"], args.runs)),
        ("`gpu --help`", timed([*gpu, "--help"], args.runs)),
        ("`gpu serverless deploy --help`", timed([*gpu, "serverless", "deploy", "--help"], args.runs)),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        for n in (1, 1000):
            d = Path(tmp) / str(n)
            d.mkdir()
            big_project(d, n)
            plan = [*gpu, "serverless", "deploy", "--plan", "--provider", "runpod", "--json"]
            rows.append((f"`deploy --plan` vs empty snapshot, {n} endpoint(s)", timed([*plan, "--observed", "empty.json"], max(3, args.runs // 3), d)))
            rows.append((f"`deploy --plan` vs matching snapshot, {n} endpoint(s)", timed([*plan, "--observed", "matching.json"], max(3, args.runs // 3), d)))
    floor = rows[2][1]
    table = ["| what | median ms | vs dependency import floor |", "|---|---:|---:|"]
    table += [f"| {name} | {ms:.0f} | {ms / floor:.2f}× |" for name, ms in rows]
    text = "\n".join(table)
    print(text)
    if args.write:
        write_section("## Start-up and planning (bench/startup_and_plan.py)",
                      f"Measured {time.strftime('%Y-%m-%d')} on this 2-core machine, {args.runs} runs per row (planning rows fewer), median.\n\n{text}\n")


def write_section(head: str, body: str) -> None:
    """Replace (or append) the section under `head` in docs/benchmarks.md."""
    doc = ROOT / "docs" / "benchmarks.md"
    old = doc.read_text() if doc.exists() else "# Benchmarks\n\nScripts under `bench/` print these tables; numbers are medians from one run on one machine, so compare ratios within a table.\n\n"
    section = f"{head}\n\n{body}"
    if head in old:
        before, _, rest = old.partition(head)
        after = rest[rest.find("\n## ") + 1:] if "\n## " in rest else ""
        old = before + section + ("\n" + after if after else "")
    else:
        old = old.rstrip() + "\n\n" + section
    doc.write_text(old)

if __name__ == "__main__":
    main()

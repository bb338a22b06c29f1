"""Benchmark: CLI start-up and `deploy --plan --json` against snapshots of 1, 1,000 and 10,000
endpoints, beside the import floor measured in the same run. Prints a Markdown table and, with
--write, replaces the matching section of docs/benchmarks.md.

    python bench/startup_and_plan.py [--runs 15] [--sizes 1,1000,10000] [--write]

Everything is measured in one run on this machine so the ratios are meaningful; absolute numbers
move with machine load. The commands run round-robin (one run of each, then the next round), so
a burst of load from elsewhere falls on all of them alike. gpuctl's bytecode is compiled first,
as a wheel install does: this machine sets PYTHONDONTWRITEBYTECODE=1, so an editable install
would otherwise recompile gpuctl's sources on every start while the libraries of the floor load
their .pyc files. The projects are made by a child process, so this one stays small: Linux keeps
a process's peak memory across fork and exec, and each child's `ru_maxrss` would otherwise start
from this process's.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BARE_CLICK = "import click\n@click.group()\ndef cli(): pass\n@cli.command()\ndef x(): pass\ncli(['--help'])"
FLOOR = "import click, rich, pydantic, httpx, pyjson5"
HEAD = "## Start-up and planning (bench/startup_and_plan.py)"
READING = """How it is measured and read: gpuctl's bytecode is compiled first, as a wheel install does (this
machine sets `PYTHONDONTWRITEBYTECODE=1`, and the floor's libraries have their `.pyc`); the
snapshots are what `big_project` writes: an empty account, and the account applying the plan
leaves. A valid plan imports click and pyjson5 only, neither pydantic, rich nor httpx
([ADR 12](adr/0012-config-quick-path.md)), so small plans cost less than the floor. The last table
compares 10,000 endpoints with 1,000 beyond the floor, as issue 11 asks, and beyond gpuctl's own
1-endpoint plan: with a fixed cost below the floor the first ratio exceeds 10 even for a plan that
is exactly linear ([ADR 13](adr/0013-planning-at-scale.md)); the second is the growth itself, 10.0×
for an exactly linear plan (9,999 / 999). The last two columns say the same per endpoint: a plan
linear in the account spends the same on each endpoint from 1,000 to 10,000 as up to 1,000. A
peak marked ≤ is the benchmark process's own, which Linux carries into a child's `ru_maxrss`: the
child used no more than that."""


def run_once(argv: list[str], cwd: Path | None = None) -> tuple[float, int]:
    """(wall seconds, peak resident KiB) of one run of argv, its output discarded."""
    start = time.perf_counter()
    child = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if child.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} exited {child.returncode} in {cwd}")
    return elapsed, usage.ru_maxrss


def timed(argv: list[str], runs: int, cwd: Path | None = None) -> float:
    """Median wall time in ms of running argv `runs` times."""
    return statistics.median(run_once(argv, cwd)[0] for _ in range(runs)) * 1000


def round_robin(commands: dict[str, tuple[list[str], Path | None, int]]) -> dict[str, tuple[float, int]]:
    """{name: (median ms, peak KiB)} of commands given as {name: (argv, cwd, runs)}: each round
    runs every command that still needs runs once, in order."""
    samples: dict[str, list[tuple[float, int]]] = {name: [] for name in commands}
    for round_ in range(max(runs for _, _, runs in commands.values())):
        for name, (argv, cwd, runs) in commands.items():
            if round_ < runs:
                samples[name].append(run_once(argv, cwd))
    return {name: (statistics.median(s for s, _ in got) * 1000, max(k for _, k in got)) for name, got in samples.items()}


def big_project(directory: Path, endpoints: int) -> None:
    """gpu.jsonc with `endpoints` blocks, an empty snapshot, and a snapshot of the account that
    matches it (what applying its plan would leave, as RunPod v2 objects). Imports gpuctl: the
    benchmark runs it in a child (`--make DIR N`)."""
    blocks = [{"name": f"ep-{i:04d}", "template": "whisper", "gpu_type": "NVIDIA L4", "gpu_types": ["NVIDIA RTX A4000"],
               "scaling": {"max_workers": 3}, "runpod": {"env": {"MODEL": f"m{i}"}}} for i in range(endpoints)]
    (directory / "gpu.jsonc").write_text(json.dumps({"project_id": "bench", "serverless": blocks}))
    (directory / "empty.json").write_text("{}")
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


def _commands(tmp: Path, sizes: list[int], runs: int) -> dict[str, tuple[list[str], Path | None, int]]:
    py = sys.executable
    gpu = [py, "-m", "gpuctl"]
    commands: dict[str, tuple[list[str], Path | None, int]] = {
        "`python3 -c pass` (interpreter floor)": ([py, "-c", "pass"], None, runs),
        "bare click app `--help`": ([py, "-c", BARE_CLICK], None, runs),
        f"`{FLOOR}` (the import floor)": ([py, "-c", FLOOR], None, runs),
        "`gpu --help`": ([*gpu, "--help"], None, runs),
        "`gpu serverless deploy --help`": ([*gpu, "serverless", "deploy", "--help"], None, runs),
    }
    plan = [*gpu, "serverless", "deploy", "--plan", "--provider", "runpod", "--json", "--observed"]
    for n in sizes:
        directory = tmp / str(n)
        directory.mkdir()
        subprocess.run([py, __file__, "--make", str(directory), str(n)], check=True)
        few = max(3, runs // 3) if n >= 10_000 else runs
        commands[f"`deploy --plan --json`, {n:,} endpoint(s), empty account"] = ([*plan, "empty.json"], directory, few)
        commands[f"`deploy --plan --json`, {n:,} endpoint(s), account in sync"] = ([*plan, "matching.json"], directory, few)
    return commands


def _linearity(results: dict[str, tuple[float, int]], floor: float, sizes: list[int]) -> list[str]:
    """How 10,000 endpoints compare with 1,000, beyond the floor and beyond gpuctl's own 1-endpoint cost."""
    if not {1, 1000, 10_000} <= set(sizes):
        return []
    lines = ["", "| account | (10,000 − floor) / (1,000 − floor) | (10,000 − 1) / (1,000 − 1) | ms per endpoint, 1 → 1,000 | ms per endpoint, 1,000 → 10,000 |",
             "|---|---:|---:|---:|---:|"]
    for account in ("empty account", "account in sync"):
        ms = {n: results[f"`deploy --plan --json`, {n:,} endpoint(s), {account}"][0] for n in (1, 1000, 10_000)}
        lines.append(f"| {account} | {(ms[10_000] - floor) / (ms[1000] - floor):.1f}× | {(ms[10_000] - ms[1]) / (ms[1000] - ms[1]):.1f}× "
                     f"| {(ms[1000] - ms[1]) / 999:.3f} | {(ms[10_000] - ms[1000]) / 9000:.3f} |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--sizes", default="1,1000,10000", help="comma-separated endpoint counts")
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--make", nargs=2, metavar=("DIR", "N"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.make:
        return big_project(Path(args.make[0]), int(args.make[1]))
    sizes = [int(s) for s in args.sizes.split(",")]
    compileall.compile_dir(ROOT / "gpuctl", quiet=1)
    with tempfile.TemporaryDirectory() as tmp:
        results = round_robin(_commands(Path(tmp), sizes, args.runs))
    floor = results[f"`{FLOOR}` (the import floor)"][0]
    table = ["| what | median ms | vs import floor | peak memory |", "|---|---:|---:|---:|"]
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # a child's peak is never reported below this
    table += [f"| {name} | {ms:.0f} | {ms / floor:.2f}× | {'≤ ' if kib <= own else ''}{max(kib, own) / 1024:.0f} MiB |" for name, (ms, kib) in results.items()]
    text = "\n".join(table + _linearity(results, floor, sizes))
    print(text)
    if args.write:
        write_section(HEAD, f"Measured {time.strftime('%Y-%m-%d')} on this 2-core machine, {args.runs} runs per row "
                            f"(10,000-endpoint rows {max(3, args.runs // 3)}), round-robin, median; peak memory is the "
                            f"child's `ru_maxrss`.\n\n{text}\n\n{READING}\n")


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

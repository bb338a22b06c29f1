"""The warm-up result for people: what ran, how long it took and what it cost."""

from __future__ import annotations

from gpuctl.safetext import printable
from gpuctl.render.warm import size
from gpuctl.words import counted


def result_lines(doc: dict) -> list[str]:
    name = f"{doc['endpoint']['name']} ({doc['endpoint']['id']})"
    return _cpu_lines(doc, name) if doc["mode"] == "cpu" else _gpu_lines(doc, name)


def _cpu_lines(doc: dict, name: str) -> list[str]:
    lines = [f"endpoint {name}: models are in its network volume ({', '.join(doc['models'])}, from {doc['models_from']})"]
    for pod in doc["pods"]:
        volume = pod["volume"]
        lines.append(f"  volume {volume['name'] or volume['id']} ({volume['dataCenter']}): {counted(pod['files'], 'file')}, "
                     f"{size(pod['bytes'])} downloaded by pod {pod['pod_id']} in {pod['seconds']:.1f} s (deleted)")
    free = " (the local provider charges nothing)" if doc["provider"] == "local" else ""
    lines.append(f"  cost: ${doc['cost']:.4f}{free}")
    return lines


def _gpu_lines(doc: dict, name: str) -> list[str]:
    job = doc["job"]
    timing = f"  waited {(job['delayTime'] or 0) / 1000:.2f} s for a worker (queue and cold start), ran {(job['executionTime'] or 0) / 1000:.2f} s"
    if doc["handler_error"] is None:
        return [f"endpoint {name} is warm: worker {job['workerId']} ran the warm-up job end to end", timing]
    return [f"endpoint {name} is warm: worker {job['workerId']} ran the warm-up job, but the handler rejected its input", timing,
            f"  handler error: {printable(doc['handler_error'], keep_newlines=False)}",  # the worker's words, shown, not obeyed
            "  (a handler that validates its input rejects the warm-up marker; the worker still started and ran it)"]

"""Deploy's pre-warm outcome for people (the step itself is gpuctl.engine.prewarming): the
command that repeats a failed pre-warm, and the error that says which failed and why."""

from __future__ import annotations

import shlex

from gpuctl.errors import GpuctlError


class PrewarmFailed(GpuctlError):
    """The apply is done, but a pre-warm gpu.jsonc asks for failed: exit 1, never silently."""


def with_retry_commands(warmed: list[dict], opts) -> list[dict]:
    """Each failed pre-warm with `retry`: the command that repeats it, with this deploy's flags."""
    return [w | {"retry": _warm_command(w["endpoint"]["name"], w["mode"], opts)} if w["status"] == "failed" else w for w in warmed]


def _warm_command(name: str, mode: str, opts) -> str:
    argv = ["gpu", "serverless", "warm", name]
    if mode == "cpu":
        argv.append("--cpu")
    if opts.provider:
        argv += ["--provider", opts.provider]
    if opts.config:
        argv += ["--config", opts.config]
    return shlex.join(argv)


def prewarm_failure(warmed: list[dict]) -> PrewarmFailed | None:
    """One error for every failed pre-warm: each endpoint's cause, and how to retry it."""
    failed = [w for w in warmed if w["status"] == "failed"]
    if not failed:
        return None
    names = ", ".join(w["endpoint"]["name"] for w in failed)
    lines = []
    for w in failed:
        lines.append(f"{w['endpoint']['name']} ({w['mode']}): {w['error']}")
        lines += [f"  {extra}" for extra in (w["detail"], w["hint"] and f"hint: {w['hint']}") if extra]
    lines.append("The apply itself is done. The next deploy sees that the endpoint was never warmed and tries again.")
    return PrewarmFailed(f"the pre-warm of endpoint {names} failed", detail="\n".join(lines),
                         hint="; ".join(f"fix the cause, then run: {w['retry']}" for w in failed))

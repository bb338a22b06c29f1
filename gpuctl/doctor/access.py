"""Can gpuctl reach the account at all: the key, the control plane, the job API, and the
rate-limit headers it paces itself by."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from gpuctl.commands import suggest
from gpuctl.doctor.probe import PROBE_ENDPOINT_ID, Exchange, Probe
from gpuctl.doctor.report import Finding, Problem, Verdict
from gpuctl.provider.errors import AuthError, NotFound, TransportError
from gpuctl.provider.http import path
from gpuctl.provider.pacing import windows
from gpuctl.redact import clip
from gpuctl.urls import LOOPBACK
from gpuctl.words import counted

SLOW_S = 3.0  # an answer slower than this works, but every command will feel it
_POLICY = re.compile(r'"?(\w+)"?\s*;\s*q=(\d+)\s*;\s*w=(\d+)')
LOGIN_FIX = "run `gpu auth login` (or set RUNPOD_API_KEY) with a key that has read access to Serverless"


@dataclass(frozen=True)
class KeyInfo:
    """Where the key came from (never the key itself); `source` None means there is none."""

    source: str | None
    problem: str | None = None  # why the key cannot be right, without quoting it
    loose: tuple[str, ...] = ()  # key files that others can read
    fix: str | None = None


def check_key(info: KeyInfo) -> Finding:
    title = "API key"
    if info.source is None or info.problem:
        return Finding("key", title, Verdict.FAIL, info.problem or "no API key is configured", info.fix or LOGIN_FIX)
    if info.loose:
        return Finding("key", title, Verdict.WARN, f"a key from {info.source}, but others can read it", "run `gpu auth login` again: it rewrites the file as 0600 in a 0700 directory",
                       details=tuple(f"readable by others: {p}" for p in info.loose))
    return Finding("key", title, Verdict.PASS, f"a key from {info.source} (never printed)")


def _transport(found: Exchange) -> str:
    parts = urlsplit(found.base_url)
    if parts.scheme == "https":
        return f"over TLS ({found.tls})" if found.tls else "over TLS"
    return "over plain HTTP to loopback" if parts.hostname in LOOPBACK else "over plain HTTP"


def _refusal(found: Exchange, what: str) -> Finding | None:
    """The failing finding for an answer gpuctl cannot use, or None."""
    error = found.error
    cid = "control-plane" if what == "control plane" else "job-api"
    title = "Control plane" if what == "control plane" else "Job API"
    if error is None:
        return None
    if isinstance(error, AuthError):
        return Finding(cid, title, Verdict.FAIL, f"{found.where} at {found.base_url}: the key was refused ({error.status})", LOGIN_FIX)
    if found.status is not None and 300 <= found.status < 400:
        return Finding(cid, title, Verdict.FAIL, f"{found.where} at {found.base_url} answered with a redirect ({found.status}); gpuctl never follows one, so the key stays with the host you named",
                       "point the base URL (RUNPOD_API_BASE_URL or RUNPOD_ENDPOINT_BASE_URL) at the address the redirect names, if you trust it")
    if isinstance(error, TransportError):
        return Finding(cid, title, Verdict.FAIL, f"cannot reach the {what} at {found.base_url}", error.hint or "check the network and the base URL")
    return None


def check_control_plane(probe: Probe) -> Finding:
    found = probe.get("/v2/serverless")
    refused = _refusal(found, "control plane")
    if refused:
        return refused
    if not found.ok:
        return Finding("control-plane", "Control plane", Verdict.FAIL, f"{found.where} at {found.base_url}: {found.error.summary}", found.error.hint or "run again with --debug")
    return _timed("control-plane", "Control plane", found, f"{found.where} answered {found.status}")


def _timed(cid: str, title: str, found: Exchange, said: str) -> Finding:
    summary = f"{said} in {found.seconds * 1000:.0f} ms {_transport(found)} from {found.base_url}; redirects are never followed"
    if found.seconds > SLOW_S:
        return Finding(cid, title, Verdict.WARN, summary, f"answers slower than {SLOW_S:.0f} s make every command slow; check the network path to {found.base_url}")
    return Finding(cid, title, Verdict.PASS, summary)


def check_job_api(probe: Probe) -> Finding:
    """`/health` of the first endpoint, or of an id no account holds (a 404 proves the job API
    answered and accepted the key). A refusal of that id only warns: RunPod may answer 401 for
    an endpoint that is not the key's, which says nothing of the key (unverified)."""
    endpoints = probe.items("/v2/serverless", "endpoints")
    endpoint_id = next((e["id"] for e in endpoints if isinstance(e.get("id"), str)), None)
    found = probe.get(path("/{endpoint}/health", endpoint=endpoint_id or PROBE_ENDPOINT_ID), jobs=True)
    if endpoint_id is None and isinstance(found.error, AuthError):
        return Finding("job-api", "Job API", Verdict.WARN, f"GET /{{id}}/health of an endpoint no account has answered {found.error.status}, not 404: "
                       "the job API answers, but whether it takes this key shows only with an endpoint of the account",
                       f"run `{suggest('doctor', flags=probe.flags)}` again once the account has an endpoint; if it fails then, the key lacks job API access")
    refused = _refusal(found, "job API")
    if refused:
        return refused
    if endpoint_id is None and isinstance(found.error, NotFound):
        return _timed("job-api", "Job API", found, "GET /{id}/health of an endpoint no account has answered 404 (as it should)")
    if not found.ok:
        return Finding("job-api", "Job API", Verdict.FAIL, f"{found.where} at {found.base_url}: {found.error.summary}", found.error.hint or "run again with --debug")
    missing = [k for k in ("jobs", "workers") if not isinstance((found.body or {}).get(k), dict)]
    if missing:
        return Finding("job-api", "Job API", Verdict.FAIL, f"{found.where}: the answer lacks {', '.join(missing)}",
                       "gpuctl reads jobs and workers from /health (status, --wait-healthy); file a gpuctl issue with a recording (--record DIR)",
                       problems=tuple(Problem(f"{found.where}: {k}", "missing", "read by gpuctl") for k in missing))
    return _timed("job-api", "Job API", found, f"{found.where} answered {found.status}")


def check_rate_limit(probe: Probe) -> Finding:
    """RunPod sends `RateLimit` and `RateLimit-Policy` on every authenticated v2 answer (not
    to rate-limit-exempt callers). gpuctl paces every thread by `RateLimit`, so one it cannot
    read fails; `RateLimit-Policy` only names the quotas, so a missing or odd one warns."""
    found = probe.get("/v2/serverless")
    title = "Rate-limit headers"
    if not found.ok:
        return Finding("rate-limit", title, Verdict.SKIP, "the control plane did not answer")
    headers = {k.lower(): v for k, v in found.headers.items()}
    live, policy = headers.get("ratelimit"), headers.get("ratelimit-policy")
    if live is None and policy is None:
        return Finding("rate-limit", title, Verdict.WARN, f"{found.where} carried no RateLimit headers (RunPod omits them for rate-limit-exempt callers)",
                       "nothing to do if your key is exempt; else gpuctl paces by 429 and Retry-After alone: file a gpuctl issue with a recording")
    spent, quota = windows(live), {name: (int(q), int(w)) for name, q, w in _POLICY.findall(policy or "")}
    live_problem, policy_problem = _header_problem(found, "RateLimit", live, spent), _header_problem(found, "RateLimit-Policy", policy, quota)
    if live_problem:
        return Finding("rate-limit", title, Verdict.FAIL, "gpuctl cannot read the RateLimit header, so it cannot slow down before a 429",
                       HEADER_FIX, problems=tuple(p for p in (live_problem, policy_problem) if p))
    details = tuple(f"{w.name}: {w.remaining} of {quota.get(w.name, ('?',))[0]} left, resets in {w.reset} s" for w in spent)
    if policy_problem:
        return Finding("rate-limit", title, Verdict.WARN, f"RateLimit parsed ({counted(len(spent), 'window')}), RateLimit-Policy not: gpuctl paces by RateLimit alone",
                       HEADER_FIX, details, (policy_problem,))
    return Finding("rate-limit", title, Verdict.PASS, f"RateLimit and RateLimit-Policy present and parsed ({counted(len(spent), 'window')})", details=details)


HEADER_FIX = "file a gpuctl issue with a recording (--record DIR): the header format is not the one RunPod documents"


def _header_problem(found: Exchange, name: str, text: str | None, parsed: object) -> Problem | None:
    if text is None:
        return Problem(f"{found.where}: {name}", "missing", "the other rate-limit header came without it")
    return None if parsed else Problem(f"{found.where}: {name}", "invalid", f"cannot parse {clip(text, 80)!r}")

"""Fault injection: the failures reliability.md says RunPod's side can produce, on demand.

A rule names an operation (`list|get|create|update|delete|*`) on a resource kind
(`endpoint|template|network_volume|pod|graphql|catalog|registry|job|worker|*`) and an action:

- `status`: answer `status` without doing anything (429s carry `Retry-After`, and with
  `ratelimit` a RateLimit header whose minute window is spent);
- `commit_then_fail`: do the write, then answer `status` (default 500) instead of the object;
- `delay_visibility`: a created object stays invisible to list and get for `seconds`;
- `drop_field`: accept the write but do not store `field` (a dotted request path such as
  `workers.max`, or a GraphQL input name such as `workersMax`);
- `hang`: wait `seconds` before handling the request normally (so the write lands after a
  client that timed out has given up);
- `commit_then_hang`: do the write, then wait `seconds` before answering (a client killed
  meanwhile never learns that its create happened);
- `omit_field`: take the dotted `field` out of each object a `get` or `list` answers (for a
  list, out of every item), as if RunPod had stopped sending it;
- `extra_field`: add the dotted `field` with `value` (any JSON) to each object a `get` or
  `list` answers, as if RunPod had started sending a new one.

A hang still waiting when the server stops ends with a 503 instead (`FaultBook.hold`). Clearing
the rules releases every request a hang holds, which then goes on normally, and shows every
object a `delay_visibility` still hides (the admin route): a test holds a write, or hides a
create, for as long as it needs and lets it go by clearing, instead of guessing how long it will need.

Sub-resources (`/workers`, `/releases`, logs) are `get`s of their endpoint. A GraphQL query is
a `list` of kind `graphql`: `omit_field` and `extra_field` edit the value of each of its root
fields (each item, when it is a list). Log streams are never edited.

`op` may also be `write` (create, update or delete). `after` skips the first N matching
requests, so a test can aim at the k-th write.

The worker protocol has one fault point: kind `worker`, op `take`, a job-take (or job-take-batch)
that hands out jobs. `commit_then_fail` hands them out and answers `status` instead (the take's
answer lost: the jobs are IN_PROGRESS with a worker that never got them); `commit_then_hang`
holds the answer for `seconds`. Only a rule that names kind `worker` matches it, so a `*` rule
aimed at the control plane never touches the workers' long polls.

The job API has one fault point: kind `job`, op `update`, a cancel or retry of a job
(`/ai/v2/{endpoint}/cancel/{job}`, `/retry/{job}`), for a client that must say what came of a
cancel it was interrupted in (`gpu serverless job cancel`). It takes `status`, `hang`,
`commit_then_fail` and `commit_then_hang`. Only a rule that names kind `job` matches it, so a `*`
rule aimed at the control plane never touches a job's calls.

Rules are tried in order; each matching rule rolls its `probability` on one random generator
seeded by `seed`, so a run with the same seed and the same requests fails the same way.
`times` caps how often a rule fires. The api layer applies what a fired rule does
(`gpuctl.local.api.control`); this module holds the rules and decides which one fires.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

from gpuctl.local.api.http import ApiError
from gpuctl.local.errors import Invalid
from gpuctl.local.runtime.signals import Signals
from gpuctl.local.server.ratelimit import RateWindows

OPS = ("list", "get", "create", "update", "delete", "write", "take", "*")
WRITES = ("create", "update", "delete")
KINDS = ("endpoint", "template", "network_volume", "pod", "graphql", "catalog", "registry", "job", "worker", "*")
WORKER_ACTIONS = ("commit_then_fail", "commit_then_hang")  # what a rule of kind worker may do to a job-take
JOB_ACTIONS = ("status", "hang", "commit_then_fail", "commit_then_hang")  # what a rule of kind job may do to a cancel or retry
BY_NAME_ONLY = ("worker", "job")  # kinds whose fault point only a rule naming them reaches, never a `*` one
ACTIONS = ("status", "commit_then_fail", "delay_visibility", "drop_field", "hang", "commit_then_hang", "omit_field", "extra_field")
FIELD_ACTIONS = {"drop_field": '"workers.max"', "omit_field": '"workers.max"', "extra_field": '"workers.surge"'}
READS = ("get", "list")  # what omit_field and extra_field edit
RULE_KEYS = {"op", "kind", "action", "status", "retry_after", "ratelimit", "probability", "times", "field", "seconds", "after", "value"}


@dataclass
class FaultRule:
    action: str
    op: str = "*"
    kind: str = "*"
    status: int = 500
    retry_after: float | None = None
    ratelimit: bool = False
    probability: float = 1.0
    times: int | None = None
    field: str | None = None
    seconds: float = 1.0
    after: int = 0
    value: Any = None
    fired: int = 0
    seen: int = 0

    def matches(self, op: str, kind: str) -> bool:
        if self.times is not None and self.fired >= self.times:
            return False
        if not (self.op in ("*", op) or (self.op == "write" and op in WRITES)) or self.kind not in ("*", kind):
            return False
        if kind in BY_NAME_ONLY and self.kind != kind:  # the worker protocol and the job API only by name
            return False
        self.seen += 1
        return self.seen > self.after

    def describe(self) -> dict[str, Any]:
        doc = {k: getattr(self, k) for k in sorted(RULE_KEYS)}
        shown = {k: v for k, v in doc.items() if v is not None or (k == "value" and self.action == "extra_field")}
        return shown | {"fired": self.fired, "seen": self.seen}

    def response_headers(self, rate_headers: dict[str, str]) -> dict[str, str]:
        headers: dict[str, str] = {}
        retry = self.retry_after if self.retry_after is not None else (1 if self.status == 429 else None)
        if retry is not None:
            headers["Retry-After"] = str(math.ceil(retry))  # HTTP and the OpenAPI doc: whole seconds
        if self.ratelimit:
            rest = rate_headers["RateLimit"].split(", ", 1)[1]
            headers["RateLimit"] = f'"minute";r=0;t={math.ceil(retry or 1)}, {rest}'
            headers["RateLimit-Policy"] = rate_headers["RateLimit-Policy"]
        return headers

    def error(self, rate_headers: dict[str, str]) -> ApiError:
        detail = "rate limit exceeded for the minute window" if self.status == 429 else f"injected fault: {self.action} {self.op} {self.kind}"
        return ApiError(self.status, detail, headers=self.response_headers(rate_headers))


def _number(doc: dict, key: str, default: float | None, low: float, high: float | None = None) -> float | None:
    value = doc.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < low or (high is not None and value > high):
        raise Invalid(f"fault rule: {key} must be a number in [{low}, {high if high is not None else 'inf'}]")
    return value


def _choice(doc: dict, key: str, allowed: tuple[str, ...], default: str | None) -> str:
    value = doc.get(key, default)
    if value not in allowed:
        raise Invalid(f"fault rule: {key} must be one of {', '.join(allowed)}")
    return value


def _check_action(doc: dict, action: str) -> None:
    """What an action needs besides the common keys."""
    if action in FIELD_ACTIONS and not (isinstance(doc.get("field"), str) and doc["field"]):
        raise Invalid(f"fault rule: {action} needs field, e.g. {FIELD_ACTIONS[action]}")
    if action == "extra_field" and "value" not in doc:
        raise Invalid("fault rule: extra_field needs value, any JSON value")
    if (doc.get("kind") == "worker") != (doc.get("op") == "take"):
        raise Invalid('fault rule: op take is the worker protocol\'s job-take; it goes with kind worker, and kind worker with op take')
    if doc.get("kind") == "worker" and action not in WORKER_ACTIONS:
        raise Invalid(f"fault rule: a rule of kind worker acts on a job-take that hands out jobs; action must be one of {', '.join(WORKER_ACTIONS)}")
    if doc.get("kind") == "job" and (doc.get("op") != "update" or action not in JOB_ACTIONS):
        raise Invalid(f"fault rule: a rule of kind job acts on a cancel or retry of a job: op must be update, action one of {', '.join(JOB_ACTIONS)}")
    if action in ("omit_field", "extra_field") and doc.get("op") not in READS:
        raise Invalid(f"fault rule: {action} edits answers, so op must be get or list")


def parse_rule(doc: Any) -> FaultRule:
    if not isinstance(doc, dict):
        raise Invalid("fault rule must be an object")
    unknown = sorted(set(doc) - RULE_KEYS)
    if unknown:
        raise Invalid(f"fault rule: unknown keys {', '.join(unknown)}")
    action = _choice(doc, "action", ACTIONS, None)
    _check_action(doc, action)
    times, skip = doc.get("times"), doc.get("after", 0)
    if times is not None and (isinstance(times, bool) or not isinstance(times, int) or times < 1):
        raise Invalid("fault rule: times must be a positive integer")
    if isinstance(skip, bool) or not isinstance(skip, int) or skip < 0:
        raise Invalid("fault rule: after must be a non-negative integer")
    return FaultRule(
        action=action, op=_choice(doc, "op", OPS, "*"), kind=_choice(doc, "kind", KINDS, "*"),
        status=int(_number(doc, "status", 500, 100, 599) or 500), retry_after=_number(doc, "retry_after", None, 0),
        ratelimit=bool(doc.get("ratelimit", False)), probability=float(_number(doc, "probability", 1.0, 0, 1) or 0.0),
        times=times, field=doc.get("field"), seconds=float(_number(doc, "seconds", 1.0, 0) or 0.0), after=skip,
        value=doc.get("value"),
    )


_RELEASE = "faults cleared"  # the Signals key a hang also wakes on


class FaultBook:
    """The active rules and the seeded generator that decides when they fire; the api layer's
    `FaultPoint`. A fired `status` rule answers with the RateLimit headers of `rates`; a hang
    ends early when `signals` says the server is stopping."""

    def __init__(self, rates: RateWindows, signals: Signals):
        self.rates, self.signals = rates, signals
        self.rules: list[FaultRule] = []
        self.held = 0  # the hangs begun since the server started, of cleared rules too (AdminRoutes.clear_faults)
        self.seed: int | None = None
        self.rng = random.Random()

    def load(self, doc: Any) -> None:
        """Add the rules of `{"seed": n, "rules": [...]}` (or a single rule object)."""
        if isinstance(doc, dict) and "rules" in doc:
            if set(doc) - {"seed", "rules"} or not isinstance(doc["rules"], list):
                raise Invalid('send {"seed": n, "rules": [rule, ...]}')
            rules = [parse_rule(r) for r in doc["rules"]]
            if "seed" in doc:
                self.reseed(doc["seed"])
        else:
            rules = [parse_rule(doc)]
        self.rules.extend(rules)

    def reseed(self, seed: Any) -> None:
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise Invalid("seed must be an integer")
        self.seed = seed
        self.rng = random.Random(seed)

    def clear(self) -> None:
        """Remove every rule and forget the seed; release every request a hang holds."""
        self.rules.clear()
        self.reseed(None)
        self.signals.notify(_RELEASE)

    def decide(self, op: str, kind: str) -> FaultRule | None:
        for rule in self.rules:
            if rule.matches(op, kind) and self.rng.random() < rule.probability:
                rule.fired += 1
                return rule
        return None

    def error(self, rule: FaultRule) -> ApiError:
        return rule.error(self.rates.headers())

    async def hold(self, rule: FaultRule) -> bool:
        """Wait out the hang of `rule` (its `seconds`), or until the rules are cleared; False when
        the server began stopping first. A held request must not keep the shutdown waiting for
        the rest of its hang. A rule cleared since it fired holds nothing: it fires when the
        request's head arrives and its hang begins after the body is read (a `commit_then_hang`'s
        after the write), so a test that saw it fire and cleared the rules in between waited out
        the whole hang. Nothing yields between the check and the wait's registration. Counted
        in `held` (the request log counts the same requests once answered: api.control.held)."""
        self.held += 1
        if any(r is rule for r in self.rules):
            await self.signals.wait(_RELEASE, timeout=rule.seconds)
        return not self.signals.shutdown.is_set()

    def describe(self) -> dict[str, Any]:
        return {"seed": self.seed, "rules": [r.describe() for r in self.rules]}

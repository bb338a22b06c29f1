"""The drift report (`schema/drift.schema.json`), built from the plan document alone.

`gpu serverless drift` plans exactly as `deploy --plan` does and turns that plan document into
this one: only what differs, each resource with its drift label, each field with its origin
label and what it asks the user to do, and what the drift costs per hour. The text and
Markdown views (`render/drift_view.py`) are rendered from this document, never from the plan.

A plan document made before origins and drift labels existed has no `origin` or `drift` keys:
a field's origin is then "unknown", and a resource's label is null (an orphan is still called
one, because that is its action, not a classification).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from gpuctl.model import MARKER_ENV
from gpuctl.plan.adopt import other_project_advice
from gpuctl.plan.fields import GPUCTL_SETS
from gpuctl.plan.planner import UNPROVEN_CODE
from gpuctl.plan.cost import moves, pool_hourly
from gpuctl.commands import NONE, Flags, suggest
from gpuctl.render.words import show, signed_money
from gpuctl.v2 import gpu_count, gpu_pools, owner, whole, workers_max, workers_min

FORMAT_VERSION = "1"
KIND = "gpuctl-drift"
ORIGINS = ("config", "other-config", "account", "both", "unknown")
LABELS = ("deleted-in-account", "orphan", "unmanaged", "marker-lost", "larger-in-account", "duplicate", "renamed-in-account")
DRIFTING = ("create", "update", "replace", "delete", "orphan")
MONEY = ("workers.min", "workers.max", "gpu.pools", "gpu.count")
# The plan's notes a report repeats: what the account runs for the project that this gpu.jsonc
# leaves alone without calling it drift (an endpoint another gpu.jsonc of the project applied,
# ADR 35), so that "in sync" is never said of it silently (ADR 52). A `config-unproven` one (an
# endpoint whose recorded gpu.jsonc this checkout lacks, with no proof it left the repository:
# review 7, R7-2) makes the report not in sync (exit 2): no gpu.jsonc here declares what it bills.
KEPT_NOTES = ("other-config", UNPROVEN_CODE)
DRIFTING_NOTES = (UNPROVEN_CODE,)

ORIGIN_WORDS = {"config": "changed in gpu.jsonc", "other-config": "applied from another gpu.jsonc", "account": "changed in the account",
                "both": "changed in both", "unknown": "origin unknown"}
LABEL_WORDS = {"deleted-in-account": "deleted in the account", "orphan": "orphan", "unmanaged": "unmanaged", "marker-lost": "marker lost",
               "larger-in-account": "larger in the account", "duplicate": "duplicate", "renamed-in-account": "renamed in the account"}

def _cmd(flags: Flags, *argv: str) -> str:
    """A suggested command in backticks, with the run's options (`gpuctl.commands.suggest`)."""
    return f"`{suggest(*argv, flags=flags)}`"


def origin_advice(flags: Flags = NONE) -> dict[str, str]:
    """What a field of each origin asks, its commands carrying the run's options (`flags`)."""
    deploy, pull = _cmd(flags, "serverless", "deploy", "-y"), _cmd(flags, "serverless", "pull", "--write")
    return {
        "config": f"gpu.jsonc moved and the account is as last applied: {deploy} applies it",
        "other-config": ("the account holds what another gpu.jsonc applied (another branch or checkout, outside this one's review; the report "
                         "says who applied it and from where), after this gpu.jsonc was applied: revert it through review, by deploying the reviewed gpu.jsonc "
                         f"({deploy} from it; re-run its apply workflow); to keep those values, put them in this gpu.jsonc "
                         f"through a pull request ({pull})"),
        "account": f"someone changed it in the account: keep it with {pull}, or revert it with {deploy}",
        "both": f"conflict: {deploy} keeps gpu.jsonc's value; {pull} takes the account's instead",
        "unknown": f"who moved is not known (no last-applied record of this endpoint, a secret, or a gpu.jsonc value known only after apply): {deploy} applies gpu.jsonc's value, {pull} keeps the account's",
    }


ORIGIN_ADVICE = origin_advice()  # with no options: a report of ./gpu.jsonc, the provider not named


# What a field asks when pull cannot take the account's value (it never copies a secret, and a
# network volume never shrinks), whoever moved it: the origin's advice would name pull.
def secret_advice(flags: Flags = NONE) -> str:
    return ("a secret (gpu.jsonc reads it from a `${VAR}` or a RunPod secret), and the account holds another value: "
            f"{_cmd(flags, 'serverless', 'deploy', '-y')} writes gpu.jsonc's; to keep the account's, set it where gpu.jsonc reads it from "
            "(the variable the deploy gets, or the RunPod secret): `pull` never writes secrets")


def added_env_advice(flags: Flags = NONE) -> str:
    return (f"set in the account, not declared in gpu.jsonc: {_cmd(flags, 'serverless', 'deploy', '-y')} removes it; to keep it, declare it in "
            "runpod.env (as `{\"secret\": NAME}`, `${VAR}`, or a literal if it is no secret): `pull` lists it but never copies its value")


SECRET_ADVICE, ADDED_ENV_ADVICE = secret_advice(), added_env_advice()

LITERAL_ENV_START = "the account holds another value than gpu.jsonc's literal, not shown"


def literal_env_advice(key: str, flags: Flags = NONE) -> str:
    """What an env literal of gpu.jsonc asks when the account holds another value: that value is
    not shown (it may be a credential pasted in the console), and a plain `pull --write` does not
    copy it (gpuctl.config.pull.literal_changed), so the advice names what works."""
    return (f"{LITERAL_ENV_START} (it may be a secret pasted in the console): {_cmd(flags, 'serverless', 'deploy', '-y')} writes gpu.jsonc's back; to keep "
            f"the account's, {_cmd(flags, 'serverless', 'pull', '--write', '--literal-env', key)} if it is no secret, or declare it as `${{VAR}}` or "
            f"`{{\"secret\": NAME}}` if it is one (`pull` never copies it otherwise)")


def no_key_advice(flags: Flags = NONE) -> str:
    return ("changed in the account; gpu.jsonc has no key for it, so gpuctl keeps it at the value it creates endpoints with "
            f"(ADR 36): {_cmd(flags, 'serverless', 'deploy', '-y')} sets that value back; `pull` cannot keep the account's")


NO_KEY_ADVICE = no_key_advice()

IDLE_SCALED_DOWN = "idle-scaled-down"
IDLE_MAX = (2, 0)  # what RunPod sets workersMax of an idle endpoint to: after 3 days, then after 7 (api-notes §8.7)


def idle_advice(flags: Flags = NONE) -> str:
    """What workers.max lowered by RunPod's idle scale-down asks: restore it. `pull --write`
    would commit the paused endpoint (review 6, R6-5)."""
    return ("RunPod lowers workersMax of an endpoint idle for 3 days to 2, and after 7 days to 0, which this looks like (no gpuctl apply "
            f"or rollback set it): {_cmd(flags, 'serverless', 'deploy', '-y')} restores gpu.jsonc's value; if someone lowered it on purpose, "
            "change scaling.max_workers in gpu.jsonc through review instead")


def explanation(change: dict) -> str | None:
    """Why the account moved a field, when gpuctl can tell (`explanation` in the document):
    IDLE_SCALED_DOWN for workers.max lowered to 2 or 0, below gpu.jsonc's value, since gpuctl
    last applied that value (origin account: no apply and no rollback of gpuctl's set it)."""
    if change["path"] != "workers.max" or origin_of(change) != "account" or isinstance(change.get("rolled_back"), dict):
        return None
    before, after = change["before"], change["after"]
    counts = all(isinstance(v, int) and not isinstance(v, bool) for v in (before, after))
    return IDLE_SCALED_DOWN if counts and before in IDLE_MAX and after > before else None


OTHER_PROJECT = "an endpoint of another project"  # words only: a reader tells it apart by the finding's `owner` (`of_another_project`)


def of_another_project(entry: dict, project_id: str) -> bool:
    """Whether a finding is an endpoint that carries another project's marker (labelled
    unmanaged, since gpuctl never touches it), by its `owner`, never by its advice's words."""
    return entry["drift"] == "unmanaged" and entry.get("owner") not in (None, project_id)


def label_advice(label: str | None, resource: dict, project_id: str, owner: str | None = None, kept: str | None = None, flags: Flags = NONE) -> str:
    """What a resource's drift asks the user to do, with the commands to do it, which carry the
    run's options (`flags`). `owner`: the project whose marker the endpoint carries, when not
    this one; `kept`: for a duplicate, the id of the endpoint of the block that deploy keeps.
    Commands name an endpoint by its id, never by the name the account gives it."""
    name, ref = resource["name"], resource["id"] or "ID"
    deploy = _cmd(flags, "serverless", "deploy", "-y")
    eid = resource["id"] or "ID"  # `adopt` takes an id, never a name (the legend's resource has none)
    if label == "duplicate":
        if not kept or not resource["id"]:  # any duplicate (the legend)
            return ("deploy keeps the oldest of this project's endpoints that claim one block and refuses to plan until it is the only one: "
                    f"delete each other one with {_cmd(flags, 'serverless', 'delete', 'ID', '--force')}; to keep another instead, delete the oldest by its id "
                    "the same way (its callers' URL goes with it)")
        return (f"deploy keeps endpoint {kept}, the oldest of this project's endpoints named \"{name}\", and refuses to plan until it is the "
                f"only one: delete this one with {_cmd(flags, 'serverless', 'delete', resource['id'], '--force')}; to keep this one instead, delete {kept} "
                f"with {_cmd(flags, 'serverless', 'delete', kept, '--force')} (its callers' URL goes with it)")
    if label == "unmanaged" and owner and owner != project_id:
        return (f"{OTHER_PROJECT}: \"{name}\" belongs to project \"{owner}\", not to this one (\"{project_id}\"), which gpuctl never "
                f"touches: {other_project_advice(eid, owner)}")
    if resource["kind"] == "network_volume" and resource["action"] == "create":
        return f"missing from the account: {deploy} creates it, empty and with a new id (cached models download again)"
    if label == "deleted-in-account":
        return (f"it was applied by this project and deleted in the account: {deploy} re-creates it with a new id "
                "and so a new URL (tell whoever calls it), or remove its block from gpu.jsonc")
    if label == "renamed-in-account" and resource["action"] == "orphan":  # its block has another endpoint: not guessed (ADR 59)
        return (f"its last-applied record says it is the endpoint of a block of gpu.jsonc, renamed in the account, while that block has another "
                f"endpoint now, or another one renamed in the account claims it too (the reason names them): gpuctl does not guess which one callers use, and never deletes either (--prune included). "
                f"Keep the one they call: to keep this one, delete the other by its id with {_cmd(flags, 'serverless', 'delete', 'ID')}, and {deploy} then "
                f"renames this one back to the block's name (same id and URL); otherwise delete this one with {_cmd(flags, 'serverless', 'delete', ref)}")
    if label == "renamed-in-account":
        return (f"renamed in the account (in the console, say); its last-applied record, kept by endpoint id, says it is this block's endpoint: "
                f"{deploy} renames it to the block's name in place (same id and URL, its workers keep running; the reason says which name); to keep the account's name, "
                f"{_cmd(flags, 'serverless', 'pull', '--write')} renames the block in gpu.jsonc (through a pull request)")
    if label == "orphan":
        return f"owned by this project, no longer in gpu.jsonc and still running: {_cmd(flags, 'serverless', 'deploy', '--prune', '-y')} deletes it, or {_cmd(flags, 'serverless', 'import', ref, '--write')} puts its block back in gpu.jsonc"
    if label == "unmanaged":
        named = f"an endpoint named \"{name}\"" if resource["id"] else "an endpoint holding a block's name, or looking like its endpoint,"
        return (f"{named} without this project's marker, which gpuctl never touches: to adopt it, add "
                f"`\"adopt\": \"{eid}\"` to the gpu.jsonc block that should manage it (when gpu.jsonc has none, {_cmd(flags, 'serverless', 'import', eid, '--write')} "
                "adds one; import refuses a name gpu.jsonc declares), or delete it in the console if nobody calls it; if it holds "
                "the name of a block of gpu.jsonc, giving that block another name also ends this")
    if label == "larger-in-account":
        size = next((c["before"] for c in resource.get("changes", ()) if c["path"] == "size"), None)
        to = f" to {size}" if isinstance(size, int) else ""
        return (f"network volumes can only grow, so {_cmd(flags, 'serverless', 'deploy')} cannot put it back: it keeps the volume at the account's size "
                f"(and applies everything else) with a warning until gpu.jsonc says it: {_cmd(flags, 'serverless', 'pull', '--write')} sets volume.size_gb{to}")
    if label == "marker-lost":
        on = f"endpoint {resource['id']}" if resource["id"] else "the endpoint"  # the legend's resource is any endpoint
        return (f"an endpoint this project applied lost its {MARKER_ENV} marker: {deploy} writes {MARKER_ENV}={project_id} "
                f"back, or set it on {on} in the console")
    if resource["action"] == "create":
        return f"missing from the account: {deploy} creates it (a new id and URL); no last-applied record says whether it was deleted there or is new in gpu.jsonc"
    if resource["action"] == "replace":
        return f"must be replaced to match gpu.jsonc, which gives it a new id and URL: decide per field below, then {deploy}"
    return "each field below says what to do"


def applied_from_words(applied: dict | None) -> str:
    """Who applied from another gpu.jsonc, when, from where: "by ana from ana@laptop
    (gpu.jsonc) at 2026-12-07T06:10:00Z, commit 0123456789ab"; parts not known are left out."""
    a = applied or {}
    said = [f"by {a['by']}" if a.get("by") else "by someone gpuctl could not name",
            *([f"from {a['where']}"] if a.get("where") else []), *([f"({a['config']})"] if a.get("config") else []),
            *([f"at {a['at']}"] if a.get("at") else [])]
    return " ".join(said) + (f", commit {a['commit']}" if a.get("commit") else ", no commit recorded")


def origin_of(change: dict) -> str:
    origin = change.get("origin")
    return origin if origin in ORIGINS else "unknown"


def label_of(resource: dict) -> str | None:
    label = resource.get("drift")
    if label in LABELS:
        return label
    return "orphan" if resource["action"] == "orphan" else None


def is_drift(resource: dict) -> bool:
    """A resource differs when applying would change it, when it is an orphan, or when it carries
    a drift label at all (an unmanaged look-alike changes nothing, but someone should know)."""
    return resource["action"] in DRIFTING or label_of(resource) is not None


MARKER_PATH = f"env.{MARKER_ENV}"


def field_advice(change: dict, label: str | None = None, resource: dict | None = None, project_id: str = "", flags: Flags = NONE) -> str:
    """What one differing field asks the user to do: its origin's advice, unless pull cannot
    take the account's value, which that advice offers. gpuctl's own marker is never written to
    gpu.jsonc (`pull` refuses it), so its field asks only what restores it: the marker-lost
    advice, or, for an endpoint being adopted, that deploy writes it."""
    origin = origin_of(change)
    if change["path"] == MARKER_PATH:
        if label == "marker-lost" and resource is not None:
            return label_advice(label, resource, project_id, flags=flags)
        return f"gpuctl's own ownership marker, which `pull` never writes to gpu.jsonc: {_cmd(flags, 'serverless', 'deploy', '-y')} writes {MARKER_ENV}={project_id}"
    if label == "larger-in-account":
        return f"the account's volume is larger; volumes never shrink: {_cmd(flags, 'serverless', 'pull', '--write')} sets volume.size_gb in gpu.jsonc to the account's size"
    if origin == "other-config":  # whatever the field, the account's value is another gpu.jsonc's apply: undone through review
        return origin_advice(flags)[origin]
    rolled = change.get("rolled_back")
    if origin == "account" and isinstance(rolled, dict):  # the record says whose it is (review 3, L6; an env key too: review 6, R6-6)
        made = f" (now version {rolled.get('version')})" if rolled.get("version") is not None else ""
        undo = f"undo the rollback with {_cmd(flags, 'serverless', 'deploy', '-y')}"
        keep = f"keep it with {_cmd(flags, 'serverless', 'pull', '--write')}"
        if change["path"].startswith("env.") and change["before"] is not None:  # pull never copies an env value it cannot show
            keep = "keep it by declaring it in runpod.env (as `{\"secret\": NAME}`, `${VAR}`, or a literal if it is no secret)"
        return (f"rolled back by gpuctl (`gpu serverless rollback` to the configuration of version {rolled.get('to')}{made}), not changed by someone "
                f"in the account: {keep}, or {undo}")
    if origin == "unknown" and isinstance(rolled, dict):  # the rollback wrote this env key; the record keeps no digest of its value (review 7, R7-3)
        made = f" (now version {rolled.get('version')})" if rolled.get("version") is not None else ""
        return (f"rolled back by gpuctl (`gpu serverless rollback` to the configuration of version {rolled.get('to')}{made}), or changed in the account "
                "since (the last-applied record keeps no digest of a value that may be a secret): keep it by declaring it in runpod.env "
                f"(as `{{\"secret\": NAME}}`, `${{VAR}}`, or a literal if it is no secret), or apply gpu.jsonc's value with {_cmd(flags, 'serverless', 'deploy', '-y')}")
    if change["path"].startswith("env.") and change["before"] is not None and origin != "config":
        if change["sensitive"]:
            return added_env_advice(flags) if change["after"] is None else secret_advice(flags)
        if isinstance(change["before"], dict) and change["before"].get("sensitive"):  # the account's value, hidden: it may be a secret
            return added_env_advice(flags) if change["after"] is None else literal_env_advice(change["path"][len("env."):], flags)
    if change["path"] in GPUCTL_SETS:
        return no_key_advice(flags)
    if explanation(change) == IDLE_SCALED_DOWN:
        return idle_advice(flags)
    return origin_advice(flags)[origin]


def _field(change: dict, label: str | None, keys: list[dict], resource: dict, project_id: str, flags: Flags = NONE) -> dict:
    origin = origin_of(change)
    return {
        "path": change["path"],
        "config": change["after"],
        "account": change["before"],
        "origin": origin,
        "sensitive": change["sensitive"],
        "forces_replace": change["forces_replace"],
        "what_to_do": field_advice(change, label, resource, project_id, flags),
        "config_keys": keys,
    } | ({"explanation": why} if (why := explanation(change)) else {}) | (
        {"rolled_back": change["rolled_back"]} if isinstance(change.get("rolled_back"), dict) else {}) | (
        {"applied_from": change["applied_from"]} if origin == "other-config" and isinstance(change.get("applied_from"), dict) else {})


Locate = Callable[[str, str, str], list[dict]]  # (kind, name, path) -> [{"key", "file", "line"}]: gpuctl.config.locate


def _nowhere(kind: str, name: str, path: str) -> list[dict]:
    return []


def _entry(resource: dict, project_id: str, locate: Locate = _nowhere, observed: Mapping[str, dict] | None = None,
           kept: Mapping[str, str] | None = None, flags: Flags = NONE) -> dict:
    """One drifted resource. A resource missing from the account (or from gpu.jsonc) lists no
    fields: the whole resource is the difference, and its fields are gpu.jsonc's, not drift.
    `kept`: by address, the id of the endpoint a block keeps, which a duplicate's advice names."""
    label = label_of(resource)
    listed = resource["action"] in ("update", "replace") or label == "larger-in-account"
    marker = owner((observed or {}).get(resource["id"] or "") or {}) or None
    if resource["action"] == "create" and label is None and resource["changes"] and all(origin_of(c) == "config" for c in resource["changes"]):
        advice = f"new in gpu.jsonc and not deployed yet: {_cmd(flags, 'serverless', 'deploy', '-y')} creates it"
    else:
        advice = label_advice(label, resource, project_id, marker, (kept or {}).get(resource["address"]), flags)
    return {
        "address": resource["address"],
        "kind": resource["kind"],
        "name": resource["name"],
        "id": resource["id"],
        "action": resource["action"],
        "drift": label,
        "reason": resource["reason"],
        "what_to_do": advice,
        "changes": [_field(c, label, locate(resource["kind"], resource["name"], c["path"]), resource, project_id, flags) for c in resource["changes"]] if listed else [],
        "owner": marker,
    }


def build(plan: dict, catalog, observed_endpoints: Mapping[str, dict] | None = None, locate: Locate = _nowhere, flags: Flags = NONE) -> dict:
    """The drift document of a plan document. `catalog` prices GPU pools; `observed_endpoints`
    ({id: RunPod v2 endpoint}) lets an orphan's cost be counted, which the plan has only in words;
    `locate` names the gpu.jsonc key (and line) of each drifted field (`config.locate`); `flags`:
    the run's options, which every command of the advice repeats (`gpuctl.commands`), so that
    the views are rendered with the same `flags`."""
    drifted = [r for r in plan["resource_changes"] if is_drift(r)]
    kept = {r["address"]: r["id"] for r in plan["resource_changes"] if r["kind"] == "endpoint" and r["id"] and label_of(r) not in ("duplicate", "unmanaged", "orphan")}
    entries = [_entry(r, plan["project_id"], locate, observed_endpoints, kept, flags) for r in drifted]
    fields = [c for e in entries for c in e["changes"]]
    labels = [e["drift"] for e in entries if e["drift"]]
    notes = [{"code": n["code"], "address": n["address"], "message": n["message"]} for n in plan.get("notes") or () if n.get("code") in KEPT_NOTES]
    return {
        "format_version": FORMAT_VERSION,
        "kind": KIND,
        "tool": plan["tool"],
        "project_id": plan["project_id"],
        "config": plan["config"],
        "provider": plan["provider"],
        "in_sync": not entries and not any(n["code"] in DRIFTING_NOTES for n in notes),
        "summary": {
            "resources": len(entries),
            "fields": len(fields),
            "origins": {o: sum(1 for c in fields if c["origin"] == o) for o in ORIGINS},
            "labels": {label: labels.count(label) for label in LABELS},
        },
        "drift": entries,
        "notes": notes,
        "cost_of_drift": cost_of_drift(drifted, catalog, observed_endpoints or {}),
        "observed_digest": plan["observed_digest"],
    }


# -- the cost of the drift: what the account costs per hour against what gpu.jsonc declares ----


def _usd(amount: float) -> float:
    """An amount per hour as the document gives it: to 1/100 of a cent, never -0.0 (a zero
    saved reads as "-0" wherever the JSON is shown)."""
    return round(amount, 4) + 0.0


def _count(value: Any) -> int | None:
    """A count as the views read one (`v2.whole`: 2.0 is 2); None for anything else."""
    found = whole(value)
    return found if found is not None and found >= 0 else None


def hourly(values: Mapping[str, Any], catalog) -> tuple[float, float, bool]:
    """(always-on, worst case, priced) per hour for `workers.min`, `workers.max`, `gpu.pools` and
    `gpu.count` (1 when not given)."""
    pools = values.get("gpu.pools") if isinstance(values.get("gpu.pools"), list) else []
    gpus = values.get("gpu.count", 1)
    return pool_hourly(pools, _count(values.get("workers.min")), _count(values.get("workers.max")), catalog, _count(gpus) or None)


def _money_fields(body: Mapping[str, Any]) -> dict[str, Any]:
    """The fields that move money, read off a RunPod v2 request body or endpoint (one shape)."""
    return {"workers.min": workers_min(body), "workers.max": workers_max(body), "gpu.pools": gpu_pools(body), "gpu.count": gpu_count(body)}


def _declared(resource: dict) -> dict[str, Any]:
    return _money_fields(resource.get("desired") or {})


def amounts(always: float, worst: float) -> str:
    """"+$1.51/h always-on, -$0.72/h worst case", naming only the amounts that move by a cent
    or more: raising workers.max moves the worst case alone, and "+$0.00/h always-on" beside
    it would say something moved that did not."""
    said = [f"{signed_money(v)} {words}" for v, words in ((always, "always-on"), (worst, "worst case")) if round(v, 2)]
    return ", ".join(said) or "less than $0.01/h"


def _phrase(change: dict, always: float, worst: float) -> str:
    """"the account raised workers.min 0 → 2: +$1.51/h always-on, -$0.72/h worst case". The amounts are the
    account's cost minus gpu.jsonc's; the words say who moved."""
    path, cfg, acct, origin = change["path"], change["after"], change["before"], origin_of(change)
    cost = amounts(always, worst)  # always-on workers bill at the active rate, so min moves the worst case too
    old, new = (acct, cfg) if origin == "config" else (cfg, acct)
    numeric = _count(old) is not None and _count(new) is not None
    verb = ("raised" if new > old else "lowered") if numeric else "changed"
    if origin == "account":
        return f"the account {verb} {path} {show(old)} → {show(new)}: {cost}"
    if origin == "other-config":
        return f"another gpu.jsonc's apply {verb} {path} {show(old)} → {show(new)}: {cost}"
    if origin == "config":
        return f"gpu.jsonc {verb} {path} {show(old)} → {show(new)}, not applied yet: {cost} until it is"
    both = "changed in both, " if origin == "both" else ""
    return f"{path} is {both}{show(acct)} in the account and {show(cfg)} in gpu.jsonc: {cost} in the account"


def _update_cost(resource: dict, catalog) -> dict | None:
    declared = _declared(resource)
    moved = {c["path"]: c for c in resource["changes"] if c["path"] in MONEY and not c["sensitive"]}
    if not moved:
        return None
    base = hourly(declared, catalog)
    now = hourly(declared | {p: c["before"] for p, c in moved.items()}, catalog)
    parts = []
    for path, change in sorted(moved.items()):
        one = hourly(declared | {path: change["before"]}, catalog)
        always, worst = one[0] - base[0], one[1] - base[1]
        if moves(always, worst) and one[2] and base[2]:
            parts.append({"path": path, "always_on_per_hour": _usd(always), "worst_case_per_hour": _usd(worst), "phrase": _phrase(change, always, worst)})
    priced = base[2] and now[2]
    if priced and not parts and not moves(now[0] - base[0], now[1] - base[1]):
        return None  # the same pool twice, or a field gpu.jsonc and the account price alike: nothing to say
    if not priced:
        parts = [{"path": None, "always_on_per_hour": 0.0, "worst_case_per_hour": 0.0, "phrase": "no published price for its GPU pools: the cost of this drift is not known"}]
    return _item(resource, now[0] - base[0], now[1] - base[1], priced, parts)


def _whole_cost(resource: dict, values: Mapping[str, Any], sign: int, words: str, catalog) -> dict:
    always, worst, priced = hourly(values, catalog)
    if not priced:
        return _item(resource, 0.0, 0.0, False, [{"path": None, "always_on_per_hour": 0.0, "worst_case_per_hour": 0.0,
                                                   "phrase": f"{words}: no published price for its GPU pools, so its cost is not known"}])
    phrase = f"{words}: {amounts(sign * always, sign * worst)}"
    return _item(resource, sign * always, sign * worst, True, [{"path": None, "always_on_per_hour": _usd(sign * always), "worst_case_per_hour": _usd(sign * worst), "phrase": phrase}])


def _item(resource: dict, always: float, worst: float, priced: bool, parts: list[dict]) -> dict:
    return {"address": resource["address"], "always_on_per_hour": _usd(always) if priced else 0.0,
            "worst_case_per_hour": _usd(worst) if priced else 0.0, "complete": priced, "parts": parts}


def _resource_cost(resource: dict, catalog, observed: Mapping[str, dict]) -> dict | None:
    if resource["kind"] != "endpoint" or label_of(resource) == "unmanaged":
        return None  # volumes cost little and the same either way; an unmanaged endpoint is not ours to count
    if label_of(resource) == "duplicate":
        live = observed.get(resource["id"] or "")
        return _whole_cost(resource, _money_fields(live or {}), 1, "a second endpoint of this block, running beside the one deploy keeps", catalog)
    if resource["action"] in ("update", "replace"):
        return _update_cost(resource, catalog)
    if resource["action"] == "create":
        return _whole_cost(resource, _declared(resource), -1, "missing from the account, which saves what gpu.jsonc would cost", catalog)
    if resource["action"] == "orphan":
        live = observed.get(resource["id"] or "")
        return _whole_cost(resource, _money_fields(live or {}), 1, "still running, not in gpu.jsonc", catalog)
    return None


def cost_of_drift(drifted: list[dict], catalog, observed: Mapping[str, dict]) -> dict:
    """Per resource, what the account costs per hour minus what gpu.jsonc declares (positive:
    the account spends more), with one part per field that moves money; and the totals."""
    items = [i for i in (_resource_cost(r, catalog, observed) for r in drifted) if i is not None]
    return {
        "currency": "USD",
        "always_on_per_hour": _usd(sum(i["always_on_per_hour"] for i in items)),
        "worst_case_per_hour": _usd(sum(i["worst_case_per_hour"] for i in items)),
        "complete": all(i["complete"] for i in items),
        "items": items,
    }

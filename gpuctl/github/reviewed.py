"""Apply on merge: which plan was reviewed, and whether it is still the plan
([ADR 16](../../docs/adr/0016-apply-the-reviewed-plan.md)).

The plan job uploads its plans as the artifact `<prefix>-<head SHA>`. The merge run finds the
pull request merged as its commit, then that name's newest artifact made by a trusted run (one
whose head repository is this repository: a fork's own `pull_request` run can upload anything
under any name). The reviewed plan is still fresh when every write a plan made now would make
is a write of the reviewed plan, exactly: the same resource, action, id, field values before and
after, and desired body. A reviewed write the fresh plan no longer needs is already in place (a
run that stopped part-way, or another run of this merge, did it); it does not make the plan
stale. Changes elsewhere in the account do not either; anything that changes what this apply
writes does."""

from __future__ import annotations

import json

from gpuctl.github.client import GitHub
from gpuctl.plan.model import CHANGING

WRITES = {action.value for action in CHANGING}


def merged_pull(gh: GitHub, sha: str) -> dict | None:
    """The merged pull request whose merge (or squash, or rebase) produced `sha`, if any."""
    pulls = [p for p in gh.request("GET", gh.repo(f"/commits/{sha}/pulls")) or [] if p.get("merged_at")]
    exact = [p for p in pulls if p.get("merge_commit_sha") == sha]
    chosen = sorted(exact or pulls, key=lambda p: p["merged_at"])
    return chosen[-1] if chosen else None


def artifact_name(prefix: str, head_sha: str) -> str:
    return f"{prefix}-{head_sha}"


def plan_artifact(gh: GitHub, prefix: str, head_sha: str) -> dict | None:
    """The newest unexpired artifact named for this head SHA whose run ran this repository's
    own code (never a fork's pull_request run)."""
    name = artifact_name(prefix, head_sha)
    found = [a for a in gh.paginate(gh.repo("/actions/artifacts"), {"name": name}, key="artifacts")
             if a.get("name") == name and not a.get("expired") and _trusted(a.get("workflow_run") or {})]
    return max(found, key=lambda a: a.get("created_at") or "") if found else None


def _trusted(run: dict) -> bool:
    return run.get("id") is not None and run.get("repository_id") is not None and run.get("head_repository_id") == run.get("repository_id")


def writes(doc: dict) -> list[dict]:
    """What applying a plan document would write, in a form that compares with `==`."""
    return [{"address": r["address"], "action": r["action"], "id": r.get("id"), "desired": r.get("desired"),
             "changes": [(c["path"], c["before"], c["after"]) for c in r.get("changes", [])]}
            for r in doc.get("resource_changes", []) if r.get("action") in WRITES]


def differences(reviewed: dict, fresh: dict) -> list[str]:
    """Why the reviewed plan is no longer the plan: one line per write of the fresh plan that is
    not exactly a write of the reviewed plan; empty when applying the fresh plan writes only what
    was reviewed. A reviewed write the fresh plan no longer needs is not a difference: it is in
    place already (`in_place`), so applying the rest brings the account where the review said."""
    lines = [f"{key}: reviewed {json.dumps(reviewed.get(key))}, now {json.dumps(fresh.get(key))}"
             for key in ("project_id", "provider", "prune") if reviewed.get(key) != fresh.get(key)]
    before = {w["address"]: w for w in writes(reviewed)}
    for new in sorted(writes(fresh), key=lambda w: w["address"]):
        old = before.get(new["address"])
        if old == new:
            continue
        if old is None:
            lines.append(f"{new['address']}: {new['action']} was not in the reviewed plan")
        else:
            lines.append(f"{new['address']}: the {new['action']} now differs from the reviewed {old['action']}")
    return lines


def in_place(reviewed: dict, fresh: dict) -> list[str]:
    """The reviewed writes a plan made now no longer needs ("endpoint.api (create)"): the
    account already has them, from an earlier try of this apply or another run."""
    after = {w["address"] for w in writes(fresh)}
    return [f"{w['address']} ({w['action']})" for w in writes(reviewed) if w["address"] not in after]


def unknown_variables(doc: dict) -> list[str]:
    """The `${VAR}`s the plan run did not have (values `{"unknown_from": [...]}`, ADR 24), in
    what the plan would write."""
    found: set[str] = set()

    def walk(value) -> None:
        if isinstance(value, dict):
            if isinstance(value.get("unknown_from"), list):
                found.update(str(v) for v in value["unknown_from"])
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(writes(doc))
    return sorted(found)

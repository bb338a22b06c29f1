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
import re

from gpuctl.github.client import GitHub, GitHubError
from gpuctl.redact import clip
from gpuctl.render.document import writes
from gpuctl.words import first_of
# What gpuctl reads of a pull request (GET /pulls/N, GET /commits/SHA/pulls), checked by the client.
PULL = {"number": int, "state": (str, type(None)), "merged_at": (str, type(None)), "merge_commit_sha": (str, type(None)),
        "head.sha": str, "base.ref": (str, type(None))}
ARTIFACT = {"name": str, "expired": (bool, type(None)), "created_at": (str, type(None)), "workflow_run.id": (int, type(None)),
            "workflow_run.repository_id": (int, type(None)), "workflow_run.head_repository_id": (int, type(None))}


def merged_pull(gh: GitHub, sha: str) -> dict | None:
    """The merged pull request whose merge (or squash, or rebase) produced `sha`, if any."""
    pulls = [p for p in gh.request("GET", gh.repo("commits", sha, "pulls"), answer=list, fields=PULL) if p.get("merged_at")]
    exact = [p for p in pulls if p.get("merge_commit_sha") == sha]
    chosen = sorted(exact or pulls, key=lambda p: p["merged_at"])
    return chosen[-1] if chosen else None


PR_INPUT_HINT = ("give the number of a pull request merged into {branch} (`31` for #31) in the apply workflow's `pr` input, "
                 "or leave it empty for the pull request merged as {branch}'s head commit; nothing was applied")


def chosen_pull(gh: GitHub, value: str, ref: str | None) -> dict:
    """The pull request a person named in apply.yml's `pr` input (run by hand), checked: a
    number, of a pull request of this repository, merged, into the branch the run applies
    (`ref`, refs/heads/main). Anything else is an error naming the input and what to give."""
    from gpuctl.errors import GpuctlError

    branch = ref.removeprefix("refs/heads/") if ref and ref.startswith("refs/heads/") else None
    hint = PR_INPUT_HINT.format(branch=branch or "the branch")
    text = value.strip()
    if not re.fullmatch(r"#?[0-9]{1,9}", text) or int(text.lstrip("#")) == 0:
        raise GpuctlError(f"the `pr` input is {clip(json.dumps(value), 40)}, not a pull request number", hint=hint)
    number = int(text.lstrip("#"))
    try:
        pull = gh.request("GET", gh.repo("pulls", number), fields=PULL | {"head.sha": (str, type(None))})
    except GitHubError as exc:
        if exc.status == 404:
            raise GpuctlError(f"the `pr` input names pull request #{number}, which {gh.repository} does not have", hint=hint) from None
        raise
    if not pull.get("merged_at") or not isinstance(pull.get("merge_commit_sha"), str):
        state = "open" if pull.get("state") == "open" else "closed without being merged"
        raise GpuctlError(f"the `pr` input names pull request #{number}, which is {state}: nothing of it is on {branch or 'the branch'} to apply",
                          hint=hint)
    base = ((pull.get("base") or {}).get("ref"))
    if branch is not None and base != branch:
        raise GpuctlError(f"the `pr` input names pull request #{number}, which was merged into {clip(str(base), 60)}, not {branch}, which this run applies",
                          hint=hint)
    if not isinstance((pull.get("head") or {}).get("sha"), str):
        raise GpuctlError(f"GitHub's answer for pull request #{number} has no head commit", hint="run the workflow again")
    return pull


def branch_head(gh: GitHub, branch: str) -> str | None:
    """The commit `branch` is at now; None when GitHub has no such branch (deleted since)."""
    try:
        found = gh.request("GET", gh.repo("git", "ref", "heads", *branch.split("/")), fields={"object.sha": str})
    except GitHubError as exc:
        if exc.status == 404:
            return None
        raise
    return found["object"]["sha"].lower()


def superseded(gh: GitHub, ref: str, sha: str, inputs) -> str | None:
    """Why applying the config as commit `sha` would roll the account back, or None. A run's
    commit stays what it was when it is re-run (GitHub's "Re-run jobs"), so the run of an older
    merge can come after the run of a newer one, and its fresh plan can be exactly the plan
    reviewed on its pull request (a revert merged since, an endpoint pruned since): the account
    would silently go back to the older commit's. So when `ref` (the branch the run is for) has
    moved past `sha` and any file the plan reads (`inputs`, gpuctl.github.inputs: gpu.jsonc, the
    files `template: auto` reads beside it, the policy file) is not there as in this checkout, the
    newer commit's run is the one to apply it. Runs outside a branch, and a branch GitHub no
    longer has, are not checked."""
    from gpuctl.github.inputs import changed

    if not ref.startswith("refs/heads/"):
        return None
    branch = ref.removeprefix("refs/heads/")
    head = branch_head(gh, branch)
    if head is None or head == sha.lower():
        return None
    found = changed(gh, inputs, head)
    if not found:
        return None
    after = f"on {branch} after this run's commit {sha[:12]} ({branch} is at {head[:12]} now)"
    config = [what for path, what, why in found if not why]
    if config:  # the config itself: the rest follows from it
        return f"{inputs.key} was {config[0]} {after}: applying this run's {inputs.key} would put the account back to an older one"
    named = first_of(found, SHOWN, sep="; ", more="; and {} more", each=lambda f: f"{f[0]}, {f[2]}, was {f[1]}")  # path, why, what
    return f"{named} {after}: applying this run's plan of {inputs.key} would put the account back to an older one"


def artifact_name(prefix: str, head_sha: str) -> str:
    return f"{prefix}-{head_sha}"


def plan_artifact(gh: GitHub, prefix: str, head_sha: str) -> dict | None:
    """The newest unexpired artifact named for this head SHA whose run ran this repository's
    own code (never a fork's pull_request run)."""
    name = artifact_name(prefix, head_sha)
    found = [a for a in gh.paginate(gh.repo("actions", "artifacts"), {"name": name}, key="artifacts", fields=ARTIFACT)
             if a.get("name") == name and not a.get("expired") and _trusted(a.get("workflow_run") or {})]
    return max(found, key=lambda a: a.get("created_at") or "") if found else None


def _trusted(run: dict) -> bool:
    return run.get("id") is not None and run.get("repository_id") is not None and run.get("head_repository_id") == run.get("repository_id")


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
            what = what_differs(old, new)
            lines.append(f"{new['address']}: the {new['action']} now differs from the reviewed {old['action']}" + (f" ({what})" if what else ""))
    return lines


SHOWN = 5  # field differences named per resource; the rest are counted
_LEAVES = ("sensitive", "unknown", "unknown_from")  # the plan document's stand-ins for values: compared whole


def what_differs(old: dict, new: dict) -> str:
    """The fields by which a fresh write differs from the reviewed one, with both values:
    what the reviewer saw and what would be written now. The two plans' field diffs can look
    the same while the body written is not (another pull request merged meanwhile changed a
    field this one did not touch), so the paths are named, not only the resource. Values come
    from the plan documents, which hold no secrets ({"sensitive": true} instead)."""
    if old["action"] != new["action"]:
        return _other_action(old, new)
    found = []
    if old["id"] != new["id"]:
        found.append(f"id: reviewed {_shown(old['id'])}, now {_shown(new['id'])}")
    before, after = _flat(old["desired"]), _flat(new["desired"])
    for path in sorted(before.keys() | after.keys()):
        if before.get(path, _MISSING) != after.get(path, _MISSING):
            found.append(f"{path}: reviewed {_shown(before.get(path, _MISSING))}, now {_shown(after.get(path, _MISSING))}")
    named = {line.split(":", 1)[0] for line in found}
    was, now = ({p: (b, a) for p, b, a in w["changes"]} for w in (old, new))
    for path in sorted(was.keys() | now.keys()):
        if path not in named and was.get(path) != now.get(path):
            found.append(f"{path}: reviewed {_change(was.get(path))}, now {_change(now.get(path))}")
    return first_of(found, SHOWN, sep="; ", more="; and {} more")


_MISSING = object()


def _other_action(old: dict, new: dict) -> str:
    """A reviewed write that became another action (a reviewed create of an endpoint someone
    made meanwhile is now an update): every field of a create goes from nothing, so comparing
    field by field names them all. Say what the account has now and what would be written."""
    found = []
    if new["id"] and new["id"] != old["id"]:
        found.append(f"the account has it now, as {_shown(new['id'])}")
    elif old["id"] and not new["id"]:
        found.append(f"the account no longer has {_shown(old['id'])}")
    writes_now = [f"{path}: {_change((before, after))}" for path, before, after in new["changes"]]
    if writes_now:
        found.append("this run would write " + first_of(writes_now, SHOWN, sep="; ", more="; and {} more"))
    return "; ".join(found)


def _flat(body, prefix: str = "") -> dict:
    """A desired body as dotted paths, as the plan names fields (`workers.max`, `env.HF_TOKEN`)."""
    if not isinstance(body, dict) or (prefix and any(k in body for k in _LEAVES)):
        return {prefix.rstrip("."): body} if prefix else {}
    flat: dict = {}
    for key, value in body.items():
        flat.update(_flat(value, f"{prefix}{key}.") if isinstance(value, dict) and value else {f"{prefix}{key}": value})
    return flat


def _shown(value) -> str:
    if value is _MISSING:
        return "absent"
    text = json.dumps(value, ensure_ascii=False)
    return clip(text, 79)


def _change(change: tuple | None) -> str:
    return "no change" if change is None else f"{_shown(change[0])} → {_shown(change[1])}"


def in_place(reviewed: dict, fresh: dict) -> list[str]:
    """The reviewed writes a plan made now no longer needs ("endpoint.api (create)"): the
    account already has them, from an earlier try of this apply or another run."""
    after = {w["address"] for w in writes(fresh)}
    return [f"{w['address']} ({w['action']})" for w in writes(reviewed) if w["address"] not in after]

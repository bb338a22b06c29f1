"""`plan(desired, observed)`: pure and deterministic. No I/O, no clock, no randomness, but for
two questions to the disk and git, asked only of an endpoint that left gpu.jsonc: which
repository this is (`Desired.repository`: git once, ADR 60), and whether another gpu.jsonc a
last-applied record names left the repository (`Desired.config_missing`, `Desired.config_gone`:
git once per recorded commit and path, ADR 52), asked only when the record names one missing here."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace

from gpuctl import prewarm
from gpuctl.catalog import Catalog
from gpuctl.errors import Diagnostic, PlanError, doc_ref
from gpuctl.model import MARKER_ENV, MODEL_TEMPLATES, REDACTED, Desired, EndpointSpec, Notice, Observed, Sensitive, acyclic, repository_path, secret_name
from gpuctl.plan import cost, drift, fields, registries
from gpuctl.v2 import env_of, owner, volume_ids
from gpuctl.plan.account import Account, index
from gpuctl.plan.adopt import (Unguessed, adopt_advice, adopted, in_account, other_project_advice, record_names, renamed, renamed_in_account,
                               unmatched_rename, with_rename)
from gpuctl.plan.model import Action, Drift, FieldChange, Kind, Plan, ResourceChange, update_reason
from gpuctl.plan.names import lookalike_notices
from gpuctl.plan.volumes import ResolvedVolume, preserved, resolve_volume, shared
from gpuctl.commands import NONE, Flags, git_restore, suggest
from gpuctl.words import agreeing, counted, first_of

UNPROVEN_CODE = "config-unproven"  # an endpoint kept because the gpu.jsonc its record names is missing here, not proven gone (ADR 52)
_ORDER = {Action.CREATE: 0, Action.UPDATE: 0, Action.REPLACE: 0, Action.NOOP: 0, Action.DELETE: 1, Action.ORPHAN: 1, Action.PRESERVE: 2}
_KIND_ORDER = {Kind.NETWORK_VOLUME: 0, Kind.ENDPOINT: 1}


def observed_digest(observed: Observed, ids: Collection[str] | None = None) -> str:
    """A fingerprint of the account, to refuse stale saved plans; with `ids`, of the endpoints
    and network volumes of those ids alone (what a drift report covers, so that another
    project's resources do not move it). Env values are left out so the digest cannot be used
    to guess a secret."""

    def scrub(item: dict) -> dict:
        return {**item, "env": sorted(env_of(item))}

    def kept(items: Iterable[dict]) -> list[dict]:
        return sorted((i for i in items if ids is None or str(i.get("id")) in ids), key=lambda i: str(i.get("id")))

    doc = {
        "endpoints": [scrub(e) for e in kept(observed.endpoints)],
        "networkVolumes": kept(observed.network_volumes),
    }
    return "sha256:" + hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def _field_changes(declared: dict, live: dict, unreported: Collection[str] = ()) -> tuple[FieldChange, ...]:
    """What differs. A declared path the account's answer lacks (`unreported`) is compared with
    nothing: the account did not say what it holds (`_unreported_notice`)."""
    changes = []
    for path, after in declared.items():
        if path in unreported:
            continue
        before = live.get(path)
        if not fields.same(path, after, before):
            changes.append(FieldChange(path, before, after, fields.is_sensitive(path, after), path in fields.FORCES_REPLACE))
    for path in fields.removed(declared, live):
        changes.append(FieldChange(path, live[path], None, path.startswith("env."), False))
    for path, before in live.items():
        if path in fields.FORCES_REPLACE and path not in declared:
            changes.append(FieldChange(path, before, None, False, True))
    return tuple(sorted(changes, key=lambda c: c.path))


def _endpoint_change(spec: EndpointSpec, live: dict | None, declared: dict, unreported: Collection[str] = ()) -> ResourceChange:
    """`unreported`: `fields.unreported(live, declared)`, worked out once by the caller, which
    notices it too (`_unreported_notice`)."""
    address = f"endpoint.{spec.name}"
    body = fields.request_body(declared, spec.name)
    common = dict(kind=Kind.ENDPOINT, name=spec.name, address=address, desired=body, template=spec.template)
    if live is None:
        creates = tuple(FieldChange(p, None, v, fields.is_sensitive(p, v)) for p, v in sorted(declared.items()))
        return ResourceChange(action=Action.CREATE, reason=f'no endpoint named "{spec.name}" in the account', changes=creates, **common)
    changes = _field_changes(declared, fields.observed_fields(live), unreported)
    if not changes:
        return ResourceChange(action=Action.NOOP, id=live.get("id"), **common)
    if any(c.forces_replace for c in changes):
        forced = ", ".join(c.path for c in changes if c.forces_replace)
        return ResourceChange(action=Action.REPLACE, id=live.get("id"), reason=f"{forced} cannot change in place: the endpoint is deleted and created again, with a new id and URL", changes=changes, **common)
    return ResourceChange(action=Action.UPDATE, id=live.get("id"), reason=update_reason(changes), changes=changes, **common)


@dataclass(frozen=True)
class Duplicated(Diagnostic):
    """Two or more endpoints with this project's marker hold the block's name: `keep` (the
    oldest, which deploy's advice keeps) and `extra`, the ones it says to delete."""

    keep: dict | None = field(default=None, compare=False, hash=False)
    extra: tuple[dict, ...] = field(default=(), compare=False, hash=False)


def _duplicates(name: str, ours: list[dict], address: str, flags: Flags = NONE) -> Duplicated:
    """Two owned endpoints with one name (left by a race before gpuctl had the account lease):
    keep the oldest, whose URL callers are most likely to use, and say how to delete the rest."""
    keep, *extra = sorted(ours, key=lambda e: (str(e.get("createdAt") or "~"), str(e.get("id"))))
    return Duplicated(f'{counted(len(ours), "endpoint")} named "{name}" carry this project\'s marker: keep {keep.get("id")} (the oldest), delete {", ".join(str(e.get("id")) for e in extra)}',
                      address, hint=f"run {delete_extra(extra, flags)}; then plan again (to keep another one instead, delete the others by id)", keep=keep, extra=tuple(extra))


def delete_extra(extra: Iterable[dict], flags: Flags = NONE) -> str:
    """The commands that delete the endpoints a duplicate's advice says to delete, by id, with
    the run's options (`flags`)."""
    return "; ".join(f"`{suggest('serverless', 'delete', str(e.get('id')), '--force', flags=flags)}`" for e in extra)


def _duplicate_changes(spec: EndpointSpec, dup: Duplicated) -> list[ResourceChange]:
    """What a report lists for each endpoint beyond the one deploy keeps (a plan refuses them):
    labelled duplicate, naming every id that claims the block, so that a schedule reports them
    as drift (exit 2) instead of failing every night."""
    keep = str((dup.keep or {}).get("id"))
    ids = [keep] + [str(e.get("id")) for e in dup.extra]
    why = (f"{counted(len(ids), 'endpoint')} carry this project's marker and the name \"{spec.name}\": {', '.join(ids)}; deploy keeps {keep} "
           "(the oldest) and refuses to plan until the others are deleted")
    return [ResourceChange(Kind.ENDPOINT, spec.name, f"endpoint.{spec.name}", Action.NOOP, e.get("id"), why, drift=Drift.DUPLICATE)
            for e in dup.extra]


def _match(spec: EndpointSpec, project_id: str, account: Account, records: dict[str, drift.Record],
           deleted: dict[str, drift.Record], flags: Flags = NONE) -> tuple[dict | None, list[Diagnostic], list[Notice]]:
    same_name = account.endpoints_named(spec.name)
    ours = [e for e in same_name if owner(e) == project_id]
    theirs = [e for e in same_name if owner(e) != project_id]
    address = f"endpoint.{spec.name}"
    if len(ours) > 1:
        return None, [_duplicates(spec.name, ours, address, flags)], []
    lost = [e for e in theirs if not owner(e) and str(e.get("id")) in records]
    if not ours and len(lost) == 1:  # ours by its record, though its marker was removed: restore it
        ours, theirs = lost, [e for e in theirs if e is not lost[0]]
    elif theirs and not ours:
        return None, [_not_ours(spec, project_id, theirs[0], address, deleted.get(spec.name))], []
    notices = [Notice("same-name-unowned", f'another endpoint named "{spec.name}" ({e.get("id")}) is not owned by this project and is left alone', address, level="note")
               for e in theirs if owner(e)]
    return (ours[0] if ours else None), [], notices


@dataclass(frozen=True)
class Taken(Diagnostic):
    """The block's name is taken by an endpoint this project does not own (`endpoint`)."""

    endpoint: dict | None = field(default=None, compare=False, hash=False)


def _not_ours(spec: EndpointSpec, project_id: str, e: dict, address: str, gone: drift.Record | None = None) -> Diagnostic:
    """A same-named endpoint of another project, or an unmanaged one (no marker, and no
    last-applied record of this project): never modified, so the plan cannot be made. A report
    (`drift`) lists it instead, labelled unmanaged: that is what the account shows. When a
    record says this project applied the block's endpoint and it was deleted (`gone`), the
    unmanaged one is most likely its replacement made by hand: the error says both (ADR 29).
    The way to adopt it is `adopt` in this very block: `import` refuses a name gpu.jsonc declares."""
    eid = e.get("id")
    adopt = adopt_advice(e, project_id)
    if gone is not None and not owner(e):
        message = (f'this block was applied by this project as endpoint {gone.endpoint_id}, which was deleted in the account '
                   f'(last applied {gone.applied_at or "at an unknown time"}); endpoint {eid} now holds the name "{spec.name}" and is unmanaged '
                   f"(no {MARKER_ENV} marker and no last-applied record: not made by gpuctl). gpuctl never modifies an endpoint it does not "
                   "own, and will not create a second endpoint of that name")
        hint = (f"if {eid} replaces {gone.endpoint_id} (made by hand, its callers use its URL), adopt it: {adopt}; otherwise give this "
                f"block another name (deploy creates a new endpoint, with a new id and URL), or delete {eid} in the RunPod console. "
                f"Either way, callers of {gone.endpoint_id} must move to the new URL")
        return Taken(message, address, hint=hint, endpoint=e)
    if owner(e):
        who = f'belongs to project "{owner(e)}"'
        hint = other_project_advice(str(eid), str(owner(e)))  # drift's advice for it, word for word
    else:
        who = f"is unmanaged (no {MARKER_ENV} marker, and no last-applied record says this project applied it)"
        hint = f"to adopt it, {adopt}, or set the env var {MARKER_ENV}={project_id} on endpoint {eid} in the RunPod console; otherwise give this block another name"
    return Taken(f'an endpoint named "{spec.name}" already exists ({eid}) and {who}; gpuctl never modifies endpoints it does not own', address, hint=hint, endpoint=e)


def _kept(out: list[ResourceChange], notes: list[Notice], endpoint: dict, address: str, why: str, code: str, note: str) -> None:
    """An owned endpoint that left gpu.jsonc but is not this config's to prune (another gpu.jsonc
    applied it, ADR 35; or one this checkout lacks, unproven gone, ADR 52): a no-op with `why`,
    and a note (`code`) saying whose it is and how to delete it."""
    out.append(ResourceChange(Kind.ENDPOINT, endpoint.get("name", ""), address, Action.NOOP, endpoint.get("id"), why))
    notes.append(Notice(code, note, address, level="note"))


def _renamed_ids(renamed: Mapping[str, tuple[dict, ...]], holders: Mapping[str, str]) -> dict[str, tuple[str, str | None, tuple[dict, ...]]]:
    """By endpoint id, each endpoint renamed in the account (adopt.renamed_in_account): (the
    block its record names, the id of the endpoint that block has instead, if any, and the
    other endpoints renamed in the account whose records name that block)."""
    return {str(e.get("id")): (name, holders.get(name), tuple(o for o in es if o is not e)) for name, es in renamed.items() for e in es}


def _not_guessed(e: dict, address: str, block: str, holder: str | None, others: tuple[dict, ...], catalog: Catalog) -> ResourceChange:
    """An endpoint renamed in the account whose block has another endpoint (`holder`: one
    holding the block's name, or one `renamed_from` or `adopt` matched), or none, since other
    ones renamed in the account claim it too (`others`; deploy stops on them, a report lists
    each: review 11, R11-4): which one callers use is not known, so it is neither renamed back
    nor deleted (--prune included), and listed (ADR 59)."""
    if holder:
        other = f"endpoint.{block} is endpoint {holder} now"
    elif others:
        ids = ", ".join(f'{o.get("id")} ("{o.get("name")}")' for o in sorted(others, key=lambda o: str(o.get("id"))))
        other = (f"the last-applied {'records' if len(others) > 1 else 'record'} of {ids} say{'' if len(others) > 1 else 's'} so too, and no endpoint "
                 f'holds the name "{block}" (deploy stops until one of them is left)')
    else:
        other = f"the block endpoint.{block} has no endpoint of its own"
    why = (f'its last-applied record {drift.record_name(str(e.get("id")))} says it is endpoint.{block} of gpu.jsonc, renamed in the account to '
           f'"{e.get("name")}", but {other}: gpuctl does not guess which one callers use, so it neither renames it back nor deletes it '
           f"(--prune never deletes it); still running, {cost.observed_cost_phrase(e, catalog)}")
    return ResourceChange(Kind.ENDPOINT, e.get("name", ""), address, Action.ORPHAN, e.get("id"), why, drift=Drift.RENAMED_IN_ACCOUNT)


def _orphans(spec_names: set[str], desired: Desired, observed: Observed, catalog: Catalog, prune: bool, matched: set[str],
             records: Mapping[str, drift.Record], flags: Flags = NONE,
             renamed: Mapping[str, tuple[str, str | None, tuple[dict, ...]]] | None = None) -> tuple[list[ResourceChange], set[str], list[Notice]]:
    """Owned endpoints that left gpu.jsonc: deleted under --prune, otherwise shown as orphans,
    with what they still cost, because they keep running (and billing) until someone acts.
    Also the volumes the deleted ones attach, which the plan then preserves. An endpoint a
    block matched (`matched` ids: one it renames, by `renamed_from` or `adopt`) is that
    block's, whatever its name now: never an orphan, and never deleted. Nor is one whose
    last-applied record says another gpu.jsonc of this project applied it (ADR 35): it never
    was in this one; it is kept, with a note that says where it comes from. Unless that
    gpu.jsonc is no longer in the repository (moved, or deleted, with the block: ADR 52):
    then no config would ever take it for its orphan but this one. Nor one renamed in the
    account whose block has another endpoint (`renamed`: `_renamed_ids`): never deleted,
    listed labelled renamed-in-account (ADR 59)."""
    project_id = desired.project_id
    out, freed, notes = [], set(), []
    for e in sorted(observed.endpoints, key=lambda e: (str(e.get("name")), str(e.get("id")))):
        if owner(e) != project_id or e.get("name") in spec_names or str(e.get("id")) in matched:
            continue
        address = f"endpoint.{e.get('name')}"
        if str(e.get("id")) in (renamed or {}):
            out.append(_not_guessed(e, address, *renamed[str(e.get("id"))], catalog))
            continue
        record = records.get(str(e.get("id")))
        if (kept := _other_repository(e, record, desired, flags)) is not None:  # another repository's, or not shown to be this one's (ADR 60)
            _kept(out, notes, e, address, *kept)
            continue
        elsewhere = record is not None and bool(record.config) and bool(desired.config_id) and record.config != desired.config_id
        gone = ""
        commit = _applied_commit(record) if elsewhere else None
        if elsewhere and desired.config_gone(record.config, commit):  # moved or deleted with the block, proven: this config's orphan (ADR 52)
            gone = f"; last applied from {record.config} at commit {commit}, which this checkout descends from and no longer has"
        elif elsewhere and desired.config_missing(record.config):  # missing here, but this checkout may predate it (review 7, R7-2)
            delete = suggest('serverless', 'delete', str(e.get('id')), flags=flags)
            at = f"at commit {commit}" if commit else "from no recorded commit"
            if desired.config_uncommitted(record.config):  # deleted in the working tree alone (review 8)
                why = (f"last applied from {record.config} ({at}), which this working tree lacks but HEAD still has; kept: "
                       "a deletion not committed is no proof it left the repository")
                note = (f'endpoint {e.get("id")} (project_id "{project_id}") was last applied from {record.config} ({at}), which is deleted in this '
                        f"working tree but still in HEAD (a deletion, or a move, not committed): kept, never pruned from here. Commit the deletion "
                        f"to let --prune delete the endpoint, or `{git_restore(repository_path(record.config) or record.config)}` to bring the file back; "
                        f"or delete the endpoint with `{delete}`")
            else:
                why = (f"last applied from {record.config} ({at}), which this checkout lacks; kept: nothing shows it left the repository "
                       "(this checkout may be older than it)")
                note = (f'endpoint {e.get("id")} (project_id "{project_id}") was last applied from {record.config} ({at}), '
                        f"which this checkout does not have: kept, never pruned from here, since nothing shows that gpu.jsonc left "
                        f"the repository (this checkout may predate it, or cannot tell: a shallow clone lacking that commit, or an apply "
                        f"outside GitHub Actions, which records none). If {record.config} is still in the repository, deploy it from there; if it is gone "
                        f"and nothing should run the endpoint, delete it with `{delete}`")
            _kept(out, notes, e, address, why, UNPROVEN_CODE, note)
            continue
        elif elsewhere:
            why = (f'applied from {record.config} (same project_id "{project_id}"), not from this gpu.jsonc ({desired.config_id}); '
                   "kept: only the gpu.jsonc that applied an endpoint takes it for its orphan")
            _kept(out, notes, e, address, why, "other-config", f'endpoint {e.get("id")} was last applied from {record.config}, another gpu.jsonc with project_id "{project_id}": '
                                                f"kept, never pruned from here ({record.config} manages it). "
                                                f"Give each gpu.jsonc its own project_id, or, if nothing should run it, delete it "
                                                f"with `{suggest('serverless', 'delete', str(e.get('id')), flags=flags)}`")
            continue
        if prune:
            out.append(ResourceChange(Kind.ENDPOINT, e.get("name", ""), address, Action.DELETE, e.get("id"), f'owned by project "{project_id}" and no longer in gpu.jsonc{gone} (--prune)'))
            freed.update(volume_ids(e))
        else:
            why = f'owned by project "{project_id}" and no longer in gpu.jsonc{gone}; still running, {cost.observed_cost_phrase(e, catalog)}; deploy --prune deletes it'
            out.append(ResourceChange(Kind.ENDPOINT, e.get("name", ""), address, Action.ORPHAN, e.get("id"), why, drift=Drift.ORPHAN))
    return out, freed, notes


def _other_repository(e: dict, record: drift.Record | None, desired: Desired, flags: Flags) -> tuple[str, str, str] | None:
    """Why an owned endpoint that left gpu.jsonc is not this repository's to prune, as `_kept`
    takes it (why, note code, note), or None when it may be (ADR 60, review 8, R8-4). Two
    repositories of one project_id, each with gpu.jsonc at its root, name one config path (ADR 35):
    the repository the record names tells them apart. Kept when it names another repository
    (`other-config`), or one this checkout cannot be shown to be (no CI, no git remote `origin`:
    `config-unproven`; also one named without its host by a gpuctl before ADR 62 whose path is this
    repository's: on which host it was is not known, R11-9). A record naming none (no record; applied
    outside Actions from a directory without an `origin`, or by an earlier gpuctl from outside
    Actions) is as before: nothing tells."""
    theirs = record.applied_in() if record is not None else None
    if theirs is None:
        return None
    from gpuctl.author import maybe_same_repository, same_repository

    ours, project_id = desired.repository(), desired.project_id
    if ours and same_repository(theirs, ours):
        return None
    eid, config = str(e.get("id")), record.config or "a gpu.jsonc"
    delete = suggest("serverless", "delete", eid, flags=flags)
    if ours and not maybe_same_repository(theirs, ours):
        return (f'applied from {config} of repository {theirs} (same project_id "{project_id}"), not from this one, repository {ours}; '
                "kept: only the repository whose gpu.jsonc applied an endpoint takes it for its orphan",
                "other-config", f'endpoint {eid} was last applied from {config} of repository {theirs}, not this one, with project_id '
                                f'"{project_id}" too: kept, never pruned from here (repository {theirs} manages it). Give each repository\'s gpu.jsonc its own '
                                f"project_id, or, if nothing should run it, delete it with `{delete}`")
    if ours:
        why = (f"last applied from {config} of repository {theirs}, recorded without the host it is on (by a gpuctl before ADR 62), "
               f"so whether this checkout (repository {ours}) is that repository cannot be told")
        run = "If it is this repository's endpoint and nothing should run it"
    else:
        why = (f"last applied from {config} of repository {theirs}, and whether this checkout is that repository cannot be told (outside "
               'GitHub Actions, no git remote "origin")')
        run = f"Run the deploy in a checkout of repository {theirs} (or its CI); if it is gone and nothing should run the endpoint"
    return (f"{why}; kept: nothing shows it is this repository's",
            UNPROVEN_CODE, f'endpoint {eid} (project_id "{project_id}") was {why}: kept, never pruned from here. {run}, delete it with `{delete}`')


def _applied_commit(record: drift.Record) -> str | None:
    """The commit the record's last deploy applied (ADR 37: GitHub Actions only), a rollback's
    entry (no place, no block) aside; None when it recorded none."""
    deploys = [a for a in record.applies if a.config or a.where or a.commit]
    return deploys[-1].commit if deploys else None


def _maybe_renamed(changes: list[ResourceChange], leftovers: list[ResourceChange], account: Account) -> list[Notice]:
    """A new block beside an endpoint of this project that left gpu.jsonc, running the same
    image, is most likely a rename that does not say so: the plan creates a second endpoint
    (a new id and URL, new workers) and keeps or deletes the old one. Said on the new block,
    with the way to rename in place instead (ADR 29). By image, looked up: no pair scan."""
    gone: dict[str, list[ResourceChange]] = {}
    for c in leftovers:
        image = (account.endpoint(str(c.id)) or {}).get("image")
        if isinstance(image, str):
            gone.setdefault(image, []).append(c)
    if not gone:
        return []
    said: dict[str, str] = {}
    out = []
    for c in changes:
        if c.kind is not Kind.ENDPOINT or c.action is not Action.CREATE or c.desired is None or c.desired.get("image") not in gone:
            continue
        image = c.desired["image"]
        if image not in said:
            olds = gone[image]
            said[image] = first_of([f'"{o.name}" ({o.id}, {"deleted by this plan, and its URL with it" if o.action is Action.DELETE else "kept running as an orphan"})' for o in olds],
                                   3, sep=" or ", more=" or {} more")
        example = gone[image][0].name
        out.append(Notice("maybe-renamed", f"created as a NEW endpoint (a new id, URL and workers) while this project's endpoint {said[image]} "
                                          f'left gpu.jsonc with the same image. If this is a rename, add "renamed_from": "{example}" to the block: '
                                          "deploy then renames that endpoint in place, keeping its id and URL, and its workers running", c.address))
    return out


UNREPORTED = "not-reported"  # the Notice code of fields the account's answer lacks: `gpu serverless drift` refuses to report on them


def _unreported_notice(live: dict, missing: list[str], address: str, flags: Flags = NONE) -> list[Notice]:
    if not missing:
        return []
    return [Notice(UNREPORTED, f"the account did not report {', '.join(missing)} of endpoint {live.get('id')}: the field is absent from its answer "
                               "(not empty), so gpuctl cannot tell whether it differs and leaves it out. RunPod's API may have changed "
                               f"what it sends: `{suggest('doctor', flags=flags)}` checks its answers' shape", address)]


def unreported(plan: Plan, observed: Observed) -> dict[str, list[str]]:
    """By address, the declared fields of the plan's endpoints that the account's answer lacks:
    not compared, so a plan that changes nothing has not confirmed them either (the read after
    an apply counts them as still different)."""
    live = {str(e.get("id")): e for e in observed.endpoints}
    found = ((c.address, fields.unreported(live[str(c.id)], fields.flatten(c.desired))) for c in plan.changes
             if c.kind is Kind.ENDPOINT and c.desired is not None and str(c.id) in live)
    return {address: paths for address, paths in found if paths}


def _notices_for(spec: EndpointSpec, live: dict | None, account: Account, missing: list[str], flags: Flags = NONE) -> list[Notice]:
    address = f"endpoint.{spec.name}"
    out = _unreported_notice(live, missing, address, flags) if live is not None else []
    redacted = sorted(k for k, v in env_of(live or {}).items() if v == REDACTED)
    if redacted:
        out.append(Notice("redacted-env", f"the snapshot redacted env {', '.join(redacted)}; their values are not compared", address, level="note"))
    if spec.cached_model:
        out.append(Notice("cached-model-graphql", "runpod.cached_model is set through RunPod's GraphQL API (modelReferences), which REST v2 lacks and RunPod retires in early 2027", address, level="note"))
    if spec.prewarm.enabled:
        out.append(_prewarm_notice(spec, live, account, address, flags))
    return out


def _few(addresses: list[str], shown: int = 5) -> str:
    return first_of(addresses, shown)


def _priority_note(desired: Desired) -> list[Notice]:
    """Said once per plan, not per endpoint: it is how RunPod works, not something to fix."""
    with_fallbacks = [f"endpoint.{s.name}" for s in desired.endpoints if len(s.gpu_types) > 1]
    if not with_fallbacks:
        return []
    return [Notice("gpu-priority", "RunPod v2 places workers on any listed GPU type that has capacity; the order of gpu_type and gpu_types "
                                   f"is kept but cannot be enforced ({_few(with_fallbacks)})", level="note")]


def _prewarm_notice(spec: EndpointSpec, live: dict | None, account: Account, address: str, flags: Flags = NONE) -> Notice:
    """What deploy's pre-warm of this endpoint will do: skip it (nothing a CPU pod can
    download), catch up on it (no pre-warm record matches, ADR 0008), or run it on change."""
    mode = spec.prewarm.mode
    skipped = prewarm.cannot_download(spec)
    if skipped:
        fix = 'add "prewarm": {"models": ["org/name"]}, set MODEL_NAME in runpod.env or runpod.cached_model, or set prewarm.mode to "gpu"'
        if not prewarm.reads_hub_cache(spec.image):
            fix = f'set prewarm.mode to "gpu" to start a worker instead: {prewarm.UNREAD_CACHE}, so adding prewarm.models would not help'
        return Notice("prewarm-nothing-to-download", f"prewarm.enabled with mode cpu, but {skipped}; deploy skips the pre-warm. To warm it, {fix}", address)
    records = account.templates_named(prewarm.record_name(str(live.get("id")))) if live is not None else ()
    if live is not None and not prewarm.recorded(records, owner(live) or "", str(live.get("id")), mode, prewarm.spec_digest(spec)):
        return Notice("prewarm-never-warmed", f"endpoint {spec.name} was never warmed for this configuration (no {mode} pre-warm record matches); deploy warms it", address)
    return Notice("prewarm", f"prewarm.enabled: a {mode} pre-warm runs after apply when this endpoint is created or changed ({suggest('serverless', 'warm', spec.name, flags=flags)})", address, level="note")


def _volume_note(desired: Desired) -> list[Notice]:
    """The seed's GPU CLI creates a volume for model templates by default; gpuctl does not
    (docs/adr/0007-no-implicit-volume.md), so the plan says so, once."""
    bare = [f"endpoint.{s.name}" for s in desired.endpoints if s.template.resolved in MODEL_TEMPLATES and s.volume is None and not s.volume_declined]
    if not bare:
        return []
    return [Notice("no-volume", f"no network volume, so each cold worker downloads its models itself ({_few(bare)}). gpuctl creates only the "
                                f'volumes gpu.jsonc declares, where GPU CLI adds one ({doc_ref("adr/0007-no-implicit-volume.md")}): add a "volume" block to '
                                'cache models, or set "volume": false to say none is wanted', level="note")]


def _no_local_command(desired: Desired, target: str) -> list[Notice]:
    """The local provider starts a worker only from `local.command` (docs/local-provider.md#workers):
    without one, every job of the endpoint fails at once. RunPod runs the image, so only a plan
    for the local provider says so."""
    if target != "local":
        return []
    return [Notice("local-no-command", "the local provider runs a worker only from local.command, and this block has none: the endpoint "
                                       "is created, but each of its jobs (and a GPU warm-up) fails at once. To run its handler here, add "
                                       '"local": {"command": ["python", "handler.py"]} to the block (RunPod ignores it)', f"endpoint.{s.name}")
            for s in desired.endpoints if not s.local_command]


def create_secret_fix(target: str, names: Iterable[str]) -> str:
    """How to create the secrets `names` before a deploy refers to them: what the plan's
    secret warnings and `import`'s note both say (docs/adr/0032-local-secrets.md)."""
    names = list(names)
    if target == "local":
        if len(names) == 1:
            return f"create it with `{suggest('local', 'secret', 'set', names[0])}` (the value on stdin)"
        return f"create each with `{suggest('local', 'secret', 'set', 'NAME')}` (the value on stdin): {', '.join(names)}"
    return f"create {agreeing(len(names), 'it', 'them')} in the RunPod account (console, Secrets), named {' and '.join(names) if len(names) < 3 else ', '.join(names)}"


def _secret_notices(spec: EndpointSpec, live: dict | None, known: Mapping[str, str | None] | None, target: str) -> list[Notice]:
    """The RunPod secrets an env value refers to must exist before a worker boots, which no
    write of the endpoint checks (review 3, R2: import then deploy replaced working values with
    references to secrets nobody had made, exit 0). Where the provider tells its secrets
    (`known`, the local provider), each reference to one it lacks, or to a damaged one (the
    verdict a worker's start gives: stop 17, D1, where the plan counted it as there), is a
    warning, changed or not: no worker starts without it. Elsewhere (RunPod, whose secrets
    gpuctl does not read) a value that becomes a reference is, naming the secret."""
    notices = []
    theirs = env_of(live) if live is not None else {}
    for key, value in spec.env:
        name = secret_name(value)
        if name is None:
            continue
        value_text = value.value if isinstance(value, Sensitive) else value
        if known is not None:
            if name not in known:
                notices.append(Notice("secret-missing", f"env.{key} refers to secret {name}, which the {target} provider does not have: "
                                                        f"no worker of this endpoint starts until it exists (each job fails naming it); "
                                                        + create_secret_fix(target, [name]), f"endpoint.{spec.name}"))
            elif known[name] is not None:
                notices.append(Notice("secret-damaged", f"env.{key} refers to secret {name}, so no worker of this endpoint starts until it "
                                                        f"is set again (each job fails naming it): {known[name]}", f"endpoint.{spec.name}"))
        elif theirs.get(key) != value_text:
            notices.append(Notice("secret-must-exist", f"env.{key} becomes a reference to RunPod secret {name}, which must exist in the account "
                                                       f"before this deploy (gpuctl cannot read RunPod's secrets to check): " + create_secret_fix(target, [name]), f"endpoint.{spec.name}"))
    return notices


def _volumes(desired: Desired, account: Account, catalog: Catalog, report: bool = False, flags: Flags = NONE):
    """Resolve every desired volume once, deduplicated by (name, data center)."""
    resolved: dict[str, ResolvedVolume] = {}
    by_spec: dict[str, ResolvedVolume] = {}
    errors: list[Diagnostic] = []
    notices: list[Notice] = []
    for spec in desired.endpoints:
        if spec.volume is None:
            continue
        found, errs, notes = resolve_volume(spec.volume, account.volumes_named(spec.volume.name), catalog, report, flags)
        errors += errs
        notices += notes
        if found:
            found = resolved.setdefault(found.change.address, found)
            by_spec[spec.name] = found
            notices += _confined(spec, found.change.data_center)
    return resolved, by_spec, errors, notices


def _confined(spec: EndpointSpec, dc: str | None) -> list[Notice]:
    """A network volume lives in one data center, and attaching it keeps the endpoint's workers
    there (api-notes §8.2): the other data centers data_center_ids lists are never used. The
    unset case says the same where the volume is created (volume-data-center-default)."""
    others = [d for d in spec.data_center_ids if d != dc]
    if dc is None or len(spec.data_center_ids) < 2 or not others:
        return []
    return [Notice("volume-confines-workers", f"runpod.data_center_ids lists {', '.join(spec.data_center_ids)}, but the network volume "
                                              f"{spec.volume.name} is in {dc}, and attaching it keeps the endpoint's workers there: "
                                              f"{', '.join(others)} {agreeing(len(others), 'is', 'are')} never used. List only {dc} in "
                                              f"data_center_ids, or drop the volume to let workers start in every listed data center",
                   f"endpoint.{spec.name}")]


@acyclic
@dataclass
class _Tally:
    """What `plan` gathers, in the order it finds it: the changes, the cost of each resource,
    the errors that stop the plan, the notices, and which account objects a block matched."""

    changes: list[ResourceChange]
    costs: list[cost.CostItem]
    errors: list[Diagnostic]
    notices: list[Notice]
    matched: set[str] = field(default_factory=set)  # ids of endpoints a block of gpu.jsonc accounts for
    used_volume_ids: set[str] = field(default_factory=set)  # volumes a planned endpoint attaches


@dataclass(frozen=True)
class _Reading:
    """What every block of gpu.jsonc is planned against: the account, the project's
    last-applied records, and each block's resolved network volume."""

    desired: Desired
    account: Account
    catalog: Catalog
    target: str
    report: bool
    records: dict[str, drift.Record]  # endpoint id -> its last-applied record
    deleted: dict[str, drift.Record]  # the records of endpoints gone from the account
    volume_of: dict[str, ResolvedVolume]
    flags: Flags = NONE  # the run's options, which the commands the plan's advice suggests repeat (gpuctl.commands)
    renamed: Mapping[str, tuple[dict, ...]] = field(default_factory=dict)  # block name -> this project's endpoints renamed in the account (adopt.renamed_in_account)
    names: frozenset[str] = frozenset()  # the blocks' names, gathered once


def plan(desired: Desired, observed: Observed, catalog: Catalog, *, target: str = "runpod", prune: bool = False, report: bool = False,
         flags: Flags | None = None) -> Plan:
    """The typed difference between gpu.jsonc and the account. Raises PlanError when the two
    cannot be reconciled safely (an endpoint owned by someone else, ambiguous volumes). With
    `report` (a drift report, never applied), a block whose name an endpoint this project does
    not own has taken is listed as that endpoint, labelled unmanaged, instead, and a volume
    larger in the account than gpu.jsonc's size_gb is listed, labelled larger-in-account, and endpoints beyond the one
    deploy keeps among several of this project with a block's name are listed, labelled duplicate,
    and several renamed in the account whose records name one block (nothing holding its name),
    which deploy refuses to choose between, are each listed, labelled renamed-in-account (R11-4).

    In three steps: the volumes (`_volumes`), each endpoint block (`_plan_endpoint`), then what
    the account holds beyond gpu.jsonc (`_beyond_config`: orphans, unmanaged endpoints, kept
    volumes).

    `flags`: the run's options (`gpuctl.commands.Flags`), which the commands its advice
    suggests repeat; None: gpu.jsonc's path alone."""
    if prune and not desired.endpoints:
        raise PlanError("refusing to prune with an empty configuration", [Diagnostic("no endpoints are declared", hint="an empty gpu.jsonc never deletes everything")])
    account = index(observed)
    flags = Flags.of_run(desired.config_path) if flags is None else flags
    volumes, volume_of, errors, notices = _volumes(desired, account, catalog, report, flags)
    tally = _Tally(changes=[v.change for v in volumes.values()], costs=[cost.volume_cost(v) for v in volumes.values()], errors=errors,
                   notices=notices + _priority_note(desired) + _volume_note(desired) + _no_local_command(desired, target))
    records = drift.records_of(observed.templates, desired.project_id)
    record_as = record_names(desired.endpoints)  # the names a block's record may carry, to the block
    names = frozenset(record_as.values())
    reading = _Reading(desired, account, catalog, target, report, records, drift.deleted_records(records, {str(e.get("id")) for e in observed.endpoints}), volume_of, flags,
                       renamed_in_account(observed.endpoints, records, desired.project_id, record_as, desired.config_id, desired.repository), names)
    for spec in desired.endpoints:
        _plan_endpoint(spec, reading, tally)
    tally.notices += shared(volumes.values(), observed.endpoints, lambda e: owner(e) == desired.project_id or str(e.get("id")) in tally.matched or str(e.get("id")) in records,
                            observed.pods, observed.pods_unread, desired.project_id, observed.pods_read_at)
    if tally.errors:
        raise PlanError("the plan cannot be made", tally.errors)
    kept_volume_ids = {v.ref for v in volumes.values() if isinstance(v.ref, str)}
    beyond = _beyond_config(desired, observed, reading, tally, prune, kept_volume_ids)
    return Plan(
        project_id=desired.project_id,
        config_path=desired.config_path,
        provider=target,
        prune=prune,
        changes=tuple(sorted(tally.changes + beyond, key=_sort_key)),
        notices=tuple(sorted(set(desired.notices) | set(tally.notices), key=lambda n: (n.address, n.code, n.message))),
        cost=cost.total(tally.costs),
        overrides=desired.overrides,
        observed_digest=observed_digest(observed),
    )


def _plan_endpoint(spec: EndpointSpec, reading: _Reading, tally: _Tally) -> None:
    """One endpoint block: the account endpoint it is (adopted, renamed, or matched by name
    and marker), and its change, notices and cost, into `tally`. In a report, a duplicate, a
    name another owner has taken, or endpoints renamed in the account that claim the block
    alike (listed by `_orphans`) are listed instead of stopping the plan."""
    project_id = reading.desired.project_id
    live, errs, notes = (adopted(spec, project_id, reading.account) or renamed(spec, project_id, reading.account, reading.flags, reading.records,
                                                                                    reading.desired.config_id, reading.desired.repository)
                         or in_account(spec, reading.account, reading.renamed, reading.flags)
                         or _match(spec, project_id, reading.account, reading.records, reading.deleted, reading.flags))
    if reading.report and len(errs) == 1 and isinstance(errs[0], Duplicated):
        tally.changes += _duplicate_changes(spec, errs[0])
        tally.matched.update(str(e.get("id")) for e in errs[0].extra)
        live, errs = errs[0].keep, []
    if reading.report and len(errs) == 1 and isinstance(errs[0], Unguessed):  # each one is listed (`_orphans`): the block has none of its own
        return
    if reading.report and errs and all(isinstance(e, Taken) for e in errs):
        theirs = errs[0].endpoint
        tally.changes.append(ResourceChange(Kind.ENDPOINT, spec.name, f"endpoint.{spec.name}", Action.NOOP, theirs.get("id"), errs[0].message, drift=Drift.UNMANAGED))
        tally.matched.add(str(theirs.get("id")))
        tally.notices += notes
        return
    registry_id, unresolved = registries.resolve(spec, reading.account.observed, reading.target, reading.flags)
    errs = errs + unresolved
    tally.errors += errs
    vol = reading.volume_of.get(spec.name)
    declared = fields.declared_fields(spec, project_id, reading.catalog, reading.target, vol.ref if vol else None, registry_id)
    if live is not None:  # a key removed from gpu.jsonc whose value gpuctl set: cleared (ADR 41)
        declared |= drift.keys_removed(reading.records.get(str(live.get("id"))), declared)
    missing = fields.unreported(live, declared) if live is not None else []  # once: compared with nothing, and noticed
    tally.notices += notes + _notices_for(spec, live, reading.account, missing, reading.flags) + unmatched_rename(spec, live, project_id, reading.account, reading.deleted)
    tally.notices += _secret_notices(spec, live, reading.account.observed.secrets, reading.target)
    if not errs:
        change, warnings = drift.classify(with_rename(_endpoint_change(spec, live, declared, missing), live), live, project_id, reading.records, reading.deleted,
                                          spec.renamed_from, reading.desired.config_id)
        if live is not None and any(e is live for e in reading.renamed.get(spec.name, ())):
            change = _renamed_back(change, live, reading.records[str(live.get("id"))].endpoint_name)
        tally.changes.append(change)
        tally.notices += warnings
        tally.matched.add(str((live or {}).get("id")))
        tally.used_volume_ids.update(volume_ids(live or {}))
    tally.costs.append(cost.endpoint_cost(spec, live, reading.catalog))


def _renamed_back(change: ResourceChange, live: dict, applied_as: str) -> ResourceChange:
    """The change of a block whose endpoint was renamed in the account (ADR 59): labelled so,
    with the reason that says which record tells it and that deploy renames it back in place.
    `applied_as`: the name the record gives it, the block's `renamed_from` when the block was
    renamed in gpu.jsonc since (review 11, R11-5)."""
    was = "" if applied_as == change.name else f' (applied as "{applied_as}", this block\'s renamed_from)'
    back = "back " if applied_as == change.name else ""
    why = (f'renamed in the account to "{live.get("name")}": its last-applied record {drift.record_name(str(live.get("id")))} says it is this '
           f'block\'s endpoint{was}, so deploy renames it {back}to "{change.name}" in place (same id and URL; a name is no container change, so its '
           "workers keep running)")
    if change.action is Action.REPLACE:
        why += f"; and {change.reason}"
    return replace(change, drift=Drift.RENAMED_IN_ACCOUNT, reason=why)


def _beyond_config(desired: Desired, observed: Observed, reading: _Reading, tally: _Tally, prune: bool, kept_volume_ids: set[str]) -> list[ResourceChange]:
    """What the account holds that no block accounts for: this project's orphans (deleted with
    --prune), unmanaged endpoints near a block, and network volumes nothing attaches any more
    (kept, never deleted); their notices and costs go into `tally`."""
    holders = {c.name: str(c.id) for c in tally.changes if c.kind is Kind.ENDPOINT and c.id and c.drift is not Drift.DUPLICATE}
    leftovers, freed, elsewhere = _orphans(set(reading.names), desired, observed, reading.catalog, prune, tally.matched, reading.records, reading.flags,
                                           _renamed_ids(reading.renamed, holders))
    tally.notices += elsewhere
    tally.changes += [c for c in leftovers if c.action is Action.NOOP]  # another gpu.jsonc's: no leftover of this one
    leftovers = [c for c in leftovers if c.action is not Action.NOOP]
    renaming = {s.name for s in desired.endpoints if s.renamed_from}  # a block that says renamed_from has its own warning when it renames nothing
    tally.notices += _maybe_renamed([c for c in tally.changes if c.name not in renaming], leftovers, reading.account) + _lookalikes(desired, tally.changes, observed)
    tally.costs += [cost.leaving_cost(c, reading.account.endpoint(str(c.id)), reading.catalog) for c in leftovers]
    leftovers += drift.unmanaged(desired.endpoints, observed.endpoints, tally.matched)
    keep = preserved(observed, tally.used_volume_ids | freed, kept_volume_ids, "network volumes are never deleted; nothing in gpu.jsonc attaches it any more")
    by_id = {v.get("id"): v for v in observed.network_volumes}
    tally.costs += [cost.preserved_cost(c, by_id.get(c.id)) for c in keep]
    return leftovers + keep


def _lookalikes(desired: Desired, changes: list[ResourceChange], observed: Observed) -> list[Notice]:
    """Warnings for a gpu.jsonc name that mixes scripts or looks like another name of the plan
    or the account (`plan.names`)."""
    ours = [("endpoint", s.name, f"endpoint.{s.name}") for s in desired.endpoints]
    ours += [("network volume", c.name, c.address) for c in changes if c.kind is Kind.NETWORK_VOLUME]
    theirs = ((kind, str(item.get("name"))) for kind, items in (("endpoint", observed.endpoints), ("network volume", observed.network_volumes),
                                                                 ("template", observed.templates)) for item in items if item.get("name"))  # read only for a non-ASCII name
    return lookalike_notices(ours, theirs) + _another_directory(desired, changes, observed)


def _another_directory(desired: Desired, changes: list[ResourceChange], observed: Observed) -> list[Notice]:
    """A create of a gpu.jsonc without `project_id` (its marker is the directory's name) beside
    an endpoint of another project running the same image: most likely this project's own,
    deployed from a directory of another name (a clone, a CI checkout named after the repo).
    Said on the create, with the `project_id` that manages it, before a second one bills. A
    gpu.jsonc that sets `project_id` chose its project: nothing is guessed for it."""
    if not any(n.code == "project-id-default" for n in desired.notices):
        return []
    by_image: dict[str, list[dict]] = {}
    for e in observed.endpoints:
        if owner(e) and owner(e) != desired.project_id and isinstance(e.get("image"), str):
            by_image.setdefault(e["image"], []).append(e)
    out = []
    for c in changes:
        if c.kind is not Kind.ENDPOINT or c.action is not Action.CREATE or c.desired is None or c.desired.get("image") not in by_image:
            continue
        e = by_image[c.desired["image"]][0]
        out.append(Notice("other-directory", f'created as a NEW endpoint, while endpoint "{e.get("name")}" ({e.get("id")}) of project "{owner(e)}" '
                                             f'runs the same image. gpu.jsonc has no project_id, so this project is the directory\'s name, '
                                             f'"{desired.project_id}": if that endpoint is this gpu.jsonc\'s, deployed from a directory named '
                                             f'"{owner(e)}", set "project_id": "{owner(e)}" to manage it instead of creating a second one', c.address))
    return out


def _sort_key(change: ResourceChange) -> tuple:
    return (_ORDER[change.action], _KIND_ORDER[change.kind], change.address, str(change.id))


"""Adoption: a block whose `adopt` names an existing endpoint takes it over (ADR 11).

`gpu serverless import` writes the block with `"adopt": "<endpoint id>"`. Until an endpoint of
the block's name carries this project's marker, the planner matches the block to the endpoint
with that id (not by name, which an unmarked endpoint cannot claim), so the plan is an update
whose only change is the marker (and the name, when the block gives the endpoint another one),
plus whatever the block does not reproduce. Once the marker is there, `adopt` is inert: the
endpoint is matched by name and marker like any other. Pure, like the planner.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gpuctl.commands import NONE, suggest
from gpuctl.errors import Diagnostic
from gpuctl.model import MARKER_ENV, EndpointSpec, Notice
from gpuctl.v2 import owner
from gpuctl.plan.account import Account
from gpuctl.plan.model import Action, FieldChange, ResourceChange
from gpuctl.spelling import did_you_mean
from gpuctl.words import counted


def adopted(spec: EndpointSpec, project_id: str, account: Account) -> tuple[dict | None, list[Diagnostic], list[Notice]] | None:
    """(the endpoint to adopt, errors, notices) when `spec.adopt` applies now, else None (the
    ordinary name-and-marker match decides: the endpoint is owned already, or it is gone)."""
    if not spec.adopt:
        return None
    address = f"endpoint.{spec.name}"
    same_name = account.endpoints_named(spec.name)
    if any(owner(e) == project_id for e in same_name):
        return None
    target = account.endpoint(spec.adopt)
    if target is None:
        return None
    previous = owner(target)
    if previous == project_id:  # this project's already: `adopt` only renames it (ADR 29)
        notices = [_renames(spec.adopt, str(target.get("name")), address, "adopt")]
    else:
        taken = f' from project "{previous}"' if previous else ""
        renamed = f' and renames it from "{target.get("name")}"' if target.get("name") != spec.name else ""
        notices = [Notice("adopt", f"adopts endpoint {spec.adopt}{taken}: deploy writes the {MARKER_ENV}={project_id} marker on it{renamed}; "
                                   '"adopt" is inert afterwards and may stay or be removed', address)]
    others = [e for e in same_name if e is not target]
    notices += [Notice("same-name-unowned", f'another endpoint named "{spec.name}" ({e.get("id")}) is not owned by this project and is left alone', address, level="note")
                for e in others]
    return target, [], notices


def applied_here(record: Any, config: str | None, repository: Callable[[], str | None]) -> bool:
    """Whether an endpoint whose last-applied record is `record` (None: it has none) may be
    taken by a block of this gpu.jsonc (`config`, ADR 35) of this repository (`repository`,
    asked only when the record names one; ADR 60, 62): not when the record names another
    gpu.jsonc, another repository, or a repository this run cannot be shown to be. That
    endpoint is kept as ADR 60 keeps it, never renamed and written over from here."""
    from gpuctl.author import same_repository

    if record is None:
        return True
    if record.config and config and record.config != config:
        return False
    theirs = record.applied_in()
    return not theirs or bool((ours := repository()) and same_repository(theirs, ours))


def renamed(spec: EndpointSpec, project_id: str, account: Account, flags=None, records: Mapping[str, Any] | None = None,
            config: str | None = None, repository: Callable[[], str | None] = lambda: None) -> tuple[dict | None, list[Diagnostic], list[Notice]] | None:
    """(this project's endpoint of the block's previous name, errors, notices) when
    `spec.renamed_from` applies now (ADR 29), else None. It applies while this project owns
    no endpoint of the block's name and one of the old name; then the plan renames that one in
    place, so its id, URL, workers and volume stay. Two of the old name: the plan stops, as
    for two of one name. Anything else (the rename was applied, the old one is gone, or an
    endpoint of another owner holds the new name) is the ordinary match's to decide. An
    endpoint of the old name whose last-applied record (`records`, by id) another gpu.jsonc or
    another repository wrote is not this block's to take (`applied_here`; review 12, F3: a
    `renamed_from` naming another repository's endpoint renamed it and wrote this block over it)."""
    if not spec.renamed_from:
        return None
    same_name = account.endpoints_named(spec.name)
    if same_name:
        return None
    records = records or {}
    old = [e for e in account.endpoints_named(spec.renamed_from)
           if owner(e) == project_id and applied_here(records.get(str(e.get("id"))), config, repository)]
    if not old:
        return None
    address = f"endpoint.{spec.name}"
    if len(old) > 1:
        ids = ", ".join(sorted(str(e.get("id")) for e in old))
        return None, [Diagnostic(f'renamed_from "{spec.renamed_from}": {counted(len(old), "endpoint")} of that name carry this project\'s marker ({ids}); '
                                 "gpuctl will not guess which to rename", address,
                                 hint=f"delete the extra ones (`{suggest('serverless', 'delete', 'ID', '--force', flags=flags or NONE)}`), then plan again")], []
    return old[0], [], [_renames(str(old[0].get("id")), spec.renamed_from, address, "renamed_from")]


def renamed_in_account(endpoints: Iterable[dict], records: Mapping[str, Any], project_id: str, names: Mapping[str, str],
                       config: str | None = None, repository: Callable[[], str | None] = lambda: None) -> dict[str, tuple[dict, ...]]:
    """By block name, this project's endpoints (its marker) whose last-applied record (by
    endpoint id) names that block of gpu.jsonc while the account gives them another name, which
    is no block's: renamed in the account, such as in the console (ADR 59). `names`: each name a
    record may carry, to its block (`record_names`): a block's name, and its `renamed_from`,
    since a record written before the block was renamed in gpu.jsonc names the old one (review
    11, R11-5: else that endpoint was an orphan, deleted by --prune while a new one was made). One
    pass over the account, so planning stays linear. A record another gpu.jsonc wrote (its
    `config` is not this one's, ADR 35) names none of this one's blocks; nor does one another
    repository's gpu.jsonc wrote, or one naming a repository this run cannot be shown to be
    (`repository`: this one's, asked only then; ADR 60, review 11, R11-1): that endpoint is
    kept as ADR 60 keeps it, never renamed back and written over from here (`applied_here`)."""
    found: dict[str, list[dict]] = {}
    for e in endpoints:
        record = records.get(str(e.get("id")))
        if record is None or owner(e) != project_id:
            continue
        was, now = record.endpoint_name, e.get("name")
        if not was or was == now or was not in names or (isinstance(now, str) and now in names):  # `now` another block's, or its renamed_from's
            continue
        if not applied_here(record, config, repository):
            continue
        found.setdefault(names[was], []).append(e)
    return {name: tuple(es) for name, es in found.items()}


def record_names(specs: Iterable[EndpointSpec]) -> dict[str, str]:
    """Each name a last-applied record of a block's endpoint may carry, to that block: its own
    name, and its `renamed_from` (the name it was applied under before the block was renamed in
    gpu.jsonc). The loader keeps a `renamed_from` apart from every block's name and every other
    `renamed_from`; a block's own name wins all the same."""
    own: dict[str, str] = {}
    old: dict[str, str] = {}
    for s in specs:  # one pass: planning stays linear (issue 11)
        own[s.name] = s.name
        if s.renamed_from:
            old[s.renamed_from] = s.name
    return old | own


@dataclass(frozen=True)
class Unguessed(Diagnostic):
    """Two or more of this project's endpoints renamed in the account whose records name one
    block (`found`), and nothing holds its name: deploy stops; a report lists each one (the
    planner's `_not_guessed`), labelled renamed-in-account, instead (review 11, R11-4)."""

    found: tuple[dict, ...] = field(default=(), compare=False, hash=False)


def in_account(spec: EndpointSpec, account: Account, renamed: Mapping[str, tuple[dict, ...]],
               flags=None) -> tuple[dict | None, list[Diagnostic], list[Notice]] | None:
    """(the block's endpoint, renamed in the account, errors, notices) when no endpoint holds
    the block's name and a last-applied record says one of this project's endpoints is the
    block's (`renamed`: `renamed_in_account`), else None: the ordinary match decides. The plan
    then renames it back in place, keeping its id and URL (ADR 59). An endpoint holding the
    block's name is never second-guessed: the renamed one is then kept and listed (planner's
    `_orphans`). Two renamed ones: the plan stops, as for two of one name (`Unguessed`, which a
    report lists instead)."""
    found = renamed.get(spec.name)
    if not found or account.endpoints_named(spec.name):
        return None
    if len(found) > 1:
        ids = ", ".join(f'{e.get("id")} ("{e.get("name")}")' for e in sorted(found, key=lambda e: str(e.get("id"))))
        return None, [Unguessed(f'{counted(len(found), "endpoint")} of this project were last applied as this block and renamed in the account ({ids}); '
                                "gpuctl will not guess which one is this block's", f"endpoint.{spec.name}",
                                hint=f"delete the ones nobody calls, by id (`{suggest('serverless', 'delete', 'ID', '--force', flags=flags or NONE)}`), "
                                     "then plan again: deploy renames the one left back to the block's name", found=found)], []
    return found[0], [], []


def unmatched_rename(spec: EndpointSpec, live: dict | None, project_id: str, account: Account, deleted: Mapping[str, Any]) -> list[Notice]:
    """The warning for a `renamed_from` that renames nothing, so the block creates a new
    endpoint (a new id and URL): a typo, or an endpoint of another owner, which renamed_from
    never takes. Silent while the block has its endpoint, while `renamed` renames, and when a
    record says the old or the new endpoint was deleted in the account (drift says that)."""
    old = spec.renamed_from
    if not old or live is not None or old in deleted or spec.name in deleted:
        return []
    named = account.endpoints_named(old)
    if any(owner(e) == project_id for e in named):
        return []
    address, new = f"endpoint.{spec.name}", "so this block creates a new endpoint, with a new id and URL"
    if named:
        theirs = named[0]
        whose = f'project "{owner(theirs)}"' if owner(theirs) else "no gpuctl project"
        return [Notice("renamed-from-unmatched", f'"renamed_from": "{old}" names endpoint {theirs.get("id")} of {whose}, and renamed_from only '
                                                f"renames this project's endpoints, {new}; to take that endpoint over, write \"adopt\": \"{theirs.get('id')}\" "
                                                "instead", address)]
    mine = [str(e.get("name")) for e in account.observed.endpoints if owner(e) == project_id]
    guess = did_you_mean(old, mine)
    return [Notice("renamed-from-unmatched", f'"renamed_from": "{old}" names no endpoint of project "{project_id}", {new}'
                                            + (f"; {guess}" if guess else ""), address)]


def adopt_advice(endpoint: dict, project_id: str, block: str = "this block") -> str:
    """How to make `block` take `endpoint` over: the one wording of the plan's refusal of a
    same-named endpoint (`planner._not_ours`) and of import's refusal of a name gpu.jsonc
    declares, since import only adds new blocks."""
    eid, previous = endpoint.get("id"), owner(endpoint)
    if previous == project_id:
        return f'add "adopt": "{eid}" to {block} in gpu.jsonc (deploy then renames it in place, keeping its id and URL)'
    taken_over = f'; project "{previous}" then no longer manages it' if previous else ""
    return f'add "adopt": "{eid}" to {block} in gpu.jsonc (deploy then writes the marker {MARKER_ENV}={project_id} on it, keeping its id and URL{taken_over})'


def other_project_advice(endpoint_id: str, theirs: str) -> str:
    """What to do about an endpoint holding a block's name that carries another project's
    marker (`theirs`): the one wording of the plan's refusal (`planner._not_ours`) and of the
    drift report's advice. The likely cause first (this gpu.jsonc's own endpoint, deployed
    under another project id), and adopting it last, with what that does to the other project."""
    return (f"if it is this gpu.jsonc's own endpoint and the project id changed (`project_id` was edited, or gpu.jsonc has none "
            f"and the directory it runs from has another name), set `\"project_id\": \"{theirs}\"` in gpu.jsonc; if both projects "
            f"really declare that name, give this block another name. `\"adopt\": \"{endpoint_id}\"` would take it from project \"{theirs}\"")


def _renames(endpoint_id: str, old_name: str, address: str, key: str) -> Notice:
    return Notice("rename", f'renames endpoint {endpoint_id} from "{old_name}" in place: its id and URL stay, and its workers keep running (a name is no container change); '
                            f'"{key}" is inert afterwards and may stay or be removed', address, level="note")


def with_rename(change: ResourceChange, live: dict | None) -> ResourceChange:
    """An adopted endpoint whose block names it differently is renamed in the same write."""
    if live is None or change.desired is None or live.get("name") == change.name:
        return change
    rename = FieldChange("name", live.get("name"), change.name)
    action = Action.UPDATE if change.action is Action.NOOP else change.action
    reason = change.reason or f'renamed from "{live.get("name")}" in place: same id and URL'
    return replace(change, action=action, id=live.get("id"), reason=reason, changes=tuple(sorted((*change.changes, rename), key=lambda c: c.path)))

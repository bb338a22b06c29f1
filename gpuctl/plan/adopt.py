"""Adoption: a block whose `adopt` names an existing endpoint takes it over (ADR 11).

`gpu serverless import` writes the block with `"adopt": "<endpoint id>"`. Until an endpoint of
the block's name carries this project's marker, the planner matches the block to the endpoint
with that id (not by name, which an unmarked endpoint cannot claim), so the plan is an update
whose only change is the marker (and the name, when the block gives the endpoint another one),
plus whatever the block does not reproduce. Once the marker is there, `adopt` is inert: the
endpoint is matched by name and marker like any other. Pure, like the planner.
"""

from __future__ import annotations

from dataclasses import replace

from gpuctl.errors import Diagnostic
from gpuctl.model import MARKER_ENV, EndpointSpec, Notice
from gpuctl.v2 import owner
from gpuctl.plan.account import Account
from gpuctl.plan.model import Action, FieldChange, ResourceChange


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
    taken = f' from project "{previous}"' if previous else ""
    renamed = f' and renames it from "{target.get("name")}"' if target.get("name") != spec.name else ""
    notices = [Notice("adopt", f"adopts endpoint {spec.adopt}{taken}: deploy writes the {MARKER_ENV}={project_id} marker on it{renamed}; "
                               '"adopt" is inert afterwards and may stay or be removed', address)]
    others = [e for e in same_name if e is not target]
    notices += [Notice("same-name-unowned", f'another endpoint named "{spec.name}" ({e.get("id")}) is not owned by this project and is left alone', address, level="note")
                for e in others]
    return target, [], notices


def with_rename(change: ResourceChange, live: dict | None) -> ResourceChange:
    """An adopted endpoint whose block names it differently is renamed in the same write."""
    if live is None or change.desired is None or live.get("name") == change.name:
        return change
    rename = FieldChange("name", live.get("name"), change.name)
    action = Action.UPDATE if change.action is Action.NOOP else change.action
    reason = change.reason or f'renamed from "{live.get("name")}"'
    return replace(change, action=action, id=live.get("id"), reason=reason, changes=tuple(sorted((*change.changes, rename), key=lambda c: c.path)))

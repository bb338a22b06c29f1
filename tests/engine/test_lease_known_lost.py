"""Once a run knows its account lease was taken (its renewal, a minute apart, or a read-back found
it gone: `Lease.lost`), no new change starts: each would be another write over the run that
took the lease. The changes running finish, the rest is listed as not attempted, and the apply
ends on the lease-lost error. The e2e case (tests/e2e/test_lease_lost_stops_new_changes.py)
learns it from a read-back; here the lease is found lost while a change runs and its read-back
agrees, as when the renewal finds it."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gpuctl.engine.apply import ApplyFailed, Engine, LeaseLost
from gpuctl.plan.model import Action, Kind, Plan, ResourceChange

LOST = "deleted from the account (broken by another run's --break-lock, which has released it since, or deleted by hand)"


def _change(name: str) -> ResourceChange:
    return ResourceChange(Kind.ENDPOINT, name, f"endpoint.{name}", Action.UPDATE, id=f"id-{name}", desired={"name": name})


def test_no_change_starts_once_the_lease_is_known_lost():
    lost: list[str] = []
    started: list[str] = []
    engine = Engine(provider=SimpleNamespace(name="local", on_pause=lambda f: None), project_id="p", journal=SimpleNamespace(unfinished=dict),
                    parallelism=1, lease_known_lost=lambda: lost[0] if lost else None)

    def one(change, ids, unfinished):
        started.append(change.address)
        lost.append(LOST)  # the renewal found the lease gone while this change ran
        return change.id, ""

    engine._one = one
    changes = (_change("a"), _change("b"), _change("c"))
    plan = Plan("p", "gpu.jsonc", "local", False, changes, (), None, (), "digest")
    with pytest.raises(ApplyFailed) as caught:
        engine.apply(plan)
    assert started == ["endpoint.a"]
    outcome = caught.value.outcome
    assert outcome.done == [("endpoint.a", "update", "id-a")]
    assert outcome.failed == [] and outcome.not_attempted == [("endpoint.b", "update"), ("endpoint.c", "update")]
    assert isinstance(caught.value.cause, LeaseLost)
    assert caught.value.cause.summary.startswith(f"the account lease was {LOST} while this deploy applied: no change was started after this run learned it")

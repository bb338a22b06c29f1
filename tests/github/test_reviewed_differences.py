"""Why a reviewed plan is no longer the plan, as the refusal names it (gpuctl.github.reviewed)."""

from __future__ import annotations

from gpuctl.github.reviewed import differences

DESIRED = {"name": "api", "workers": {"min": 0, "max": 3}, "idleTimeout": 5, "env": {"GREETING": "hello"}}


def _doc(*resources: dict) -> dict:
    return {"project_id": "ml-api", "provider": "local", "prune": False, "resource_changes": list(resources)}


def test_a_reviewed_create_that_is_now_an_update_names_the_endpoint_and_what_would_be_written_not_every_field():
    """The pull request's plan created endpoint.api; by the merge someone had made it (by hand,
    another run) with workers.max 2. Before, the refusal listed every field of the reviewed
    create as `reviewed null → value, now no change` (the body, the disk, each env var), five of
    them and "12 more": nothing a person paged at night can act on. It says what the account
    has now and what this run would write."""
    reviewed = {"address": "endpoint.api", "action": "create", "id": None, "desired": DESIRED,
                "changes": [(p, None, v) for p, v in (("name", "api"), ("workers.min", 0), ("workers.max", 3), ("idleTimeout", 5), ("env.GREETING", "hello"))]}
    fresh = {"address": "endpoint.api", "action": "update", "id": "ep-1", "desired": DESIRED, "changes": [("workers.max", 2, 3)]}
    reviewed["changes"] = [{"path": p, "before": b, "after": a} for p, b, a in reviewed["changes"]]
    fresh["changes"] = [{"path": p, "before": b, "after": a} for p, b, a in fresh["changes"]]
    (line,) = differences(_doc(reviewed), _doc(fresh))
    assert line == ('endpoint.api: the update now differs from the reviewed create (the account has it now, as "ep-1"; '
                    'this run would write workers.max: 2 → 3)'), line

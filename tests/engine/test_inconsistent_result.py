"""InconsistentResult names what still differs after an apply, per resource and field, so
the reader knows what the provider did not keep without planning again."""

from __future__ import annotations

from gpuctl.engine.flow import still_different
from gpuctl.plan.model import Action, CostEstimate, FieldChange, Kind, Plan, ResourceChange


def change(address: str, action: Action, *paths: str) -> ResourceChange:
    kind = Kind.ENDPOINT if address.startswith("endpoint.") else Kind.NETWORK_VOLUME
    return ResourceChange(kind, address.split(".", 1)[1], address, action, changes=tuple(FieldChange(p, 1, 2) for p in paths))


def test_each_resource_names_its_fields_and_one_without_fields_its_action():
    plan = Plan("p", "gpu.jsonc", "local", False, (
        change("endpoint.echo", Action.UPDATE, "workers.max", "gpu.pools"),
        change("network_volume.models", Action.CREATE),
        change("endpoint.same", Action.NOOP),
        change("endpoint.old", Action.ORPHAN),
    ), (), CostEstimate(0.0, 0.0, True), (), "")
    assert still_different(plan) == "endpoint.echo: workers.max, gpu.pools; network_volume.models (to create)"

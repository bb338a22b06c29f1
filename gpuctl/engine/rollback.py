"""Putting an endpoint back on the configuration of an earlier RunPod release: the plan (which
fields change, from the release diffs; gpuctl.releases has the pure rules) and the write (one
PATCH, then a read-back that must show every field). `rollback` and `deploy --wait-healthy
--rollback-on-failure` both use it."""

from __future__ import annotations

from dataclasses import dataclass

from gpuctl.errors import GpuctlError
from gpuctl.provider.protocol import Provider
from gpuctl.v2 import release_version


class NotKept(GpuctlError):
    """The rollback PATCH was accepted, but the endpoint read back does not show it."""


@dataclass(frozen=True)
class RollbackPlan:
    endpoint: dict  # the endpoint as it is now
    releases: dict  # its releases document
    changes: list[dict]  # {path, before, after} per field that goes back
    config: dict  # the configuration of the version to go back to

    @property
    def version(self) -> object:
        return release_version(self.releases)


def plan_rollback(provider: Provider, endpoint_id: str, version: int) -> RollbackPlan:
    """What going back to `version` changes, read fresh from the account."""
    from gpuctl.releases import configuration_at, rollback_changes

    current, doc = provider.get_endpoint(endpoint_id), provider.releases(endpoint_id)
    config = configuration_at(doc, current, version)
    return RollbackPlan(current, doc, rollback_changes(current, config), config)


def apply_rollback(provider: Provider, endpoint_id: str, changes: list[dict]) -> dict:
    """One PATCH of the changed fields, then a read-back that must show every one of them."""
    from gpuctl.releases import patch_body, value_at

    provider.update_endpoint(endpoint_id, patch_body({c["path"]: c["after"] for c in changes}))
    after = provider.get_endpoint(endpoint_id)
    differ = [c["path"] for c in changes if value_at(after, c["path"]) != c["after"]]
    if differ:
        from gpuctl.provider.errors import Who

        raise NotKept(f"{Who.of(provider.name).name} did not keep the rollback of {', '.join(differ)} on endpoint {after.get('name')}",
                      hint=f"compare with `gpu serverless history {after.get('name')}` and set the fields in the console")
    return after

"""Putting an endpoint back on the configuration of an earlier RunPod release: the plan (which
fields change, from the release diffs; gpuctl.releases has the pure rules) and the write (one
PATCH, then a read-back that must show every field). `rollback` and `deploy --wait-healthy
--rollback-on-failure` both use it."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from gpuctl.errors import GpuctlError
from gpuctl.provider.protocol import Provider
from gpuctl.commands import NONE, Flags, suggest
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


def plan_rollback(provider: Provider, endpoint_id: str, version: int, flags: Flags = NONE) -> RollbackPlan:
    """What going back to `version` changes, read fresh from the account; `flags`: the run's
    options, which the commands its errors suggest repeat."""
    from gpuctl.releases import configuration_at, rollback_changes

    current, doc = provider.get_endpoint(endpoint_id), provider.releases(endpoint_id)
    config = configuration_at(doc, current, version, flags)
    return RollbackPlan(current, doc, rollback_changes(current, config), config)


@dataclass(frozen=True)
class RolledBack:
    endpoint: dict  # the endpoint read back after the write
    version: object  # the version the rollback made (the endpoint's version after it)
    recorded: bool  # whether the last-applied record now keeps it as gpuctl's


def apply_rollback(provider: Provider, endpoint_id: str, changes: list[dict], to_version: int, *, by: str | None = None,
                   now: Callable[[], float] = time.time, flags: Flags = NONE) -> RolledBack:
    """One PATCH of the changed fields, a read-back that must show every one of them, then the
    rollback kept in the endpoint's last-applied record as gpuctl's apply, by `by`, of the
    release it made (`applied.remember_rollback`), as deploy keeps its applies: without it,
    history said the release was made by "account" and drift "someone changed it in the
    account" (review 3, R9 and L6). `flags`: the run's options, which a command its errors
    suggest repeats (`gpuctl.commands`)."""
    from gpuctl.engine import applied
    from gpuctl.provider.errors import ProviderError
    from gpuctl.releases import patch_body, value_at

    provider.update_endpoint(endpoint_id, patch_body({c["path"]: c["after"] for c in changes}))
    after = provider.get_endpoint(endpoint_id)
    differ = [c["path"] for c in changes if value_at(after, c["path"]) != c["after"]]
    if differ:
        from gpuctl.provider.errors import Who

        raise NotKept(f"{Who.of(provider.name).name} did not keep the rollback of {', '.join(differ)} on endpoint {after.get('name')}",
                      hint=f"compare with `{suggest('serverless', 'history', str(after.get('id') or endpoint_id), flags=flags)}` and set the fields in the console")
    version = release_version(provider.releases(endpoint_id))
    try:
        recorded = applied.remember_rollback(provider, endpoint_id, now(), by=by, version=version if isinstance(version, int) else None,
                                             to_version=to_version, values={c["path"]: c["after"] for c in changes},
                                             before={c["path"]: c.get("before") for c in changes})
    except ProviderError:
        recorded = False  # the rollback stands; history and drift only cannot tell it was gpuctl's
    return RolledBack(after, version, recorded)

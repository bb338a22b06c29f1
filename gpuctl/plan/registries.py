"""`runpod.registry_auth` resolved against the account's container registry credentials.

gpu.jsonc names a credential as RunPod's console shows it (Settings > Container Registry Auth),
or by its id; RunPod's v2 endpoint takes the id (`registry`). The account's credentials are
`{id, name}` objects (`GET /v2/registries`: RunPod never answers with the username or
password), read once per plan and only when a block declares the key
(`Desired.needs_registries`). A name the account does not have is an error at the key, naming
the names it has (names and ids are no secrets) and where to create one. Pure: no I/O.

`pull` tells a credential deleted (or switched) in the console from a name gpu.jsonc got
wrong (`removed_in_account`): only when the last-applied record says gpuctl set a credential
on the endpoint, and the endpoint no longer holds it, did the account move; pull then takes
the account's credential. Any other name the account does not have (a typo, a credential not
made yet) is gpu.jsonc's own, and pull keeps the key and says so at it (`unknown`), as a
Terraform refresh never rewrites a reference the configuration got wrong.
"""

from __future__ import annotations

import json

from collections.abc import Mapping
from typing import Any

from gpuctl.commands import NONE, Flags, suggest
from gpuctl.errors import Diagnostic
from gpuctl.model import EndpointSpec, Observed, RegistryAuth
from gpuctl.plan import drift
from gpuctl.spelling import did_you_mean
from gpuctl.v2 import registry, registry_name

CREATE = "create it in the RunPod console (Settings > Container Registry Auth) and write its name here"
CREATE_LOCAL = "create it on the local provider with POST /v2/registries {\"name\", \"username\", \"password\"} and write its name here"
def _snapshot(flags: Flags) -> str:
    return (f"take a new snapshot with `{suggest('serverless', 'snapshot', '--out', 'FILE', flags=flags)}` (snapshots record the account's registry "
            "credentials since gpuctl reads runpod.registry_auth), or plan against the account")


def _at(auth: RegistryAuth, message: str, hint: str) -> Diagnostic:
    return Diagnostic(message, auth.key, auth.file, auth.line, auth.col, hint)


def gone(spec: EndpointSpec, observed: Observed) -> bool:
    """The block names a credential (by name or id) that the account, whose credentials were
    read, does not have: deleted in the console, say (RunPod then sets the endpoint's `registry`
    to null). `pull` takes the account's value instead of stopping at it."""
    auth = spec.registry_auth
    if auth is None or observed.registries is None:
        return False
    listed = [r for r in observed.registries if isinstance(r, dict)]
    return not any(r.get("name") == auth.value or r.get("id") == auth.value for r in listed)


REGISTRY = "registry"  # the planner's path of the credential (`fields.DECLARED_BY_KEY`)


def removed_in_account(record: drift.Record | None, live: Mapping[str, Any] | None) -> bool:
    """Whether the account took away the credential gpuctl last set on endpoint `live`: its
    last-applied `record` holds a digest of a credential (not of none), and the endpoint holds
    another or none now (RunPod clears `registry` when the credential is deleted). False with
    no endpoint, no record, a record of no credential, or the endpoint still holding the one
    gpuctl set: then the account did not move, and a name it does not have is gpu.jsonc's."""
    return live is not None and drift.taken_away(record, REGISTRY, registry(live))


def unknown(spec: EndpointSpec, observed: Observed, target: str, live: Mapping[str, Any] | None, flags: Flags = NONE) -> Diagnostic:
    """pull's warning at a `runpod.registry_auth` the account has no credential for that
    `removed_in_account` does not explain: the names the account has, the closest, the
    credential the endpoint holds, and that pull keeps the key (the fix is gpu.jsonc's)."""
    auth = spec.registry_auth
    assert auth is not None
    names = _names(observed)
    guess = did_you_mean(auth.value, names)
    held = registry_name(registry(live or {}), observed.registries)
    holds = f'the endpoint holds {json.dumps(held)}' if held else ("the endpoint holds none" if live is not None else "the endpoint is not created yet")
    create = CREATE_LOCAL if target == "local" else CREATE
    return _at(auth, f"no container registry credential named {json.dumps(auth.value)}: {_has(names)}",
               f"{guess + ' If not, ' if guess else ''}{create}. pull keeps the key: {holds}, and no credential gpuctl set there "
               "was removed in the account, so the name is gpu.jsonc's to fix (deploy stops at it until then)")


def _names(observed: Observed) -> list[str]:
    listed = [r for r in observed.registries or () if isinstance(r, dict)]
    return sorted({str(r.get("name")) for r in listed if isinstance(r.get("name"), str)})


def _has(names: list[str]) -> str:
    return f"the account has {', '.join(json.dumps(n) for n in names)}" if names else "the account has none"


def resolve(spec: EndpointSpec, observed: Observed, target: str, flags: Flags = NONE) -> tuple[str | None, list[Diagnostic]]:
    """(the credential id the block's `runpod.registry_auth` names, errors at the key); (None, [])
    when the block declares none."""
    auth = spec.registry_auth
    if auth is None:
        return None, []
    if observed.registries is None:
        return None, [_at(auth, f"cannot resolve {json.dumps(auth.value)}: the observed account does not list its container registry credentials "
                                "(a snapshot taken before gpuctl recorded them)", _snapshot(flags))]
    listed = [r for r in observed.registries if isinstance(r, dict)]
    named = [r for r in listed if r.get("name") == auth.value]
    if len(named) == 1:
        return str(named[0].get("id")), []
    if len(named) > 1:
        ids = ", ".join(str(r.get("id")) for r in named)
        return None, [_at(auth, f"{len(named)} container registry credentials are named {json.dumps(auth.value)} ({ids})",
                          "write the id of the one to use instead of the name, or rename the others in the RunPod console")]
    by_id = [r for r in listed if r.get("id") == auth.value]
    if by_id:
        return auth.value, []
    names = _names(observed)
    has = _has(names)
    create = CREATE_LOCAL if target == "local" else CREATE
    guess = did_you_mean(auth.value, names)
    pull = (f"; or, if it was deleted in the console, `{suggest('serverless', 'pull', '--write', flags=flags)}` writes the endpoint's "
            "credential here instead (none: the key is removed)")
    return None, [_at(auth, f"no container registry credential named {json.dumps(auth.value)}: {has}",
                      (f"{guess} If not, {create}" if guess else create) + pull)]

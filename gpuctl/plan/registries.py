"""`runpod.registry_auth` resolved against the account's container registry credentials.

gpu.jsonc names a credential as RunPod's console shows it (Settings > Container Registry Auth),
or by its id; RunPod's v2 endpoint takes the id (`registry`). The account's credentials are
`{id, name}` objects (`GET /v2/registries`: RunPod never answers with the username or
password), read once per plan and only when a block declares the key
(`Desired.needs_registries`). A name the account does not have is an error at the key, naming
the names it has (names and ids are no secrets) and where to create one. Pure: no I/O.
"""

from __future__ import annotations

import json

from gpuctl.commands import NONE, Flags, suggest
from gpuctl.errors import Diagnostic
from gpuctl.model import EndpointSpec, Observed, RegistryAuth
from gpuctl.spelling import did_you_mean

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
    names = sorted({str(r.get("name")) for r in listed if isinstance(r.get("name"), str)})
    has = f"the account has {', '.join(json.dumps(n) for n in names)}" if names else "the account has none"
    create = CREATE_LOCAL if target == "local" else CREATE
    guess = did_you_mean(auth.value, names)
    pull = (f"; or, if it was deleted in the console, `{suggest('serverless', 'pull', '--write', flags=flags)}` writes the endpoint's "
            "credential here instead (none: the key is removed)")
    return None, [_at(auth, f"no container registry credential named {json.dumps(auth.value)}: {has}",
                      (f"{guess} If not, {create}" if guess else create) + pull)]

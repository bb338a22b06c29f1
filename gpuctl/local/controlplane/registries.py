"""Container registry credentials (RunPod REST v2 `/v2/registries`): what a private image is
pulled with. An endpoint's `registry` holds a credential's id.

RunPod keeps the username and password write-only: no answer carries them, only `{id, name}`.
So does this: the object in `state.db` is `{id, name}`, and the credential itself goes to its
own file, `registries/<id>` (0600 in a 0700 directory, written fresh and renamed into place,
as `gpu local secret` writes a secret), read by nothing that answers a request, logs or renders.
A request that does not fit is refused naming the field, never quoting a value.

A delete follows RunPod's OpenAPI `deleteRegistry`: refused (400) while a pod uses the
credential, naming the pods and how to delete them; templates that reference it do not block
it and lose the reference (`registry` becomes null), and so do endpoints, whose `registry` is
their template's. Losing it is no release: nothing was deployed.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpuctl.local.datadir import private
from gpuctl.local.errors import Invalid, Rejected
from gpuctl.local.store import ids
from gpuctl.local.store.db import Store

KIND = "registry"
FIELDS = ("name", "username", "password")  # CreateRegistryRequest: each a non-empty string, nothing else


def problems(body: Any) -> list[str]:
    """Why `body` is not a CreateRegistryRequest, as `$.field: message` lines that name fields
    and never quote a value (the body holds a password)."""
    if not isinstance(body, dict):
        return ["$: must be an object with name, username and password"]
    found = [f"$: additional properties {', '.join(repr(k) for k in sorted(map(str, body)) if k not in FIELDS)} not allowed"] if set(body) - set(FIELDS) else []
    for key in FIELDS:
        if key not in body:
            found.append(f"$: '{key}' is a required property")
        elif not isinstance(body[key], str) or not body[key]:
            found.append(f"$.{key}: must be a non-empty string")
    return found


def check_reference(store: Store, registry_id: Any, kept: Any = None) -> None:
    """A credential id a template, endpoint or pod is given (v2 `registry`, GraphQL
    `containerRegistryAuthId`) must be one the account has: refused (400) naming it, as an
    unknown network volume is (stop 17, G1; RunPod's answer is not documented). None or ""
    is no credential. An id the object already holds (`kept`) is not checked again, so other
    changes to the object go on whatever became of it (a delete clears it from templates and
    endpoints, `Registries.delete`, but an object written by an older server may still hold one)."""
    if registry_id and registry_id != kept and store.get(KIND, registry_id, hidden=True) is None:
        raise Rejected(f"container registry credential {registry_id} not found: GET /v2/registries lists the account's "
                       "credentials, and POST /v2/registries creates one")


@dataclass
class Registries:
    store: Store
    directory: Path  # <data dir>/registries: one credential file per id

    def listed(self) -> list[dict]:
        return self.store.list(KIND)

    def get(self, registry_id: str) -> dict:
        return self.store.found(KIND, registry_id, "container registry")

    def create(self, body: Any, visible_at: float) -> dict:
        found = problems(body)
        if found:
            raise Invalid("Request validation failed.", errors=found)
        doc = {"id": ids.short_id(10), "name": body["name"]}
        private.make_dir(self.directory)
        private.write_new(self.directory / doc["id"], json.dumps({"username": body["username"], "password": body["password"]}))
        self.store.put(KIND, doc, {}, visible_at)
        return doc

    def delete(self, registry_id: str) -> None:
        doc = self.get(registry_id)
        pods = [p["id"] for p in self.store.list("pod", hidden=True) if p.get("registry") == doc["id"]]
        if pods:
            raise Rejected(f"container registry credential {doc['id']} ({json.dumps(doc['name'])}) cannot be deleted while a pod uses it "
                           f"(in use by: {', '.join(pods)}): delete each pod that uses it first ({'; '.join(f'DELETE /v2/pods/{p}' for p in pods)}), "
                           "then the credential. Templates and endpoints that use it do not block the delete; they lose it")
        with self.store.transaction():
            for kind in ("template", "endpoint"):
                for obj in self.store.list(kind, hidden=True):
                    if obj.get("registry") == doc["id"]:
                        self.store.replace_doc(kind, {**obj, "registry": None})
            self.store.delete(KIND, doc["id"])
        with contextlib.suppress(FileNotFoundError):
            (self.directory / doc["id"]).unlink()

"""Templates (api-notes §4.3): snapshots that endpoints and pods copy their settings from when
created and never follow afterwards (GraphQL endpoints, which do follow theirs, are rolled by
`Endpoints.roll_to_template`). Names are unique per account. A template bound to an endpoint
(GraphQL's `<endpoint>__template__<rand>`) is readable by id but not listed, and a template in
use cannot be deleted.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from gpuctl.local.controlplane.registries import check_reference
from gpuctl.local.controlplane.requests import RequestRules
from gpuctl.local.errors import Invalid, Rejected
from gpuctl.local.store import ids
from gpuctl.local.store.db import Store

DEFAULTS = {
    "args": "", "disk": 50, "mounts": {}, "ports": [], "env": {}, "registry": None, "serverless": False,
    "public": False, "category": "NVIDIA", "startSsh": True, "startJupyter": True, "allowedCudaVersions": [],
}
ORDER = ("id", "name", "image", "args", "disk", "mounts", "ports", "env", "registry", "serverless",
         "public", "category", "startSsh", "startJupyter", "allowedCudaVersions")


@dataclass
class Templates:
    store: Store
    rules: RequestRules

    def get(self, template_id: str) -> dict:
        return self.store.found("template", template_id, "template")

    def listed(self) -> list[dict]:
        """The account's own templates: bound ones are not listed."""
        return [doc for doc, extra in self.store.list_with_extra("template") if not extra.get("boundEndpoint")]

    def serverless(self, template_id: str) -> dict:
        """The template an endpoint is created or patched from: it must be a serverless one."""
        template = self.get(template_id)
        if not template.get("serverless"):
            raise Invalid(f"template {template_id} is not a serverless template", errors=["$.templateId: not a serverless template"])
        return template

    def create(self, body: Any, visible_at: float) -> dict:
        self.rules.check("CreateTemplateRequest", body)
        doc = self.new(body)
        self.store.put("template", doc, {}, visible_at)
        return doc

    def new(self, body: dict) -> dict:
        """A new template document (not stored yet) with RunPod's defaults and a free name."""
        self._name_free(body["name"])
        check_reference(self.store, body.get("registry"))
        doc = {"id": ids.template_id(), **copy.deepcopy(DEFAULTS), **copy.deepcopy(body)}
        return {k: doc[k] for k in ORDER}

    def update(self, template_id: str, body: Any) -> dict:
        doc = self.get(template_id)
        self.rules.check("UpdateTemplateRequest", body)
        if "name" in body:
            self._name_free(body["name"], doc["id"])
        check_reference(self.store, body.get("registry"), kept=doc.get("registry"))
        new = {**doc, **{k: v for k, v in copy.deepcopy(body).items() if k != "mounts"}}
        if body.get("mounts"):
            new["mounts"] = body["mounts"]
        found = self.store.get_with_extra("template", doc["id"])
        self.store.put("template", new, found[1] if found else {})
        return new

    def delete(self, template_id: str) -> None:
        doc = self.get(template_id)
        users = self.users(doc["id"])
        if users:
            raise Rejected(f"template {doc['id']} is in use by {', '.join(users)}")
        self.store.delete("template", doc["id"])

    def name_taken(self, name: str, own_id: str | None = None) -> bool:
        return any(t["name"] == name and t["id"] != own_id for t in self.store.list("template", hidden=True))

    def _name_free(self, name: str, own_id: str | None = None) -> None:
        if self.name_taken(name, own_id):
            raise Rejected(f"a template named {name!r} already exists; template names are unique")

    def users(self, template_id: str) -> list[str]:
        """What keeps a template from being deleted: its endpoint binding, pods, GraphQL endpoints."""
        users = []
        extra = (self.store.get_with_extra("template", template_id, hidden=True) or ({}, {}))[1]
        if extra.get("boundEndpoint"):
            users.append(f"endpoint {extra['boundEndpoint']} (bound)")
        users += [f"pod {p['id']}" for p in self.store.list("pod", hidden=True) if p.get("template") == template_id]
        users += [f"endpoint {e['id']}" for e, x in self.store.list_with_extra("endpoint", hidden=True) if x.get("templateId") == template_id]
        return users

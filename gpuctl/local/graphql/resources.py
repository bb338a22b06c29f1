"""GraphQL mutations of templates and network volumes (api-notes §2.3), through the same
control-plane services REST v2 uses: one set of name, use and size rules for both."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from gpuctl.local.controlplane.endpoints import Endpoints
from gpuctl.local.controlplane.registries import check_reference
from gpuctl.local.controlplane.templates import Templates
from gpuctl.local.controlplane.volumes import Volumes
from gpuctl.local.graphql.execute import ResolverError, ValidationError
from gpuctl.local.graphql.views import Views
from gpuctl.local.store.db import Store

TEMPLATE_REQUIRED = {"name": "String!", "imageName": "String!", "containerDiskInGb": "Int!", "volumeInGb": "Int!",
                     "dockerArgs": "String!", "env": "[EnvironmentVariableInput!]!"}


def template_doc(inp: dict, existing: dict | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """A SaveTemplateInput as a v2 Template document plus its GraphQL-only fields."""
    for key, ref in TEMPLATE_REQUIRED.items():
        if inp.get(key) is None:
            raise ValidationError(f'Field "SaveTemplateInput.{key}" of required type "{ref}" was not provided.')
    volume, path = inp["volumeInGb"], inp.get("volumeMountPath") or "/workspace"
    category = inp.get("category") or "NVIDIA"
    if category not in ("NVIDIA", "AMD", "CPU"):
        raise ResolverError("category must be NVIDIA, AMD or CPU")
    doc = {
        "name": inp["name"], "image": inp["imageName"], "args": inp["dockerArgs"], "disk": inp["containerDiskInGb"],
        "mounts": {"persistent": {"size": volume, "path": path}} if volume >= 10 else {},
        "ports": [p.strip() for p in (inp.get("ports") or "").split(",") if p.strip()],
        "env": {e["key"]: e["value"] for e in inp["env"]}, "registry": inp.get("containerRegistryAuthId") or None,
        "serverless": bool(inp.get("isServerless", False)), "public": bool(inp.get("isPublic", False)), "category": category,
        "startSsh": bool(inp.get("startSsh", False)), "startJupyter": bool(inp.get("startJupyter", False)),
        "allowedCudaVersions": (existing or {}).get("allowedCudaVersions", []),
    }
    extra = {"volumeInGb": volume, "volumeMountPath": inp.get("volumeMountPath") or "", "readme": inp.get("readme") or "",
             "startScript": inp.get("startScript") or "", "advancedStart": bool(inp.get("advancedStart", False))}
    return doc, extra


@dataclass
class ResourceMutations:
    store: Store
    views: Views
    endpoints: Endpoints
    templates: Templates
    volumes: Volumes

    def save_template(self, inp: dict, visible_at: float) -> dict[str, Any] | None:
        found = self.store.get_with_extra("template", inp["id"]) if inp.get("id") else None
        if inp.get("id") and found is None:
            raise ResolverError(f"Template {inp['id']} not found")
        doc, extra = template_doc(inp, found[0] if found else None)
        if found is None:
            doc = self.templates.new(doc)
            self.store.put("template", doc, extra, visible_at)
            return self.views.template(doc["id"])
        check_reference(self.store, doc["registry"], kept=found[0].get("registry"))
        if self.templates.name_taken(doc["name"], inp["id"]):
            raise ResolverError(f"a template named {doc['name']!r} already exists; template names are unique")
        doc = {"id": inp["id"], **doc}
        self.store.put("template", doc, found[1] | extra)
        self.endpoints.roll_to_template(doc)
        return self.views.template(doc["id"])

    def delete_template(self, name: str) -> None:
        template = next((t for t in self.store.list("template") if t["name"] == name), None)
        if template is None:
            raise ResolverError(f"Template {name} not found")
        users = self.templates.users(template["id"])
        if users:
            raise ResolverError(f"Template {name} is in use by {', '.join(users)}")
        self.store.delete("template", template["id"])

    def create_volume(self, inp: dict, visible_at: float) -> dict[str, Any]:
        for key in ("name", "size", "dataCenterId"):
            if inp.get(key) in (None, ""):
                raise ResolverError(f"{key} is required")
        doc = self.volumes.add(inp["name"], inp["size"], inp["dataCenterId"], inp.get("type"), visible_at)
        return self.views.volume(doc)

    def update_volume(self, inp: dict) -> dict[str, Any]:
        doc = self.volumes.get(inp["id"])
        new = self.volumes.change(doc, name=inp.get("name") or doc["name"], size=inp.get("size") or doc["size"])
        return self.views.volume(new)

    def delete_volume(self, inp: dict) -> None:
        self.volumes.delete(inp["id"])

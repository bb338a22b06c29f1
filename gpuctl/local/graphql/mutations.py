"""GraphQL mutations of endpoints over the same stored documents REST v2 serves (api-notes §2.3).

`saveEndpoint` is a full replace, as measured on RunPod: on an update, fields left out of the
input go back to their defaults (workersMax 3, idleTimeout 10, scalerValue 4, ...), while
templateId, the CUDA fields, compliance, modelReferences and gpuIds are kept. Container
settings come from the endpoint's template, which GraphQL endpoints keep following: saving
the template rolls its endpoints to a new release.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from gpuctl.local.controlplane.endpoint_doc import CONTAINER_KEYS, check_doc, ordered, template_container
from gpuctl.local.controlplane.endpoints import Endpoints
from gpuctl.local.controlplane.registries import check_reference
from gpuctl.local.controlplane.templates import Templates
from gpuctl.local.graphql.execute import ResolverError
from gpuctl.local.graphql.resources import template_doc
from gpuctl.local.graphql.views import Views
from gpuctl.local.store import ids
from gpuctl.local.store.db import Store
from gpuctl.local.store.reference import CPU_FLAVORS, Catalog

RESET = {"workersMin": 0, "workersMax": 3, "idleTimeout": 10, "scalerType": "QUEUE_DELAY", "scalerValue": 4, "gpuCount": 1,
         "locations": "", "executionTimeoutMs": 600_000, "flashBootType": "OFF", "type": "QB", "networkVolumeId": ""}
HELD = ("templateId", "allowedCudaVersions", "minCudaVersion", "compliance", "modelReferences", "gpuIds", "instanceIds")


def refuse_nulls(inp: dict) -> None:
    """An explicit null for a setting that has a default (`workersMax: null`) is refused
    before anything is read or written: leaving the field out is how to get the default."""
    for key in (*RESET, "workersPFBTarget"):
        if key in inp and inp[key] is None:
            default = RESET.get(key, 0)
            raise ResolverError(f"{key} is null; leave it out for its default ({default!r}) or give a value")


def scaling(values: dict) -> dict[str, Any]:
    kind, value = values["scalerType"], values["scalerValue"]
    if value < 1:
        raise ResolverError("scalerValue must be at least 1")
    if kind == "QUEUE_DELAY":
        return {"type": kind, "queueDelay": value}
    if kind == "REQUEST_COUNT":
        return {"type": kind, "requestCount": value}
    raise ResolverError("scalerType must be QUEUE_DELAY or REQUEST_COUNT")


def volumes(values: dict) -> list[str]:
    if values.get("networkVolumeIds"):
        return [v["networkVolumeId"] for v in values["networkVolumeIds"] if v.get("networkVolumeId")]
    return [values["networkVolumeId"]] if values.get("networkVolumeId") else []


def settings(values: dict, old: dict | None) -> dict[str, Any]:
    """The endpoint's own settings from a saveEndpoint input, defaults filled in."""
    return {"workers": {"min": values["workersMin"], "max": values["workersMax"], "idleTimeout": values["idleTimeout"]},
            "scaling": scaling(values), "dataCenterIds": [d.strip() for d in values["locations"].split(",") if d.strip()],
            "networkVolumes": volumes(values), "timeout": values["executionTimeoutMs"], "flashboot": values["flashBootType"],
            "createdAt": old["createdAt"] if old else ids.timestamp()}


def cpu_of(instance_ids: list[str]) -> dict[str, Any]:
    cpu = []
    for instance in instance_ids:
        flavor, _, rest = instance.partition("-")
        vcpus = rest.split("-")[0]
        if flavor not in CPU_FLAVORS or not vcpus.isdigit():
            raise ResolverError(f"instanceIds: {instance} is not a CPU instance id such as cpu3g-4-16")
        cpu.append({"id": flavor, "vcpuCount": int(vcpus)})
    return {"cpu": cpu}


@dataclass
class EndpointMutations:
    store: Store
    catalog: Catalog
    views: Views
    endpoints: Endpoints
    templates: Templates

    def parse_gpu_ids(self, text: str) -> tuple[list[str], list[str]]:
        pools, excluded = [], []
        for token in (t.strip() for t in text.split(",") if t.strip()):
            if token.startswith("-"):
                excluded.append(token[1:].strip())
            elif token in self.catalog.pools:
                pools.append(token)
            elif (gpu := self.catalog.gpu(token)) is not None:
                raise ResolverError(f"gpuIds takes GPU pool ids, not GPU type ids: use {gpu['pool']} (the pool of {token}) and exclude the rest")
            else:
                raise ResolverError(f"gpuIds: {token} is not a GPU pool id")
        if not pools:
            raise ResolverError("gpuIds must name at least one GPU pool")
        return pools, excluded

    def _compute(self, values: dict) -> dict[str, Any]:
        if values.get("instanceIds"):
            return cpu_of(values["instanceIds"])
        if not values.get("gpuIds"):
            raise ResolverError("gpuIds is required for a GPU endpoint (or instanceIds for a CPU endpoint)")
        pools, excluded = self.parse_gpu_ids(values["gpuIds"])
        cuda = [v.strip() for v in (values.get("allowedCudaVersions") or "").split(",") if v.strip()]
        gpu = {"pools": pools, "excludedTypes": excluded, "count": values["gpuCount"], "allowedCudaVersions": cuda,
               "minCudaVersion": values.get("minCudaVersion") or None}
        if not excluded:
            gpu.pop("excludedTypes")
        return {"gpu": gpu}

    def _template_for(self, inp: dict, held_id: str | None) -> dict | None:
        if inp.get("templateId") and inp.get("template"):
            raise ResolverError("send templateId or template, not both")
        template_id = inp.get("templateId") or held_id
        if inp.get("template") or not template_id:
            return None
        template = self.store.get("template", template_id)
        if template is None:
            raise ResolverError(f"Template {template_id} not found")
        return template

    def save_endpoint(self, inp: dict, visible_at: float) -> dict[str, Any]:
        refuse_nulls(inp)
        found = self.store.get_with_extra("endpoint", inp["id"]) if inp.get("id") else None
        if inp.get("id") and found is None:
            raise ResolverError(f"Endpoint {inp['id']} not found")
        if not inp.get("name"):
            raise ResolverError("name is required")
        old, extra = found or (None, {})
        held = self.views.endpoint(old, extra) if old else {}
        values = RESET | {k: held[k] for k in HELD if held.get(k) not in (None, "", [])} | inp
        template = self._template_for(inp, extra.get("templateId"))
        if template is None and old is None and not inp.get("template"):
            raise ResolverError("templateId is required")
        doc: dict[str, Any] = {"id": old["id"] if old else ids.endpoint_id(), "name": values["name"],
                               "type": "LOAD_BALANCER" if values["type"] == "LB" else "QUEUE"}
        if inp.get("template"):
            template = self._inline_template(inp["template"], doc["id"], values["name"], visible_at)
        container = template_container(template) if template else {k: old[k] for k in CONTAINER_KEYS if k in old}  # type: ignore[union-attr]
        doc |= {"args": "", "ports": [], "env": {}, "registry": None} | container | self._compute(values)
        doc = ordered(doc | settings(values, old))
        self._check(doc, values)
        check_reference(self.store, doc.get("registry"), kept=(old or {}).get("registry"))
        extra = {**extra, "templateId": template["id"] if template else None, "modelReferences": values.get("modelReferences") or [],
                 "compliance": values.get("compliance") or [], "workersPFBTarget": values.get("workersPFBTarget", 0)}
        if old is not None:
            self.endpoints.save(old, doc, extra)
        else:
            extra["version"] = 1
            self.endpoints.insert(doc, extra, visible_at)
        return self.views.endpoint(doc, extra)

    def _check(self, doc: dict, values: dict) -> None:
        if not 1 <= doc["workers"]["idleTimeout"] <= 3600:
            raise ResolverError("idleTimeout must be between 1 and 3600 seconds")
        if doc["type"] == "LOAD_BALANCER" and doc["scaling"]["type"] != "REQUEST_COUNT":
            raise ResolverError("load-balancing endpoints scale on REQUEST_COUNT")
        if "cpu" in doc and values.get("modelReferences"):
            raise ResolverError("modelReferences (cached models) are available on GPU endpoints only")
        check_doc(doc, self.catalog, self.store, idle_sent=False, strict_exclusions=False)

    def _inline_template(self, inp: dict, endpoint_id: str, name: str, visible_at: float) -> dict:
        """A template bound to its endpoint, named as the console names them."""
        values = {"name": f"{name}__template__{ids.short_id(7)}", "isServerless": True, "volumeInGb": 0, "dockerArgs": "",
                  "containerDiskInGb": 10, "env": []} | inp
        doc, extra = template_doc(values)
        doc = self.templates.new(doc)
        self.store.put("template", doc, extra | {"boundEndpoint": endpoint_id}, visible_at)
        return doc

    def update_endpoint_template(self, inp: dict) -> dict[str, Any]:
        found = self.store.get_with_extra("endpoint", inp["endpointId"])
        template = self.store.get("template", inp["templateId"])
        if found is None:
            raise ResolverError(f"Endpoint {inp['endpointId']} not found")
        if template is None:
            raise ResolverError(f"Template {inp['templateId']} not found")
        doc, extra = found
        new = ordered({**copy.deepcopy(doc), **template_container(template)})
        self.endpoints.save(doc, new, {**extra, "templateId": template["id"]})
        return self.views.endpoint(new, self.store.get_with_extra("endpoint", doc["id"])[1])  # type: ignore[index]

    def delete_endpoint(self, endpoint_id: str) -> None:
        doc = self.store.get("endpoint", endpoint_id)
        if doc is None:
            raise ResolverError(f"Endpoint {endpoint_id} not found")
        if doc["workers"]["min"] or doc["workers"]["max"]:
            raise ResolverError("The endpoint's min and max workers must both be zero before you can delete it")
        self.endpoints.delete(endpoint_id)

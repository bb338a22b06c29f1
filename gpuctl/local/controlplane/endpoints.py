"""Serverless endpoints as the control plane keeps them: create, read, sparse update, delete,
seed, and the releases a container change makes. REST v2 and GraphQL both write through here.

The runtime learns of changes through the `Scaler` it is given (the scheduler), never by the
control plane importing it: a changed endpoint wakes the scale loop, a deleted one has its
workers stopped and its job waiters released.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from typing import Any, Protocol

from gpuctl.local.controlplane import endpoint_doc as docs
from gpuctl.local.controlplane.requests import RequestRules
from gpuctl.local.controlplane.templates import Templates
from gpuctl.local.errors import NotFound
from gpuctl.local.store import ids
from gpuctl.local.store.db import Store
from gpuctl.local.store.reference import Catalog

SEED_DEFAULTS = {
    "type": "QUEUE", "workers": docs.DEFAULT_WORKERS, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "env": {},
    "dataCenterIds": [], "networkVolumes": [], "timeout": 300_000, "flashboot": "OFF",
}


class Scaler(Protocol):
    """What the control plane tells the runtime about endpoints."""

    def endpoint_changed(self) -> None: ...

    def endpoint_removed(self, endpoint_id: str, job_ids: list[str]) -> None: ...


def version(extra: dict) -> int:
    """The endpoint's current release number, kept beside the document."""
    return int(extra.get("version", 1))


@dataclass
class Endpoints:
    store: Store
    catalog: Catalog
    rules: RequestRules
    templates: Templates
    scaler: Scaler
    base_url: str
    endpoint_base_url: str

    def get(self, endpoint_id: str) -> tuple[dict, dict]:
        """(document, extra) of a visible endpoint, or NotFound."""
        found = self.store.get_with_extra("endpoint", endpoint_id)
        if found is None:
            raise NotFound(f"endpoint {endpoint_id} not found")
        return found

    def releases(self, endpoint_id: str) -> list[dict[str, Any]]:
        return self.store.releases(endpoint_id)

    def render(self, doc: dict) -> dict:
        return docs.render(doc, self.base_url, self.endpoint_base_url)

    def listing_json(self) -> str:
        """`{"endpoints": [...]}` as JSON text. Listing 1,000 endpoints splices the stored JSON
        instead of decoding and re-encoding it."""
        return '{"endpoints":[' + ",".join(self._rendered_text(i, t) for i, t in self.store.list_raw("endpoint")) + "]}"

    def _rendered_text(self, endpoint_id: str, text: str) -> str:
        """The stored text is already RunPod's shape; only requestUrls are spliced in, unless the
        document needs more than that (a queue endpoint scaling on requestCount hides its
        idleTimeout)."""
        if '"REQUEST_COUNT"' in text or '"LOAD_BALANCER"' in text:
            return json.dumps(self.render(json.loads(text)), separators=(",", ":"), ensure_ascii=False)
        urls = docs.request_urls(endpoint_id, "QUEUE", self.base_url, self.endpoint_base_url)
        return '{"requestUrls":' + json.dumps(urls, separators=(",", ":")) + "," + text[1:]

    def create(self, body: Any, visible_at: float) -> dict:
        """A REST v2 create: the rendered new endpoint."""
        self.rules.check("CreateEndpointRequest", body)
        template = self.templates.serverless(body["templateId"]) if body.get("templateId") else None
        doc = docs.create_doc(body, template, self.catalog, self.store)
        self.insert(doc, {}, visible_at)
        return self.render(doc)

    def update(self, endpoint_id: str, body: Any) -> dict:
        """A REST v2 sparse PATCH: the rendered endpoint after it."""
        doc, extra = self.get(endpoint_id)
        self.rules.check("UpdateEndpointRequest", body)
        template = self.templates.serverless(body["templateId"]) if "templateId" in body else None
        new = docs.patch_doc(doc, body, template, self.catalog, self.store)
        self.save(doc, new, extra)
        return self.render(new)

    def insert(self, doc: dict, extra: dict, visible_at: float = 0.0) -> None:
        """Store a new endpoint with its first release."""
        with self.store.transaction():
            self.store.put("endpoint", doc, {**extra, "version": 1}, visible_at)
            self.store.add_release(doc["id"], 1, ids.release_id(), doc["createdAt"], docs.release_diff(None, doc))
        self.scaler.endpoint_changed()

    def save(self, old: dict, new: dict, extra: dict) -> None:
        """Store a changed endpoint; container changes make a new release that workers roll to."""
        diff = docs.release_diff(old, new)
        with self.store.transaction():
            if diff:
                extra = {**extra, "version": version(extra) + 1}
                self.store.add_release(new["id"], extra["version"], ids.release_id(), ids.timestamp(), diff)
            self.store.put("endpoint", new, extra)
        self.scaler.endpoint_changed()

    def roll_to_template(self, template: dict) -> None:
        """GraphQL endpoints follow their template: a saved template rolls them to a release."""
        for endpoint, extra in self.store.list_with_extra("endpoint", hidden=True):
            if extra.get("templateId") == template["id"]:
                self.save(endpoint, docs.ordered({**copy.deepcopy(endpoint), **docs.template_container(template)}), extra)

    def delete(self, endpoint_id: str) -> None:
        """Delete the endpoint, its bound template, releases and jobs; stop its workers."""
        self.get(endpoint_id)
        with self.store.transaction():
            self.store.delete("endpoint", endpoint_id)
            for template, extra in self.store.list_with_extra("template", hidden=True):
                if extra.get("boundEndpoint") == endpoint_id:
                    self.store.delete("template", template["id"])
            job_ids = self.store.delete_endpoint_rows(endpoint_id)
        self.scaler.endpoint_removed(endpoint_id, job_ids)

    def seed(self, given: dict) -> None:
        """Insert a v2 object as given; only fields a v2 Endpoint must have and the seed lacks
        get defaults."""
        given = {k: v for k, v in given.items() if k != "requestUrls"}
        doc = docs.ordered(copy.deepcopy(SEED_DEFAULTS) | given | {"createdAt": given.get("createdAt") or ids.timestamp()})
        self.store.put("endpoint", doc, {"version": 1})
        self.store.add_release(doc["id"], 1, ids.release_id(), doc["createdAt"], docs.release_diff(None, doc))

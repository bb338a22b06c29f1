"""The GraphQL adapter, only for what REST v2 lacks: cached models (`modelReferences`).

RunPod retires GraphQL in early 2027. `saveEndpoint` replaces the whole endpoint (omitted
fields are reset to server defaults), so a change is read everything, change one field, write
everything, read back.
"""

from __future__ import annotations

from typing import Any

from gpuctl.provider.errors import ProviderError, Rejected, ServerError
from gpuctl.provider.http import DETAIL_SHOWN, ApiClient
from gpuctl.safetext import one_line

_TRANSIENT = ("try again later", "internal server error", "service unavailable", "too many requests", "temporarily unavailable")
_ENDPOINT_FIELDS = (
    "id name gpuIds gpuCount idleTimeout locations networkVolumeId scalerType scalerValue templateId "
    "workersMin workersMax executionTimeoutMs flashBootType allowedCudaVersions minCudaVersion type modelReferences"
)
_SAVE_KEYS = (
    "id", "name", "gpuIds", "gpuCount", "idleTimeout", "locations", "networkVolumeId", "scalerType", "scalerValue",
    "templateId", "workersMin", "workersMax", "executionTimeoutMs", "flashBootType", "allowedCudaVersions", "minCudaVersion", "type",
)


class GraphQL:
    def __init__(self, client: ApiClient, path: str = "/graphql"):
        self.client, self.path = client, path

    def query(self, document: str, variables: dict | None = None, *, write: bool = False, changes: bool = False) -> dict:
        """GraphQL reads and idempotent mutations travel as POST but are safe to repeat; a
        mutation says `changes`, so its failure never claims it changed nothing."""
        response = self.client.request("POST", self.path, json={"query": document, "variables": variables or {}}, write=write,
                                       changes=write or changes)
        body = response.json()
        errors = body.get("errors") if isinstance(body, dict) else None
        if errors:
            first = errors[0] if isinstance(errors, list) else errors
            message = one_line(first.get("message", first) if isinstance(first, dict) else first, DETAIL_SHOWN)
            kind = ServerError if any(t in message.lower() for t in _TRANSIENT) and not write else Rejected
            raise kind(f"GraphQL: {message}", detail=f"{self.client.provider.name}'s GraphQL API answered with an error", provider=self.client.provider)
        return body.get("data") or {}

    def model_references(self) -> dict[str, list[str]]:
        """Cached models of every endpoint, by endpoint id (one request)."""
        data = self.query("query GpuctlModelReferences { myself { endpoints { id modelReferences } } }")
        return {e["id"]: list(e.get("modelReferences") or []) for e in (data.get("myself") or {}).get("endpoints") or []}

    def template_users(self) -> dict[str, list[dict]]:
        data = self.query("query GpuctlTemplateUsers { myself { endpoints { id name templateId } } }")
        users: dict[str, list[dict]] = {}
        for e in (data.get("myself") or {}).get("endpoints") or []:
            if e.get("templateId"):
                users.setdefault(e["templateId"], []).append({"id": e["id"], "name": e.get("name")})
        return users

    def _endpoint(self, endpoint_id: str) -> dict[str, Any]:
        data = self.query(f"query GpuctlEndpoints {{ myself {{ endpoints {{ {_ENDPOINT_FIELDS} }} }} }}")
        for e in (data.get("myself") or {}).get("endpoints") or []:
            if e.get("id") == endpoint_id:
                return e
        raise ProviderError(f"GraphQL does not list endpoint {endpoint_id}", hint="it may still be propagating; run deploy again", provider=self.client.provider)

    def set_model_references(self, endpoint_id: str, references: list[str]) -> list[str]:
        current = self._endpoint(endpoint_id)
        full = {k: current.get(k) for k in _SAVE_KEYS if current.get(k) is not None}
        full["modelReferences"] = references
        mutation = "mutation GpuctlSaveEndpoint($input: EndpointInput!) { saveEndpoint(input: $input) { id modelReferences } }"
        self.query(mutation, {"input": full}, write=False, changes=True)  # a full replace of one id: safe to repeat
        return list(self._endpoint(endpoint_id).get("modelReferences") or [])

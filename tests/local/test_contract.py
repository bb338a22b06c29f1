"""Every REST v2 route the local provider serves answers what RunPod's OpenAPI document
allows (the `http` client validates each response), RunPod's own request examples are
accepted, and errors come in RunPod's problem shape."""

from __future__ import annotations

import re
from datetime import datetime

import httpx
import jsonschema
import pytest

from tests.local.conftest import LocalServer
from tests.local.openapi import SPEC, operation, request_examples

SERVED = {
    ("GET", "/v2/serverless"), ("POST", "/v2/serverless"), ("GET", "/v2/serverless/{id}"), ("PATCH", "/v2/serverless/{id}"),
    ("DELETE", "/v2/serverless/{id}"), ("GET", "/v2/serverless/{id}/workers"), ("GET", "/v2/serverless/{id}/releases"),
    ("GET", "/v2/serverless/{id}/workers/{workerId}/logs"),
    ("GET", "/v2/templates"), ("POST", "/v2/templates"), ("GET", "/v2/templates/{id}"), ("PATCH", "/v2/templates/{id}"),
    ("DELETE", "/v2/templates/{id}"),
    ("GET", "/v2/network-volumes"), ("POST", "/v2/network-volumes"), ("GET", "/v2/network-volumes/{id}"),
    ("PATCH", "/v2/network-volumes/{id}"), ("DELETE", "/v2/network-volumes/{id}"),
    ("GET", "/v2/pods"), ("POST", "/v2/pods"), ("GET", "/v2/pods/{id}"), ("DELETE", "/v2/pods/{id}"), ("GET", "/v2/pods/{id}/logs"),
    ("GET", "/v2/catalog/gpus"), ("GET", "/v2/catalog/gpus/{id}"), ("GET", "/v2/catalog/datacenters"),
    ("GET", "/v2/catalog/datacenters/{id}"),
}


def test_every_served_route_answers_per_runpods_openapi(fresh_server: LocalServer) -> None:
    s = fresh_server.http
    s.get("/v2/catalog/gpus")
    s.get("/v2/catalog/gpus", params={"include": "AVAILABILITY", "product": "SERVERLESS"})
    s.get("/v2/catalog/gpus/NVIDIA GeForce RTX 4090")
    s.get("/v2/catalog/datacenters", params={"include": "GPU_AVAILABILITY,CPU_AVAILABILITY", "regions": "EUROPE"})
    s.get("/v2/catalog/datacenters/EU-RO-1")
    volume = s.post("/v2/network-volumes", json={"name": "c-vol", "size": 10, "dataCenter": "EU-RO-1"}).json()
    s.get("/v2/network-volumes"), s.get(f"/v2/network-volumes/{volume['id']}")
    s.patch(f"/v2/network-volumes/{volume['id']}", json={"size": 20})
    template = s.post("/v2/templates", json={"name": "c-tpl", "image": "img", "serverless": True, "env": {"A": "1"}}).json()
    s.get("/v2/templates"), s.get(f"/v2/templates/{template['id']}")
    s.patch(f"/v2/templates/{template['id']}", json={"name": "c-tpl-2"})
    endpoint = s.post("/v2/serverless", json={"name": "c-ep", "type": "QUEUE", "templateId": template["id"], "gpu": {"pools": ["ADA_24"]},
                                              "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "networkVolumes": [volume["id"]]}).json()
    assert endpoint["image"] == "img" and endpoint["env"] == {"A": "1"}
    s.get("/v2/serverless"), s.get(f"/v2/serverless/{endpoint['id']}")
    s.patch(f"/v2/serverless/{endpoint['id']}", json={"image": "img:2"})
    s.get(f"/v2/serverless/{endpoint['id']}/workers"), s.get(f"/v2/serverless/{endpoint['id']}/releases")
    s.get(f"/v2/serverless/{endpoint['id']}/workers/nosuch/logs")
    pod = s.post("/v2/pods", json={"name": "c-pod", "image": "python:3.11-slim", "cpu": {"id": "cpu3c", "vcpuCount": 2},
                                   "mounts": {"network": [{"volumeId": volume["id"], "path": "/workspace"}]}}).json()
    assert pod["status"] == "EXITED" and pod["dataCenterId"] == "EU-RO-1"
    s.get("/v2/pods"), s.get(f"/v2/pods/{pod['id']}"), s.get(f"/v2/pods/{pod['id']}/logs"), s.delete(f"/v2/pods/{pod['id']}")
    s.delete(f"/v2/serverless/{endpoint['id']}"), s.delete(f"/v2/templates/{template['id']}"), s.delete(f"/v2/network-volumes/{volume['id']}")
    for path in ("/v2/serverless/nope", "/v2/templates/nope", "/v2/network-volumes/nope", "/v2/pods/nope", "/v2/catalog/gpus/nope"):
        assert s.get(path).status_code == 404

    hit = {(r["method"], operation(r["method"], r["path"])[0]) for r in fresh_server.admin("GET", "requests")["requests"]}
    assert SERVED <= hit, f"routes not exercised: {SERVED - hit}"


@pytest.mark.parametrize("template, method", [("/v2/serverless", "post"), ("/v2/templates", "post"), ("/v2/network-volumes", "post"), ("/v2/pods", "post")])
def test_runpods_own_request_examples_are_accepted(server: LocalServer, template: str, method: str) -> None:
    for name, example in request_examples(template, method).items():
        if "name" in example:
            example = {**example, "name": f"{example['name']}-{name}"}
        response = server.http.request(method.upper(), template, json=example)
        assert response.status_code == 201, f"{name}: {response.text}"


@pytest.mark.parametrize("path, body", [
    ("/v2/serverless", {"name": "x", "type": "QUEUE", "image": "i", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "bogus": 1}),
    ("/v2/serverless", {"name": "x", "type": "QUEUE", "image": "i", "gpu": {"pools": ["ADA_24"], "typo": 1}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}),
    ("/v2/serverless", {"name": "x", "type": "QUEUE", "image": "i", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 0.1}}),
    ("/v2/serverless", {"name": "x", "type": "QUEUE", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}),
    ("/v2/serverless", {"name": "x", "type": "LOAD_BALANCER", "image": "i", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}),
    ("/v2/templates", {"name": "t", "image": "i", "mounts": {"network": []}}),
    ("/v2/network-volumes", {"name": "v", "size": 5, "dataCenter": "EU-RO-1"}),
    ("/v2/network-volumes", {"name": "v", "size": 10}),
])
def test_invalid_bodies_are_422_problems(server: LocalServer, path: str, body: dict) -> None:
    response = server.http.post(path, json=body)
    assert response.status_code == 422 and response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["title"] == "Unprocessable Entity" and problem["status"] == 422 and problem["errors"]
    assert all(e.startswith("$") for e in problem["errors"])


def test_unknown_field_names_its_path(server: LocalServer) -> None:
    body = {"name": "x", "type": "QUEUE", "image": "i", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4},
            "workers": {"min": 0, "maxx": 2}}
    assert server.http.post("/v2/serverless", json=body).json()["errors"] == ["$.workers: additional properties 'maxx' not allowed"]


@pytest.mark.parametrize("body, fragment", [
    ({"gpu": {"pools": ["ADA_24"]}, "cpu": [{"id": "cpu3c", "vcpuCount": 2}]}, "exactly one of gpu or cpu"),
    ({}, "exactly one of gpu or cpu"),
    ({"gpu": {"pools": ["NOPE_99"]}}, "not a serverless GPU pool"),
    ({"gpu": {"pools": ["ADA_24"], "excludedTypes": ["NVIDIA L40"]}}, "not a GPU type in the selected pools"),
    ({"gpu": {"pools": ["ADA_24"], "excludedTypes": ["NVIDIA GeForce RTX 4090"]}}, "leaves no GPU type"),
    ({"gpu": {"pools": ["ADA_24"], "allowedCudaVersions": ["12.8"], "minCudaVersion": "12.1"}}, "mutually exclusive"),
    ({"cpu": [{"id": "cpu3c", "vcpuCount": 6}]}, "power of two"),
    ({"gpu": {"pools": ["ADA_24"]}, "workers": {"min": 4, "max": 2}}, "exceeds workers.max"),
    ({"gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "REQUEST_COUNT", "requestCount": 2}, "workers": {"idleTimeout": 5}}, "idleTimeout does not apply"),
    ({"gpu": {"pools": ["ADA_24"]}, "networkVolumes": ["nosuchvol0"]}, "not found"),
    ({"gpu": {"pools": ["ADA_24"]}, "dataCenterIds": ["MARS-1"]}, "not known"),
])
def test_rule_violations_are_400_problems(server: LocalServer, body: dict, fragment: str) -> None:
    full = {"name": "rules", "type": "QUEUE", "image": "i", "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}} | body
    response = server.http.post("/v2/serverless", json=full)
    assert response.status_code == 400 and fragment in response.json()["detail"]


def test_auth_method_and_path_errors_are_problems(server: LocalServer) -> None:
    missing = httpx.get(server.url + "/v2/serverless")
    assert missing.status_code == 401 and missing.json() == {"title": "Unauthorized", "status": 401, "detail": "missing bearer token"}
    wrong = httpx.get(server.url + "/v2/serverless", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401 and wrong.json()["detail"] == "invalid bearer token"
    raw = httpx.get(server.url + "/v2/serverless", headers={"Authorization": server.token})
    assert raw.status_code == 401  # the control plane wants Bearer
    not_allowed = server.http.put("/v2/serverless/abc")
    assert not_allowed.status_code == 405 and set(re.split(r",\s*", not_allowed.headers["Allow"])) >= {"GET", "PATCH", "DELETE"}
    for response in (missing, wrong, not_allowed):
        assert re.match(r'"minute";r=\d+;t=\d+, "hour";r=\d+;t=\d+, "day";r=\d+;t=\d+$', response.headers["RateLimit"])


def test_openapi_helper_knows_the_documented_operations() -> None:
    assert operation("GET", "/v2/serverless/abc/workers")[0] == "/v2/serverless/{id}/workers"
    assert operation("GET", "/v2/catalog/gpus")[0] == "/v2/catalog/gpus"
    with pytest.raises(AssertionError):
        operation("GET", "/v2/nowhere")
    assert "Endpoint" in SPEC["components"]["schemas"]


# -- releases: exactly what the v2 document says (ListEndpointReleasesResponse, Release, ReleaseDiffEntry) --

RELEASE_NAMES = {"template.imageName", "template.dockerArgs", "template.containerDiskInGb", "template.ports", "template.env",
                 "template.containerRegistryAuthId", "gpuCount", "locations"}


def _releases_checked(server: LocalServer, endpoint_id: str) -> dict:
    """The releases response (the `http` client has validated it against the schema) checked for
    what the document says beside the shapes: `createdAt` an RFC 3339 date-time in UTC, newest
    first, one release per version up to endpointVersion, workerCount per version adding up to
    the rollout's workers."""
    doc = server.http.get(f"/v2/serverless/{endpoint_id}/releases").json()
    schema = {"$ref": "#/components/schemas/ListEndpointReleasesResponse", "components": SPEC["components"]}
    jsonschema.validate(doc, schema)  # also here, so this check stands without the client's hook
    for release in doc["releases"]:  # jsonschema checks `format: date-time` only with an extra package
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z", release["createdAt"]), release["createdAt"]
        datetime.fromisoformat(release["createdAt"].replace("Z", "+00:00"))
    versions = [r["version"] for r in doc["releases"]]
    assert versions == list(range(doc["endpointVersion"], 0, -1))
    assert [r["createdAt"] for r in doc["releases"]] == sorted((r["createdAt"] for r in doc["releases"]), reverse=True)
    assert len({r["id"] for r in doc["releases"]}) == len(versions)
    rollout, counts = doc["rollout"], {r["version"]: r["workerCount"] for r in doc["releases"]}
    assert sum(counts.values()) == rollout["workersTotal"] and counts[doc["endpointVersion"]] == rollout["workersOnLatest"]
    assert rollout["inProgress"] == (rollout["workersOnLatest"] < rollout["workersTotal"])
    assert rollout["percentOnLatest"] == (100 * rollout["workersOnLatest"] // rollout["workersTotal"] if rollout["workersTotal"] else 0)
    for release in doc["releases"]:
        assert release["source"] == "MANUAL" and release["buildId"] is None  # no GitHub builds locally
        assert {e["field"] for e in release["diff"]} <= RELEASE_NAMES
        assert all(e["old"] != e["new"] for e in release["diff"])
    return doc


def test_releases_follow_the_v2_document(fresh_server: LocalServer) -> None:
    s = fresh_server
    endpoint = s.create_endpoint("c-rel", workers={"min": 0, "max": 2, "idleTimeout": 3600})  # no worker leaves on its own
    eid = endpoint["id"]
    first = _releases_checked(s, eid)["releases"]
    assert len(first) == 1 and {e["field"] for e in first[0]["diff"]} >= {"template.imageName", "template.env", "gpuCount", "locations"}
    assert all(e["old"] is None for e in first[0]["diff"])  # a create adds every field

    # workers.max ends at 1: the one job below runs on exactly one worker, however long it waits
    # in the queue (with a max of 2 a wait past queueDelay starts a second worker on version 1)
    not_releases = ({"workers": {"max": 1}}, {"scaling": {"type": "QUEUE_DELAY", "queueDelay": 2}}, {"timeout": 60000}, {"flashboot": "FLASHBOOT"})
    for body in not_releases:  # "applied to the autoscaler promptly": no new version
        assert s.http.patch(f"/v2/serverless/{eid}", json=body).status_code == 200
    assert _releases_checked(s, eid)["endpointVersion"] == 1

    assert s.job(eid, "runsync", {"input": {}}).json()["status"] == "COMPLETED"  # a worker runs version 1
    on_one = _releases_checked(s, eid)
    assert on_one["releases"][0]["workerCount"] == 1 and on_one["rollout"]["percentOnLatest"] == 100

    changes = [({"image": "local/worker:v2"}, "template.imageName", "local/worker:dev", "local/worker:v2"),
               ({"args": "--fast"}, "template.dockerArgs", "", "--fast"),
               ({"disk": 20}, "template.containerDiskInGb", 50, 20),
               ({"ports": ["8000/http"]}, "template.ports", [], ["8000/http"]),
               ({"gpu": {"count": 2}}, "gpuCount", 1, 2),
               ({"dataCenterIds": ["EU-RO-1"]}, "locations", [], ["EU-RO-1"])]
    for body, field, old, new in changes:
        assert s.http.patch(f"/v2/serverless/{eid}", json=body).status_code == 200
        newest = _releases_checked(s, eid)["releases"][0]
        assert newest["diff"] == [{"field": field, "old": old, "new": new}], body
    env = {**endpoint["env"], "ADDED": "1"}
    s.http.patch(f"/v2/serverless/{eid}", json={"env": env})
    doc = _releases_checked(s, eid)
    assert doc["endpointVersion"] == 1 + len(changes) + 1
    assert doc["releases"][0]["diff"] == [{"field": "template.env", "old": endpoint["env"], "new": env}]
    assert s.http.patch(f"/v2/serverless/{eid}", json={"env": env}).status_code == 200  # the same values: no release
    assert _releases_checked(s, eid)["endpointVersion"] == doc["endpointVersion"]

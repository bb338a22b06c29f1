"""The GraphQL subset, driven by the runpod SDK's own create_template / create_endpoint /
get_endpoints / get_gpus (which send inline literals), and by variable-style documents as
runpodctl and flash send them."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator

import pytest
import runpod
from runpod import error as runpod_error

from tests.local.conftest import WORKERS, LocalServer

SAVE = "mutation Save($input: EndpointInput!) { saveEndpoint(input: $input) { id name gpuIds workersMax idleTimeout scalerValue templateId modelReferences allowedCudaVersions version } }"


@pytest.fixture(scope="module")
def sdk(server: LocalServer) -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("RUNPOD_API_BASE_URL", server.info["api_base_url"])
        patch.setattr(runpod, "api_key", server.token)
        patch.setattr(runpod, "endpoint_url_base", server.info["endpoint_base_url"])
        yield


def gql(server: LocalServer, query: str, variables: dict | None = None) -> dict:
    response = server.http.post("/graphql", json={"query": query, "variables": variables or {}})
    assert response.status_code == 200, response.text
    return response.json()


def test_sdk_creates_template_and_endpoint_and_runs_a_job(server: LocalServer, sdk: None) -> None:
    template = runpod.create_template("gql-echo", "local/echo:1", env={"STAGE": "test"}, is_serverless=True)
    assert template["imageName"] == "local/echo:1" and template["isServerless"] is True
    assert template["env"] == [{"key": "STAGE", "value": "test"}]
    endpoint = runpod.create_endpoint("gql-echo-ep", template["id"], gpu_ids="ADA_24,AMPERE_48,-NVIDIA L40", workers_max=2, flashboot=True)
    assert endpoint["gpuIds"] == "ADA_24,AMPERE_48,-NVIDIA L40" and endpoint["workersMax"] == 2
    assert endpoint["flashBootType"] == "FLASHBOOT" and endpoint["templateId"] == template["id"]
    listed = {e["id"]: e for e in runpod.get_endpoints()}
    assert listed[endpoint["id"]]["env"] == template["env"] and listed[endpoint["id"]]["type"] == "QB"
    v2 = server.http.get(f"/v2/serverless/{endpoint['id']}").json()
    assert v2["image"] == "local/echo:1" and v2["gpu"]["pools"] == ["ADA_24", "AMPERE_48"]
    assert v2["gpu"]["excludedTypes"] == ["NVIDIA L40"] and v2["flashboot"] == "FLASHBOOT"

    # The SDK writes env values into the document unescaped, so a JSON argv cannot pass through
    # create_template; a variables-style saveTemplate (as runpodctl sends) sets it, and the
    # endpoint follows its template to a new release.
    command = json.dumps([sys.executable, "echo_worker.py"])
    env = [{"key": "STAGE", "value": "test"}, {"key": "GPUCTL_LOCAL_COMMAND", "value": command}, {"key": "GPUCTL_LOCAL_CWD", "value": str(WORKERS)}]
    saved = gql(server, "mutation T($input: SaveTemplateInput!) { saveTemplate(input: $input) { id env { key value } } }",
                {"input": {"id": template["id"], "name": "gql-echo", "imageName": "local/echo:1", "containerDiskInGb": 10,
                           "volumeInGb": 0, "dockerArgs": "", "env": env, "isServerless": True}})
    assert saved["data"]["saveTemplate"]["env"] == env
    assert runpod.Endpoint(endpoint["id"]).run_sync({"via": "graphql"}, timeout=60)["echo"] == {"via": "graphql"}
    assert {e["id"]: e for e in runpod.get_endpoints()}[endpoint["id"]]["version"] == 2


def test_sdk_errors_come_back_as_query_errors(server: LocalServer, sdk: None) -> None:
    with pytest.raises(runpod_error.QueryError, match="not found"):
        runpod.create_endpoint("gql-missing", "nosuchtemplate")
    runpod.create_template("gql-dupe", "img")
    with pytest.raises(runpod_error.QueryError, match="already exists"):
        runpod.create_template("gql-dupe", "img")
    with pytest.raises(runpod_error.QueryError, match="pool"):
        template = runpod.create_template("gql-pool", "img", is_serverless=True)
        runpod.create_endpoint("gql-bad-gpu", template["id"], gpu_ids="NVIDIA GeForce RTX 4090")


def test_sdk_get_gpus(server: LocalServer, sdk: None) -> None:
    gpus = runpod.get_gpus()
    assert {"id": "NVIDIA GeForce RTX 4090", "displayName": "RTX 4090", "memoryInGb": 24} in gpus
    assert runpod.get_gpu("NVIDIA A40")["lowestPrice"]["minimumBidPrice"] is None


def test_save_endpoint_is_a_full_replace(server: LocalServer) -> None:
    template = gql(server, 'mutation { saveTemplate(input: {name: "gql-replace", imageName: "img", containerDiskInGb: 10, volumeInGb: 0, dockerArgs: "", env: [], isServerless: true}) { id } }')
    template_id = template["data"]["saveTemplate"]["id"]
    created = gql(server, SAVE, {"input": {"name": "gql-replace-ep", "templateId": template_id, "gpuIds": "ADA_24", "workersMax": 7,
                                           "idleTimeout": 42, "scalerValue": 9, "allowedCudaVersions": "12.8,12.7",
                                           "modelReferences": ["https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct:main"]}})
    endpoint = created["data"]["saveEndpoint"]
    assert (endpoint["workersMax"], endpoint["idleTimeout"], endpoint["scalerValue"]) == (7, 42, 9)
    replaced = gql(server, SAVE, {"input": {"id": endpoint["id"], "name": "gql-replace-ep", "gpuIds": "AMPERE_48"}})["data"]["saveEndpoint"]
    assert (replaced["workersMax"], replaced["idleTimeout"], replaced["scalerValue"]) == (3, 10, 4)  # reset, as measured on RunPod
    assert replaced["templateId"] == template_id and replaced["allowedCudaVersions"] == "12.8,12.7"  # held
    assert replaced["modelReferences"] == ["https://huggingface.co/Qwen/Qwen2.5-0.5B-Instruct:main"]
    cleared = gql(server, SAVE, {"input": {"id": endpoint["id"], "name": "gql-replace-ep", "modelReferences": []}})["data"]["saveEndpoint"]
    assert cleared["modelReferences"] == [] and cleared["gpuIds"] == "AMPERE_48"
    v2 = server.http.get(f"/v2/serverless/{endpoint['id']}").json()
    assert v2["workers"] == {"min": 0, "max": 3, "idleTimeout": 10} and v2["gpu"]["allowedCudaVersions"] == ["12.8", "12.7"]


def test_delete_endpoint_needs_zero_workers_first(server: LocalServer) -> None:
    template = gql(server, 'mutation { saveTemplate(input: {name: "gql-del", imageName: "img", containerDiskInGb: 10, volumeInGb: 0, dockerArgs: "", env: [], isServerless: true}) { id } }')
    save = {"name": "gql-del-ep", "templateId": template["data"]["saveTemplate"]["id"], "gpuIds": "ADA_24"}
    endpoint_id = gql(server, SAVE, {"input": save})["data"]["saveEndpoint"]["id"]
    refused = gql(server, f'mutation {{ deleteEndpoint(id: "{endpoint_id}") }}')
    assert refused["data"] == {"deleteEndpoint": None} and "must both be zero" in refused["errors"][0]["message"]
    gql(server, SAVE, {"input": {**save, "id": endpoint_id, "workersMin": 0, "workersMax": 0}})
    assert gql(server, f'mutation {{ deleteEndpoint(id: "{endpoint_id}") }}') == {"data": {"deleteEndpoint": None}}
    assert server.http.get(f"/v2/serverless/{endpoint_id}").status_code == 404
    assert gql(server, 'mutation { deleteTemplate(templateName: "gql-del") }') == {"data": {"deleteTemplate": None}}


def test_network_volumes_and_queries(server: LocalServer) -> None:
    created = gql(server, 'mutation { createNetworkVolume(input: {name: "gql-vol", size: 20, dataCenterId: "EU-RO-1"}) { id name size dataCenterId } }')
    volume = created["data"]["createNetworkVolume"]
    assert volume["size"] == 20 and volume["dataCenterId"] == "EU-RO-1"
    shrink = gql(server, f'mutation {{ updateNetworkVolume(input: {{id: "{volume["id"]}", size: 10}}) {{ size }} }}')
    assert "only grow" in shrink["errors"][0]["message"]
    listed = gql(server, "query { myself { networkVolumes { id size } podTemplates { id name } } serverlessGpuPools { id gpuTypeIds } }")["data"]
    assert {"id": volume["id"], "size": 20} in listed["myself"]["networkVolumes"]
    assert any(p["id"] == "ADA_24" and "NVIDIA GeForce RTX 4090" in p["gpuTypeIds"] for p in listed["serverlessGpuPools"])
    assert gql(server, f'mutation {{ deleteNetworkVolume(input: {{id: "{volume["id"]}"}}) }}') == {"data": {"deleteNetworkVolume": None}}


def test_rest_and_graphql_share_one_set_of_volume_size_rules(server: LocalServer) -> None:
    """A volume too big, or made smaller, is refused in the same words by REST v2 and GraphQL:
    one rule, with its bounds from RunPod's OpenAPI document."""
    rest = server.http.post("/v2/network-volumes", json={"name": "size-rules", "size": 20, "dataCenter": "EU-RO-1"}).json()
    shrink_rest = server.http.patch(f"/v2/network-volumes/{rest['id']}", json={"size": 15})
    shrink_gql = gql(server, f'mutation {{ updateNetworkVolume(input: {{id: "{rest["id"]}", size: 15}}) {{ size }} }}')
    assert shrink_rest.status_code == 400 and shrink_gql["errors"][0]["message"] == shrink_rest.json()["detail"]
    assert shrink_rest.json()["detail"] == "network volume size may only grow: 15 GB is less than the current 20 GB"
    too_big = gql(server, 'mutation { createNetworkVolume(input: {name: "g", size: 4097, dataCenterId: "EU-RO-1"}) { id } }')
    grow_too_far = gql(server, f'mutation {{ updateNetworkVolume(input: {{id: "{rest["id"]}", size: 5000}}) {{ size }} }}')
    for answer, size in ((too_big, 4097), (grow_too_far, 5000)):
        assert answer["errors"][0]["message"] == f"network volume size must be from 10 to 4096 GB, not {size} GB"
    assert server.http.post("/v2/network-volumes", json={"name": "g", "size": 4097, "dataCenter": "EU-RO-1"}).status_code == 422
    assert server.http.get(f"/v2/network-volumes/{rest['id']}").json()["size"] == 20


@pytest.mark.parametrize("query, fragment", [
    ("query { myself { endpoints { id nosuchfield } } }", 'Cannot query field "nosuchfield"'),
    ('mutation { saveEndpoint(input: {name: "x", bogus: 1}) { id } }', 'Field "bogus" is not defined by type "EndpointInput"'),
    ('mutation { saveEndpoint(input: {name: "x", networkVolumeIds: [{networkVolumeId: "a", dataCenterId: "b"}]}) { id } }', '"dataCenterId" is not defined'),
    ("query { myself { endpoints { id } }", "Syntax Error"),
    ("mutation Save($input: EndpointInput!) { saveEndpoint(input: $input) { id } }", 'Variable "$input"'),
    ("query { myself }", "must have a selection of subfields"),
])
def test_invalid_documents_are_http_400(server: LocalServer, query: str, fragment: str) -> None:
    response = server.http.post("/graphql", json={"query": query})
    assert response.status_code == 400
    assert fragment in response.json()["errors"][0]["message"]


def test_graphql_needs_the_token(server: LocalServer) -> None:
    import httpx

    assert httpx.post(server.url + "/graphql", json={"query": "query { myself { id } }"}).status_code == 401
    with_query_key = httpx.post(server.url + "/graphql", params={"api_key": server.token}, json={"query": "query { myself { id } }"})
    assert with_query_key.json() == {"data": {"myself": {"id": "user_local"}}}

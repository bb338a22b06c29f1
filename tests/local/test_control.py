"""REST v2 control-plane semantics beyond shapes: sparse PATCH, releases, template snapshots
and their deletion rules, volume growth, the catalog, and the pods a CPU warm-up needs."""

from __future__ import annotations

import json
import re
import sys

from tests.local.conftest import WORKERS, LocalServer, wait_for

BASE = {"type": "QUEUE", "image": "img:1", "gpu": {"pools": ["AMPERE_48"], "excludedTypes": ["NVIDIA A40"]},
        "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "env": {"A": "1"}}


def create(server: LocalServer, name: str, **fields) -> dict:
    response = server.http.post("/v2/serverless", json={"name": name, **BASE, **fields})
    assert response.status_code == 201, response.text
    return response.json()


def test_ids_and_defaults_follow_runpod(server: LocalServer) -> None:
    endpoint = create(server, "ctl-defaults")
    assert re.fullmatch(r"[a-z0-9]{14}", endpoint["id"])
    assert endpoint["workers"] == {"min": 0, "max": 3, "idleTimeout": 10}
    assert (endpoint["timeout"], endpoint["flashboot"], endpoint["dataCenterIds"], endpoint["networkVolumes"]) == (300000, "OFF", [], [])
    assert endpoint["gpu"] == {"pools": ["AMPERE_48"], "excludedTypes": ["NVIDIA A40"], "count": 1, "allowedCudaVersions": [], "minCudaVersion": None}
    assert endpoint["requestUrls"]["runSync"] == f"{server.info['endpoint_base_url']}/{endpoint['id']}/runsync"
    volume = server.http.post("/v2/network-volumes", json={"name": "ctl-ids", "size": 10, "dataCenter": "EU-RO-1"}).json()
    template = server.http.post("/v2/templates", json={"name": "ctl-ids", "image": "img"}).json()
    assert re.fullmatch(r"[a-z0-9]{10}", volume["id"]) and re.fullmatch(r"[a-z0-9]{10}", template["id"])


def test_patch_is_sparse(server: LocalServer) -> None:
    endpoint = create(server, "ctl-sparse", workers={"min": 0, "max": 2, "idleTimeout": 7})
    patched = server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"workers": {"max": 5}}).json()
    assert patched["workers"] == {"min": 0, "max": 5, "idleTimeout": 7}
    assert {k: patched[k] for k in ("name", "image", "env", "gpu")} == {k: endpoint[k] for k in ("name", "image", "env", "gpu")}
    repooled = server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"gpu": {"pools": ["ADA_24"]}}).json()
    assert repooled["gpu"]["pools"] == ["ADA_24"] and "excludedTypes" not in repooled["gpu"]  # pools without exclusions clears them
    cuda = server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"gpu": {"minCudaVersion": "12.4"}}).json()
    assert cuda["gpu"]["minCudaVersion"] == "12.4" and cuda["gpu"]["pools"] == ["ADA_24"]
    assert server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"gpu": {"excludedTypes": ["NVIDIA L4"]}}).status_code == 422
    assert server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"cpu": [{"id": "cpu3c", "vcpuCount": 2}]}).status_code == 400
    assert server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"type": "LOAD_BALANCER"}).status_code == 422


def test_container_changes_make_releases_with_diffs(server: LocalServer) -> None:
    endpoint = create(server, "ctl-release")
    server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"workers": {"max": 4}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 2}})
    server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"image": "img:2", "env": {"A": "2"}})
    releases = server.http.get(f"/v2/serverless/{endpoint['id']}/releases").json()
    assert releases["endpointVersion"] == 2 and [r["version"] for r in releases["releases"]] == [2, 1]
    assert releases["releases"][0]["diff"] == [{"field": "template.imageName", "old": "img:1", "new": "img:2"},
                                               {"field": "template.env", "old": {"A": "1"}, "new": {"A": "2"}}]
    assert releases["rollout"] == {"inProgress": False, "workersOnLatest": 0, "workersTotal": 0, "percentOnLatest": 0}


def test_templates_are_snapshots_and_patch_templateid_applies_once(server: LocalServer) -> None:
    template = server.http.post("/v2/templates", json={"name": "ctl-snap", "image": "tpl:1", "serverless": True, "env": {"T": "1", "A": "t"},
                                                       "allowedCudaVersions": ["12.8"]}).json()
    body = {"name": "ctl-snap-ep", **{k: v for k, v in BASE.items() if k != "image"}, "templateId": template["id"]}
    endpoint = server.http.post("/v2/serverless", json=body).json()
    assert endpoint["image"] == "tpl:1" and endpoint["env"] == {"T": "1", "A": "1"}  # body env wins per key
    assert endpoint["gpu"]["allowedCudaVersions"] == ["12.8"]  # seeded from the template
    server.http.patch(f"/v2/templates/{template['id']}", json={"image": "tpl:2"})
    assert server.http.get(f"/v2/serverless/{endpoint['id']}").json()["image"] == "tpl:1"  # not retroactive
    reapplied = server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"templateId": template["id"], "env": {"B": "2"}}).json()
    assert reapplied["image"] == "tpl:2" and reapplied["env"] == {"T": "1", "A": "t", "B": "2"}
    pod_template = server.http.post("/v2/templates", json={"name": "ctl-pod-tpl", "image": "img"}).json()
    refused = server.http.post("/v2/serverless", json={**body, "name": "x", "templateId": pod_template["id"]})
    assert refused.status_code == 422
    assert server.http.post("/v2/serverless", json={**body, "name": "x", "templateId": "nosuchtpl0"}).status_code == 404


def test_template_names_are_unique_and_used_templates_cannot_be_deleted(server: LocalServer) -> None:
    template = server.http.post("/v2/templates", json={"name": "ctl-unique", "image": "img", "serverless": True}).json()
    assert server.http.post("/v2/templates", json={"name": "ctl-unique", "image": "img"}).status_code == 400
    query = "mutation S($input: EndpointInput!) { saveEndpoint(input: $input) { id } }"
    saved = server.http.post("/graphql", json={"query": query, "variables": {"input": {"name": "ctl-user", "templateId": template["id"], "gpuIds": "ADA_24"}}})
    endpoint_id = saved.json()["data"]["saveEndpoint"]["id"]
    refused = server.http.delete(f"/v2/templates/{template['id']}")
    assert refused.status_code == 400 and endpoint_id in refused.json()["detail"]
    assert server.http.delete(f"/v2/serverless/{endpoint_id}").status_code == 204
    assert server.http.delete(f"/v2/templates/{template['id']}").status_code == 204


def test_v2_delete_also_deletes_the_bound_template(server: LocalServer) -> None:
    query = 'mutation { saveEndpoint(input: {name: "ctl-bound", gpuIds: "ADA_24", template: {imageName: "img:b", containerDiskInGb: 5, env: [{key: "K", value: "v"}]}}) { id templateId template { name boundEndpointId } } }'
    saved = server.http.post("/graphql", json={"query": query}).json()["data"]["saveEndpoint"]
    assert saved["template"]["name"].startswith("ctl-bound__template__") and saved["template"]["boundEndpointId"] == saved["id"]
    assert server.http.get(f"/v2/serverless/{saved['id']}").json()["env"] == {"K": "v"}
    assert saved["templateId"] not in [t["id"] for t in server.http.get("/v2/templates").json()["templates"]]
    assert server.http.delete(f"/v2/templates/{saved['templateId']}").status_code == 400  # bound
    assert server.http.delete(f"/v2/serverless/{saved['id']}").status_code == 204
    assert server.http.get(f"/v2/templates/{saved['templateId']}").status_code == 404


def test_volumes_grow_only_and_keep_their_data_center(server: LocalServer) -> None:
    volume = server.http.post("/v2/network-volumes", json={"name": "ctl-grow", "size": 50, "dataCenter": "US-KS-2"}).json()
    assert volume["type"] == "STANDARD" and (server.data_dir / "volumes" / volume["id"]).is_dir()
    assert server.http.patch(f"/v2/network-volumes/{volume['id']}", json={"size": 40}).status_code == 400
    assert server.http.patch(f"/v2/network-volumes/{volume['id']}", json={"dataCenter": "EU-RO-1"}).status_code == 422
    assert server.http.patch(f"/v2/network-volumes/{volume['id']}", json={}).status_code == 422
    assert server.http.patch(f"/v2/network-volumes/{volume['id']}", json={"size": 60, "name": "ctl-grown"}).json()["size"] == 60
    assert server.http.post("/v2/network-volumes", json={"name": "x", "size": 10, "dataCenter": "MARS-1"}).status_code == 400
    other = server.http.post("/v2/network-volumes", json={"name": "ctl-ro", "size": 10, "dataCenter": "EU-RO-1"}).json()
    misplaced = server.http.post("/v2/serverless", json={"name": "ctl-misplaced", **BASE, "dataCenterIds": ["US-KS-2"], "networkVolumes": [other["id"]]})
    assert misplaced.status_code == 400 and "outside dataCenterIds" in misplaced.json()["detail"]
    assert server.http.delete(f"/v2/network-volumes/{volume['id']}").status_code == 204
    assert not (server.data_dir / "volumes" / volume["id"]).exists()


def test_catalog(server: LocalServer) -> None:
    gpus = server.http.get("/v2/catalog/gpus").json()["gpus"]
    rtx = next(g for g in gpus if g["id"] == "NVIDIA GeForce RTX 4090")
    assert rtx["pool"] == "ADA_24" and rtx["memory"] == 24 and "availability" not in rtx
    assert server.http.get("/v2/catalog/gpus", params={"include": "AVAILABILITY"}).status_code == 400
    assert server.http.get("/v2/catalog/gpus", params={"product": "POD"}).status_code == 400
    with_stock = server.http.get("/v2/catalog/gpus", params={"include": "AVAILABILITY", "product": "SERVERLESS"}).json()["gpus"]
    assert all(g["availability"] == "HIGH" for g in with_stock)
    europe = server.http.get("/v2/catalog/datacenters", params={"regions": "EUROPE", "networkVolumeTypes": "STANDARD"}).json()["dataCenters"]
    assert europe and all(d["region"] == "EUROPE" and "STANDARD" in d["networkVolumeTypes"] for d in europe)


def test_cpu_warm_pod_runs_against_its_network_volume(server: LocalServer) -> None:
    volume = server.http.post("/v2/network-volumes", json={"name": "ctl-warm", "size": 10, "dataCenter": "EU-RO-1"}).json()
    env = {"GPUCTL_LOCAL_COMMAND": json.dumps([sys.executable, "pod_task.py"]), "GPUCTL_LOCAL_CWD": str(WORKERS)}
    pod = server.http.post("/v2/pods", json={"name": "ctl-warm", "image": "python:3.11-slim", "cpu": {"id": "cpu3g", "vcpuCount": 4}, "env": env,
                                             "mounts": {"network": [{"volumeId": volume["id"], "path": "/runpod-volume"}]}}).json()
    assert pod["cpu"] == {"id": "cpu3g", "vcpuCount": 4, "memory": 16} and pod["dataCenterId"] == "EU-RO-1"
    wait_for(lambda: server.http.get(f"/v2/pods/{pod['id']}").json()["status"] == "EXITED")
    assert (server.data_dir / "volumes" / volume["id"] / "warm.txt").read_text() == "warmed for /runpod-volume"
    with server.http.stream("GET", f"/v2/pods/{pod['id']}/logs") as events:
        lines = [json.loads(line[6:])["line"] for line in events.iter_lines() if line.startswith("data: ")]
    assert "warm-up done" in lines and lines[-1].endswith("exited with code 0")
    assert server.http.delete(f"/v2/pods/{pod['id']}").status_code == 204
    assert server.http.get(f"/v2/pods/{pod['id']}").status_code == 404
    missing = server.http.post("/v2/pods", json={"name": "x", "image": "i", "cpu": {"id": "cpu3g", "vcpuCount": 4},
                                                 "mounts": {"network": [{"volumeId": "nosuchvol0", "path": "/w"}]}})
    assert missing.status_code == 400


def test_the_release_version_moves_on_a_release_only_and_outlives_a_restart(tmp_path) -> None:
    """The version is served where RunPod documents it (the releases' `endpointVersion`, GraphQL's
    `version`), never on the v2 endpoint object, whose schema has none: a create is 1, an image
    change adds 1, the same image again or a workers change adds nothing, and after a restart the
    count goes on from where it was."""
    from tests.local.conftest import start_server, stop_server

    def versions(server: LocalServer, endpoint_id: str) -> tuple[int, int]:
        rest = server.http.get(f"/v2/serverless/{endpoint_id}/releases").json()["endpointVersion"]
        found = server.http.post("/graphql", json={"query": "query { myself { endpoints { id version } } }"}).json()
        graphql = {e["id"]: e["version"] for e in found["data"]["myself"]["endpoints"]}[endpoint_id]
        return rest, graphql

    server = start_server(tmp_path / "data")
    try:
        endpoint = create(server, "ctl-version")
        assert "version" not in endpoint and versions(server, endpoint["id"]) == (1, 1)
        for same in ({"image": "img:1"}, {"workers": {"max": 5}}):
            assert "version" not in server.http.patch(f"/v2/serverless/{endpoint['id']}", json=same).json()
            assert versions(server, endpoint["id"]) == (1, 1), same
        server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"image": "img:2"})
        assert versions(server, endpoint["id"]) == (2, 2)
    finally:
        stop_server(server)
    server = start_server(tmp_path / "data")
    try:
        assert versions(server, endpoint["id"]) == (2, 2)
        assert "version" not in server.http.get(f"/v2/serverless/{endpoint['id']}").json()
        assert all("version" not in e for e in server.http.get("/v2/serverless").json()["endpoints"])
        server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"image": "img:3"})
        assert versions(server, endpoint["id"]) == (3, 3)
    finally:
        stop_server(server)


def test_an_unknown_registry_credential_id_is_refused_naming_it_as_other_unknown_references_are(server: LocalServer) -> None:
    """Stop 17, G1: a template, endpoint or pod took any `registry` (GraphQL
    `containerRegistryAuthId`) without the credential existing, where an unknown network volume
    is a 400. RunPod's answer is not documented; the local provider refuses it (400) naming the id
    (docs/local-provider.md, docs/conformance.md). An id left as it was is not checked again."""
    cred = server.http.post("/v2/registries", json={"name": "ctl-reg", "username": "u", "password": "p"}).json()
    ghost = "nocred00000"

    def refused(response) -> None:
        assert response.status_code == 400, (response.status_code, response.text)
        assert f"container registry credential {ghost} not found" in response.text and "/v2/registries" in response.text, response.text

    refused(server.http.post("/v2/serverless", json={"name": "ctl-reg-ghost", **BASE, "registry": ghost}))
    assert not [e for e in server.http.get("/v2/serverless").json()["endpoints"] if e["name"] == "ctl-reg-ghost"]
    endpoint = create(server, "ctl-reg-ep", registry=cred["id"])
    assert endpoint["registry"] == cred["id"]
    refused(server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"registry": ghost}))
    refused(server.http.post("/v2/templates", json={"name": "ctl-reg-ghost", "image": "img", "registry": ghost}))
    template = server.http.post("/v2/templates", json={"name": "ctl-reg-tpl", "image": "img", "serverless": True, "registry": cred["id"]}).json()
    refused(server.http.patch(f"/v2/templates/{template['id']}", json={"registry": ghost}))
    refused(server.http.post("/v2/pods", json={"name": "ctl-reg-pod", "image": "img", "cpu": {"id": "cpu3c", "vcpuCount": 2}, "registry": ghost}))
    saved = server.http.post("/graphql", json={"query": 'mutation { saveTemplate(input: {name: "ctl-reg-gql", imageName: "img", containerDiskInGb: 10, '
                                                         f'volumeInGb: 0, dockerArgs: "", env: [], containerRegistryAuthId: "{ghost}"}}) {{ id }} }}'}).json()
    assert saved.get("errors") and f"container registry credential {ghost} not found" in saved["errors"][0]["message"], saved
    none = server.http.post("/graphql", json={"query": 'mutation { saveTemplate(input: {name: "ctl-reg-gql", imageName: "img", containerDiskInGb: 10, '
                                                        'volumeInGb: 0, dockerArgs: "", env: [], containerRegistryAuthId: ""}) { id } }'}).json()
    assert "errors" not in none, none  # "" is RunPod's "none"
    assert server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"registry": None}).json()["registry"] is None

    # A credential deleted later (RunPod's deleteRegistry: templates do not block it, they lose
    # the reference) leaves no id behind, and other changes go on.
    again = server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"registry": cred["id"]})
    assert again.status_code == 200, again.text
    assert server.http.delete(f"/v2/registries/{cred['id']}").status_code == 204
    kept = server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"workers": {"max": 2}})
    assert kept.status_code == 200 and kept.json()["registry"] is None, kept.text
    made = server.http.patch(f"/v2/templates/{template['id']}", json={"image": "img:2"})
    assert made.status_code == 200 and made.json()["registry"] is None, made.text


def test_deleting_a_registry_credential_is_refused_while_a_pod_uses_it_and_templates_lose_it(server: LocalServer) -> None:
    """RunPod's OpenAPI `deleteRegistry`: "Rejected if any pod currently uses this credential to
    pull its image. Templates that reference it are not part of that check: they silently lose
    the reference (`registry` becomes null)" (400 otherwise). The local provider deleted a
    credential whatever used it and left its id on pods, templates and endpoints (an endpoint's
    `registry` is its template's, so it loses it too)."""
    cred = server.http.post("/v2/registries", json={"name": "ctl-regdel", "username": "u", "password": "regdel-canary-5513"}).json()
    template = server.http.post("/v2/templates", json={"name": "ctl-regdel-tpl", "image": "img", "serverless": True, "registry": cred["id"]}).json()
    endpoint = create(server, "ctl-regdel-ep", registry=cred["id"])
    from_template = create(server, "ctl-regdel-ep2", templateId=template["id"])
    assert from_template["registry"] == cred["id"]
    pod = server.http.post("/v2/pods", json={"name": "ctl-regdel-pod", "image": "img", "cpu": {"id": "cpu3c", "vcpuCount": 2},
                                             "registry": cred["id"]})
    assert pod.status_code == 201, pod.text

    refused = server.http.delete(f"/v2/registries/{cred['id']}")
    assert refused.status_code == 400, (refused.status_code, refused.text)
    message = refused.json()["message"] if "message" in refused.json() else refused.text
    assert cred["id"] in message and "ctl-regdel" in message and pod.json()["id"] in message, message
    assert f"DELETE /v2/pods/{pod.json()['id']}" in message, message  # the fix
    assert "regdel-canary-5513" not in refused.text
    assert server.http.get(f"/v2/registries/{cred['id']}").status_code == 200
    assert server.http.get(f"/v2/templates/{template['id']}").json()["registry"] == cred["id"]  # a refused delete changes nothing

    assert server.http.delete(f"/v2/pods/{pod.json()['id']}").status_code == 204
    assert server.http.delete(f"/v2/registries/{cred['id']}").status_code == 204
    assert server.http.get(f"/v2/registries/{cred['id']}").status_code == 404
    assert server.http.get(f"/v2/templates/{template['id']}").json()["registry"] is None
    for ep in (endpoint, from_template):
        assert server.http.get(f"/v2/serverless/{ep['id']}").json()["registry"] is None
    version = server.http.get(f"/v2/serverless/{endpoint['id']}/releases").json()["endpointVersion"]
    assert version == 1  # the lost reference is no release: nothing was deployed

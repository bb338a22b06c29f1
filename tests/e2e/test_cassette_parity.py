"""The interactions recorded in the cassettes, sent to the local provider, give the same
shapes: same status, every documented key present, and a response that validates against the
same operation of RunPod's OpenAPI document.

Every recording contributed to fixtures/cassettes/contributed/ (`--record DIR`) is replayed
too: the account it saw is rebuilt in a fresh local provider through the REST v2 API, each
recorded request is sent to it, and the answer must have the recorded status and shape (the
same keys at every level, the same JSON types). So a difference between RunPod and the local
provider fails here the moment someone contributes a recording that shows it."""

from __future__ import annotations

import json

import pytest
import yaml

from tests.local.openapi import validate_response
from tests.support import cassettes

V2_CASSETTES = ["observe", "create", "update-delete"]


def _keys(value, prefix: str = "") -> set[str]:
    """Dotted key paths of a JSON value; env maps hold data, not shape, so they stop there."""
    if prefix.endswith("env."):
        return set()
    if isinstance(value, dict):
        return {f"{prefix}{k}" for k in value} | {x for k, v in value.items() for x in _keys(v, f"{prefix}{k}.")}
    if isinstance(value, list) and value and isinstance(value[0], dict):
        return _keys(value[0], f"{prefix}[].")
    return set()


def _local_path(account, path: str, ids: dict[str, str]) -> str:
    for documented, local in ids.items():
        path = path.replace(documented, local)
    return path


@pytest.mark.parametrize("name", V2_CASSETTES)
def test_local_provider_answers_with_the_documented_shapes(account, name):
    http = account.server.http
    volume = http.post("/v2/network-volumes", json={"name": "parity", "size": 50, "dataCenter": "US-KS-2"}).json()
    endpoint = http.post("/v2/serverless", json=cassettes.request_example("/v2/serverless", "post", "serverlessEndpoint")).json()
    assert http.post("/v2/templates", json=cassettes.request_example("/v2/templates", "post", "podTemplate")).status_code == 201
    assert http.post("/v2/registries", json=cassettes.request_example("/v2/registries", "post", "dockerHubRegistry")).status_code == 201
    ids = {cassettes.ENDPOINT_ID: endpoint["id"], cassettes.VOLUME_ID: volume["id"]}
    recorded = yaml.safe_load((cassettes.OUT / f"{name}.yaml").read_text())["interactions"]
    for item in recorded:
        req, documented = item["request"], item["response"]
        path = _local_path(account, req["uri"].removeprefix(cassettes.API), ids)
        body = json.loads(req["body"]) if req["body"] else None
        local = http.request(req["method"], path, json=body)
        assert local.status_code == documented["status"]["code"], (path, local.text)
        if documented["body"]["string"]:
            expected, answer = json.loads(documented["body"]["string"]), local.json()
            if expected.get("type") == answer.get("type"):  # RunPod's example may show another variant (LOAD_BALANCER)
                missing = _keys(expected) - _keys(answer)
                assert not missing, (path, missing)
            validate_response(req["method"], path, local.status_code, local.headers.get("content-type", ""), local.content)


NOT_REBUILT = ("/v2/pods/",)  # pods are not rebuilt (they run): a get of one is not replayed
TRANSIENT = (429, 500, 502, 503, 504)


@pytest.mark.parametrize("path", cassettes.contributed(), ids=lambda p: p.name)
def test_the_local_provider_answers_a_contributed_recording_alike(account, path):
    items = cassettes.interactions(path)
    ids = cassettes.rebuild(account.server.http, items)
    compared = 0
    for item in items:
        request, recorded = item["request"], item["response"]
        target = cassettes.local_path(request["uri"], ids)
        if recorded["status"]["code"] in TRANSIENT or any(part in target for part in NOT_REBUILT):
            continue
        body = json.loads(request["body"]) if request["body"] else None
        local = account.server.http.request(request["method"], target, json=body)
        assert local.status_code == recorded["status"]["code"], (request["uri"], local.text)
        if recorded["body"]["string"]:
            differences = cassettes.shape_differences(json.loads(recorded["body"]["string"]), local.json())
            assert not differences, (request["uri"], differences)
        compared += 1
    assert compared, f"{path.name}: nothing was compared"

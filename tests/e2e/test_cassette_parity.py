"""The interactions recorded in the cassettes, sent to the local provider, give the same
shapes: same status, every documented key present, and a response that validates against the
same operation of RunPod's OpenAPI document."""

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

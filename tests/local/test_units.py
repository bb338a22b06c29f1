"""Pure pieces: the autoscaler's arithmetic, the request rules read from RunPod's OpenAPI
document (their verdicts and their `$.path: message` lines), and the GraphQL parser."""

from __future__ import annotations

import jsonschema
import pytest

from gpuctl.local.controlplane.requests import RequestRules
from gpuctl.local.errors import Invalid
from gpuctl.local.graphql.parse import Enum, GraphQLSyntaxError, Var, parse
from gpuctl.local.runtime.scaler import Load, desired_workers
from gpuctl.local.store.reference import openapi_path
from tests.local.openapi import SPEC

RULES = RequestRules(openapi_path())

QD = {"type": "QUEUE_DELAY", "queueDelay": 4}
RC = {"type": "REQUEST_COUNT", "requestCount": 2}


@pytest.mark.parametrize("workers, scaling, load, want", [
    ({"min": 0, "max": 3}, QD, Load(0, 0, None, 0, 0), 0),  # nothing to do: scaled to zero
    ({"min": 0, "max": 3}, QD, Load(1, 0, 0.0, 0, 0), 1),  # cold start at once
    ({"min": 0, "max": 3}, QD, Load(5, 1, 2.0, 1, 0), 1),  # waited less than queueDelay
    ({"min": 0, "max": 3}, QD, Load(5, 1, 5.0, 1, 0), 2),  # waited longer: one more
    ({"min": 0, "max": 3}, QD, Load(5, 1, 5.0, 2, 1), 2),  # but not while one is starting
    ({"min": 0, "max": 3}, QD, Load(5, 3, 9.0, 3, 0), 3),  # capped at max
    ({"min": 2, "max": 3}, QD, Load(0, 0, None, 0, 0), 2),  # min workers stay up
    ({"min": 0, "max": 10}, RC, Load(5, 2, 0.0, 1, 1), 4),  # ceil((5 + 2) / 2)
    ({"min": 0, "max": 0}, RC, Load(5, 0, 0.0, 0, 0), 0),  # max 0 disables the endpoint
])
def test_desired_workers(workers: dict, scaling: dict, load: Load, want: int) -> None:
    assert desired_workers(workers, scaling, load) == want


def _spec_valid(component: str, body: object) -> bool:
    schema = {"$ref": f"#/components/schemas/{component}", "components": SPEC["components"]}
    return jsonschema.Draft202012Validator(schema).is_valid(body)


GPU = {"pools": ["ADA_24"]}
SCALE = {"type": "QUEUE_DELAY", "queueDelay": 4}
CASES = [
    ("CreateEndpointRequest", "CreateEndpointRequest", body) for body in (
        {"name": "a", "type": "QUEUE", "image": "i", "gpu": GPU, "scaling": SCALE},
        {"name": "a", "type": "QUEUE", "templateId": "t", "gpu": GPU, "scaling": SCALE},
        {"name": "a", "type": "QUEUE", "gpu": GPU, "scaling": SCALE},
        {"name": "", "type": "QUEUE", "image": "i", "gpu": GPU, "scaling": SCALE},
        {"name": "a", "type": "QUEUE", "image": "i", "gpu": {"pools": []}, "scaling": SCALE},
        {"name": "a", "type": "QUEUE", "image": "i", "gpu": GPU, "scaling": {"type": "REQUEST_COUNT", "requestCount": 0}},
        {"name": "a", "type": "QUEUE", "image": "i", "gpu": GPU, "scaling": {"type": "QUEUE_DELAY", "requestCount": 2}},
        {"name": "a", "type": "QUEUE", "image": "i", "gpu": {**GPU, "excludedTypes": ["-x"]}, "scaling": SCALE},
        {"name": "a", "type": "QUEUE", "image": "i", "gpu": {**GPU, "allowedCudaVersions": ["12"]}, "scaling": SCALE},
        {"name": "a", "type": "QUEUE", "image": "i", "cpu": [{"id": "cpu3c", "vcpuCount": 1}], "scaling": SCALE},
        {"name": "a", "type": "QUEUE", "image": "i", "gpu": GPU, "scaling": SCALE, "workers": {"idleTimeout": 3601}},
        {"name": "a", "type": "QUEUE", "image": "i", "gpu": GPU, "scaling": SCALE, "env": {"A": 1}},
        {"name": "a", "type": "QUEUE", "image": "i", "gpu": GPU, "scaling": SCALE, "registry": None, "flashboot": "FAST"},
        {"name": "a", "type": "SOMETHING", "image": "i", "gpu": GPU, "scaling": SCALE},
    )
] + [
    ("UpdateEndpointRequest", "UpdateEndpointRequest", body) for body in (
        {}, {"gpu": {"minCudaVersion": ""}}, {"gpu": {"excludedTypes": ["x"]}}, {"gpu": {"pools": ["A"], "excludedTypes": ["x"]}},
        {"workers": {"max": -1}}, {"templateId": ""}, {"type": "QUEUE"},
    )
] + [
    ("CreateTemplateRequest", "CreateTemplateRequest", body) for body in (
        {"name": "t", "image": "i"}, {"name": "t"}, {"name": "t", "image": "i", "mounts": {"persistent": {"size": 5, "path": "/w"}}},
        {"name": "t", "image": "i", "category": "TPU"}, {"name": "t", "image": "i", "startSsh": False, "allowedCudaVersions": ["12.8"]},
    )
] + [
    ("CreateNetworkVolumeRequest", "CreateNetworkVolumeRequest", body) for body in (
        {"name": "v", "size": 10, "dataCenter": "X"}, {"name": "v", "size": 4097, "dataCenter": "X"}, {"name": "v", "size": 10, "dataCenter": "X", "type": "FAST"},
    )
] + [
    ("UpdateNetworkVolumeRequest", "UpdateNetworkVolumeRequest", body) for body in ({}, {"size": 20}, {"dataCenter": "Y"})
] + [
    ("CreatePodRequest", "CreatePodRequest", body) for body in (
        {"name": "p", "image": "i", "cpu": {"id": "cpu3c", "vcpuCount": 2}}, {"name": "p", "cpu": {"id": "cpu3c", "vcpuCount": 2}},
        {"name": "p", "image": "i", "mounts": {"network": [{"volumeId": "v", "path": "/w"}, {"volumeId": "w", "path": "/x"}]}},
        {"name": "p", "image": "i", "gpu": {"id": "x", "count": 0}},
    )
]


@pytest.mark.parametrize("component, rule, body", CASES, ids=[f"{c}-{i}" for i, (c, _, _) in enumerate(CASES)])
def test_request_rules_agree_with_runpods_request_schemas(component: str, rule: str, body: dict) -> None:
    """The rules' own touches (the discriminated union, unknown fields named once, finite
    numbers) never change a verdict of RunPod's schema on a JSON body. One does, on purpose:
    an integer written 2.0, which JSON Schema takes and Go's encoding/json (RunPod's) refuses."""
    assert (not RULES.errors(rule, body)) == _spec_valid(component, body)


E = {"name": "x", "type": "QUEUE", "image": "i", "gpu": GPU, "scaling": SCALE}


@pytest.mark.parametrize("component, body, errors", [
    ("CreateEndpointRequest", E | {"bogus": 1}, ["$: additional properties 'bogus' not allowed"]),
    ("CreateEndpointRequest", E | {"workers": {"min": 0, "maxx": 2}}, ["$.workers: additional properties 'maxx' not allowed"]),
    ("CreateEndpointRequest", E | {"scaling": {"type": [], "queueDelay": 4}}, ["$.scaling.type: value must be one of 'QUEUE_DELAY', 'REQUEST_COUNT'"]),
    ("CreateEndpointRequest", E | {"scaling": {"type": "QUEUE_DELAY", "requestCount": 2}},
     ["$.scaling: additional properties 'requestCount' not allowed", "$.scaling: missing properties 'queueDelay'"]),
    ("CreateEndpointRequest", {k: v for k, v in E.items() if k != "image"}, ["$: missing properties 'image'"]),
    ("CreateEndpointRequest", E | {"scaling": {"type": "QUEUE_DELAY", "queueDelay": float("nan")}},
     ["$.scaling.queueDelay: got non-finite number, want number"]),
    ("CreateEndpointRequest", E | {"env": {"A": 1}, "registry": 5},
     ["$.env.A: got number, want string", "$.registry: got number, want string or null"]),
    ("UpdateEndpointRequest", {"gpu": {"excludedTypes": ["x"]}}, ["$.gpu: 'excludedTypes' needs 'pools'"]),
    ("UpdateEndpointRequest", {"workers": {"max": -1}}, ["$.workers.max: minimum: got -1, want 0"]),
    ("UpdateEndpointRequest", {"workers": {"max": 2.0, "idleTimeout": 1e2}},
     ["$.workers.max: got number 2.0, want integer", "$.workers.idleTimeout: got number 100.0, want integer"]),
    ("CreateNetworkVolumeRequest", {"name": "v", "size": 4097, "dataCenter": "X"}, ["$.size: maximum: got 4097, want 4096"]),
    ("UpdateNetworkVolumeRequest", {}, ["$: minProperties: got 0, want 1"]),
    ("CreatePodRequest", {"name": "p", "image": "i", "mounts": {"network": [{"volumeId": "v", "path": "/w"}] * 2}},
     ["$.mounts.network: maxItems: got 2, want 1"]),
    ("CreateEndpointRequest", E | {"gpu": {"pools": ["A"], "excludedTypes": [" -x"]}},
     ["$.gpu.excludedTypes[0]: ' -x' does not match pattern '^\\s*[^-\\s]'"]),
])
def test_request_rules_say_where_and_what(component: str, body: dict, errors: list[str]) -> None:
    assert RULES.errors(component, body) == errors
    with pytest.raises(Invalid) as raised:
        RULES.check(component, body)
    assert raised.value.errors == errors


def test_volume_size_bounds_come_from_the_document() -> None:
    schema = SPEC["components"]["schemas"]["CreateNetworkVolumeRequest"]["properties"]["size"]
    assert RULES.bounds("CreateNetworkVolumeRequest", "size") == (schema["minimum"], schema["maximum"]) == (10, 4096)


def test_graphql_parser_reads_literals_variables_and_enums() -> None:
    (op,) = parse('mutation M($x: EndpointInput!) { a: saveEndpoint(input: {name: "n\\"q", n: -1.5e2, e: FLASHBOOT, l: [1, true, null], v: $x}) { id } }')
    field = op.selections[0]
    assert (op.kind, op.name, op.variables, field.alias, field.name) == ("mutation", "M", {"x": ("EndpointInput!", None)}, "a", "saveEndpoint")
    assert field.args["input"] == {"name": 'n"q', "n": -150.0, "e": Enum("FLASHBOOT"), "l": [1, True, None], "v": Var("x")}
    with pytest.raises(GraphQLSyntaxError):
        parse("query { ...frag }")

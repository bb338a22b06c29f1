"""Fuzz the local provider with RunPod's own OpenAPI document (schemathesis), so a new 500
fails CI (issue 9, item 7).

The write operations are fuzzed, since those are where request bodies meet the validator and
the store: schemathesis sends bodies that fit RunPod's schemas and bodies that break them, and
every answer must be no 5xx, a status and content type the document lists for that operation,
and a body matching the document's response schema. Bounded: a fixed seed (derandomized), a
few dozen examples per operation, no deadline, against one server on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import content_type_conformance, response_schema_conformance, status_code_conformance

from tests.conftest import FIXTURES
from tests.local.conftest import LocalServer, start_server, stop_server

OPERATIONS = ["createEndpoint", "updateEndpoint", "createTemplate", "updateTemplate", "createNetworkVolume",
              "updateNetworkVolume", "createPod"]
EXAMPLES = 25



def runpod_document() -> dict:
    """RunPod's document, with one inconsistency in it corrected. The job URLs it lists in
    `requestUrls` (`.../status/{job_id}`) are declared `format: uri`, yet its own examples, and
    what RunPod returns (api-notes §4.2), hold a literal `{job_id}`, which no RFC 3986 URI may
    contain: they are URI templates (RFC 6570), so they are checked as such."""
    document = json.loads((FIXTURES.parent / "state" / "runpod" / "openapi-v2.json").read_text())
    urls = document["components"]["schemas"]["QueueBasedRequestUrls"]["properties"]
    for name, prop in urls.items():
        if "{job_id}" in json.dumps(prop.get("examples", [])):
            prop["format"] = "uri-template"
    return document


schema = schemathesis.openapi.from_dict(runpod_document()).include(operation_id=OPERATIONS)
schema.config.generation.update(modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES,
                                deterministic=True, database="none")


@pytest.fixture(scope="module")
def fuzzed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalServer]:
    """A server of its own (the fuzzer leaves hundreds of objects behind), with one object of
    each kind for the update operations to aim at: a random id would only ever meet a 404."""
    server = start_server(Path(tmp_path_factory.mktemp("fuzz")))
    volume = server.http.post("/v2/network-volumes", json={"name": "fuzz", "size": 10, "dataCenter": "EU-RO-1"}).json()
    template = server.http.post("/v2/templates", json={"name": "fuzz", "image": "img", "serverless": True}).json()
    endpoint = server.create_endpoint("fuzz", worker=None)
    server.targets = {"updateEndpoint": endpoint["id"], "updateTemplate": template["id"], "updateNetworkVolume": volume["id"]}  # type: ignore[attr-defined]
    yield server
    stop_server(server)


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
def test_no_request_makes_the_local_provider_fail(case: schemathesis.Case, fuzzed: LocalServer) -> None:
    target = fuzzed.targets.get(case.operation.definition.raw.get("operationId"))  # type: ignore[attr-defined]
    if target is not None and isinstance(case.path_parameters, dict) and "id" in case.path_parameters:
        case.path_parameters["id"] = target
    case.call_and_validate(
        base_url=fuzzed.url, headers={"Authorization": f"Bearer {fuzzed.token}"},
        checks=[not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance])

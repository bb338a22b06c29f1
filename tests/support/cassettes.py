"""Build the vcrpy cassettes in fixtures/cassettes/ from RunPod's own documentation: request
and response bodies are the examples of RunPod's REST v2 OpenAPI document, job API bodies are
the documented examples (shared/runpod/api-notes.md §5). No Authorization header is stored.

    python -m tests.support.cassettes        # rewrite the cassettes
"""

from __future__ import annotations

import json
from http import HTTPStatus
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = json.loads((ROOT / "state" / "runpod" / "openapi-v2.json").read_text())
OUT = ROOT / "fixtures" / "cassettes"
API, JOBS = "https://api.runpod.io", "https://api.runpod.ai/v2"
RATE = {"RateLimit": '"minute";r=58;t=41, "hour";r=2990;t=1841, "day";r=49980;t=45041', "RateLimit-Policy": '"minute";q=60;w=60, "hour";q=3000;w=3600, "day";q=50000;w=86400'}
ENDPOINT_ID, VOLUME_ID, JOB_ID = "4m7x2k9q", "2q9m7x4c", "5e0ae067-4a83-49b5-8368-8961f7067018-u1"
WORKER_ID, POD_ID = "w8k2m4p1", "7h9k2m4n6p"


def response_example(path: str, method: str, status: str, name: str | None = None) -> tuple[dict, dict]:
    """(body, headers) of the documented example for one response."""
    answer = SPEC["paths"][path][method]["responses"][status]
    if "$ref" in answer:
        answer = SPEC["components"]["responses"][answer["$ref"].rsplit("/", 1)[1]]
    (content_type, content), = answer["content"].items()
    examples = content["examples"]
    body = examples[name or next(iter(examples))]["value"]
    return body, {"Content-Type": content_type}


def request_example(path: str, method: str, name: str) -> dict:
    return SPEC["paths"][path][method]["requestBody"]["content"]["application/json"]["examples"][name]["value"]


def interaction(method: str, uri: str, status: int, body=None, request=None, headers: dict | None = None) -> dict:
    response_headers = {"Content-Type": "application/json"} | (headers or {})
    text = body if isinstance(body, str) else (json.dumps(body) if body is not None else "")
    if uri.startswith(API):
        response_headers |= RATE
    return {
        "request": {
            "body": json.dumps(request) if request is not None else None,
            "headers": {"Content-Type": ["application/json"]} if request is not None else {},
            "method": method,
            "uri": uri,
        },
        "response": {
            "body": {"string": text},
            "headers": {k: [v] for k, v in response_headers.items()},
            "status": {"code": status, "message": HTTPStatus(status).phrase},
        },
    }


def _spec(method: str, path: str, status: str, uri_path: str | None = None, request: str | None = None, example: str | None = None, headers: dict | None = None) -> dict:
    body, content = response_example(path, method.lower(), status, example)
    req = request_example(path, method.lower(), request) if request else None
    return interaction(method, f"{API}{uri_path or path}", int(status), body, req, content | (headers or {}))


def scenarios() -> dict[str, list[dict]]:
    ep, vol = f"/v2/serverless/{ENDPOINT_ID}", f"/v2/network-volumes/{VOLUME_ID}"
    done = {"id": f"sync-{JOB_ID[:-3]}", "status": "COMPLETED", "output": {"images": ["ok"]}, "delayTime": 824, "executionTime": 3391, "workerId": "moi9fq5smrmwvl"}
    return {
        "observe": [
            _spec("GET", "/v2/serverless", "200"),
            _spec("GET", "/v2/network-volumes", "200"),
            _spec("GET", "/v2/templates", "200"),
        ],
        "create": [
            _spec("POST", "/v2/network-volumes", "201", request="networkVolume"),
            _spec("POST", "/v2/serverless", "201", request="serverlessEndpoint", example="endpoint"),
            _spec("GET", "/v2/serverless/{id}", "200", uri_path=ep),
            _spec("GET", "/v2/network-volumes/{id}", "200", uri_path=vol),
        ],
        "update-delete": [
            _spec("PATCH", "/v2/serverless/{id}", "200", uri_path=ep, request="scaleEndpoint"),
            interaction("DELETE", f"{API}{ep}", 204, None, headers=RATE),
            _spec("DELETE", "/v2/serverless/{id}", "404", uri_path=ep),
        ],
        "errors": [
            _spec("GET", "/v2/serverless", "401"),
            _spec("POST", "/v2/serverless", "422", request="serverlessEndpoint"),
            _spec("GET", "/v2/network-volumes", "429", headers={"Retry-After": "12"}),
            _spec("GET", "/v2/network-volumes", "200"),
        ],
        "day2": [
            _spec("GET", "/v2/serverless/{id}/workers", "200", uri_path=f"{ep}/workers"),
            _spec("GET", "/v2/serverless/{id}/releases", "200", uri_path=f"{ep}/releases"),
            _spec("GET", "/v2/serverless/{id}/workers/{workerId}/logs", "200", uri_path=f"{ep}/workers/{WORKER_ID}/logs"),
            _spec("POST", "/v2/pods", "201", request="gpuPod"),
            _spec("GET", "/v2/pods/{id}", "200", uri_path=f"/v2/pods/{POD_ID}"),
            interaction("DELETE", f"{API}/v2/pods/{POD_ID}", 204, None, headers=RATE),
            interaction("POST", f"{API}/graphql", 200, {"data": {"myself": {"endpoints": [{"id": ENDPOINT_ID, "name": "image-generator", "templateId": "30zmvf89kd"}]}}},
                        {"query": "query GpuctlTemplateUsers { myself { endpoints { id name templateId } } }", "variables": {}}),
            interaction("POST", f"{JOBS}/{ENDPOINT_ID}/cancel/{JOB_ID}", 200, {"id": JOB_ID, "status": "CANCELLED"}),
        ],
        "jobs": [
            interaction("POST", f"{JOBS}/{ENDPOINT_ID}/runsync", 200, done, {"input": {"prompt": "a cat in space"}}),
            interaction("POST", f"{JOBS}/{ENDPOINT_ID}/run", 200, {"id": JOB_ID, "status": "IN_QUEUE"}, {"input": {"prompt": "a cat in space"}}),
            interaction("GET", f"{JOBS}/{ENDPOINT_ID}/status/{JOB_ID}", 200, done | {"id": JOB_ID}),
            interaction("GET", f"{JOBS}/{ENDPOINT_ID}/health", 200, {"jobs": {"completed": 1, "failed": 5, "inProgress": 0, "inQueue": 2, "retried": 0}, "workers": {"idle": 0, "initializing": 0, "ready": 0, "running": 0, "throttled": 0, "unhealthy": 0}}),
        ],
    }


def render(interactions: list[dict]) -> str:
    return yaml.safe_dump({"interactions": interactions, "version": 1}, sort_keys=True, width=200)


def write() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, interactions in scenarios().items():
        (OUT / f"{name}.yaml").write_text(render(interactions))


if __name__ == "__main__":
    write()

"""Build the vcrpy cassettes in fixtures/cassettes/ from RunPod's own documentation: request
and response bodies are the examples of RunPod's REST v2 OpenAPI document, job API bodies are
the documented examples (shared/runpod/api-notes.md §5). No Authorization header is stored.

Recordings contributed with `--record DIR` live in fixtures/cassettes/contributed/ and are
not built here: the parity tests replay every `.yaml` there against the client
(tests/test_cassettes.py) and against the local provider (tests/e2e/test_cassette_parity.py),
with the helpers below. The first one was made by gpuctl itself against its local provider:

    python -m tests.support.cassettes                     # rewrite the cassettes built from the document
    python -m tests.support.cassettes --contribute-local  # record fixtures/cassettes/contributed/local-*.yaml again
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]
SPEC = json.loads((ROOT / "state" / "runpod" / "openapi-v2.json").read_text())
OUT = ROOT / "fixtures" / "cassettes"
CONTRIBUTED = OUT / "contributed"
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
            _spec("GET", "/v2/registries", "200"),
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


def contributed() -> list[Path]:
    """Every recording handed back: each `.yaml` in fixtures/cassettes/contributed/, and any other
    `.yaml` dropped anywhere in fixtures/cassettes/ that is not one built here from the document.
    A new file is picked up by the parity tests with no list to edit."""
    built = {OUT / f"{name}.yaml" for name in scenarios()}
    return sorted(p for p in OUT.rglob("*.yaml") if p not in built)


def write() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, interactions in scenarios().items():
        (OUT / f"{name}.yaml").write_text(render(interactions))


def interactions(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text())["interactions"]


# -- replaying a contributed recording through the client ---------------------------------------

def _graphql(provider, request: dict) -> Any:
    body = json.loads(request["body"])
    named = {"GpuctlModelReferences": provider.graphql.model_references, "GpuctlTemplateUsers": provider.graphql.template_users}
    operation = re.match(r"\s*query\s+(\w+)", body["query"])
    call = named.get(operation.group(1) if operation else "")
    return call() if call else provider.graphql.query(body["query"], body.get("variables"))


CLIENT_CALLS: tuple[tuple[str, str, Callable[..., Any]], ...] = (
    # (method, URI pattern with API and JOBS for the two hosts, how gpuctl's client sends it)
    ("GET", "API/v2/serverless", lambda p, m, r: p.list_endpoints()),
    ("GET", "API/v2/serverless/(?P<id>[^/?]+)", lambda p, m, r: p.get_endpoint(m["id"])),
    ("GET", "API/v2/serverless/(?P<id>[^/?]+)/workers", lambda p, m, r: p.workers(m["id"])),
    ("GET", "API/v2/serverless/(?P<id>[^/?]+)/releases", lambda p, m, r: p.releases(m["id"])),
    ("GET", "API/v2/network-volumes", lambda p, m, r: p.list_volumes()),
    ("GET", "API/v2/network-volumes/(?P<id>[^/?]+)", lambda p, m, r: p.get_volume(m["id"])),
    ("GET", "API/v2/templates", lambda p, m, r: p.list_templates()),
    ("GET", "API/v2/pods", lambda p, m, r: p.list_pods()),
    ("GET", "API/v2/pods/(?P<id>[^/?]+)", lambda p, m, r: p.get_pod(m["id"])),
    ("GET", "API(?P<path>/v2/catalog/[^?]+)", lambda p, m, r: p.control.request("GET", m["path"]).json()),
    ("GET", "JOBS/(?P<id>[^/?]+)/health", lambda p, m, r: p.health(m["id"])),
    ("POST", "API/graphql", lambda p, m, r: _graphql(p, r)),
)


def client_call(request: dict) -> Callable[[Any], Any]:
    """What gpuctl's provider calls to send `request`; a request it never sends fails."""
    for method, pattern, call in CLIENT_CALLS:
        match = re.fullmatch(pattern.replace("API", re.escape(API), 1).replace("JOBS", re.escape(JOBS), 1), request["uri"])
        if method == request["method"] and match:
            return lambda provider, match=match, call=call: call(provider, match, request)
    raise AssertionError(f"{request['method']} {request['uri']}: gpuctl's client never sends this; add it to CLIENT_CALLS or drop it from the recording")


# -- replaying a contributed recording against the local provider -------------------------------

DATA_KEYS = frozenset({"env", "old", "new"})  # values, not shape: maps of env, any JSON in a release diff


def _merged(items: list) -> Any:
    """The items of a list as one: every key any item has (with the first value seen)."""
    if not all(isinstance(i, dict) for i in items):
        return items[0]
    merged: dict = {}
    for item in items:
        for key, value in item.items():
            if merged.get(key) is None:
                merged[key] = value
    return merged


def _kind(value: Any) -> str:
    return "object" if isinstance(value, dict) else "list" if isinstance(value, list) else "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


def shape_differences(recorded: Any, local: Any, path: str = "") -> list[str]:
    """Where the local provider's answer differs in shape from the recorded one: a key only
    one side has (lists compared by the union of their items' keys, when both have items), or
    a value of another JSON type. Values themselves are state, not shape."""
    if isinstance(recorded, dict) and isinstance(local, dict):
        found = [f"{path}{k}: only the recorded answer has it" for k in sorted(recorded.keys() - local.keys())]
        found += [f"{path}{k}: only the local provider's answer has it" for k in sorted(local.keys() - recorded.keys())]
        for key in sorted((recorded.keys() & local.keys()) - DATA_KEYS):
            found += shape_differences(recorded[key], local[key], f"{path}{key}.")
        return found
    if isinstance(recorded, list) and isinstance(local, list):
        return shape_differences(_merged(recorded), _merged(local), f"{path.rstrip('.')}[].") if recorded and local else []
    if recorded is None or local is None or _kind(recorded) == _kind(local):
        return []
    return [f"{path.rstrip('.')}: {_kind(recorded)} in the recorded answer, {_kind(local)} in the local provider's"]


def _first_list(items: list[dict], uri: str, key: str) -> list[dict]:
    for item in items:
        if item["request"]["method"] == "GET" and item["request"]["uri"] == uri and 200 <= item["response"]["status"]["code"] < 300:
            return json.loads(item["response"]["body"]["string"]).get(key) or []
    return []


def _properties(name: str) -> set[str]:
    """The fields a schema of the document declares, through its allOf parts."""
    schema = SPEC["components"]["schemas"][name]
    found = set(schema.get("properties", {}))
    for part in schema.get("allOf", []):
        found |= _properties(part["$ref"].rsplit("/", 1)[1]) if "$ref" in part else set(part.get("properties", {}))
    return found


def _create_body(recorded: dict, volumes: dict[str, str]) -> dict:
    """A v2 create body for an endpoint like `recorded`: the fields CreateEndpointRequest has,
    volume ids mapped, the local provider's own runtime env left out, no always-on worker."""
    allowed = _properties("CreateEndpointRequest")
    body = {k: v for k, v in recorded.items() if k in allowed and v is not None}
    if body.get("gpu"):
        body["gpu"] = {k: v for k, v in body["gpu"].items() if v is not None}
    if body.get("cpu"):
        body["cpu"] = [{"id": c["id"], "vcpuCount": c["vcpuCount"]} for c in body["cpu"]]
    body["env"] = {k: v for k, v in (body.get("env") or {}).items() if not k.startswith("GPUCTL_LOCAL_")}
    body["networkVolumes"] = [volumes[v] for v in body.get("networkVolumes") or [] if v in volumes]
    body["workers"] = {**body.get("workers", {}), "min": 0}
    return body


def rebuild(http, items: list[dict]) -> dict[str, str]:
    """Create in the local provider, through its REST v2 API, the volumes, templates and
    endpoints the recording's lists hold; returns {recorded id: local id}."""
    ids: dict[str, str] = {}
    for volume in _first_list(items, f"{API}/v2/network-volumes", "networkVolumes"):
        made = http.post("/v2/network-volumes", json={k: volume[k] for k in ("name", "size", "dataCenter", "type") if k in volume})
        ids[volume["id"]] = made.json()["id"]
    template_fields = _properties("CreateTemplateRequest")
    for template in _first_list(items, f"{API}/v2/templates", "templates"):
        made = http.post("/v2/templates", json={k: v for k, v in template.items() if k in template_fields and v is not None})
        ids[template["id"]] = made.json()["id"]
    for endpoint in _first_list(items, f"{API}/v2/serverless", "endpoints"):
        made = http.post("/v2/serverless", json=_create_body(endpoint, ids))
        assert made.status_code == 201, f"the local provider refuses to create an endpoint like {endpoint.get('name')!r}: {made.text}"
        ids[endpoint["id"]] = made.json()["id"]
    return ids


def local_path(uri: str, ids: dict[str, str]) -> str:
    """The path on the local provider that answers a recorded URI (the job API is under /ai/v2)."""
    path = uri.replace(JOBS, "/ai/v2").replace(API, "")
    for recorded, local in sorted(ids.items(), key=lambda pair: -len(pair[0])):
        path = re.sub(rf"(?<=/){re.escape(recorded)}(?=/|$|\?)", local, path)
    return path


def contribute_local() -> None:
    """Record `gpu doctor`, `deploy --plan` and `status` against a fresh local provider running
    examples/echo with a network volume, into fixtures/cassettes/contributed/local-*.yaml."""
    import shutil
    import tempfile

    from tests.e2e.conftest import Account, echo_config, project
    from tests.local.conftest import start_server, stop_server

    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        server = start_server(tmp / "provider")
        (tmp / "home").mkdir()
        account = Account(server, tmp / "home")
        try:
            proj = project(tmp / "echo", echo_config(volume="models"))
            assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
            for args in (["doctor"], ["serverless", "deploy", "--plan"], ["serverless", "status", "echo"]):
                run = account.gpu(*args, "--record", str(tmp / "rec"), cwd=proj)
                assert run.code == 0, run.err
        finally:
            stop_server(server)
        CONTRIBUTED.mkdir(parents=True, exist_ok=True)
        for recorded in sorted((tmp / "rec").glob("*.yaml")):
            shutil.copyfile(recorded, CONTRIBUTED / f"local-{recorded.name}")


if __name__ == "__main__":
    contribute_local() if "--contribute-local" in sys.argv else write()

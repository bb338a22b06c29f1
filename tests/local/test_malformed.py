"""The local provider never answers 500 to well-formed JSON (issue 9, item 7). Each input here
once crashed a handler; each is now RunPod's 4xx (problem+json on REST v2, `{"error"}` on the
job API, an `errors` entry on GraphQL) and writes nothing. Plus two GraphQL behaviours RunPod
has: the catalog queries answer without a key, and an enum literal is no String."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import socket
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from gpuctl.local.api.http import MAX_BODY
from tests.local.conftest import LocalServer

ENDPOINT = {"name": "mal-ep", "type": "QUEUE", "image": "img", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}
SAVE = "mutation Save($input: EndpointInput!) { saveEndpoint(input: $input) { id workersMax } }"


def state(server: LocalServer) -> dict[str, Any]:
    """Everything a bad request could have written, as the API shows it (pods by id only: a
    pod of another test may exit meanwhile)."""
    found: dict[str, Any] = {kind: server.http.get(f"/v2/{kind}").json() for kind in ("serverless", "templates", "network-volumes")}
    return found | {"pods": sorted(p["id"] for p in server.http.get("/v2/pods").json()["pods"])}


def raw_post(server: LocalServer, path: str, text: str, method: str = "POST") -> httpx.Response:
    """Send JSON text exactly as written (httpx's json= would refuse a lone surrogate)."""
    return server.http.request(method, path, content=text.encode("utf-8"), headers={"Content-Type": "application/json"})


@pytest.fixture
def endpoint(server: LocalServer) -> Iterator[dict[str, Any]]:
    response = server.http.post("/v2/serverless", json=ENDPOINT)
    assert response.status_code == 201, response.text
    yield response.json()
    server.http.delete(f"/v2/serverless/{response.json()['id']}")


@pytest.mark.parametrize("tag", [[], {}, 5, None, True])
def test_a_scaling_type_that_is_not_a_string_is_a_422(server: LocalServer, endpoint: dict[str, Any], tag: Any) -> None:
    before = state(server)
    created = server.http.post("/v2/serverless", json=ENDPOINT | {"scaling": {"type": tag, "queueDelay": 4}})
    patched = server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"scaling": {"type": tag}})
    for response in (created, patched):
        assert response.status_code == 422, response.text
        assert response.json()["errors"] == ["$.scaling.type: value must be one of 'QUEUE_DELAY', 'REQUEST_COUNT'"]
    assert state(server) == before


LONE = '"\\ud800"'  # JSON text: a \u escape of half a surrogate pair, no character
CREATES = [
    ("/v2/serverless", '{"name": %s, "type": "QUEUE", "image": "i", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}'),
    ("/v2/serverless", '{"name": "x", "type": "QUEUE", "image": "i", "env": {"K": %s}, "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}'),
    ("/v2/templates", '{"name": %s, "image": "img"}'),
    ("/v2/network-volumes", '{"name": %s, "size": 10, "dataCenter": "EU-RO-1"}'),
    ("/v2/pods", '{"name": %s, "image": "img", "cpu": {"id": "cpu3c", "vcpuCount": 2}}'),
]


@pytest.mark.parametrize("path, template", CREATES)
def test_a_lone_surrogate_in_a_rest_create_is_a_400(server: LocalServer, path: str, template: str) -> None:
    before = state(server)
    response = raw_post(server, path, template % LONE)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "lone UTF-16 surrogate" in response.json()["detail"]
    assert state(server) == before


def test_a_lone_surrogate_in_a_rest_update_is_a_400(server: LocalServer, endpoint: dict[str, Any]) -> None:
    response = raw_post(server, f"/v2/serverless/{endpoint['id']}", '{"name": %s}' % LONE, method="PATCH")
    assert response.status_code == 400, response.text
    assert server.http.get(f"/v2/serverless/{endpoint['id']}").json() == endpoint


def test_a_well_formed_surrogate_pair_is_a_character(server: LocalServer) -> None:
    response = raw_post(server, "/v2/network-volumes", '{"name": "vol-\\ud83d\\ude00", "size": 10, "dataCenter": "EU-RO-1"}')
    assert response.status_code == 201, response.text
    assert response.json()["name"] == "vol-\U0001F600"
    server.http.delete(f"/v2/network-volumes/{response.json()['id']}")


@pytest.mark.parametrize("body, fragment", [
    (b'{"name": "\xed\xa0\x80", "size": 10, "dataCenter": "EU-RO-1"}', "not UTF-8"),  # a surrogate encoded as UTF-8 bytes
    (b"[" * 5000 + b"]" * 5000, "more than 100 deep"),  # beyond what the parser itself can nest
    (b"[" * 150 + b"]" * 150, "more than 100 deep"),  # parses, but storing or echoing it could not
])
def test_bodies_no_later_step_could_handle_are_a_400(server: LocalServer, body: bytes, fragment: str) -> None:
    response = server.http.post("/v2/network-volumes", content=body, headers={"Content-Type": "application/json"})
    assert response.status_code == 400, response.text
    assert fragment in response.json()["detail"]


def test_a_lone_surrogate_in_a_job_input_is_a_400(server: LocalServer, endpoint: dict[str, Any]) -> None:
    response = raw_post(server, f"/ai/v2/{endpoint['id']}/run", '{"input": {"prompt": %s}}' % LONE)
    assert response.status_code == 400, response.text
    assert "lone UTF-16 surrogate" in response.json()["error"]


def gql_raw(server: LocalServer, text: str) -> httpx.Response:
    return raw_post(server, "/graphql", text)


def test_a_lone_surrogate_in_graphql_is_a_400(server: LocalServer) -> None:
    before = state(server)
    variable = gql_raw(server, json.dumps({"query": SAVE})[:-1] + ', "variables": {"input": {"name": %s, "templateId": "t", "gpuIds": "ADA_24"}}}' % LONE)
    literal = server.http.post("/graphql", json={"query": 'mutation { saveEndpoint(input: {name: "\\ud800", templateId: "t"}) { id } }'})
    bad_escape = server.http.post("/graphql", json={"query": 'query { gpuTypes(input: {id: "\\q"}) { id } }'})
    for response in (variable, literal, bad_escape):
        assert response.status_code == 400, response.text
        assert response.json()["errors"][0]["message"]
    assert state(server) == before


@pytest.fixture(scope="module")
def template_id(server: LocalServer) -> str:
    saved = server.http.post("/graphql", json={"query": 'mutation { saveTemplate(input: {name: "mal-tpl", imageName: "img", containerDiskInGb: 10, '
                                                        'volumeInGb: 0, dockerArgs: "", env: [], isServerless: true}) { id } }'})
    return saved.json()["data"]["saveTemplate"]["id"]


@pytest.mark.parametrize("field", ["workersMax", "workersMin", "idleTimeout", "scalerValue", "locations"])
def test_graphql_save_endpoint_with_an_explicit_null_is_an_error(server: LocalServer, template_id: str, field: str) -> None:
    given = {"name": "mal-gql", "templateId": template_id, "gpuIds": "ADA_24"}
    created = server.http.post("/graphql", json={"query": SAVE, "variables": {"input": given}}).json()["data"]["saveEndpoint"]
    before = state(server)
    for attempt in (given, given | {"id": created["id"]}):  # a create and an update
        answer = server.http.post("/graphql", json={"query": SAVE, "variables": {"input": attempt | {field: None}}})
        assert answer.status_code == 200, answer.text
        assert answer.json()["data"] == {"saveEndpoint": None}
        assert f"{field} is null" in answer.json()["errors"][0]["message"]
    assert state(server) == before


@pytest.mark.parametrize("query", ["query { gpuTypes { id displayName } }", "query { dataCenters { id name } }",
                                   "query { gpuTypes { id } dataCenters { id } }"])
def test_the_public_catalog_queries_answer_without_a_key(server: LocalServer, query: str) -> None:
    response = httpx.post(server.url + "/graphql", json={"query": query})
    assert response.status_code == 200, response.text
    assert all(response.json()["data"].values())


@pytest.mark.parametrize("headers, query", [
    ({}, "query { gpuTypes { id } myself { id } }"),  # a public query does not carry a private one
    ({}, 'mutation { deleteEndpoint(id: "x") }'),
    ({}, "not graphql"),
    ({"Authorization": "Bearer wrong"}, "query { gpuTypes { id } }"),  # a wrong key is still refused
])
def test_everything_else_still_needs_the_key(server: LocalServer, headers: dict[str, str], query: str) -> None:
    response = httpx.post(server.url + "/graphql", json={"query": query}, headers=headers)
    assert response.status_code == 401, response.text
    assert response.json() == {"errors": [{"message": "Unauthorized request, please check your API key."}]}


def test_a_public_query_without_a_key_is_read_only_up_to_64_kib(server: LocalServer) -> None:
    """A request without a key made the server read and parse up to 64 MiB: 1.2 MB of
    `gpuTypes` aliases held every other request 8 s. The public queries are a few hundred bytes."""
    padded = "query { gpuTypes { id } }" + " " * 70_000
    response = httpx.post(server.url + "/graphql", json={"query": padded})
    assert response.status_code == 401, response.text[:300]
    assert server.http.post("/graphql", json={"query": padded}).status_code == 200  # with the key, as before


def _aliases(n: int) -> str:
    return "query { " + " ".join(f"a{i}: gpuTypes {{ id }}" for i in range(n // 2)) + " }"


def test_a_document_selects_at_most_1000_fields(server: LocalServer) -> None:
    """Aliases ask for one answer thousands of times: the answer and the work grow with them."""
    assert server.http.post("/graphql", json={"query": _aliases(1_000)}).status_code == 200  # 500 aliases, each 2 fields
    refused = server.http.post("/graphql", json={"query": _aliases(1_002)})
    assert refused.status_code == 400, refused.text[:300]
    [error] = refused.json()["errors"]
    assert "more than 1,000 fields" in error["message"] and error["locations"] == [{"line": 1, "column": _aliases(1_002).index("a500:") + 1}], error


def test_a_document_of_more_than_100000_tokens_is_a_400_and_variables_carry_as_much(server: LocalServer) -> None:
    """A 4 MB literal of 2 million tokens held the server 19 s and took 356 MB; the same
    values as JSON variables are parsed by the JSON reader and stay accepted."""
    env = [{"key": f"K{i}", "value": "v"} for i in range(13_000)]  # 8 tokens each
    literal = ", ".join('{key: "' + e["key"] + '", value: "v"}' for e in env)
    inline = f'mutation {{ saveTemplate(input: {{name: "many-env-inline", imageName: "a", containerDiskInGb: 5, dockerArgs: "", volumeInGb: 0, env: [{literal}]}}) {{ id }} }}'
    refused = server.http.post("/graphql", json={"query": inline})
    assert refused.status_code == 400, refused.text[:300]
    assert "longer than 100,000 tokens" in refused.json()["errors"][0]["message"] and "$variables" in refused.json()["errors"][0]["message"]
    query = "mutation($i: SaveTemplateInput!) { saveTemplate(input: $i) { id } }"
    variables = {"i": {"name": "many-env-vars", "imageName": "a", "containerDiskInGb": 5, "dockerArgs": "", "volumeInGb": 0, "env": env}}
    saved = server.http.post("/graphql", json={"query": query, "variables": variables})
    assert saved.status_code == 200 and saved.json()["data"]["saveTemplate"]["id"], saved.text[:300]


def test_an_enum_literal_is_not_a_string(server: LocalServer, template_id: str) -> None:
    before = state(server)
    query = f'mutation {{ saveEndpoint(input: {{name: "mal-enum", templateId: "{template_id}", gpuIds: "ADA_24", scalerType: QUEUE_DELAY}}) {{ id }} }}'
    response = server.http.post("/graphql", json={"query": query})
    assert response.status_code == 400, response.text
    assert 'expected value of type "String", found the enum value QUEUE_DELAY' in response.json()["errors"][0]["message"]
    assert state(server) == before
    quoted = server.http.post("/graphql", json={"query": query.replace("QUEUE_DELAY", '"QUEUE_DELAY"')}).json()
    assert quoted["data"]["saveEndpoint"]["id"]
    enum_typed = query.replace("scalerType: QUEUE_DELAY", "flashBootType: FLASHBOOT").replace("mal-enum", "mal-enum-2")
    assert server.http.post("/graphql", json={"query": enum_typed}).json()["data"]["saveEndpoint"]["id"]  # an enum field takes it


def server_rss_peak_kb(server: LocalServer) -> int:
    status = (Path("/proc") / str(server.info["pid"]) / "status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))


def raw_request(server: LocalServer, head: str, body: Iterator[bytes]) -> bytes:
    """Send a request byte for byte and return the status line; the body stops at the first
    write the server no longer takes (it answered and closed)."""
    with socket.create_connection(("127.0.0.1", server.info["port"]), timeout=60) as sock:
        sock.sendall(head.encode())
        with contextlib.suppress(OSError):
            for chunk in body:
                sock.sendall(chunk)
        return sock.makefile("rb").readline()


def test_a_declared_oversized_body_is_a_413_before_the_body_is_read(server: LocalServer) -> None:
    """A Content-Length of 100 GB is refused at once: the server waited for (and kept) it all."""
    head = (f"POST /v2/serverless HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {server.token}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {100 * 1024 ** 3}\r\n\r\n")
    assert raw_request(server, head, iter([b"{"])).startswith(b"HTTP/1.1 413 ")


@pytest.mark.parametrize("path", ["/v2/serverless", "/v2/templates", "/graphql", "/ai/v2/{id}/run", "/ai/v2/{id}/job-done/w/{job}"])
def test_a_chunked_body_over_the_limit_is_a_413_and_never_held_whole(server: LocalServer, endpoint: dict[str, Any], path: str) -> None:
    """A body with no Content-Length is read only up to the route's limit: 4x MAX_BODY of
    spaces (a 600 MB body once raised the server's peak memory by 1.2 GB) is a 413, and the
    server's peak memory grows by less than the body."""
    chunk = b" " * (1024 * 1024)
    megabytes = 4 * MAX_BODY // len(chunk)
    before = server_rss_peak_kb(server)
    key, job = server.token, ""
    if "job-done" in path:
        key, job = server.admin("GET", f"worker-key/{endpoint['id']}")["key"], server.http.post(f"/ai/v2/{endpoint['id']}/run", json={"input": {}}).json()["id"]
    head = (f"POST {path.format(id=endpoint['id'], job=job)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {key}\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    body = (b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(megabytes))
    assert raw_request(server, head, itertools.chain(body, [b"0\r\n\r\n"])).startswith(b"HTTP/1.1 413 ")
    assert server_rss_peak_kb(server) - before < 2 * MAX_BODY // 1024


def log_events(server: LocalServer, endpoint_id: str, worker_id: str, tail: int) -> list[dict[str, Any]]:
    """The backfill of a stopped worker's log (the stream ends with it)."""
    with server.http.stream("GET", f"/v2/serverless/{endpoint_id}/workers/{worker_id}/logs", params={"tail": tail}) as events:
        assert events.status_code == 200, events.read()
        return [json.loads(line[6:]) for line in events.iter_lines() if line.startswith("data: ")]


def test_a_huge_worker_log_is_answered_from_its_newest_part_only(server: LocalServer, endpoint: dict[str, Any]) -> None:
    """A worker that printed 600 MB: each log request read and parsed the whole file (the
    server's peak memory grew by gigabytes); now a backfill comes from the newest 16 MiB, and
    damaged lines in a log are skipped rather than answered with a 500."""
    directory = server.data_dir / "logs" / endpoint["id"]
    directory.mkdir(parents=True, exist_ok=True)
    line = json.dumps({"ts": "2026-01-01T00:00:00.000000Z", "source": "container", "line": "x" * 900, "n": 1}).encode() + b"\n"
    with (directory / "wbig.jsonl").open("wb") as log:
        for _ in range(600):
            log.write(line * (1024 * 1024 // len(line) + 1))
        log.write(b"{not json\n[1, 2]\n" + json.dumps({"ts": "2026-01-01T00:00:01.000000Z", "source": "system", "line": "last", "n": 2}).encode() + b"\n")
    before = server_rss_peak_kb(server)
    events = log_events(server, endpoint["id"], "wbig", tail=3)
    assert [e["line"] for e in events] == ["x" * 900, "x" * 900, "last"]
    assert server_rss_peak_kb(server) - before < 200 * 1024


def test_a_fifo_in_place_of_a_worker_log_does_not_block_the_server(server: LocalServer, endpoint: dict[str, Any]) -> None:
    directory = server.data_dir / "logs" / endpoint["id"]
    directory.mkdir(parents=True, exist_ok=True)
    os.mkfifo(directory / "wfifo.jsonl")
    assert log_events(server, endpoint["id"], "wfifo", tail=10) == []
    assert server.http.get("/v2/serverless").status_code == 200

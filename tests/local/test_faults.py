"""Fault injection on the admin API: one test per action, the seed, the caps, the request log
with its write counter, and seeding an account."""

from __future__ import annotations

import json
import socket
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.local.conftest import LocalServer, start_server, stop_server, wait_for
from tests.support.wait import DEADLINE_S

ENDPOINT = {"name": "fault-target", "type": "QUEUE", "image": "img", "gpu": {"pools": ["ADA_24"]},
            "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "workers": {"min": 0, "max": 3, "idleTimeout": 5}}


def test_status_fault_answers_429_with_retry_after_and_spent_ratelimit(faults: LocalServer) -> None:
    faults.admin("POST", "faults", {"op": "list", "kind": "endpoint", "action": "status", "status": 429, "retry_after": 1.5, "ratelimit": True, "times": 1})
    limited = faults.http.get("/v2/serverless")
    assert limited.status_code == 429
    assert limited.headers["Retry-After"] == "2"  # whole seconds, rounded up
    assert limited.headers["RateLimit"].startswith('"minute";r=0;t=2')
    assert limited.json() == {"title": "Too Many Requests", "status": 429, "detail": "rate limit exceeded for the minute window"}
    assert faults.http.get("/v2/serverless").status_code == 200  # times: 1


def test_status_fault_does_not_perform_the_write(faults: LocalServer) -> None:
    before = len(faults.http.get("/v2/serverless").json()["endpoints"])
    faults.admin("POST", "faults", {"op": "create", "kind": "endpoint", "action": "status", "status": 503, "times": 1})
    assert faults.http.post("/v2/serverless", json=ENDPOINT).status_code == 503
    assert len(faults.http.get("/v2/serverless").json()["endpoints"]) == before


def test_commit_then_fail_performs_the_write_then_errors(faults: LocalServer) -> None:
    faults.admin("POST", "faults", {"op": "create", "kind": "network_volume", "action": "commit_then_fail", "times": 1})
    answer = faults.http.post("/v2/network-volumes", json={"name": "ambiguous", "size": 10, "dataCenter": "EU-RO-1"})
    assert answer.status_code == 500
    volumes = [v for v in faults.http.get("/v2/network-volumes").json()["networkVolumes"] if v["name"] == "ambiguous"]
    assert len(volumes) == 1


def test_delay_visibility_hides_a_created_object_from_list_and_get(faults: LocalServer) -> None:
    faults.admin("POST", "faults", {"op": "create", "kind": "template", "action": "delay_visibility", "seconds": 1.0})
    created = faults.http.post("/v2/templates", json={"name": "late-template", "image": "img"})
    assert created.status_code == 201
    template_id = created.json()["id"]
    assert faults.http.get(f"/v2/templates/{template_id}").status_code == 404
    assert template_id not in [t["id"] for t in faults.http.get("/v2/templates").json()["templates"]]
    wait_for(lambda: faults.http.get(f"/v2/templates/{template_id}").status_code == 200)


def test_clearing_the_rules_shows_every_object_a_delay_visibility_still_hides(faults: LocalServer) -> None:
    """A test hides a create for as long as it needs (a long `seconds`) and shows it by clearing
    the rules, as it lets a held request go: a fixed 10 s hide raced a killed deploy's restart
    on a loaded machine (test_crash, stress: 4 failures in 6)."""
    faults.admin("POST", "faults", {"op": "create", "kind": "template", "action": "delay_visibility", "seconds": 3600})
    template_id = faults.http.post("/v2/templates", json={"name": "hidden-until-cleared", "image": "img"}).json()["id"]
    assert faults.http.get(f"/v2/templates/{template_id}").status_code == 404
    faults.admin("DELETE", "faults")
    assert faults.http.get(f"/v2/templates/{template_id}").status_code == 200
    assert template_id in [t["id"] for t in faults.http.get("/v2/templates").json()["templates"]]


def test_drop_field_accepts_the_write_without_storing_the_field(faults: LocalServer) -> None:
    faults.admin("POST", "faults", {"op": "create", "kind": "endpoint", "action": "drop_field", "field": "workers.max", "times": 1})
    created = faults.http.post("/v2/serverless", json={**ENDPOINT, "workers": {"min": 0, "max": 7, "idleTimeout": 5}})
    assert created.status_code == 201 and created.json()["workers"]["max"] == 3  # the default, not 7
    faults.admin("POST", "faults", {"op": "update", "kind": "endpoint", "action": "drop_field", "field": "name", "times": 1})
    patched = faults.http.patch(f"/v2/serverless/{created.json()['id']}", json={"name": "renamed", "workers": {"max": 5}})
    assert patched.json()["name"] == "fault-target" and patched.json()["workers"]["max"] == 5


def test_hang_delays_the_answer_then_handles_the_request(faults: LocalServer) -> None:
    """The request reached the server (the rule fired), the client gave up, and only then did
    the write land: it is not there when the client stops waiting, and it is there later."""
    faults.admin("POST", "faults", {"op": "create", "kind": "network_volume", "action": "hang", "seconds": 5, "times": 1})
    with pytest.raises(httpx.TimeoutException):
        faults.http.post("/v2/network-volumes", json={"name": "slow", "size": 10, "dataCenter": "EU-RO-1"}, timeout=0.2)
    names = lambda: [v["name"] for v in faults.http.get("/v2/network-volumes").json()["networkVolumes"]]  # noqa: E731
    assert faults.admin("GET", "faults")["rules"][0]["fired"] == 1 and "slow" not in names()
    wait_for(lambda: "slow" in names())
    assert ("POST", "/v2/network-volumes", 201) in [(r["method"], r["path"], r["status"]) for r in faults.admin("GET", "requests")["requests"]]


def test_stopping_the_server_answers_a_held_request_at_once_and_drops_its_write(fresh_server: LocalServer) -> None:
    """A server stopping with a `hang` in progress answers 503 at once instead of holding its
    shutdown for the hang (which once cost every crash test 3 s of teardown), and the write
    the hang was holding back never lands."""
    fresh_server.admin("POST", "faults", {"op": "create", "kind": "network_volume", "action": "hang", "seconds": 600, "times": 1})
    client = httpx.Client(base_url=fresh_server.url, headers={"Authorization": f"Bearer {fresh_server.token}"}, timeout=120)
    with client, ThreadPoolExecutor(1) as pool:
        held = pool.submit(client.post, "/v2/network-volumes", json={"name": "held", "size": 10, "dataCenter": "EU-RO-1"})
        wait_for(lambda: fresh_server.admin("GET", "faults")["rules"][0]["fired"] == 1)
        stop_server(fresh_server)
        answer = held.result()
    assert answer.status_code == 503 and "stopping" in answer.json()["detail"]
    again = start_server(fresh_server.data_dir)
    try:
        assert [v["name"] for v in again.http.get("/v2/network-volumes").json()["networkVolumes"]] == []
    finally:
        stop_server(again)


def test_clearing_the_rules_releases_a_held_request_which_then_lands(faults: LocalServer) -> None:
    """A test holds a write with a long hang and lets it go by clearing the rules, so it never
    has to guess how long the rest of the test takes on a loaded machine: the held request is
    then handled as normal, long before its 600 s are up."""
    faults.admin("POST", "faults", {"op": "create", "kind": "network_volume", "action": "hang", "seconds": 600, "times": 1})
    client = httpx.Client(base_url=faults.url, headers={"Authorization": f"Bearer {faults.token}"}, timeout=120)
    with client, ThreadPoolExecutor(1) as pool:
        held = pool.submit(client.post, "/v2/network-volumes", json={"name": "held", "size": 10, "dataCenter": "EU-RO-1"})
        wait_for(lambda: faults.admin("GET", "faults")["rules"][0]["fired"] == 1)
        assert not held.done()
        faults.admin("DELETE", "faults")
        answer = held.result()
    assert answer.status_code == 201 and answer.json()["name"] == "held"


@pytest.mark.parametrize("action", ["hang", "commit_then_hang"])
def test_rules_cleared_before_a_held_request_has_begun_its_hang_still_release_it(faults: LocalServer, action: str) -> None:
    """A rule fires when the request's head arrives; its hang begins once the body is read (a
    `commit_then_hang`'s once the write is done). Rules cleared in between were missed: the
    test that saw `fired` and cleared the rules then waited out the whole hang (120 s, under
    stress). The body is sent here only once the clear was answered."""
    faults.admin("POST", "faults", {"op": "create", "kind": "network_volume", "action": action, "seconds": 600, "times": 1})
    body = json.dumps({"name": f"late-{action}", "size": 10, "dataCenter": "EU-RO-1"}).encode()
    head = (f"POST /v2/network-volumes HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {faults.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    with socket.create_connection(("127.0.0.1", faults.info["port"])) as sock:
        sock.settimeout(DEADLINE_S)  # only ends a hung run: the answer is awaited
        sock.sendall(head.encode())
        wait_for(lambda: faults.admin("GET", "faults")["rules"][0]["fired"] == 1)
        faults.admin("DELETE", "faults")
        sock.sendall(body)
        answer = b""
        while chunk := sock.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.1 201 "), answer[:300]


def test_omit_field_takes_a_field_out_of_a_get_and_of_every_listed_item(faults: LocalServer) -> None:
    created = faults.http.post("/v2/serverless", json=ENDPOINT).json()
    faults.admin("POST", "faults", {"op": "get", "kind": "endpoint", "action": "omit_field", "field": "workers.max", "times": 1})
    got = faults.unchecked("GET", f"/v2/serverless/{created['id']}").json()
    assert "max" not in got["workers"] and got["workers"]["min"] == 0 and got["name"] == "fault-target"
    assert faults.http.get(f"/v2/serverless/{created['id']}").json()["workers"]["max"] == 3  # times: 1
    faults.admin("POST", "faults", {"op": "list", "kind": "endpoint", "action": "omit_field", "field": "flashboot", "times": 1})
    listed = faults.unchecked("GET", "/v2/serverless").json()["endpoints"]
    assert listed and all("flashboot" not in e for e in listed) and created["id"] in [e["id"] for e in listed]


def test_extra_field_adds_a_field_to_a_get_and_to_every_listed_item(faults: LocalServer) -> None:
    volume = faults.http.post("/v2/network-volumes", json={"name": "extra", "size": 10, "dataCenter": "EU-RO-1"}).json()
    value = {"tier": "new", "sizes": [1, None, 2.5]}
    faults.admin("POST", "faults", {"op": "get", "kind": "network_volume", "action": "extra_field", "field": "surprise.detail",
                                    "value": value, "times": 1})
    assert faults.unchecked("GET", f"/v2/network-volumes/{volume['id']}").json() == volume | {"surprise": {"detail": value}}
    faults.admin("POST", "faults", {"op": "list", "kind": "network_volume", "action": "extra_field", "field": "retired", "value": None})
    listed = faults.unchecked("GET", "/v2/network-volumes").json()["networkVolumes"]
    assert listed and all("retired" in v and v["retired"] is None for v in listed)
    assert faults.admin("GET", "faults")["rules"][-1]["value"] is None  # the rule shows the value it adds, null included


def test_field_rules_reach_the_catalog_and_graphql_answers(faults: LocalServer) -> None:
    faults.admin("POST", "faults", {"op": "list", "kind": "catalog", "action": "omit_field", "field": "memory", "times": 1})
    gpus = faults.unchecked("GET", "/v2/catalog/gpus").json()["gpus"]
    assert gpus and all("memory" not in g and g["id"] for g in gpus)
    faults.admin("POST", "faults", {"op": "list", "kind": "graphql", "action": "extra_field", "field": "stockLevel", "value": 3, "times": 1})
    answer = faults.http.post("/graphql", json={"query": "query { gpuTypes { id } }"}).json()
    assert answer["data"]["gpuTypes"] and all(g["stockLevel"] == 3 for g in answer["data"]["gpuTypes"])
    assert all("stockLevel" not in g for g in faults.http.post("/graphql", json={"query": "query { gpuTypes { id } }"}).json()["data"]["gpuTypes"])


def test_graphql_faults_and_errors_inside_200(faults: LocalServer) -> None:
    faults.admin("POST", "faults", {"op": "create", "kind": "graphql", "action": "status", "status": 429, "times": 1})
    mutation = 'mutation { createNetworkVolume(input: {name: "g", size: 10, dataCenterId: "EU-RO-1"}) { id } }'
    limited = faults.http.post("/graphql", json={"query": mutation})
    assert limited.status_code == 429 and limited.headers["Retry-After"] == "1" and "errors" in limited.json()
    assert faults.http.post("/graphql", json={"query": mutation}).json()["data"]["createNetworkVolume"]["id"]
    query = faults.http.post("/graphql", json={"query": "query { myself { id } }"})
    assert query.status_code == 200  # the create rule does not touch queries


def test_seed_makes_probabilistic_faults_repeatable(faults: LocalServer) -> None:
    def pattern() -> list[int]:
        faults.admin("DELETE", "faults")
        faults.admin("POST", "faults", {"seed": 123, "rules": [{"op": "list", "kind": "template", "action": "status", "status": 503, "probability": 0.5}]})
        return [faults.http.get("/v2/templates").status_code for _ in range(12)]

    first = pattern()
    assert first == pattern()
    assert {200, 503} == set(first)
    described = faults.admin("GET", "faults")
    assert described["seed"] == 123 and described["rules"][0]["fired"] == first.count(503)


def test_request_log_counts_writes_and_reads_separately(fresh_server: LocalServer) -> None:
    """A server of its own: the shared one logs the pings and job polls of workers other tests
    left idling (30 s), which came between these requests when such a test ran just before."""
    fresh_server.admin("POST", "requests/reset")
    fresh_server.http.get("/v2/serverless")
    fresh_server.http.get("/v2/catalog/gpus")
    fresh_server.http.post("/graphql", json={"query": "query { myself { endpoints { id } } }"})
    assert fresh_server.admin("GET", "requests")["writes"] == 0
    fresh_server.http.post("/v2/serverless", json={**ENDPOINT, "bogus": 1})  # a failed write still counts
    fresh_server.http.post("/graphql", json={"query": 'mutation { deleteTemplate(templateName: "none") }'})
    log = fresh_server.admin("GET", "requests")
    assert log["writes"] == 2
    assert [(r["method"], r["path"], r["status"]) for r in log["requests"]][:4] == [
        ("GET", "/v2/serverless", 200), ("GET", "/v2/catalog/gpus", 200), ("POST", "/graphql", 200), ("POST", "/v2/serverless", 422)]
    assert all(isinstance(r["at"], float) for r in log["requests"])


def test_admin_routes_need_the_token(server: LocalServer) -> None:
    for method, path in (("GET", "/_admin/faults"), ("POST", "/_admin/reset"), ("GET", "/_admin/requests")):
        assert httpx.request(method, server.url + path).status_code == 401
        assert httpx.request(method, server.url + path, headers={"Authorization": "Bearer nope"}).status_code == 401


def test_bad_fault_rules_are_rejected(faults: LocalServer) -> None:
    for rule in ({"action": "explode"}, {"action": "status", "op": "sideways"}, {"action": "drop_field"},
                 {"action": "status", "probability": 2}, {"action": "status", "color": "red"},
                 {"action": "omit_field", "op": "get"}, {"action": "extra_field", "op": "get", "field": "x"},
                 {"action": "omit_field", "op": "create", "field": "x"}, {"action": "extra_field", "field": "x", "value": 1},
                 {"action": "commit_then_fail", "op": "take"}, {"action": "commit_then_fail", "kind": "worker"},
                 {"action": "status", "op": "take", "kind": "worker"}, {"action": "hang", "op": "get", "kind": "job"},
                 {"action": "drop_field", "op": "update", "kind": "job", "field": "x"}):
        answer = faults.http.post("/_admin/faults", json=rule)
        assert answer.status_code == 422 and answer.json()["detail"].startswith("fault rule"), (rule, answer.text)
    assert faults.admin("GET", "faults")["rules"] == []


def test_a_rule_for_every_kind_leaves_the_worker_protocol_alone(faults: LocalServer) -> None:
    """`*` means the control plane: a catch-all 500 must not fail the workers' job-takes."""
    ep = faults.create_endpoint("faults-catchall-take")
    faults.admin("POST", "faults", {"action": "status", "op": "*", "kind": "*", "status": 500})
    answer = faults.job(ep["id"], "runsync", {"input": {"through": "a catch-all rule"}}).json()
    assert answer["status"] == "COMPLETED" and answer["output"]["echo"] == {"through": "a catch-all rule"}, answer


def test_a_job_rule_fails_a_cancel_and_a_rule_for_every_kind_leaves_it_alone(faults: LocalServer) -> None:
    """The job API's fault point (kind `job`, op `update`): a `status` rule answers the cancel
    without doing it, `commit_then_fail` does it and answers an error; a `*` rule means the
    control plane and never reaches it."""
    ep = faults.create_endpoint("faults-job-cancel", workers={"min": 0, "max": 0, "idleTimeout": 5})  # jobs wait in the queue
    first, second = (faults.job(ep["id"], "run", {"input": {}}).json()["id"] for _ in range(2))

    def state(job_id: str) -> str:
        return faults.job(ep["id"], f"status/{job_id}", method="GET").json()["status"]

    faults.admin("POST", "faults", {"action": "status", "op": "*", "kind": "*", "status": 500})
    assert faults.job(ep["id"], f"cancel/{first}").json()["status"] == "CANCELLED"
    faults.admin("DELETE", "faults")
    faults.admin("POST", "faults", {"action": "status", "op": "update", "kind": "job", "status": 503, "times": 1})
    assert faults.job(ep["id"], f"cancel/{second}").status_code == 503 and state(second) == "IN_QUEUE"
    faults.admin("POST", "faults", {"action": "commit_then_fail", "op": "update", "kind": "job"})
    assert faults.job(ep["id"], f"cancel/{second}").status_code == 500 and state(second) == "CANCELLED"


def test_seed_route_inserts_v2_objects_verbatim(fresh_server: LocalServer) -> None:
    endpoint = {"id": "abcdefghij0123", "name": "theirs", "type": "QUEUE", "image": "img", "gpu": {"pools": ["ADA_24"], "count": 1,
                "allowedCudaVersions": [], "minCudaVersion": None}, "workers": {"min": 0, "max": 2, "idleTimeout": 5},
                "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "dataCenterIds": [], "networkVolumes": [], "timeout": 600000,
                "flashboot": "FLASHBOOT", "env": {"GPUCTL_PROJECT": "someone-else"}, "createdAt": "2026-11-27T00:00:00Z",
                "requestUrls": {"run": "https://api.runpod.ai/v2/abcdefghij0123/run"}}
    volume = {"id": "vol0000001", "name": "models", "size": 50, "dataCenter": "EU-RO-1", "type": "STANDARD"}
    seeded = fresh_server.admin("POST", "seed", {"endpoints": [endpoint], "networkVolumes": [volume], "templates": []})
    assert seeded == {"endpoints": 1, "networkVolumes": 1, "templates": 0}
    got = fresh_server.http.get("/v2/serverless/abcdefghij0123").json()
    assert {k: got[k] for k in ("name", "env", "flashboot", "timeout", "createdAt")} == {
        "name": "theirs", "env": {"GPUCTL_PROJECT": "someone-else"}, "flashboot": "FLASHBOOT", "timeout": 600000, "createdAt": "2026-11-27T00:00:00Z"}
    assert got["requestUrls"]["run"] == f"{fresh_server.info['endpoint_base_url']}/abcdefghij0123/run"
    assert fresh_server.http.get("/v2/network-volumes/vol0000001").json() == volume
    assert (fresh_server.data_dir / "volumes" / "vol0000001").is_dir()
    fresh_server.admin("POST", "reset")
    assert fresh_server.http.get("/v2/serverless").json() == {"endpoints": []}


def test_clearing_the_rules_answers_once_the_requests_they_held_are_in_the_request_log() -> None:
    """A deploy's PATCH held by `commit_then_hang`, let go when the test cleared the rules, was
    read from the request log as never sent on a loaded CI machine (test_interrupt_update_in_flight):
    the log gets a request once it is answered, which came after the clearing's own answer.
    Clearing now answers only when every request a hang held is logged (not one a rule fired on
    whose hang has not begun: test_rules_cleared_before_a_held_request_has_begun_its_hang_still_release_it)."""
    import asyncio
    from types import SimpleNamespace

    from gpuctl.local.api.admin import AdminRoutes

    book = SimpleNamespace(held=2, clear=lambda: None, describe=lambda: {"rules": []})
    log = SimpleNamespace(held=1)  # one of the two requests a hang held is still being answered
    routes = AdminRoutes(SimpleNamespace(reveal=lambda: None), None, None, None, None, book, log, None, "")

    async def scenario() -> None:
        clearing = asyncio.create_task(routes.clear_faults(None))
        for _ in range(20):  # the event loop runs the clearing many times over: it is waiting, not done
            await asyncio.sleep(0)
        assert not clearing.done()
        log.held = 2  # the held request is answered and logged
        answer = await asyncio.wait_for(clearing, DEADLINE_S)
        assert answer.status_code == 200

    asyncio.run(scenario())

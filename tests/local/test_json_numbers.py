"""Numbers on the local provider's wire are RFC 8259's, as on RunPod's (review 9):

- R9-1: a body holding NaN, Infinity or 1e999 is a 400 on every route (Python's json read
  them, and the answers then held bare NaN/Infinity tokens no other JSON reader reads); a
  worker's result holding one (a handler returning float("nan")) fails its job with an error
  that says so, its webhook is sent, and a webhook that cannot be delivered is logged.
- R9-2: an integer field given 2.0 or 1e2 is a 422, as a float is for Go's int, not stored as
  a float the CLI's views cannot count.
- R9-9: a GraphQL Int outside 32 bits is refused, as the GraphQL spec requires.
"""

from __future__ import annotations

import json
import math
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import httpx
import pytest

from gpuctl.local.api.http import json_response
from tests.local.conftest import LocalServer
from tests.support.wait import until

NON_FINITE = ["NaN", "Infinity", "-Infinity", "1e999", "-1e400"]


def strict(text: str) -> Any:
    """JSON as any other reader reads it: no NaN or Infinity."""
    def refuse(token: str) -> Any:
        raise AssertionError(f"{token} is not JSON: {text[:200]}")

    def number(token: str) -> float:
        value = float(token)
        assert math.isfinite(value), f"{token} is no 64-bit float: {text[:200]}"
        return value

    return json.loads(text, parse_constant=refuse, parse_float=number)


def raw(server: LocalServer, path: str, text: str) -> httpx.Response:
    """Send JSON text exactly as written (httpx's json= refuses NaN), its answer read as is."""
    return httpx.post(server.url + path, content=text.encode(), timeout=60,
                      headers={"Content-Type": "application/json", "Authorization": f"Bearer {server.token}"})


@pytest.fixture(scope="module")
def numbers(server: LocalServer) -> dict[str, Any]:
    return server.create_endpoint("json-numbers", worker="number_worker.py", timeout=300_000)


@pytest.fixture(scope="module")
def parked(server: LocalServer) -> dict[str, Any]:
    return server.create_endpoint("json-parked", workers={"min": 0, "max": 0, "idleTimeout": 5})


@pytest.mark.parametrize("token", NON_FINITE)
def test_a_job_body_with_a_non_finite_number_is_a_400_that_queues_nothing(server: LocalServer, parked: dict[str, Any], token: str) -> None:
    before = server.job(parked["id"], "health", method="GET").json()["jobs"]
    for verb in ("run", "runsync"):
        answer = raw(server, f"/ai/v2/{parked['id']}/{verb}", '{"input": {"mode": "echo", "x": %s}}' % token)
        assert answer.status_code == 400, answer.text
        assert f"the number {token}, which JSON does not have" in strict(answer.text)["error"]
    assert server.job(parked["id"], "health", method="GET").json()["jobs"] == before


@pytest.mark.parametrize("path, text", [
    ("/v2/network-volumes", '{"name": "v", "size": NaN, "dataCenter": "EU-RO-1"}'),
    ("/v2/serverless", '{"name": "x", "type": "QUEUE", "image": "i", "gpu": {"pools": ["ADA_24"]}, "workers": {"max": Infinity}}'),
    ("/graphql", '{"query": "query { myself { id } }", "variables": {"x": -Infinity}}'),
])
def test_every_route_refuses_a_non_finite_number(server: LocalServer, path: str, text: str) -> None:
    answer = raw(server, path, text)
    assert answer.status_code == 400, answer.text
    assert "which JSON does not have" in answer.text


@pytest.mark.parametrize("number", ["nan", "inf", "-inf"])
def test_a_result_holding_a_non_finite_number_fails_the_job_saying_so(server: LocalServer, numbers: dict[str, Any], number: str) -> None:
    """The SDK json.dumps the handler's result: float("nan") arrives as the token NaN. The job
    was COMPLETED with that token in every answer (no JSON reader reads it); RunPod's Go
    parser cannot read such a result either. It ends FAILED, saying what and how to fix it, and
    the worker takes the next job."""
    answer = server.http.post(f"/ai/v2/{numbers['id']}/runsync", json={"input": {"number": number}})
    job = strict(answer.text)
    assert job["status"] == "FAILED", job
    assert "worker's result" in job["error"] and "which JSON does not have" in job["error"], job
    assert "output" not in job
    assert strict(server.job(numbers["id"], f"status/{job['id']}", method="GET").text)["status"] == "FAILED"
    finite = server.http.post(f"/ai/v2/{numbers['id']}/runsync", json={"input": {"number": "1.5"}}).json()
    assert finite["status"] == "COMPLETED" and finite["output"] == {"loss": 1.5, "step": 1}, finite


def test_a_non_finite_progress_update_is_refused_and_the_job_runs_on(server: LocalServer, parked: dict[str, Any]) -> None:
    job_id = server.job(parked["id"], "run", {"input": {}}).json()["id"]
    key = server.admin("GET", f"worker-key/{parked['id']}")["key"]
    root = f"/ai/v2/{parked['id']}"
    taken = server.http.get(f"{root}/job-take/numworker001?gpu=CPU&job_in_progress=0", headers={"Authorization": key})
    assert taken.json()["id"] == job_id

    def done(text: str) -> httpx.Response:
        return httpx.post(f"{server.url}{root}/job-done/numworker001/{job_id}?isStream=false", headers={"Authorization": key}, content=text, timeout=60)

    progress = done('{"status": "IN_PROGRESS", "output": {"loss": NaN}}')
    assert progress.status_code == 400 and "progress update is not JSON" in progress.text, progress.text
    assert server.job(parked["id"], f"status/{job_id}", method="GET").json()["status"] == "IN_PROGRESS"
    assert done('{"output": 1}').status_code == 200
    assert server.job(parked["id"], f"status/{job_id}", method="GET").json()["output"] == 1


class _Hook(BaseHTTPRequestHandler):
    received: list

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        type(self).received.append(self.rfile.read(int(self.headers["Content-Length"])).decode())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def webhook() -> Iterator[tuple[str, list]]:
    received: list = []
    httpd = HTTPServer(("127.0.0.1", 0), type("Hook", (_Hook,), {"received": received}))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/done", received
    httpd.shutdown()
    httpd.server_close()


def test_the_webhook_of_a_job_whose_result_held_nan_is_sent(server: LocalServer, numbers: dict[str, Any], webhook: tuple[str, list]) -> None:
    url, received = webhook
    job_id = server.job(numbers["id"], "run", {"input": {"number": "nan"}, "webhook": url}).json()["id"]
    [body] = until(lambda: received, "the webhook of the job whose result held NaN")
    sent = strict(body)
    assert (sent["id"], sent["status"]) == (job_id, "FAILED"), sent


def test_a_webhook_that_cannot_be_delivered_is_logged_without_its_secrets(server: LocalServer, numbers: dict[str, Any]) -> None:
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    url = f"http://hookuser:hookpass-77@127.0.0.1:{port}/hook/tok-path-9931?token=hook-secret-4411"
    job_id = server.job(numbers["id"], "run", {"input": {"number": "2"}, "webhook": url}).json()["id"]
    log = server.data_dir / "server.log"
    line = until(lambda: next((x for x in log.read_text().splitlines() if job_id in x and "webhook" in x and "gave up" in x), None),
                 "the failed webhook in server.log")
    assert f"http://127.0.0.1:{port} (path not shown)" in line and "ConnectError" in line, line
    text = log.read_text()
    assert not [s for s in ("hook-secret-4411", "tok-path-9931", "hookpass-77", "hookuser") if s in text]


def test_json_response_writes_a_non_finite_number_as_null() -> None:
    """A value stored before these checks (an older state.db) still answers JSON."""
    assert json_response({"x": float("nan"), "y": [float("-inf"), 1.5]}).body == b'{"x":null,"y":[null,1.5]}'


@pytest.mark.parametrize("workers", [{"max": 2.0}, {"max": 1e2}, {"min": 0.0}, {"idleTimeout": 5e0}])
def test_an_integral_float_for_an_integer_field_is_a_422(server: LocalServer, numbers: dict[str, Any], workers: dict[str, Any]) -> None:
    """Stored as a float, `max: 2.0` came back as 2.0, and `list` showed `0..?` while drift said
    in sync. Go's encoding/json refuses 2.0 into an int field; so does the local provider."""
    before = server.http.get(f"/v2/serverless/{numbers['id']}").json()
    answer = server.http.patch(f"/v2/serverless/{numbers['id']}", json={"workers": workers})
    assert answer.status_code == 422, answer.text
    [(key, value)] = workers.items()
    assert answer.json()["errors"] == [f"$.workers.{key}: got number {json.dumps(value)}, want integer"], answer.text
    assert server.http.get(f"/v2/serverless/{numbers['id']}").json() == before


SAVE = "mutation Save($input: EndpointInput!) { saveEndpoint(input: $input) { id workersMax } }"


@pytest.mark.parametrize("number", [2**31, -(2**31) - 1, 1_000_000_000_000])
def test_a_graphql_int_beyond_32_bits_is_refused(server: LocalServer, number: int) -> None:
    listed = server.http.get("/v2/serverless").json()
    literal = f'mutation {{ saveEndpoint(input: {{name: "big", templateId: "t", gpuIds: "ADA_24", workersMax: {number}}}) {{ id workersMax }} }}'
    variable = {"query": SAVE, "variables": {"input": {"name": "big", "templateId": "t", "gpuIds": "ADA_24", "workersMax": number}}}
    for body in ({"query": literal}, variable):
        answer = server.http.post("/graphql", json=body)
        assert answer.status_code == 400, answer.text
        assert f"Int cannot represent non 32-bit signed integer value: {number}" in answer.json()["errors"][0]["message"], answer.text
    assert server.http.get("/v2/serverless").json() == listed


def test_a_graphql_int_at_the_32_bit_bound_is_an_int(server: LocalServer) -> None:
    answer = server.http.post("/graphql", json={"query": "query Q($n: Int) { gpuTypes(input: {id: \"x\"}) { id lowestPrice(input: {gpuCount: $n}) { minimumBidPrice } } }",
                                                "variables": {"n": 2**31 - 1}})
    assert "32-bit" not in answer.text, answer.text

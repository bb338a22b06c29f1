"""Issue 9, item 2: identifiers typed by a user never become paths. A job id or worker id
that is not a RunPod id is refused with a clear error before any request goes out: the only
request a bad-id command makes is the endpoint lookup by name, and another endpoint's queue is
untouched. The local provider's admin seed route refuses ids that are not ids."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Account
from tests.local.conftest import start_server, stop_server

PARKED = {"workers": {"min": 0, "max": 0, "idleTimeout": 5}}  # jobs wait in the queue: no worker ever starts
LOOKUP = {("GET", "/v2/serverless")}  # resolving NAME: the one request a bad-id command may make


@pytest.fixture(scope="module")
def accounts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Account, Path, dict, dict]]:
    """One server for the module: endpoint `victim`, the one named on the command line, and
    `other` with two jobs waiting in its queue."""
    root = tmp_path_factory.mktemp("paths")
    server = start_server(root / "provider")
    (root / "home").mkdir()
    (root / "cwd").mkdir()
    try:
        victim = server.create_endpoint("victim", **PARKED)
        other = server.create_endpoint("other", **PARKED)
        for n in range(2):
            assert server.job(other["id"], "run", {"input": {"n": n}}).json()["status"] == "IN_QUEUE"
        yield Account(server, root / "home"), root / "cwd", victim, other
    finally:
        stop_server(server)


def in_queue(account: Account, endpoint_id: str) -> int:
    return account.server.job(endpoint_id, "health", method="GET").json()["jobs"]["inQueue"]


def run_with_bad_id(account: Account, cwd: Path, *args: str):
    """Run `gpu --debug ARGS`; return the result, the requests the server saw and the URLs the
    client says it called."""
    account.server.admin("POST", "requests/reset")
    result = account.gpu("--debug", *args, cwd=cwd)
    seen = {(r["method"], r["path"]) for r in account.requests()}
    called = [line.split()[1:3] for line in result.err.splitlines() if line.startswith("debug: ")]
    return result, seen, called


def job_ids(other_id: str) -> list[str]:
    return [
        f"../../{other_id}/purge-queue",
        f"%2e%2e%2f%2e%2e%2f{other_id}%2fpurge-queue",
        f"x/../../{other_id}/purge-queue",
        "a/b",
        "?x=1",
        f"x#/../../{other_id}/purge-queue",
        "job id with spaces",
        "\x1b[31mred\x1b[0m",
        "line\nbreak",
        "..",
    ]


@pytest.mark.parametrize("verb", ["cancel", "status"])
@pytest.mark.parametrize("case", range(10))
def test_a_job_id_that_is_not_an_id_is_refused_before_any_request(accounts, verb, case):
    account, cwd, victim, other = accounts
    bad = job_ids(other["id"])[case]
    result, seen, called = run_with_bad_id(account, cwd, "serverless", "job", verb, "victim", bad)
    assert result.code == 1, result.err
    assert "is not a job id" in result.err and "5e0ae067-4a83-49b5-8368-8961f7067018-u1" in result.err and "hint:" in result.err
    assert "Traceback" not in result.err and "\x1b[31m" not in result.err
    assert seen <= LOOKUP, seen
    assert called and all(c[0] == "GET" and c[1].endswith("/v2/serverless") for c in called), called
    assert in_queue(account, other["id"]) == 2


@pytest.mark.parametrize("bad", ["../../../_admin/status", "../../../../_admin/status?", "%2e%2e/%2e%2e/_admin/status", "a/b", "?x=1", "w\tid"])
def test_a_worker_id_that_is_not_an_id_is_refused_before_any_request(accounts, bad):
    account, cwd, _, _ = accounts
    result, seen, called = run_with_bad_id(account, cwd, "serverless", "logs", "victim", "--worker", bad)
    assert result.code == 1, result.err
    assert "is not a worker id" in result.err and "hint:" in result.err and "Traceback" not in result.err
    assert seen <= LOOKUP, seen
    assert all(c[0] == "GET" and c[1].endswith("/v2/serverless") for c in called), called


def test_a_real_job_id_still_reaches_its_own_endpoint(accounts):
    account, cwd, victim, other = accounts
    job = account.server.job(victim["id"], "run", {"input": {}}).json()
    account.server.admin("POST", "requests/reset")
    result = account.gpu("serverless", "job", "cancel", "victim", job["id"], cwd=cwd)
    assert result.code == 0, result.err
    assert ("POST", f"/ai/v2/{victim['id']}/cancel/{job['id']}") in {(r["method"], r["path"]) for r in account.requests()}
    assert in_queue(account, other["id"]) == 2


def _seed(account: Account, body: dict) -> httpx.Response:
    return account.server.http.post("/_admin/seed", json=body)


@pytest.mark.parametrize("key", ["networkVolumes", "templates", "endpoints"])
@pytest.mark.parametrize("bad", ["../../x", "..", "a/b", "%2e%2e", "x\x00y", ""])
def test_admin_seed_refuses_ids_that_are_not_ids(accounts, key, bad):
    account, _, _, _ = accounts
    answer = _seed(account, {key: [{"id": bad, "name": "seeded"}]})
    assert 400 <= answer.status_code < 500, answer.text
    assert "RunPod's shape" in answer.json()["detail"]


def test_admin_seed_of_a_traversing_volume_id_touches_nothing_outside_the_data_dir(tmp_path):
    """A seeded volume gets a directory under volumes/ named by its id: `../../x` would be
    tmp_path/x, outside the data dir, and deleting that volume would remove it."""
    server = start_server(tmp_path / "provider")
    assert (server.data_dir / "volumes" / ".." / "..").resolve() == tmp_path.resolve()
    sentinel = tmp_path / "keep" / "file.txt"
    sentinel.parent.mkdir()
    sentinel.write_text("not the server's")
    account = Account(server, tmp_path)
    try:
        for bad in ("../../x", "../../keep", ".."):
            answer = _seed(account, {"networkVolumes": [{"id": bad, "name": "evil", "size": 10, "dataCenter": "EU-RO-1", "type": "STANDARD"}]})
            assert answer.status_code == 422, answer.text
        assert account.volumes() == []
        assert server.http.delete("/v2/network-volumes/..%2F..%2Fkeep").status_code == 404
        server.admin("POST", "reset")
        assert not (tmp_path / "x").exists() and sentinel.read_text() == "not the server's"
        assert server.data_dir.is_dir()
    finally:
        stop_server(server)

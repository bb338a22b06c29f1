"""Clients that open connections and send nothing, or half a request, cannot hold the server
(server/connections.py): each request must arrive within a read timeout, and past a cap on
open connections the idle ones are closed to make room, never a request being served.

Before, 1,005 silent sockets took every file descriptor of a server with a limit of 1,024 and
real requests were reset; half a request head held its connection for ever."""

from __future__ import annotations

import json
import resource
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.local.conftest import LocalServer, start_server, stop_server
from tests.support.wait import DEADLINE_S


def _connect(server: LocalServer) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", server.info["port"]))
    sock.settimeout(DEADLINE_S)  # only ends a hung run: each read below waits for the server to act
    return sock


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (the event awaited)."""
    received = b""
    while chunk := sock.recv(65536):
        received += chunk
    return received


@pytest.fixture
def quick(tmp_path: Path) -> Iterator[LocalServer]:
    """A server that gives a request 0.3 s to arrive."""
    started = start_server(tmp_path / "data", {"read_timeout_s": 0.3})
    yield started
    stop_server(started)


def test_half_a_request_head_is_answered_408_and_closed(quick: LocalServer) -> None:
    with _connect(quick) as sock:
        sock.sendall(b"GET /v2/serverless HTTP/1.1\r\nHost: x\r\n")
        assert _until_closed(sock).startswith(b"HTTP/1.1 408 ")


def test_a_connection_that_sends_nothing_is_closed(quick: LocalServer) -> None:
    with _connect(quick) as sock:
        assert _until_closed(sock) == b""


def test_a_body_that_stops_coming_is_closed_and_logs_no_error(quick: LocalServer) -> None:
    head = f"POST /v2/serverless HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {quick.token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    with _connect(quick) as sock:
        sock.sendall(head.encode() + b'{"name": ')
        assert b" 201 " not in _until_closed(sock)
    assert quick.http.get("/v2/serverless").json() == {"endpoints": []}
    log = (quick.data_dir / "server.log").read_text()
    assert "Traceback" not in log and "ClientDisconnect" not in log, log


def test_a_request_the_server_holds_longer_than_the_read_timeout_is_answered(quick: LocalServer) -> None:
    """The timeout is about the client's bytes: a request being handled (a long poll, here a
    held list) is not cut, however long it takes."""
    quick.admin("POST", "faults", {"op": "list", "kind": "endpoint", "action": "hang", "seconds": 1.0, "times": 1})
    assert quick.http.get("/v2/serverless").status_code == 200


def test_a_kept_alive_connection_serves_requests_after_the_read_timeout_would_have_passed(quick: LocalServer) -> None:
    """An idle kept-alive connection is not waiting on its client: the worker SDK sends a
    job's result on the connection it took the job on, after the handler ran."""
    quick.admin("POST", "faults", {"op": "list", "kind": "endpoint", "action": "hang", "seconds": 1.0, "times": 1})
    assert quick.http.get("/v2/serverless").status_code == 200  # held well past 0.3 s on this connection
    assert quick.http.get("/v2/serverless").status_code == 200


def test_a_client_waiting_for_100_continue_is_not_waiting_on_itself(quick: LocalServer) -> None:
    """With `Expect: 100-continue` (curl sends it for bodies over 1 MB) the client holds its
    body until the server asks for it, which it does when the route reads it: a request held
    before that (here a 1 s hold) is the server's delay, not the client's."""
    quick.admin("POST", "faults", {"op": "create", "kind": "endpoint", "action": "hang", "seconds": 1.0, "times": 1})
    body = json.dumps({"name": "expect", "type": "QUEUE", "image": "local/worker:dev", "gpu": {"pools": ["ADA_24"]},
                       "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}).encode()
    head = (f"POST /v2/serverless HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {quick.token}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
    with _connect(quick) as sock:
        sock.sendall(head.encode())
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 ")
        sock.sendall(body)
        assert _until_closed(sock).startswith(b"HTTP/1.1 201 ")


def test_idle_connections_past_the_file_descriptor_limit_do_not_starve_a_real_request(tmp_path: Path) -> None:
    """With 512 file descriptors (the usual limit is 1,024), 600 connections doing nothing: some
    silent, some after a request of their own, some half-way through a head. The read timeout is
    long, so it is the cap that makes room."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < 4096:
        pytest.skip("the test needs 4,096 file descriptors of its own")
    resource.setrlimit(resource.RLIMIT_NOFILE, (512, hard))  # what the server inherits
    try:
        server = start_server(tmp_path / "data", {"read_timeout_s": 600})
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, 4096), hard))
    held: list[socket.socket] = []
    try:
        for i in range(600):
            sock = _connect(server)
            if i % 3 == 1:  # a request of its own (refused: no key), then kept alive
                sock.sendall(b"GET /v2/serverless HTTP/1.1\r\nHost: x\r\n\r\n")
                assert sock.recv(65536).startswith(b"HTTP/1.1 401 ")
            elif i % 3 == 2:
                sock.sendall(b"GET /v2/serverless HTTP/1.1\r\nHost: x\r\n")
            held.append(sock)
        assert server.http.get("/v2/serverless").status_code == 200
    finally:
        for sock in held:
            sock.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        stop_server(server)

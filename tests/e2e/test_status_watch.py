"""`gpu serverless status NAME --watch` without a terminal (issue 8, item 7): each refresh is
one line (one JSON document with --json), written as it happens, and Ctrl-C or SIGTERM ends
the watch cleanly."""

from __future__ import annotations

import json
import queue
import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import (
    ECHO_HANDLER,
    Account,
    deployed_project,
    echo_config,
    project,
)
from tests.support.wait import DEADLINE_S

LINE = re.compile(r"^\d\d:\d\d:\d\d echo: workers (\d+) running, \d+ idle, \d+ initializing, \d+ throttled, \d+ unhealthy; "
                  r"jobs \d+ in queue, \d+ in progress, (\d+) completed, \d+ failed; release v\d+$")


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Account, Path]]:
    with deployed_project(tmp_path_factory.mktemp("watch"), echo_config(idle_timeout=120), {"handler.py": ECHO_HANDLER}) as both:
        yield both


def watch(account: Account, proj: Path, *extra: str) -> tuple[subprocess.Popen, queue.Queue]:
    """The watch running, and its stdout lines as they come (None once stdout closes)."""
    process = account.popen("serverless", "status", "echo", "--watch", "--interval", "0.1", "--provider", "local", *extra, cwd=proj)
    lines: queue.Queue = queue.Queue()

    def pump() -> None:
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    return process, lines


def next_line(lines: queue.Queue) -> str:
    line = lines.get(timeout=DEADLINE_S)
    assert line is not None, "the watch stopped writing"
    return line


def stop(process: subprocess.Popen, lines: queue.Queue, signum: int) -> list[str]:
    """Send `signum`; the exit code must be 0 and whatever was still written whole lines."""
    process.send_signal(signum)
    assert process.wait(timeout=DEADLINE_S) == 0, process.stderr.read()
    rest = []
    while (line := lines.get(timeout=DEADLINE_S)) is not None:
        rest.append(line)
    return rest


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_each_refresh_is_one_line_until_a_signal(deployed, signum):
    account, proj = deployed
    process, lines = watch(account, proj)
    seen = [next_line(lines) for _ in range(3)]
    seen += stop(process, lines, signum)
    for line in seen:
        assert line.endswith("\n") and LINE.match(line.rstrip("\n")), repr(line)
    assert process.stderr.read() == ""


def test_a_refresh_shows_what_changed(deployed):
    account, proj = deployed
    process, lines = watch(account, proj)
    before = LINE.match(next_line(lines).rstrip("\n"))
    assert before, "not a status line"
    invoked = account.gpu("serverless", "invoke", "echo", "--input", '{"prompt": "hi"}', "--provider", "local", cwd=proj)
    assert invoked.code == 0, invoked.err
    while (match := LINE.match(next_line(lines).rstrip("\n"))) and int(match[2]) == int(before[2]):
        pass
    assert match and int(match[2]) == int(before[2]) + 1, "the completed job never showed up"
    stop(process, lines, signal.SIGINT)


def test_json_watch_writes_one_document_a_line(deployed):
    account, proj = deployed
    process, lines = watch(account, proj, "--json")
    docs = [json.loads(next_line(lines)) for _ in range(2)]
    assert all(doc["name"] == "echo" and "workers" in doc and "jobs" in doc for doc in docs)
    assert all(json.loads(line)["name"] == "echo" for line in stop(process, lines, signal.SIGINT))


def test_an_endpoint_deleted_under_watch_follow_and_invoke_is_said_so(account, tmp_path):
    """Deleted while watched, followed, or while a job of it ran: each command ends with exit
    1 and one line saying the endpoint was deleted, not the raw 404 of whichever call noticed
    (`GET /v2/serverless/ID: not found`, `job ... no longer exists`)."""
    from tests.support.terminal import Output
    from tests.support.wait import until

    talker = (Path(__file__).parent / "workers" / "talker.py").read_text()
    config = echo_config(idle_timeout=120)
    config["serverless"]["local"]["command"] = ["python", "talker.py"]
    proj = project(tmp_path / "p", config, {"talker.py": talker})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    endpoint_id = account.endpoints()[0]["id"]
    invoke = account.popen("serverless", "invoke", "echo", "--input", json.dumps({"release": str(tmp_path / "never")}), cwd=proj)
    until(lambda: account.server.http.get(f"/ai/v2/{endpoint_id}/health").json()["jobs"]["inProgress"] == 1, "the job running")
    watching = account.popen("serverless", "status", "echo", "--watch", "--interval", "0.1", cwd=proj)
    Output.of_pipe(watching.stdout).wait_for("echo: workers")
    following = account.popen("serverless", "logs", "echo", "--follow", cwd=proj)
    Output.of_pipe(following.stdout).wait_for("talker got")
    assert account.gpu("serverless", "delete", "echo", "--force", cwd=proj).code == 0
    for process, doing in ((invoke, "the job ran"), (watching, "status --watch followed it"), (following, "logs --follow followed it")):
        assert process.wait(timeout=60) == 1
        err = process.stderr.read()
        assert f"error: endpoint echo ({endpoint_id}) was deleted while {doing}" in err, err
        assert "gpu serverless list --all" in err and "not found" not in err and "Traceback" not in err


def test_a_local_provider_stopped_under_a_watch_says_to_start_it(account, tmp_path):
    """The hint of an unreachable API named RUNPOD_API_BASE_URL, which plays no part for the
    local provider: the fix there is `gpu local up`."""
    from tests.support.terminal import Output

    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    watching = account.popen("serverless", "status", "echo", "--watch", "--interval", "0.1s", cwd=proj)  # a duration, as --timeout
    Output.of_pipe(watching.stdout).wait_for("echo: workers")
    assert account.gpu("local", "down", cwd=proj).code == 0
    assert watching.wait(timeout=120) == 1
    err = watching.stderr.read()
    assert "error: cannot connect to" in err and "start it again with `gpu local up`" in err, err
    assert "RUNPOD_API_BASE_URL" not in err

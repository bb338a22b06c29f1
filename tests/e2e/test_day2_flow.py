"""The day-2 loop as a user runs it, one command after another against the local provider:
deploy → list in sync → status 0 workers → invoke starts a worker (status shows it) → logs
show the handler's output → after idle_timeout status shows 0 workers → delete (the volume is
still listed) → template delete refuses a template in use. Plus status --watch on a terminal."""

from __future__ import annotations

import json
import signal
import sys
import time

from tests.e2e.conftest import ROOT, echo_config, project
from tests.support.pty_run import run_in_pty

TALKER = (ROOT / "tests" / "e2e" / "workers" / "talker.py").read_text()


def _workers(account, proj) -> dict:
    result = account.gpu("serverless", "status", "echo", "--json", cwd=proj)
    assert result.code == 0, result.err
    return json.loads(result.out)["workers"]


def test_day_two_loop(account, tmp_path):
    config = echo_config(volume="models", idle_timeout=6)
    config["serverless"]["local"]["command"] = ["python", "talker.py"]
    proj = project(tmp_path / "p", config, {"talker.py": TALKER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0

    listed = json.loads(account.gpu("serverless", "list", "--json", cwd=proj).out)["endpoints"]
    assert [(e["name"], e["state"]) for e in listed] == [("echo", "in sync")]
    assert _workers(account, proj)["total"] == 0

    answer = account.gpu("serverless", "invoke", "echo", "--input", '{"prompt": "day two"}', cwd=proj)
    assert answer.code == 0 and json.loads(answer.out) == {"echo": {"prompt": "day two"}}
    assert _workers(account, proj)["total"] == 1

    logs = account.gpu("serverless", "logs", "echo", cwd=proj)
    assert logs.code == 0 and "talker got 'day two'" in logs.out

    deadline = time.monotonic() + 60
    while _workers(account, proj)["total"] and time.monotonic() < deadline:
        time.sleep(0.5)
    assert _workers(account, proj)["total"] == 0, "the worker did not scale to zero after idle_timeout"

    deleted = account.gpu("serverless", "delete", "echo", "--force", cwd=proj)
    assert deleted.code == 0 and "is kept" in deleted.err
    assert account.gpu("serverless", "list", "--json", cwd=proj).out.count('"missing"') == 1
    assert [v["name"] for v in account.volumes()] == ["models"]

    http = account.server.http
    template = http.post("/v2/templates", json={"name": "bound-tpl", "image": "x/y:1", "serverless": True, "startSsh": False, "startJupyter": False}).json()
    http.post("/graphql", json={"query": 'mutation { saveEndpoint(input: {name: "user", templateId: "%s", gpuIds: "ADA_24"}) { id } }' % template["id"]})
    refused = account.gpu("serverless", "template", "delete", template["id"], "--force", cwd=proj)
    assert refused.code == 1 and "is used by endpoint user" in refused.err


def test_status_watch_refreshes_until_interrupted(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"talker.py": TALKER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    import os
    import pty
    import subprocess

    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "gpuctl", "serverless", "status", "echo", "--watch", "--interval", "0.3"], cwd=proj,
                            env=account.env, stdin=slave, stdout=slave, stderr=slave, close_fds=True)
    os.close(slave)
    seen = b""
    deadline = time.monotonic() + 30
    while seen.count(b"in queue") < 2 and time.monotonic() < deadline:
        try:
            seen += os.read(master, 65536)
        except OSError:
            break
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=20) == 0
    os.close(master)
    assert seen.count(b"in queue") >= 2


def test_list_all_shows_owners_and_unmanaged(account, tmp_path):
    mine = project(tmp_path / "mine", echo_config(), {"talker.py": TALKER})
    assert account.gpu("serverless", "deploy", "-y", cwd=mine).code == 0
    account.server.http.post("/v2/serverless", json={"name": "by-hand", "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}})
    rows = json.loads(account.gpu("serverless", "list", "--all", "--json", cwd=tmp_path).out)["endpoints"]
    assert sorted((r["name"], r["project"]) for r in rows) == [("by-hand", "unmanaged"), ("echo", "e2e")]
    code, out = run_in_pty([sys.executable, "-m", "gpuctl", "serverless", "list", "--all"], tmp_path, account.env, [])
    assert code == 0 and "unmanaged" in out and "PROJECT" in out

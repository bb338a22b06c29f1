"""An account listing that repeats an object (a snapshot with its list doubled, a page RunPod
serves twice while the account changes under it) is one object, not two (review 4, R4-8):
the planner took the repeat for a second endpoint with the project's marker and the block's
name, and advised "keep X (the oldest), delete X" with `gpu serverless delete X --force`, the
command that deletes the only endpoint."""

from __future__ import annotations

import json

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project


def test_an_endpoint_listed_twice_is_one_endpoint_and_never_advised_for_deletion(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert account.gpu("serverless", "snapshot", "--out", "snap.json", cwd=proj).code == 0
    snapshot = json.loads((proj / "snap.json").read_text())
    for kind in ("endpoints", "network_volumes", "templates"):
        if isinstance(snapshot.get(kind), list):
            snapshot[kind] = snapshot[kind] * 2
    (proj / "twice.json").write_text(json.dumps(snapshot))
    (endpoint,) = account.endpoints()

    plan = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--observed", "twice.json", cwd=proj)
    assert plan.code == 0, plan.out + plan.err
    assert "delete" not in plan.err and endpoint["id"] in json.dumps(snapshot)
    drift = account.gpu("serverless", "drift", "--observed", "twice.json", cwd=proj)
    assert drift.code == 0, drift.out + drift.err
    assert f"delete {endpoint['id']}" not in drift.out + drift.err

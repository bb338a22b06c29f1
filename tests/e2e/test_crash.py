"""R3: kill -9 of the CLI at every write boundary of a volume + two-endpoint plan, then deploy
again: the account matches the config with 0 duplicates, with and without `.gpu/`.

Two kinds of boundary, each aimed at the k-th write by a fault rule on the local provider:
- between writes: the read-back after write k hangs, and the CLI is killed while waiting;
- committed, answer lost: write k is carried out, its answer withheld, and the CLI killed.
"""

from __future__ import annotations

import json
import shutil
import time

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

WRITES = 3  # volume, endpoint a, endpoint b
POINTS = [("between", k) for k in range(1, WRITES + 1)] + [("committed", k) for k in range(1, WRITES + 1)]


def _config() -> dict:
    config = echo_config(name="a", volume="models")
    config["serverless"] = [config["serverless"], json.loads(json.dumps(config["serverless"])) | {"name": "b"}]
    return config


def _rule(kind: str, k: int) -> dict:
    if kind == "between":
        return {"op": "get", "action": "hang", "seconds": 60, "after": k - 1, "times": 1}
    return {"op": "write", "action": "commit_then_hang", "seconds": 60, "after": k - 1, "times": 1}


def _wait_fired(account, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if account.server.admin("GET", "faults")["rules"][0]["fired"]:
            return
        time.sleep(0.05)
    raise AssertionError("the fault never fired")


@pytest.mark.parametrize("parallelism", ["1", "10"])
@pytest.mark.parametrize("keep_gpu_dir", [True, False], ids=["with-.gpu", "without-.gpu"])
@pytest.mark.parametrize("point", POINTS, ids=[f"{kind}-{k}" for kind, k in POINTS])
def test_kill_9_at_a_write_boundary_then_deploy_converges(account, tmp_path, point, keep_gpu_dir, parallelism):
    """Under --parallelism 10 the endpoints are written concurrently, so write k is whichever
    reaches the server k-th, and the others may be in flight when the CLI dies."""
    proj = project(tmp_path / "p", _config(), {"handler.py": ECHO_HANDLER})
    account.faults(_rule(*point))
    victim = account.popen("serverless", "deploy", "-y", "--parallelism", parallelism, cwd=proj)
    _wait_fired(account)
    time.sleep(0.2)
    victim.kill()
    victim.wait(timeout=30)
    account.clear_faults()
    if not keep_gpu_dir:
        shutil.rmtree(proj / ".gpu", ignore_errors=True)
    again = account.gpu("serverless", "deploy", "-y", "--parallelism", parallelism, cwd=proj)
    assert again.code == 0, again.err
    assert sorted(e["name"] for e in account.endpoints()) == ["a", "b"]
    assert [v["name"] for v in account.volumes()] == ["models"]
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0

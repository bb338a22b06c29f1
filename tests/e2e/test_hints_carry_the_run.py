"""The commands the deploy flow's own messages suggest carry the run's --config and --provider,
quoted, and name account objects by id: the health gate's advice after a rollback it could not
make, and the planner's commands that delete duplicates. Both were written by hand
(`gpu serverless history ID`, `gpu serverless delete ID --force`), so, pasted from where the
run was made, they acted on ./gpu.jsonc's project and the default provider, not on the
`--config sub/gpu.jsonc` the run read."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from tests.e2e.conftest import echo_config, project
from tests.e2e.test_wait_healthy import SMOKE_WORKER

pytestmark = pytest.mark.e2e


def commands(text: str) -> list[list[str]]:
    """Every `gpu ...` command in backticks, as a shell splits it."""
    return [shlex.split(c) for c in re.findall(r"`(gpu [^`]*)`", text)]


def _smoky(root, config: str, release: str):
    sub = root / config.rsplit("/", 1)[0]
    return project(sub, echo_config(name="smoky", project_id="smoky", env={"RELEASE": release}),
                   {"handler.py": SMOKE_WORKER, "smoke.json": json.dumps({"input": {"prompt": "ping"}})})


def test_the_health_gate_s_advice_after_a_rollback_it_could_not_make_carries_the_run_s_config(account, tmp_path):
    config = "sub/gpu.jsonc"
    flags = ["--config", config, "--provider", "local"]
    root = tmp_path / "repo"
    _smoky(root, config, "good")
    assert account.gpu("serverless", "deploy", "-y", *flags, cwd=root).code == 0
    _smoky(root, config, "broken")
    (endpoint,) = account.endpoints()
    # the deploy's own PATCH (the first) lands; the rollback's (the second) loses its env, so the rollback is not kept
    account.faults({"op": "update", "kind": "endpoint", "action": "drop_field", "field": "env", "after": 1, "times": 1})
    result = account.gpu("serverless", "deploy", "-y", "--wait-healthy", "--smoke", "sub/smoke.json", "--rollback-on-failure", *flags,
                         cwd=root, timeout=300)
    assert result.code == 5, result.err
    assert "did not keep the rollback" in result.err, result.err
    history = [c for c in commands(result.err) if c[:3] == ["gpu", "serverless", "history"]]
    assert history == [["gpu", "serverless", "history", endpoint["id"], *flags]], result.err
    assert f"`gpu serverless history {endpoint['id']} --config sub/gpu.jsonc --provider local`" in result.err, result.err


@pytest.mark.parametrize("config", ["sub/gpu.jsonc", "my sub/gpu.jsonc"], ids=["plain", "spaced"])
def test_the_duplicates_advice_deletes_by_id_with_the_run_s_config(account, tmp_path, config):
    flags = ["--config", config, "--provider", "local"]
    root = tmp_path / "repo"
    _smoky(root, config, "good")
    body = {"name": "smoky", "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4},
            "env": {"GPUCTL_PROJECT": "smoky"}}
    made = [account.server.http.post("/v2/serverless", json=body).json() for _ in range(2)]
    older, newer = (e["id"] for e in sorted(made, key=lambda e: (e["createdAt"], e["id"])))
    plan = account.gpu("serverless", "deploy", "--plan", *flags, cwd=root)
    assert plan.code == 1, plan.err
    deletes = [c for c in commands(plan.err) if c[:3] == ["gpu", "serverless", "delete"]]
    assert deletes == [["gpu", "serverless", "delete", newer, "--force", *flags]], plan.err
    assert f"`gpu serverless delete {newer} --force {shlex.join(flags)}`" in plan.err, plan.err  # quoted as a shell needs
    done = account.gpu(*deletes[0][1:], cwd=root)  # as pasted, from where the plan was made
    assert done.code == 0, done.err
    assert [e["id"] for e in account.endpoints()] == [older]

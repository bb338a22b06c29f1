"""R1 with random configs: for configs drawn by Hypothesis, deploy to the local provider with
ten changes in flight at once, then `deploy --plan --detailed-exitcode` exits 0 and a second
deploy makes no write."""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings

from tests.conftest import run_cli
from tests.support.strategies import configs


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(config=configs())
def test_random_configs_converge_in_one_apply(account, tmp_path, config):
    account.server.admin("POST", "reset")
    proj = tmp_path / "random"
    proj.mkdir(exist_ok=True)
    (proj / "gpu.jsonc").write_text(json.dumps(config))
    env = account.env | {"GPUCTL_VISIBILITY_GRACE": "2"}
    first = run_cli(["serverless", "deploy", "-y", "--parallelism", "10", "--provider", "local"], proj, env)
    assert first.code == 0, first.err
    writes = account.writes()
    plan = run_cli(["serverless", "deploy", "--plan", "--detailed-exitcode", "--provider", "local"], proj, env)
    assert plan.code == 0, plan.out
    again = run_cli(["serverless", "deploy", "-y", "--provider", "local"], proj, env)
    assert again.code == 0 and account.writes() == writes

"""One always-on cost: `status --json` and `deploy --plan --json` give the same number for the
same endpoint, by the plan's formula (min workers at the first GPU pool's active rate).
`status` used to price the cheapest pool instead, so a fallback GPU type made them differ."""

from __future__ import annotations

import pytest

from gpuctl.catalog import load_catalog
from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

pytestmark = pytest.mark.e2e


def test_status_and_the_plan_agree_on_the_always_on_cost(account, tmp_path):
    config = echo_config(min_workers=1, max_workers=2)
    config["serverless"] |= {"gpu_type": "NVIDIA A100 80GB PCIe", "gpu_types": ["NVIDIA L4"]}  # the dear pool first, a cheap fallback
    proj = project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})
    done = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    assert done.code == 0, done.err
    plan = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj)
    status = account.gpu("serverless", "status", "echo", "--json", "--provider", "local", cwd=proj)
    assert plan.code == 0 and status.code == 0, plan.err + status.err
    (item,) = [i for i in plan.json()["cost"]["items"] if i["address"] == "endpoint.echo"]
    catalog = load_catalog()
    first = catalog.pools[catalog.gpus["NVIDIA A100 80GB PCIe"].pool].active_usd_per_hour
    assert status.json()["always_on_usd_per_hour"] == item["before"]["always_on_per_hour"] == item["always_on_per_hour"] == round(first, 4)

"""One always-on cost: `status --json` and `deploy --plan --json` give the same number for the
same endpoint, by the plan's formula (min workers at the dearest GPU pool's active rate).
`status` used to price the cheapest pool instead, so a fallback GPU type made them differ."""

from __future__ import annotations

import pytest

from gpuctl.catalog import load_catalog
from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("first, rest", [("NVIDIA A100 80GB PCIe", ["NVIDIA L4"]), ("NVIDIA L4", ["NVIDIA A100 80GB PCIe"])], ids=["dear-first", "cheap-first"])
def test_status_and_the_plan_agree_on_the_always_on_cost(account, tmp_path, first, rest):
    """Either order prices the dearest pool (review 6, R6-2: a cheap first type lowered it)."""
    config = echo_config(min_workers=1, max_workers=2)
    config["serverless"] |= {"gpu_type": first, "gpu_types": rest}
    proj = project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})
    done = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    assert done.code == 0, done.err
    plan = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj)
    status = account.gpu("serverless", "status", "echo", "--json", "--provider", "local", cwd=proj)
    assert plan.code == 0 and status.code == 0, plan.err + status.err
    (item,) = [i for i in plan.json()["cost"]["items"] if i["address"] == "endpoint.echo"]
    catalog = load_catalog()
    dearest = catalog.pools[catalog.gpus["NVIDIA A100 80GB PCIe"].pool].active_usd_per_hour
    assert status.json()["always_on_usd_per_hour"] == item["before"]["always_on_per_hour"] == item["always_on_per_hour"] == round(dearest, 4)


def _volume_project(tmp_path, count: int):
    """`count` endpoints with no always-on worker, each with its own 10 GB volume: storage of
    $0.001/h a volume, which rounds to $0.00."""
    blocks = []
    for i in range(count):
        block = echo_config(name=f"e{i}", volume=f"v{i}")["serverless"]
        block["volume"]["size_gb"] = 10
        blocks.append(block)
    return project(tmp_path / "p", {"project_id": "e2e", "serverless": blocks}, {"handler.py": ECHO_HANDLER})


def test_storage_under_a_cent_is_shown_and_the_cost_table_adds_up(account, tmp_path):
    """Six 10 GB volumes cost $0.006/h: the always-on total said +$0.01/h while the Markdown
    table hid every volume (their $0.00 rows) and the text plan called one volume "unchanged"."""
    proj = _volume_project(tmp_path, 6)
    plan = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj)
    assert plan.code == 0, plan.err
    cost = plan.json()["cost"]
    volumes = [i for i in cost["items"] if i["address"].startswith("network_volume.")]
    assert len(volumes) == 6 and all(v["delta"]["always_on_per_hour"] == 0.001 for v in volumes)
    assert cost["delta"]["always_on_per_hour"] == round(sum(i["delta"]["always_on_per_hour"] for i in cost["items"]), 4) == 0.006
    md = account.gpu("serverless", "deploy", "--plan", "--format", "markdown", "--provider", "local", cwd=proj).out
    for v in volumes:
        assert f"| `{v['address']}` | $0.00/h → <$0.01/h (+<$0.01/h) |" in md, md
    assert "| **total** | $0.00/h → $0.01/h (+$0.01/h) |" in md
    assert "rounded to the cent on its own" in md, "rows of <$0.01 cannot add up to the total: the comment says so"
    one = _volume_project(tmp_path / "one", 1)
    text = account.gpu("serverless", "deploy", "--plan", "--provider", "local", cwd=one).out
    assert "  always-on  $0.00/h → <$0.01/h (+<$0.01/h)" in text, text


def test_a_worker_bound_the_account_leaves_out_costs_runpods_default_not_zero(account, tmp_path):
    """An answer without `workers.max`: the plan priced the live endpoint's worst case as if it
    could run no worker beyond min ($0.47/h before, $1.84/h after, for an endpoint in sync),
    called its pools unpriced, and `status`/`list` showed "1..None" and an unknown always-on
    cost. RunPod runs it with its default max (3), and everything now counts with that."""
    config = echo_config(min_workers=1)
    del config["serverless"]["scaling"]["max_workers"]  # the default, 3
    proj = project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})
    done = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    assert done.code == 0, done.err
    in_sync = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj).json()["cost"]
    account.faults(*({"op": op, "kind": "endpoint", "action": "omit_field", "field": "workers.max"} for op in ("get", "list")))
    try:
        plan = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj)
        text = account.gpu("serverless", "deploy", "--plan", "--provider", "local", cwd=proj)
        status = account.gpu("serverless", "status", "echo", "--provider", "local", cwd=proj)
        status_json = account.gpu("serverless", "status", "echo", "--json", "--provider", "local", cwd=proj)
        listed = account.gpu("serverless", "list", "--json", "--provider", "local", cwd=proj)
    finally:
        account.clear_faults()
    assert "workers.max" not in (status_json.json()["scaling"]["workers"] or {})  # the fault did leave it out
    (item,) = [i for i in plan.json()["cost"]["items"] if i["address"] == "endpoint.echo"]
    assert item["before"] == {"always_on_per_hour": item["always_on_per_hour"], "worst_case_per_hour": item["worst_case_per_hour"]}
    assert plan.json()["cost"] == in_sync
    assert "worst case" in text.out and "(unchanged)" in text.out.split("worst case", 1)[1].splitlines()[0], text.out
    assert "no published price" not in text.out, text.out
    assert "1..3 workers" in status.out and "None" not in status.out, status.out
    assert status_json.json()["always_on_usd_per_hour"] == item["always_on_per_hour"]
    (row,) = listed.json()["endpoints"]
    assert (row["workers_min"], row["workers_max"]) == (1, 3)


def test_runpods_worker_defaults_are_the_ones_gpu_jsonc_and_the_openapi_document_give():
    import json

    from gpuctl.catalog import state_dir
    from gpuctl.config.schema import Scaling
    from gpuctl.v2 import WORKERS_DEFAULT, effective_workers

    spec = json.loads((state_dir() / "runpod" / "openapi-v2.json").read_text())
    create = spec["components"]["schemas"]["CreateEndpointRequest"]
    declared = next(part["properties"]["workers"]["properties"] for part in create["allOf"] if "workers" in part.get("properties", {}))
    assert WORKERS_DEFAULT == {k: declared[k]["default"] for k in ("min", "max")}
    assert WORKERS_DEFAULT == {"min": Scaling().min_workers, "max": Scaling().max_workers}
    assert effective_workers({}) == effective_workers({"workers": {}}) == (0, 3)
    assert effective_workers({"workers": {"min": 2, "max": None}}) == (2, None)
    assert effective_workers({"workers": {"min": True, "max": "5"}}) == (None, None)


def test_gpus_per_worker_multiply_every_cost(account, tmp_path):
    """The catalog's rates are per GPU: an endpoint set to 2 GPUs per worker in the console costs
    twice as much, in `status` and in the plan's before, and the plan's after (which sets it back
    to 1, ADR 36) costs once (review 3, R10: both priced 1 GPU per worker)."""
    proj = project(tmp_path / "p", echo_config(min_workers=1, max_workers=2), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj).code == 0
    (endpoint,) = account.endpoints()
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"gpu": {"count": 2}}).status_code == 200
    plan = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj)
    status = account.gpu("serverless", "status", "echo", "--json", "--provider", "local", cwd=proj)
    assert plan.code == 0 and status.code == 0, plan.err + status.err
    (item,) = [i for i in plan.json()["cost"]["items"] if i["address"] == "endpoint.echo"]
    active = load_catalog().pools["ADA_24"].active_usd_per_hour
    assert status.json()["always_on_usd_per_hour"] == item["before"]["always_on_per_hour"] == round(2 * active, 4)
    assert item["always_on_per_hour"] == round(active, 4)

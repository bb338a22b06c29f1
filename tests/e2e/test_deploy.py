"""deploy as a user runs it, against the local provider over loopback (issue 4)."""

from __future__ import annotations

import json
import shutil

import httpx

from tests.e2e.conftest import ECHO_HANDLER, ROOT, echo_config, project


def test_quickstart_example_deploys_and_a_real_worker_answers(account, tmp_path):
    example = tmp_path / "echo"
    shutil.copytree(ROOT / "examples" / "echo", example)
    result = account.gpu("serverless", "deploy", "-y", cwd=example)
    assert result.code == 0, result.err
    assert "Apply complete: 1 created" in result.out and "curl -X POST" in result.out
    url = next(line.split()[-1] for line in result.out.splitlines() if line.strip().startswith("url:"))
    answer = httpx.post(url, json={"input": {"prompt": "hello local world"}}, headers={"Authorization": f"Bearer {account.server.token}"}, timeout=60).json()
    assert answer["status"] == "COMPLETED" and answer["output"] == {"echo": "hello local world", "words": 3}


def test_a_deploy_in_a_git_checkout_leaves_nothing_for_git_to_commit(account, tmp_path):
    """`git add -A` after a deploy must not commit this checkout's `.gpu/` (its lock and
    journal are no other checkout's business): gpuctl makes `.gpu/` ignore itself."""
    import subprocess

    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    git = lambda *args: subprocess.run(["git", *args], cwd=proj, capture_output=True, text=True, check=True).stdout  # noqa: E731
    git("init", "-q")
    before = git("status", "--porcelain", "--untracked-files=all")
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert (proj / ".gpu" / "deploy.lock").exists()
    assert git("status", "--porcelain", "--untracked-files=all") == before


def test_second_deploy_makes_no_write_and_plan_is_clean(account, tmp_path):
    """R1 and R6: apply, then a plan is empty and neither run writes."""
    proj = project(tmp_path / "p", echo_config(volume="models"), {"handler.py": ECHO_HANDLER})
    first = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert first.code == 0, first.err
    writes = account.writes()
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0
    again = account.gpu("serverless", "deploy", "-y", "--detailed-exitcode", cwd=proj)
    assert again.code == 0 and "No changes" in again.out
    assert account.writes() == writes


def test_change_is_applied_and_verified(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--max-workers", "4", cwd=proj).code == 2
    result = account.gpu("serverless", "deploy", "-y", "--max-workers", "4", "--json", cwd=proj)
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["applied"] and doc["outcome"]["done"] == [{"address": "endpoint.echo", "action": "update", "id": doc["endpoint_id"]}]
    assert account.endpoints()[0]["workers"]["max"] == 4


def test_json_never_prompts_and_has_the_endpoint_id(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    result = account.gpu("serverless", "deploy", "--json", cwd=proj)
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["endpoint_id"] == account.endpoints()[0]["id"]
    assert doc["endpoints"][0]["url"].endswith(f"/ai/v2/{doc['endpoint_id']}/runsync")


def test_without_tty_or_yes_deploy_refuses_and_writes_nothing(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    result = account.gpu("serverless", "deploy", cwd=proj)
    assert result.code == 1 and "no terminal to ask on" in result.err and "-y" in result.err
    assert account.writes() == 0 and account.endpoints() == []


def test_foreign_endpoint_and_volumes_are_never_touched(account, tmp_path):
    """R7: a same-named endpoint of another project fails the plan with 0 writes; pruning an
    owned endpoint keeps its volume."""
    other = project(tmp_path / "other", echo_config(project_id="someone-else"), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=other).code == 0
    mine = project(tmp_path / "mine", echo_config(volume="models"), {"handler.py": ECHO_HANDLER})
    writes = account.writes()
    refused = account.gpu("serverless", "deploy", "-y", cwd=mine)
    assert refused.code == 1 and "someone-else" in refused.err and "never modifies" in refused.err
    assert account.writes() == writes
    renamed = project(tmp_path / "mine", echo_config(name="echo-mine", volume="models"), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=renamed).code == 0
    gone = project(tmp_path / "mine", echo_config(name="echo-v2"), {"handler.py": ECHO_HANDLER})
    pruned = account.gpu("serverless", "deploy", "-y", "--prune", cwd=gone)
    assert pruned.code == 0, pruned.err
    names = sorted(e["name"] for e in account.endpoints())
    assert names == ["echo", "echo-v2"]  # the foreign one survives, ours was replaced by name
    assert [v["name"] for v in account.volumes()] == ["models"]


def test_stale_saved_plan_is_refused_with_no_writes(account, tmp_path):
    """R13."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj).code == 0
    account.server.http.post("/v2/network-volumes", json={"name": "out-of-band", "size": 10, "dataCenter": "EU-RO-1"})
    writes = account.writes()
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", cwd=proj)
    assert result.code == 1 and "the account changed since the plan was made" in result.err
    assert account.writes() == writes and account.endpoints() == []
    # The volume is none of this plan's business: the refusal says so, rather than leaving the
    # person to diff two plans that are the same.
    assert "the plan's own changes are the same now: what changed is elsewhere in the account" in result.err


def test_a_stale_saved_plan_names_the_resources_a_new_plan_treats_otherwise(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    (proj / "gpu.jsonc").write_text((proj / "gpu.jsonc").read_text().replace('"max_workers": 2', '"max_workers": 3'))
    assert account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj).code == 0
    (endpoint,) = account.endpoints()
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"workers": {"min": 1}}).status_code == 200  # the console
    writes = account.writes()
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", cwd=proj)
    assert result.code == 1 and "the account changed since the plan was made" in result.err
    assert "a plan made now differs for endpoint.echo" in result.err
    assert account.writes() == writes


def test_saved_plan_applies_exactly(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj).code == 0
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", cwd=proj)
    assert result.code == 0, result.err
    assert [e["name"] for e in account.endpoints()] == ["echo"]


def test_concurrent_deploys_one_writes_the_other_names_the_holder(account, tmp_path):
    """R12: a slow create keeps the first run inside the lock; the second exits 3."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "hang", "seconds": 300, "times": 1})  # until released below
    first = account.popen("serverless", "deploy", "-y", cwd=proj)
    try:
        for line in first.stderr:
            if "creating" in line:  # inside the lock, its create held by the account
                break
        second = account.gpu("serverless", "deploy", "-y", cwd=proj)
        assert second.code == 3 and f"pid {first.pid}" in second.err
    finally:
        account.clear_faults()  # releases the held create
    out, err = first.communicate(timeout=60)
    assert first.returncode == 0, err
    assert len(account.endpoints()) == 1


def test_field_not_honoured_fails_by_name(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "drop_field", "field": "workers.max", "times": 1})
    result = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert result.code == 1 and "did not honour workers.max" in result.err


def test_permanent_error_on_the_kth_resource_gives_an_exact_summary(account, tmp_path):
    """R5: volume + two endpoints, the second endpoint create is rejected (one change at a time,
    so "second" is well defined; tests/e2e/test_parallel_apply.py has the parallel case)."""
    config = echo_config(volume="models")
    second = json.loads(json.dumps(config["serverless"])) | {"name": "echo-b"}
    config["serverless"] = [config["serverless"], second]
    proj = project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "status", "status": 400, "after": 1})
    result = account.gpu("serverless", "deploy", "-y", "--json", "--parallelism", "1", cwd=proj)
    assert result.code == 1
    outcome = json.loads(result.out)["outcome"]
    assert [(d["address"], d["action"]) for d in outcome["done"]] == [("network_volume.models@EU-RO-1", "create"), ("endpoint.echo", "create")]
    assert [(f["address"], f["action"]) for f in outcome["failed"]] == [("endpoint.echo-b", "create")]
    assert outcome["not_attempted"] == []
    assert "done:" in result.err and "failed:" in result.err
    account.clear_faults()
    fixed = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert fixed.code == 0, fixed.err
    assert sorted(e["name"] for e in account.endpoints()) == ["echo", "echo-b"] and len(account.volumes()) == 1


def test_snapshot_round_trips_into_a_clean_plan(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(volume="models"), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    snap = account.gpu("serverless", "snapshot", "--out", "account.json", cwd=proj)
    assert snap.code == 0, snap.err
    plan = account.gpu("serverless", "deploy", "--plan", "--observed", "account.json", "--provider", "local", "--detailed-exitcode", cwd=proj)
    assert plan.code == 0, plan.out + plan.err


def test_many_endpoints_are_listed_a_line_each_with_one_curl(account, tmp_path):
    """After an apply, a handful of endpoints get a block each (id, URL, curl); a platform
    team's many got seven lines each, 1,400 lines of CI log for 200. Past three, each is one
    line (name, id, URL) and the curl is shown once, and every URL still answers."""
    names = ["a", "b", "c", "d"]
    blocks = [echo_config(name=n)["serverless"] for n in names]
    proj = project(tmp_path / "p", {"project_id": "e2e", "serverless": blocks}, {"handler.py": ECHO_HANDLER})
    result = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert result.code == 0, result.err
    assert result.out.count("curl -X POST") == 1 and "4 endpoints (name, id, URL):" in result.out
    live = {e["name"]: e["id"] for e in account.endpoints()}
    listed = [line.split() for line in result.out.splitlines() if line.startswith("  ") and "/runsync" in line and "curl" not in line]
    assert sorted(name for name, _, _ in listed) == names
    assert all(live[name] == endpoint_id and f"/{endpoint_id}/runsync" in url for name, endpoint_id, url in listed)


def test_a_failed_change_names_its_address_once_on_every_line(account, tmp_path):
    """A step's error used to carry its address and the line that reports it added it again:
    `create endpoint.echo: endpoint.echo: the local provider did not honour ...`. Each line says
    the address once, and the final error still says which change stopped the apply."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "drop_field", "field": "workers.max", "times": 1})
    result = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert result.code == 1 and "did not honour workers.max" in result.err, result.err
    lines = [line for line in (result.out + result.err).splitlines() if "did not honour" in line]
    assert lines and all(line.count("endpoint.echo") == 1 for line in lines), lines
    assert "error: endpoint.echo: the local provider did not honour workers.max" in result.err, result.err

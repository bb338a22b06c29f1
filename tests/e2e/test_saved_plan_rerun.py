"""Running `deploy --from-plan` again: a CI job retried after the plan was applied, or after an
apply that stopped part-way. The saved plan is still applied only to the account it was made
against (R13), but its own writes are not "a change in the account" to blame on someone else."""

import json

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project


def _two_endpoints(tmp_path):
    config = echo_config()
    second = json.loads(json.dumps(config["serverless"])) | {"name": "echo-b"}
    config["serverless"] = [config["serverless"], second]
    return project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})


def test_a_saved_plan_applied_already_is_not_applied_again_and_exits_0(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj).code == 0
    first = account.gpu("serverless", "deploy", "--from-plan", "plan.json", cwd=proj)
    assert first.code == 0, first.err
    writes = account.writes()
    again = account.gpu("serverless", "deploy", "--from-plan", "plan.json", "--json", cwd=proj)
    assert again.code == 0, again.err
    assert account.writes() == writes and len(account.endpoints()) == 1
    assert "the saved plan was applied already: the account has every change it makes (endpoint.echo (create)); nothing to write" in again.err
    assert json.loads(again.out)["applied"] is True


def test_a_saved_plan_whose_config_changed_back_is_not_called_applied(account, tmp_path):
    """Nothing to write now, but because gpu.jsonc no longer asks for the change, not because
    the plan was applied: still refused, as a plan that is no longer the plan."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    config = (proj / "gpu.jsonc").read_text()
    (proj / "gpu.jsonc").write_text(config.replace('"max_workers": 2', '"max_workers": 3'))
    assert account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj).code == 0
    (proj / "gpu.jsonc").write_text(config)
    account.server.http.post("/v2/network-volumes", json={"name": "out-of-band", "size": 10, "dataCenter": "EU-RO-1"})
    writes = account.writes()
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", cwd=proj)
    assert result.code == 1 and "refusing to apply it" in result.err and "applied already" not in result.err
    assert account.writes() == writes


def test_a_saved_plan_applied_part_way_names_what_is_in_place_and_what_is_left(account, tmp_path):
    proj = _two_endpoints(tmp_path)
    assert account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj).code == 0
    account.faults({"op": "create", "kind": "endpoint", "action": "status", "status": 400, "after": 1, "times": 1})
    stopped = account.gpu("serverless", "deploy", "--from-plan", "plan.json", "--parallelism", "1", cwd=proj)
    assert stopped.code == 1
    account.clear_faults()
    writes = account.writes()
    again = account.gpu("serverless", "deploy", "--from-plan", "plan.json", cwd=proj)
    assert again.code == 1 and account.writes() == writes
    assert "an earlier run applied part of the saved plan (in place now: endpoint.echo (create))" in again.err, again.err
    assert "a new plan holds what is left: endpoint.echo-b (create)" in again.err, again.err
    assert "deploy --plan --out" in again.err


def test_a_plan_made_with_prune_names_the_flag_when_applied_without_it(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "--plan", "--prune", "--out", "plan.json", cwd=proj).code == 0
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", cwd=proj)
    assert result.code == 1 and account.writes() == 0
    assert "the plan was made with --prune, and this run is without it" in result.err, result.err
    assert "apply it with --prune, as it was made" in result.err

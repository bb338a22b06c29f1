"""`deploy --json` prints its one result document however the run ends once its flags are
accepted (review F18): a run refused before the apply began printed nothing, so a CI step
`gpu serverless deploy --json | tee result.json | jq .error` got a parse error exactly when it
needed the reason. Each refusal prints `applied: false`, the stderr `error:` line as `error`,
an empty outcome, and the plan it made (null when it made none)."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.e2e.test_account_lease import plant_lease

pytestmark = pytest.mark.e2e

NOTHING = {"done": [], "failed": [], "not_attempted": []}


def _refused(result, code: int) -> dict:
    assert result.code == code, (result.code, result.err)
    doc = json.loads(result.out)  # one document, nothing else on stdout
    error = result.err.splitlines()[[i for i, line in enumerate(result.err.splitlines()) if line.startswith("error: ")][0]]
    assert doc["applied"] is False and doc["error"] == error.removeprefix("error: "), (doc["error"], result.err)
    assert doc["outcome"] == NOTHING and doc["endpoints"] == [] and doc["endpoint_id"] is None
    assert doc["prewarm"] == [] and doc["health"] is None and doc["format_version"] == "1"
    return doc


def _echo(tmp_path, **scaling):
    return project(tmp_path / "p", echo_config(**scaling), {"handler.py": ECHO_HANDLER})


def test_a_policy_refusal_prints_the_document_with_the_plan_it_refused(account, tmp_path):
    proj = _echo(tmp_path, max_workers=2)
    (proj / "pol.jsonc").write_text(json.dumps({"max_max_workers": 1}))
    result = account.gpu("serverless", "deploy", "-y", "--json", "--policy", "pol.jsonc", cwd=proj)
    doc = _refused(result, 4)
    assert "policy rule" in doc["error"] and doc["provider"] == "local"
    assert [r["address"] for r in doc["plan"]["resource_changes"]] == ["endpoint.echo"]
    assert doc["plan"]["policy"]["violations"][0]["rule"] == "max_max_workers"
    assert account.endpoints() == []


def test_a_lease_another_deploy_holds_prints_the_document(account, tmp_path):
    proj = _echo(tmp_path)
    plant_lease(account, "e2e", expires_in=300, host="ci-runner-7", pid=4242)
    result = account.gpu("serverless", "deploy", "--json", cwd=proj)
    doc = _refused(result, 3)
    assert "holds the account lease" in doc["error"] and "pid 4242 on ci-runner-7" in doc["error"]
    assert doc["plan"]["has_changes"] is True
    assert account.endpoints() == []


def test_a_stale_saved_plan_prints_the_document(account, tmp_path):
    proj = _echo(tmp_path)
    saved = account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj)
    assert saved.code == 0, saved.err
    (proj / "gpu.jsonc").write_text(json.dumps(echo_config(max_workers=3), indent=2))  # gpu.jsonc changed since
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", "--json", cwd=proj)
    doc = _refused(result, 1)
    assert "plan" in doc["error"] and doc["plan"] is not None
    assert account.endpoints() == []


def test_a_gpu_jsonc_that_does_not_load_prints_the_document_without_a_plan(account, tmp_path):
    proj = _echo(tmp_path)
    (proj / "gpu.jsonc").write_text('{"serverless": {"template": "vllm", "gpu_type": }}\n')
    result = account.gpu("serverless", "deploy", "-y", "--json", cwd=proj)
    doc = _refused(result, 1)
    assert "gpu.jsonc:1:" in result.err  # the position stays on stderr, under the error line
    assert doc["plan"] is None and doc["provider"] is None


def test_a_flag_combination_deploy_refuses_prints_no_document(account, tmp_path):
    """A usage error, as click's own: nothing ran, so there is no result to report."""
    proj = _echo(tmp_path)
    result = account.gpu("serverless", "deploy", "--json", "--observed", "snap.json", cwd=proj)
    assert result.code == 1 and result.out == "" and "cannot apply" in result.err, result.err


def test_an_apply_that_succeeds_still_prints_one_document(account, tmp_path):
    proj = _echo(tmp_path)
    result = account.gpu("serverless", "deploy", "--json", cwd=proj)
    assert result.code == 0, result.err
    doc = json.loads(result.out)
    assert doc["applied"] is True and doc["error"] is None and doc["outcome"]["done"][0]["address"] == "endpoint.echo"

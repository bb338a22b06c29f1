"""`deploy --from-plan` refused a saved plan after an env value of its endpoint was changed in
the account (the console) with "gpu.jsonc or the environment changed since the plan was
made": neither had, and people went looking in git and their shell (review 5, R5-10). The
account's digest leaves env values out (it must not help guess a secret), so such a change
shows only in the plan's own changes; when gpu.jsonc and the environment ask for the same as
when the plan was made, the refusal now says the account changed, and where, without values."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

pytestmark = pytest.mark.e2e

SECRET = "s3cret-token-value"


def _saved(account, tmp_path, **env):
    """A project deployed, then a plan saved that changes its endpoint (workers.max 2 -> 3)."""
    config = echo_config(env={"PLAIN": "plain-value", "TOKEN": "${MY_TOKEN}"})
    proj = project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})
    run_env = {"MY_TOKEN": SECRET} | env
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj, env=run_env).code == 0
    config["serverless"]["scaling"]["max_workers"] = 3
    project(proj, config)
    saved = account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", "--provider", "local", cwd=proj, env=run_env)
    assert saved.code == 0, saved.err
    return proj, config, run_env


def _console_sets(account, key: str, value: str) -> None:
    (endpoint,) = account.endpoints()
    env = dict(endpoint["env"]) | {key: value}  # the console writes the whole env
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"env": env}).status_code == 200


def test_an_env_value_changed_in_the_account_is_said_to_be_the_accounts_change(account, tmp_path):
    proj, _, run_env = _saved(account, tmp_path)
    _console_sets(account, "PLAIN", "changed-in-console")
    writes = account.writes()
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", "--provider", "local", cwd=proj, env=run_env)
    assert result.code == 1, result.err
    assert "error: the account changed since the plan was made: endpoint.echo env.PLAIN; refusing to apply it" in result.err, result.err
    assert "gpu.jsonc or the environment" not in result.err, result.err
    assert "changed-in-console" not in result.err + result.out and "plain-value" not in result.err + result.out, result.err
    assert SECRET not in result.err + result.out
    assert "hint: make a new plan (deploy --plan --out FILE) and review it" in result.err, result.err
    assert account.writes() == writes


def test_a_changed_gpu_jsonc_still_blames_gpu_jsonc(account, tmp_path):
    proj, config, run_env = _saved(account, tmp_path)
    config["serverless"]["runpod"]["env"]["PLAIN"] = "edited-in-git"
    project(proj, config)
    writes = account.writes()
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", "--provider", "local", cwd=proj, env=run_env)
    assert result.code == 1, result.err
    assert "error: gpu.jsonc or the environment changed since the plan was made; refusing to apply it" in result.err, result.err
    assert "the account changed" not in result.err, result.err
    assert account.writes() == writes


def test_a_changed_gpu_jsonc_and_an_account_change_blame_gpu_jsonc(account, tmp_path):
    """Both moved: the account's change alone would not explain the plan, so gpu.jsonc is named."""
    proj, config, run_env = _saved(account, tmp_path)
    _console_sets(account, "PLAIN", "changed-in-console")
    config["serverless"]["scaling"]["max_workers"] = 4
    project(proj, config)
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", "--provider", "local", cwd=proj, env=run_env)
    assert result.code == 1 and "error: gpu.jsonc or the environment changed since the plan was made" in result.err, result.err


def test_a_secret_value_that_differs_may_be_the_account_or_the_variable(account, tmp_path):
    """A hidden value (`${MY_TOKEN}`) differs now: the plan holds no trace of it, so whether the
    account or the variable changed cannot be told; the refusal names both, and the variable."""
    proj, _, run_env = _saved(account, tmp_path)
    writes = account.writes()
    result = account.gpu("serverless", "deploy", "--from-plan", "plan.json", "--provider", "local", cwd=proj, env={"MY_TOKEN": "another-token-value"})
    assert result.code == 1, result.err
    assert ("error: the account or the environment variable MY_TOKEN changed since the plan was made: endpoint.echo env.TOKEN; "
            "refusing to apply it") in result.err, result.err
    assert "another-token-value" not in result.err + result.out and SECRET not in result.err + result.out
    assert account.writes() == writes


def _saved_env_only(account, tmp_path):
    """A project deployed, then a plan saved whose only change is an existing env value
    (PLAIN: plain-value -> dev): the account's digest leaves env values out, so applying it
    leaves the digest as the plan saw it (review 8, R8-3)."""
    config = echo_config(env={"PLAIN": "plain-value", "TOKEN": "${MY_TOKEN}"})
    proj = project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})
    run_env = {"MY_TOKEN": SECRET}
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj, env=run_env).code == 0
    config["serverless"]["runpod"]["env"]["PLAIN"] = "dev"
    project(proj, config)
    saved = account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", "--json", "--provider", "local", cwd=proj, env=run_env)
    assert saved.code == 0, saved.err
    [change] = [r for r in saved.json()["resource_changes"] if r["action"] == "update"]
    assert [c["path"] for c in change["changes"]] == ["env.PLAIN"], change
    return proj, run_env


def test_a_retried_apply_of_an_env_value_only_plan_was_applied_already(account, tmp_path):
    """docs/deploy.md: a saved plan run again once it was applied (a retried CI job) exits 0,
    writes nothing and says so, whichever fields it changes; it was blamed on a console edit."""
    proj, run_env = _saved_env_only(account, tmp_path)
    first = account.gpu("serverless", "deploy", "-y", "--from-plan", "plan.json", "--provider", "local", cwd=proj, env=run_env)
    assert first.code == 0, first.err
    assert account.endpoints()[0]["env"]["PLAIN"] == "dev"
    writes = account.writes()
    again = account.gpu("serverless", "deploy", "-y", "--from-plan", "plan.json", "--provider", "local", cwd=proj, env=run_env)
    assert again.code == 0, again.err
    assert "the saved plan was applied already" in again.err and "such as in the console" not in again.err, again.err
    assert account.writes() == writes


def test_a_console_edit_after_an_env_value_only_plan_is_still_refused(account, tmp_path):
    """The account holds neither the plan's before nor its after (a console edit): refused,
    naming the account, never called applied; so too after the plan was applied (next test)."""
    proj, run_env = _saved_env_only(account, tmp_path)
    _console_sets(account, "PLAIN", "changed-in-console")
    writes = account.writes()
    result = account.gpu("serverless", "deploy", "-y", "--from-plan", "plan.json", "--provider", "local", cwd=proj, env=run_env)
    assert result.code == 1, result.err
    assert "error: the account changed since the plan was made: endpoint.echo env.PLAIN; refusing to apply it" in result.err, result.err
    assert account.writes() == writes


def test_a_console_edit_after_an_env_value_only_plan_was_applied_is_not_called_applied(account, tmp_path):
    proj, run_env = _saved_env_only(account, tmp_path)
    assert account.gpu("serverless", "deploy", "-y", "--from-plan", "plan.json", "--provider", "local", cwd=proj, env=run_env).code == 0
    _console_sets(account, "PLAIN", "changed-in-console")
    writes = account.writes()
    again = account.gpu("serverless", "deploy", "-y", "--from-plan", "plan.json", "--provider", "local", cwd=proj, env=run_env)
    assert again.code == 1 and "applied already" not in again.err, again.err
    assert "refusing to apply it" in again.err and "changed-in-console" not in again.err, again.err
    assert account.writes() == writes


def test_a_never_applied_plan_of_a_hidden_value_is_not_called_applied(account, tmp_path):
    """Review 11, R11-6: a plan whose only change is a hidden value (`${MY_TOKEN}`: v1 -> v2),
    never applied, while another run deployed v3. The plan keeps no trace of a hidden value, so
    the account holding v3 cannot prove the plan's v2 in place: refused, not "applied already"
    (redacted values compared equal and the retry exited 0 with nothing written)."""
    config = echo_config(env={"PLAIN": "plain-value", "TOKEN": "${MY_TOKEN}"})
    proj = project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj, env={"MY_TOKEN": "token-v1"}).code == 0
    saved = account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", "--json", "--provider", "local", cwd=proj, env={"MY_TOKEN": "token-v2"})
    assert saved.code == 0, saved.err
    [change] = [r for r in saved.json()["resource_changes"] if r["action"] == "update"]
    assert [c["path"] for c in change["changes"]] == ["env.TOKEN"], change
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj, env={"MY_TOKEN": "token-v3"}).code == 0
    writes = account.writes()
    result = account.gpu("serverless", "deploy", "-y", "--from-plan", "plan.json", "--provider", "local", cwd=proj, env={"MY_TOKEN": "token-v3"})
    assert result.code == 1, result.err
    assert "applied already" not in result.err, result.err
    assert ("error: the account or the environment variable MY_TOKEN changed since the plan was made: endpoint.echo env.TOKEN; "
            "refusing to apply it") in result.err, result.err
    assert "token-v" not in result.err + result.out
    assert account.writes() == writes and account.endpoints()[0]["env"]["TOKEN"] == "token-v3"


def test_a_created_endpoint_with_a_hidden_value_set_otherwise_is_not_called_applied(account, tmp_path):
    """The same for a create: the plan creates the endpoint with MY_TOKEN=v2, another run created
    it with v3; the plan's hidden value cannot be proven in place, so it is not "applied already"."""
    config = echo_config(env={"TOKEN": "${MY_TOKEN}"})
    proj = project(tmp_path / "p", config, {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", "--provider", "local", cwd=proj, env={"MY_TOKEN": "token-v2"}).code == 0
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj, env={"MY_TOKEN": "token-v3"}).code == 0
    writes = account.writes()
    result = account.gpu("serverless", "deploy", "-y", "--from-plan", "plan.json", "--provider", "local", cwd=proj, env={"MY_TOKEN": "token-v3"})
    assert result.code == 1 and "applied already" not in result.err, result.err
    assert "refusing to apply it" in result.err and "token-v" not in result.err + result.out, result.err
    assert account.writes() == writes and account.endpoints()[0]["env"]["TOKEN"] == "token-v3"

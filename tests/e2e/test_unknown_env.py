"""`${VAR}` unset against a real account (the local provider over HTTP): `deploy --plan`
shows the value as unknown and passes, `deploy` fails before any write, and neither the
applied secret nor the variable's value ever shows (ADR 24)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

pytestmark = pytest.mark.e2e

SECRET = "hf_unknown_e2e_canary_41c9"
MARKER = "(from $HF_TOKEN, unknown in this run)"


def test_plan_shows_unknown_and_deploy_refuses(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(env={"HF_TOKEN": "${HF_TOKEN}"}), {"handler.py": ECHO_HANDLER})
    done = account.gpu("serverless", "deploy", "-y", cwd=proj, env={"HF_TOKEN": SECRET})
    assert done.code == 0, done.err
    assert account.endpoints()[0]["env"]["HF_TOKEN"] == SECRET

    plan = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj)
    assert plan.code == 2, plan.err  # a possible change, not "No changes"
    assert f"~ env.HF_TOKEN = (sensitive) → {MARKER}" in plan.out
    as_json = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    assert as_json.code == 0 and as_json.json()["resource_changes"][0]["changes"][0]["after"] == {"unknown_from": ["HF_TOKEN"]}

    writes = account.writes()
    refused = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert refused.code == 1 and "environment variable HF_TOKEN is not set" in refused.err
    assert account.writes() == writes, "deploy wrote to the account without the variable"
    for run in (done, plan, as_json, refused):
        assert SECRET not in run.out + run.err

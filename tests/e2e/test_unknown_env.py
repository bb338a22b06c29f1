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


def test_a_saved_plan_with_unknown_values_says_so_when_saved_and_when_refused(account, tmp_path):
    """Review 3, L4: `deploy --plan --out plan.json` without HF_TOKEN said "apply exactly it
    with: gpu serverless deploy --from-plan plan.json", and `HF_TOKEN=... deploy --from-plan
    plan.json` then refused it with "gpu.jsonc or the environment changed since the plan was
    made", though neither had changed: a saved plan with unknown values is never applied (ADR
    24). Saving it says so, naming the variable; refusing it names the variable it lacked."""
    proj = project(tmp_path / "p", echo_config(env={"HF_TOKEN": "${HF_TOKEN}"}), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env={"HF_TOKEN": SECRET}).code == 0

    saved = account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj)
    assert saved.code == 0, saved.err
    assert "apply exactly it with" not in saved.err, saved.err
    assert ("warning: the plan saved to plan.json has unknown values (HF_TOKEN is not set in this run), "
            "and `--from-plan` refuses a plan with unknown values") in saved.err, saved.err
    assert "plan where HF_TOKEN is set" in saved.err, saved.err

    writes = account.writes()
    refused = account.gpu("serverless", "deploy", "--from-plan", "plan.json", cwd=proj, env={"HF_TOKEN": SECRET})
    assert refused.code == 1, refused.err
    assert ("error: the plan was made without HF_TOKEN (a saved plan with unknown values is never applied): "
            "set it and plan again") in refused.err, refused.err
    assert "changed since" not in refused.err, refused.err
    assert "hint: make a new plan where HF_TOKEN is set (`gpu serverless deploy --plan --out FILE`)" in refused.err, refused.err
    assert account.writes() == writes
    for run in (saved, refused):
        assert SECRET not in run.out + run.err


def test_a_saved_plan_that_creates_with_an_unknown_value_is_refused_naming_it(account, tmp_path):
    """The same for a plan that creates the endpoint: its desired body holds the unknown value."""
    proj = project(tmp_path / "p", echo_config(env={"HF_TOKEN": "${HF_TOKEN}", "MODEL": "${MODEL_ID}"}), {"handler.py": ECHO_HANDLER})
    saved = account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", cwd=proj)
    assert saved.code == 0 and "(HF_TOKEN and MODEL_ID are not set in this run)" in saved.err, saved.err
    refused = account.gpu("serverless", "deploy", "--from-plan", "plan.json", cwd=proj, env={"HF_TOKEN": SECRET, "MODEL_ID": "m"})
    assert refused.code == 1 and "the plan was made without HF_TOKEN and MODEL_ID (a saved plan" in refused.err, refused.err
    assert account.endpoints() == []

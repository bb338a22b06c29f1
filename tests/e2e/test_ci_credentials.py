"""Review 3, R6: a pull request could route CI's own credentials into a worker's env with
`${VAR}` (the RunPod key the action deploys with, GitHub's token, the runner's
ACTIONS_RUNTIME_TOKEN); the plan showed only "(sensitive, from $GITHUB_TOKEN)" deep in its
diff, and the apply on merge wrote them into the account. gpuctl now knows those variables
(docs/adr/0034-secrets-ci-credentials.md): the runner's and gpuctl's own are a config error at
their key, and the RunPod key is a top-level warning naming the endpoint."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

RUNNER = {"GITHUB_TOKEN": "ghs_canaryTOKEN0123456789", "GH_TOKEN": "gho_canaryTOKEN0123456789",
          "ACTIONS_RUNTIME_TOKEN": "art_CANARY_0123456789", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "idt_CANARY_0123456789"}


@pytest.mark.parametrize("variable", [*sorted(RUNNER), "ACTIONS_CACHE_URL", "GPUCTL_CONFIG_DIR"])
def test_a_runner_credential_read_by_env_is_a_config_error_at_its_key(account, tmp_path, variable):
    proj = project(tmp_path / "p", echo_config(env={"MODEL": "m", "GT": "x-${" + variable + "}"}), {"handler.py": ECHO_HANDLER})
    lines = (proj / "gpu.jsonc").read_text().splitlines()
    (line,) = [i for i, text in enumerate(lines, 1) if '"GT"' in text]
    for args in (("serverless", "deploy", "-y"), ("serverless", "deploy", "--plan"), ("config", "validate")):
        run = account.gpu(*args, cwd=proj, env=RUNNER)
        assert run.code == 1, (args, run.out, run.err)
        said = " ".join(run.err.split())
        assert f"gpu.jsonc:{line}:" in said and "serverless.runpod.env.GT" in said, run.err
        assert f"${{{variable}}}" in said and "never passes it to a worker" in said, run.err
        assert "hint:" in said and '{"secret": "name"}' in said, run.err
        assert "Traceback" not in run.err
        for value in RUNNER.values():
            assert value not in run.out + run.err
    assert account.endpoints() == []


def test_other_variables_of_the_runner_and_look_alikes_are_read_as_before(account, tmp_path):
    """GitHub's non-secret variables (GITHUB_SHA, GITHUB_REPOSITORY) and names that only look like
    the runner's are a worker's to read."""
    env = {"GITHUB_SHA": "abc123def", "GITHUB_REPOSITORY": "me/repo", "MY_ACTIONS_FLAG": "on", "GITHUB_TOKENS_URL": "https://x"}
    proj = project(tmp_path / "p", echo_config(env={k: "${" + k + "}" for k in env}), {"handler.py": ECHO_HANDLER})
    run = account.gpu("serverless", "deploy", "-y", cwd=proj, env=env)
    assert run.code == 0, run.err
    assert account.endpoints()[0]["env"]["GITHUB_SHA"] == "abc123def"


def test_the_runpod_key_read_by_env_is_a_top_level_warning_naming_the_endpoint(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(env={"RP": "${RUNPOD_API_KEY}", "MODEL": "m"}), {"handler.py": ECHO_HANDLER})
    env = {"RUNPOD_API_KEY": "rpa_CANARY_KEY_123456"}
    text = account.gpu("serverless", "deploy", "--plan", cwd=proj, env=env)
    assert text.code == 0, text.err
    said = " ".join(text.out.split())
    assert "endpoint echo receives the RunPod API key gpuctl deploys with" in said, text.out
    assert "serverless.runpod.env.RP" in said
    markdown = account.gpu("serverless", "deploy", "--plan", "--format", "markdown", cwd=proj, env=env)
    assert "endpoint echo receives the RunPod API key gpuctl deploys with" in " ".join(markdown.out.split()), markdown.out
    plan = json.loads(account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj, env=env).out)
    (warning,) = [w for w in plan["warnings"] if w["code"] == "account-key-in-env"]
    assert warning["address"] == "endpoint.echo"
    for run in (text, markdown):
        assert "rpa_CANARY_KEY_123456" not in run.out + run.err

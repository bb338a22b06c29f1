"""No secret in any output of a day-2 command (issue 9, item 3): an env value set in the
console (gpuctl never saw it) and a `${VAR}` value gpuctl applied appear nowhere in `status`,
`list`, `logs`, `invoke` or a usage error, as text or JSON, with or without --debug, even
though RunPod repeats env values in every release diff."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

pytestmark = pytest.mark.e2e

CONSOLE_SECRET = "sk_console_canary_7f3a91c2"
DEPLOY_SECRET = "hf_deploy_canary_0d4e5b6a"


def test_env_values_never_leave_through_day2_commands(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(env={"HF_TOKEN": "${CANARY}"}), {"handler.py": ECHO_HANDLER})
    env = {"CANARY": DEPLOY_SECRET}
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=env).code == 0
    live = next(e for e in account.endpoints() if e["name"] == "echo")
    patched = account.server.http.patch(f"/v2/serverless/{live['id']}", json={"env": {**live["env"], "SECRET_TOKEN": CONSOLE_SECRET}})
    assert patched.status_code == 200, patched.text
    releases = account.server.http.get(f"/v2/serverless/{live['id']}/releases").json()
    assert CONSOLE_SECRET in str(releases)  # the account repeats it: gpuctl must not
    commands = [
        ("serverless", "status", "echo"), ("serverless", "status", "echo", "--json"),
        ("serverless", "list"), ("serverless", "list", "--json"), ("serverless", "list", "--all", "--json"),
        ("serverless", "invoke", "echo", "--input", '{"prompt": "hi"}'),
        ("serverless", "invoke", "echo", "--input", '{"prompt": "hi"}', "--json"),
        ("serverless", "logs", "echo", "--tail", "50"),
        ("serverless", "status", "echo", CONSOLE_SECRET), ("serverless", "list", "--nope", DEPLOY_SECRET),
    ]
    for debug in ((), ("--debug",)):
        for command in commands:
            result = account.gpu(*debug, *command, cwd=proj, env=env, timeout=120)
            for canary in (CONSOLE_SECRET, DEPLOY_SECRET):
                assert canary not in result.out and canary not in result.err, (debug, command, result.out[-400:], result.err[-400:])
    status = account.gpu("serverless", "status", "echo", "--json", cwd=proj, env=env).json()
    assert "SECRET_TOKEN" in str(status["release"]["latest"])  # the key is still shown: only its value is hidden

"""No secret in any output of a day-2 command (issue 9, item 3): an env value set in the
console (gpuctl never saw it) and a `${VAR}` value gpuctl applied appear nowhere in `status`,
`list`, `logs`, `invoke` or a usage error, as text or JSON, with or without --debug, even
though RunPod repeats env values in every release diff."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ECHO_HANDLER, STAYS, echo_config, project

pytestmark = pytest.mark.e2e

CONSOLE_SECRET = "sk_console_canary_7f3a91c2"
DEPLOY_SECRET = "hf_deploy_canary_0d4e5b6a"


def _leaky_worker(account, tmp_path, deployed: str, console: str, literals: dict | None = None):
    """A project whose worker prints and returns the env values it is asked to show, deployed
    with HF_TOKEN from `${CANARY}` = `deployed`; then SECRET_TOKEN = `console` is set on the
    endpoint in the account, as someone in the console would."""
    from pathlib import Path

    leaky = (Path(__file__).parent / "workers" / "leaky.py").read_text()
    config = echo_config(env={"HF_TOKEN": "${CANARY}", **(literals or {})}, idle_timeout=STAYS)
    config["serverless"]["local"]["command"] = ["python", "leaky.py"]
    proj = project(tmp_path / "p", config, {"leaky.py": leaky})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env={"CANARY": deployed}).code == 0
    live = next(e for e in account.endpoints() if e["name"] == "echo")
    patched = account.server.http.patch(f"/v2/serverless/{live['id']}", json={"env": {**live["env"], "SECRET_TOKEN": console}})
    assert patched.status_code == 200, patched.text
    return proj


def test_env_values_never_leave_through_day2_commands(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(env={"HF_TOKEN": "${CANARY}"}, idle_timeout=STAYS), {"handler.py": ECHO_HANDLER})
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


def test_a_worker_that_prints_or_returns_its_secrets_does_not_leak_them_through_gpu(account, tmp_path):
    """The handler is careless, not gpuctl; but `logs` and `invoke` outputs land in CI logs,
    so every env value the account holds is masked there, as GitHub masks its secrets, except
    the values gpu.jsonc holds as plain literals (they are in the repository anyway)."""
    proj = _leaky_worker(account, tmp_path, DEPLOY_SECRET, CONSOLE_SECRET, {"MODEL_NAME": "org/plain-literal-model"})
    show = '{"show": ["HF_TOKEN", "SECRET_TOKEN", "MODEL_NAME"]}'
    elsewhere = tmp_path / "elsewhere"  # no gpu.jsonc: nothing is known to be plain
    elsewhere.mkdir()
    invoked = account.gpu("serverless", "invoke", "echo", "--input", show, "--json", cwd=proj)
    assert invoked.code == 0, invoked.err
    assert invoked.json()["output"]["MODEL_NAME"] == "org/plain-literal-model"  # a literal of gpu.jsonc is no secret
    runs = [invoked, account.gpu("serverless", "invoke", "echo", "--input", show, cwd=elsewhere),
            account.gpu("serverless", "job", "status", "echo", invoked.json()["id"], cwd=proj)]
    for cwd in (proj, elsewhere):
        runs += [account.gpu("serverless", "logs", "echo", cwd=cwd), account.gpu("serverless", "logs", "echo", "--json", cwd=cwd)]
    for run in runs:
        assert run.code == 0, run.err
        for canary in (CONSOLE_SECRET, DEPLOY_SECRET):
            assert canary not in run.out and canary not in run.err, run.out[-600:]
    assert "HF_TOKEN=(redacted)" in runs[3].out and "SECRET_TOKEN=(redacted)" in runs[3].out
    assert "MODEL_NAME=org/plain-literal-model" in runs[3].out


def test_a_secret_with_quotes_escapes_or_non_ascii_is_masked_in_every_form_gpu_writes_it(account, tmp_path):
    """`--json` writes a `"`, a backslash, a tab or a non-ASCII letter escaped, and the text
    outputs write control characters as `\\xNN`: a secret holding one is written in a form that
    differs from its value, and must be masked in that form too."""
    quoted = 'tok"en\\with-quote-canary-123'  # a ${VAR} gpuctl applied
    odd = "sk_\u00fcnicode\ttab\x01ctl_canary_7f3a"  # set in the console
    proj = _leaky_worker(account, tmp_path, quoted, odd)
    show = '{"show": ["HF_TOKEN", "SECRET_TOKEN"]}'
    invoked = account.gpu("serverless", "invoke", "echo", "--input", show, "--json", cwd=proj)
    assert invoked.code == 0, invoked.err
    runs = [invoked, account.gpu("serverless", "invoke", "echo", "--input", show, cwd=proj),
            account.gpu("serverless", "logs", "echo", cwd=proj), account.gpu("serverless", "logs", "echo", "--json", cwd=proj)]
    for run in runs:
        assert run.code == 0, run.err
        assert "canary" not in run.out + run.err, run.out[-600:]
    assert invoked.json()["output"] == {"HF_TOKEN": "(redacted)", "SECRET_TOKEN": "(redacted)"}
    assert "HF_TOKEN=(redacted)" in runs[2].out and "SECRET_TOKEN=(redacted)" in runs[2].out


def test_a_multi_line_secret_a_worker_prints_is_masked_line_by_line(account, tmp_path):
    """A PEM key or a service-account JSON in an env value: a worker that prints it makes one
    log line per line of it, so each line of it is masked where it appears alone."""
    from pathlib import Path

    pem = "-----BEGIN KEY-----\nMIIBcanaryAAAline1xyz\nMIIBcanaryBBBline2xyz\n-----END KEY-----"
    leaky = (Path(__file__).parent / "workers" / "leaky.py").read_text()
    config = echo_config(env={"SIGNING_KEY": "${PEM}"}, idle_timeout=STAYS)
    config["serverless"]["local"]["command"] = ["python", "leaky.py"]
    proj = project(tmp_path / "p", config, {"leaky.py": leaky})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env={"PEM": pem}).code == 0
    invoked = account.gpu("serverless", "invoke", "echo", "--input", '{"show": ["SIGNING_KEY"]}', "--json", cwd=proj)
    assert invoked.code == 0, invoked.err
    runs = (invoked, account.gpu("serverless", "logs", "echo", cwd=proj), account.gpu("serverless", "logs", "echo", "--json", cwd=proj))
    for run in runs:
        assert run.code == 0, run.err
        assert "canary" not in run.out + run.err, run.out[-600:]
    assert "SIGNING_KEY=" in runs[1].out, runs[1].err  # the worker's lines were read, not a worker already gone

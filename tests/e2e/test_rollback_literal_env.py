"""After a rollback that changed an env literal, the command it prints makes gpu.jsonc match
the account (review 4, R4-4): since pull copies a literal the account changed only with
`--literal-env KEY` (review 3, R11), the rollback's `pull NAME --write` wrote nothing for it,
and the next deploy undid the rollback."""

from __future__ import annotations

import shlex

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project


def test_the_pull_a_rollback_prints_takes_the_env_literals_it_restored(account, tmp_path):
    config = echo_config(env={"MODE": "d"})
    proj = project(tmp_path / "proj", config, {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    config["serverless"]["runpod"]["env"]["MODE"] = "e"
    config["serverless"]["runpod"]["image_name"] = "ghcr.io/example/echo-worker:0.2.0"
    project(proj, config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0

    rolled = account.gpu("serverless", "rollback", "echo", "--to", "1", "-y", cwd=proj)
    assert rolled.code == 0, rolled.err
    line = next((l for l in rolled.out.splitlines() if "run: gpu serverless pull" in l), None)
    assert line is not None, rolled.out
    command = shlex.split(line.split("run: ", 1)[1].split(" (", 1)[0])
    assert command[:5] == ["gpu", "serverless", "pull", "echo", "--write"] and command[5:] == ["--literal-env", "MODE"], line

    pulled = account.gpu(*command[1:], cwd=proj)
    assert pulled.code == 0, pulled.err
    text = (proj / "gpu.jsonc").read_text()
    assert '"MODE": "d"' in text and "echo-worker:0.1.0" in text, text
    plan = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj)
    assert plan.code == 0, plan.out + plan.err  # the next deploy keeps the rollback

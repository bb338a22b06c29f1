"""The drift issue's commands for a config outside the repository root, and for an orphan whose
name is a shell command (review 5, R5-3 and R5-6). The issue said `gpu serverless delete a|`x` b`
(the account's name, pasted into a command a maintainer runs in a checkout that holds the
RunPod key) and `gpu serverless pull --write` / `deploy -y` without the `--config` the report
read, so from the root they acted on another project's gpu.jsonc; and `deploy -y` without the
platform policy the apply workflow enforces. Each command now names the endpoint by its id,
quotes every word, and carries `--config` (from the repository root), the provider the
workflow named and, for a deploy, the policy."""

from __future__ import annotations

import json
import re
import shlex
from html import unescape

import pytest

from tests.github.conftest import WORKFLOWS, config, schedule, tree

pytestmark = pytest.mark.e2e

DRIFT = WORKFLOWS / "drift.yml"
ASR = "services/asr/gpu.jsonc"
OPTIONS = ["--config", ASR, "--provider", "local"]
HOSTILE = "a|`x` b"


def _commands(body: str) -> list[str]:
    """Every `gpu ...` command of the issue, as shown: a code span or a <code> (entities undone)."""
    spans = re.findall(r"`(gpu [^`]*)`", body) + [unescape(c) for c in re.findall(r"<code>(gpu .*?)</code>", body)]
    return [s.replace("\\|", "|") for s in spans]


def test_the_issue_s_commands_name_the_orphan_by_id_and_carry_the_config_provider_and_policy(gha, fake, account, tmp_path):
    deployed = tree(tmp_path / "deployed", config("root", project_id="root"), {ASR: json.dumps(config("asr", project_id="asr"))})
    assert account.gpu("serverless", "deploy", "-y", *OPTIONS, cwd=deployed).code == 0
    (asr,) = account.endpoints()
    assert account.server.http.patch(f"/v2/serverless/{asr['id']}", json={"workers": {"min": 0, "max": 4, "idleTimeout": 5}}).status_code == 200
    made = account.server.http.post("/v2/serverless", json={
        "name": HOSTILE, "type": "QUEUE", "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "image": "ghcr.io/acme/worker:1.0.0",
        "gpu": {"pools": ["ADA_24"], "count": 1}, "workers": {"min": 0, "max": 1, "idleTimeout": 5}, "env": {"GPUCTL_PROJECT": "asr"}})
    assert made.status_code == 201, made.text
    stray = made.json()

    checkout = tree(tmp_path / "main", config("root", project_id="root"), {ASR: json.dumps(config("asr", project_id="asr")), "platform.jsonc": "{}"})
    gha.action_inputs |= {"config": ASR, "policy": "platform.jsonc"}
    run = gha.run(DRIFT, schedule(checkout))
    assert run.job("drift").status == "success", run.job("drift").steps
    (issue,) = fake.real_issues()
    body = issue["body"]
    said = _commands(body)
    assert said, body
    for command in said:
        words = shlex.split(command)
        assert words[-4:] == OPTIONS or words[-6:] == [*OPTIONS, "--policy", "platform.jsonc"], command
        assert HOSTILE not in command, command  # never the account's name
    ending = body.split("### Ending this drift", 1)[1]
    assert f"`gpu serverless deploy -y {shlex.join(OPTIONS)} --policy platform.jsonc`" in ending, ending
    assert f"`gpu serverless pull --write {shlex.join(OPTIONS)}`" in ending
    delete = f"gpu serverless delete {stray['id']} {shlex.join(OPTIONS)}"
    assert f"`{delete}`" in ending and f"`gpu serverless import {stray['id']} --write {shlex.join(OPTIONS)}`" in ending, ending
    assert f"keep: `gpu serverless pull --write {shlex.join(OPTIONS)}`" in body  # the table row's advice

    # A maintainer follows it from the root of a checkout of the default branch: it deletes the orphan.
    deleted = account.gpu(*shlex.split(delete)[1:], "-y", cwd=checkout)
    assert deleted.code == 0, deleted.err
    assert [e["id"] for e in account.endpoints()] == [asr["id"]]

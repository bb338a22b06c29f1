"""docs/first-deploy.md followed step by step against the local provider, as a new user with no
RunPod key would (step 3 says everything below runs there): its gpu.jsonc and its commands,
taken from the page, so the page cannot drift from what they do."""

from __future__ import annotations

import json
import re
import shlex

import pyjson5
import pytest

from tests.e2e.conftest import ECHO_HANDLER, ROOT

PAGE = (ROOT / "docs" / "first-deploy.md").read_text()


def step(number: int) -> str:
    """The text of one numbered step of the page."""
    return re.search(rf"^{number}\. (.*?)(?=^\d+\. |\Z)", PAGE, re.S | re.M).group(1)


def command(text: str, prefix: str) -> list[str]:
    """The words after `gpu` of the first inline command of `text` that starts with `prefix`."""
    span = re.search(rf"`(gpu {re.escape(prefix)}[^`]*)`", text).group(1)
    return shlex.split(span)[1:]


@pytest.mark.e2e
def test_first_deploy_walked_against_the_local_provider(account, tmp_path):
    config = re.search(r"```jsonc\n(.*?)```", step(1), re.S).group(1)
    name = pyjson5.decode(config)["project_id"]
    proj = tmp_path / "project"
    proj.mkdir()
    (proj / "gpu.jsonc").write_text(config)
    env = {"HF_TOKEN": "hf_first_deploy"}

    valid = account.gpu("config", "validate", cwd=proj)
    assert valid.code == 0 and f"1 endpoint: {name}" in valid.out, valid.out + valid.err
    plan = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert plan.code == 0 and "1 to create" in plan.out, plan.err
    deployed = account.gpu("serverless", "deploy", "-y", cwd=proj, env=env)
    assert deployed.code == 0, deployed.err
    assert re.search(r"^  id: +\w+$", deployed.out, re.M) and "/runsync" in deployed.out and "curl -X POST" in deployed.out

    # Step 6: the local provider runs only what local.command starts; the page must say so
    # where it says to call the endpoint, since the template's image does not run locally.
    invoke = command(step(6), "serverless invoke")
    assert invoke[:3] == ["serverless", "invoke", name]
    bare = account.gpu(*invoke, cwd=proj, env=env)
    assert bare.code == 1 and "local.command" in bare.err, bare.out + bare.err
    assert "local.command" in step(6), "first-deploy.md step 6 does not say a local call needs local.command"
    example = json.loads(re.search(r'`"local": (\{[^`]*\})`', step(6)).group(1))
    block = pyjson5.decode(config)
    block["serverless"]["local"] = example
    (proj / "gpu.jsonc").write_text(json.dumps(block))
    (proj / "handler.py").write_text(ECHO_HANDLER)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=env).code == 0
    called = account.gpu(*invoke, cwd=proj, env=env)
    assert called.code == 0 and json.loads(called.out)["echo"] == "hi", called.out + called.err

    listed = account.gpu(*command(step(7), "serverless list"), cwd=proj, env=env)
    assert listed.code == 0 and "in sync" in listed.out, listed.out + listed.err
    status = account.gpu(*command(step(7), "serverless status"), cwd=proj, env=env)
    assert status.code == 0 and name in status.out, status.err


@pytest.mark.e2e
def test_the_readme_quickstart_runs_as_written(account, tmp_path):
    """README.md's Quickstart, its gpu lines run word for word from a copy of the repository's
    examples/ (the paths it names are relative to a clone)."""
    import shutil

    readme = (ROOT / "README.md").read_text()
    block = re.search(r"## Quickstart\n\n```sh\n(.*?)```", readme, re.S).group(1)
    lines = [shlex.split(line, comments=True) for line in block.splitlines()]
    runs = [words[1:] for words in lines if words[:1] == ["gpu"]]
    assert [r[:2] for r in runs] == [["serverless", "deploy"], ["serverless", "invoke"]], runs
    shutil.copytree(ROOT / "examples", tmp_path / "examples", ignore=shutil.ignore_patterns(".gpu"))
    deployed = account.gpu(*runs[0], cwd=tmp_path)
    assert deployed.code == 0, deployed.err
    assert re.search(r"^  url: +http://127\.0\.0\.1:\d+/ai/v2/\w+/runsync$", deployed.out, re.M) and "curl -X POST" in deployed.out, deployed.out
    called = account.gpu(*runs[1], cwd=tmp_path)
    assert called.code == 0 and json.loads(called.out) == {"echo": "hello", "words": 1}, called.out + called.err

    # docs/deploy.md spells out the `--json` result document: every key it has, no other.
    deploy_md = (ROOT / "docs" / "deploy.md").read_text()
    shown = re.search(r"`--json`\s+prints `(\{.*?\})`", deploy_md, re.S).group(1)
    documented = set(re.findall(r'"(\w+)"', shown))  # the top-level keys are quoted, the nested ones not
    again = account.gpu(*runs[0], "--json", cwd=tmp_path)
    assert again.code == 0, again.err
    result = again.json()
    assert documented == set(result), f"docs/deploy.md documents {sorted(documented)}; deploy --json has {sorted(result)}"
    assert result["health"] is None and result["error"] is None and result["prewarm"] == []

    # docs/prewarm.md: the gpu mode's result document is the cpu one shown, with the keys it
    # names replaced.
    prewarm_md = (ROOT / "docs" / "prewarm.md").read_text().split("## The result document (`--json`)", 1)[1]
    cpu_keys = set(json.loads(re.search(r"```json\n(.*?)```", prewarm_md, re.S).group(1).replace("…", "")))
    gone, added = re.search(r"In `gpu` mode, (.*?) give way to (.*?)\. ", prewarm_md, re.S).groups()
    gpu_keys = cpu_keys - set(re.findall(r"`(\w+)`", gone)) | set(re.findall(r'`"(\w+)"', added))
    warmed = account.gpu("serverless", "warm", "echo", "--config", "examples/echo/gpu.jsonc", "--json", cwd=tmp_path)
    assert warmed.code == 0, warmed.err
    assert set(warmed.json()) == gpu_keys, f"docs/prewarm.md makes the gpu result {sorted(gpu_keys)}; warm --json has {sorted(warmed.json())}"


PLAN_KEYS_CONFIG = """{
  "project_id": "echo",
  "serverless": {
    "name": "echo",
    "template": "custom-image",
    "runpod": { "image_name": "ghcr.io/example/echo-worker:0.1.0" },
    "gpu_type": "NVIDIA GeForce RTX 4090",
    "scaling": {
      "min_workers": 0,
      "max_workers": 2,
      "idle_timeout": 5
    }
  }
}
"""


@pytest.mark.e2e
def test_the_plans_page_shows_a_real_plan_of_keys_and_origins(account, tmp_path):
    """docs/plans.md's example of the gpu.jsonc key behind each change is a real plan: the page
    showed `workers.idleTimeout = 5 → 30` beside `- scaling.queueDelay`, which only a switch to
    request_count makes, and that switch sends no idleTimeout at all."""
    page = (ROOT / "docs" / "plans.md").read_text().split("## Which gpu.jsonc key each change comes from", 1)[1]
    shown = re.search(r"```text\n(.*?)```", page, re.S).group(1)
    proj = tmp_path / "echo"
    proj.mkdir()
    (proj / "gpu.jsonc").write_text(PLAN_KEYS_CONFIG)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    [live] = account.endpoints()
    account.server.http.patch(f"/v2/serverless/{live['id']}", json={"scaling": {"type": "QUEUE_DELAY", "queueDelay": 6}}).raise_for_status()
    (proj / "gpu.jsonc").write_text(PLAN_KEYS_CONFIG.replace("NVIDIA GeForce RTX 4090", "NVIDIA L4").replace('"idle_timeout": 5', '"idle_timeout": 30'))
    plan = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert plan.code == 0 and shown in plan.out, f"docs/plans.md shows:\n{shown}\nthe plan prints:\n{plan.out}"


@pytest.mark.e2e
def test_the_plans_page_shows_a_real_plan_of_who_moved(account, tmp_path):
    """docs/plans.md's example of origins is a real plan too: it left out the `in gpu.jsonc:`
    line every changed field of an update carries."""
    page = (ROOT / "docs" / "plans.md").read_text().split("## Who moved: origins and drift labels", 1)[1]
    shown = re.search(r"```text\n(.*?)```", page, re.S).group(1)
    proj = tmp_path / "echo"
    proj.mkdir()
    config = PLAN_KEYS_CONFIG.replace('"max_workers": 2', '"max_workers": 3')
    (proj / "gpu.jsonc").write_text(config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    [live] = account.endpoints()
    account.server.http.patch(f"/v2/serverless/{live['id']}", json={"env": {**live["env"], "DEBUG": "1"},
                                                                   "workers": {"min": 0, "max": 5, "idleTimeout": 7}}).raise_for_status()
    (proj / "gpu.jsonc").write_text(config.replace('"min_workers": 0', '"min_workers": 1').replace('"idle_timeout": 5', '"idle_timeout": 10'))
    plan = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert plan.code == 0 and shown in plan.out, f"docs/plans.md shows:\n{shown}\nthe plan prints:\n{plan.out}"

"""Review R6-1 (ADR 50): a workflow that checks the repository out into a subdirectory of the
workspace (`actions/checkout` with `path: src`, the action's `working-directory: src`) names
every file by its path from the repository root, the directory holding `.git`, never from
GITHUB_WORKSPACE: the base branch's policy file is looked up where the repository has it (a
pull request that loosens it is refused), the comment's links and keys are repository paths,
and a checkout whose root gpuctl cannot tell is refused rather than passed as "a new policy"."""

from __future__ import annotations

import json

import yaml

import pytest

from tests.github.conftest import WORKFLOWS, config, no_secrets, pull_request, tree

pytestmark = pytest.mark.e2e

STRICT, LOOSE = '{"max_max_workers": 2}', "{}"
HEAD = "a" * 40


def _plan_in(tmp_path, directory: str, checkout: bool = False):
    """plan.yml, with the action working in `directory` (`working-directory`), and with
    `checkout`, the repository checked out there too (`actions/checkout` with `path:`)."""
    flow = yaml.safe_load((WORKFLOWS / "plan.yml").read_text())
    steps = flow["jobs"]["plan"]["steps"]
    if checkout:
        steps[0]["with"]["path"] = directory
    steps[1]["with"]["working-directory"] = directory
    path = tmp_path / f"plan-in-{directory}.yml"
    path.write_text(yaml.safe_dump(flow, sort_keys=False))
    return path


def _in_src(tmp_path):
    """plan.yml, with the checkout in `src` and the action working there."""
    return _plan_in(tmp_path, "src", checkout=True)


def _planned(gha, fake, workflow, checkout, number: int, code: str):
    """`workflow` run for pull request `number`, whose head is `checkout`: the run (its gpuctl
    step exited `code`) and its one comment's body."""
    fake.add_tree(HEAD, checkout)
    fake.add_pull(number, HEAD)
    run = gha.run(workflow, pull_request(number, HEAD, checkout))
    assert run.job("plan").step("gpuctl").outputs["exit_code"] == code, run.job("plan").steps
    (comment,) = fake.comments_on(number)
    return run, comment["body"]


def _planned_in_services(gha, fake, tmp_path, asr: str, code: str):
    """The action in `services` for its config `asr/gpu.jsonc` (text `asr`), the repository's
    `services/asr/gpu.jsonc`: the run and its comment's body."""
    checkout = tree(tmp_path / "pr", config("api"), {"services/asr/gpu.jsonc": asr, ".git/HEAD": "ref: refs/heads/main\n"})
    gha.action_inputs["config"] = "asr/gpu.jsonc"
    return _planned(gha, fake, _plan_in(tmp_path, "services"), checkout, 31, code)


def _contents(fake) -> list[str]:
    return [f"{r['path']}?ref={r['query'].get('ref')}" for r in fake.requests if "/contents" in r["path"]]


def test_a_pull_request_that_loosens_the_policy_file_is_refused_with_the_checkout_in_a_subdirectory(gha, fake, account, tmp_path):
    git = {".git/HEAD": "ref: refs/heads/main\n"}  # actions/checkout keeps the repository's .git
    fake.add_tree("main", tree(tmp_path / "base", config("api", max_workers=2), {"platform.jsonc": STRICT}))
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=tmp_path / "base").code == 0  # the plan updates it: its keys are linked
    checkout = tree(tmp_path / "pr", config("api", max_workers=3), {"platform.jsonc": LOOSE} | git)
    gha.action_inputs["policy"] = "platform.jsonc"
    run, body = _planned(gha, fake, _in_src(tmp_path), checkout, 31, "4")
    assert run.job("plan").status == "failure"
    assert "Policy (platform.jsonc@main): 1 violation" in body, body
    assert "This pull request changes the policy file `platform.jsonc`" in body.split("\n\n", 1)[0], body
    assert "adds the policy file" not in body and "src/" not in body, body
    assert 'key="gpu.jsonc"' in body  # the marker names the repository path, as the last-applied record does (ADR 35)
    assert f"](https://github.com/acme/ml-api/blob/{HEAD}/gpu.jsonc#L" in body, body  # at the head: the listing of its root found the same blob
    asked = _contents(fake)
    assert "/repos/acme/ml-api/contents/platform.jsonc?ref=main" in asked, asked
    assert not any("/contents/src" in a for a in asked), asked
    no_secrets(run, fake)


def test_a_checkout_whose_repository_root_gpuctl_cannot_tell_is_refused_not_passed_as_a_new_policy(gha, fake, tmp_path):
    """No .git in the checkout (a checkout by other means): the paths fall back to the
    workspace's, `src/platform.jsonc`, which neither the base branch nor the head has. That is a
    wrong mapping, not a policy file the pull request adds: nothing is planned."""
    fake.add_tree("main", tree(tmp_path / "base", config("api", max_workers=2), {"platform.jsonc": STRICT}))
    checkout = tree(tmp_path / "pr", config("api", max_workers=3), {"platform.jsonc": LOOSE})
    gha.action_inputs["policy"] = "platform.jsonc"
    run, body = _planned(gha, fake, _in_src(tmp_path), checkout, 32, "1")
    assert run.job("plan").status == "failure"
    assert "passed" not in body and "adds the policy file" not in body, body
    assert "the base branch (main) has neither src/platform.jsonc nor the config (src/gpu.jsonc)" in body, body
    assert "nothing was planned, since a loosened policy file would pass as a new one" in body
    assert "give the action's `working-directory` the checkout's `path:`" in body
    no_secrets(run, fake)


def test_a_pull_request_that_adds_a_config_and_its_policy_file_is_still_planned_against_the_new_file(gha, fake, tmp_path):
    """The base branch has neither file (a new project): the head commit has the policy file at
    its key, byte for byte, so the path is right and the file is new."""
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "README.md").write_text("a repository without gpuctl yet\n")
    fake.add_tree("main", tmp_path / "base")
    checkout = tree(tmp_path / "pr", config("api", max_workers=3), {"platform.jsonc": STRICT, ".git/HEAD": "ref: refs/heads/main\n"})
    gha.action_inputs["policy"] = "platform.jsonc"
    _, body = _planned(gha, fake, _in_src(tmp_path), checkout, 33, "4")
    assert "Policy (platform.jsonc): 1 violation" in body, body
    assert "This pull request adds the policy file `platform.jsonc`" in body.split("\n\n", 1)[0], body


def test_a_command_the_plan_comment_suggests_names_the_config_by_its_repository_path(gha, fake, account, tmp_path):
    """The action works in `services` (`working-directory`), its config `asr/gpu.jsonc`: the
    comment's key is the repository path `services/asr/gpu.jsonc`, but the commands its notes
    suggest carried the workflow's own path (`--config asr/gpu.jsonc`), which names no file from
    the repository root, where a person copies them to (ADR 50)."""
    asr = config("asr", project_id="asr")
    asr["serverless"]["prewarm"] = {"enabled": True, "mode": "gpu"}  # its plan notes `gpu serverless warm asr ...`
    run, body = _planned_in_services(gha, fake, tmp_path, json.dumps(asr), "2")
    assert run.job("plan").status == "success", run.job("plan").step("run").err
    assert 'key="services/asr/gpu.jsonc"' in body, body
    assert "gpu serverless warm asr --config services/asr/gpu.jsonc" in body, body
    assert "--config asr/gpu.jsonc" not in body, body
    no_secrets(run, fake)


@pytest.mark.parametrize("asr, place", [
    ('{"project_id": "asr",\n  "serverless": {"name": "asr",, }}', "services/asr/gpu.jsonc:2:32"),  # JSONC syntax
    (json.dumps(config("asr", project_id="asr", max_workers=-3), indent=2), "services/asr/gpu.jsonc:9:7"),  # the schema
])
def test_a_config_error_names_the_config_by_its_repository_path(gha, fake, tmp_path, asr, place):
    """A config that cannot be read (a JSONC syntax error, a value the schema refuses) in a run
    whose `working-directory` is below the repository root: the error named the file as the
    workflow gave it, `asr/gpu.jsonc:2:32`, a path the repository does not have, where the
    comment's key and links name it `services/asr/gpu.jsonc` (ADR 50)."""
    run, body = _planned_in_services(gha, fake, tmp_path, asr, "1")
    assert 'key="services/asr/gpu.jsonc"' in body, body
    assert place in body, body
    assert " asr/gpu.jsonc" not in body.replace("services/asr/gpu.jsonc", "") and "\nasr/gpu.jsonc" not in body, body
    log = run.job("plan").step("run").err
    assert place in log and " asr/gpu.jsonc:" not in log, log
    no_secrets(run, fake)

"""The fork flow: fork-configs.yml (a fork's pull_request run: no secrets, uploads the configs)
then fork-plan.yml (workflow_run on the base branch: plans those configs as data and comments),
run as GitHub runs them."""

from __future__ import annotations

import json

import pytest

from gpuctl.github.parts import read_marker
from tests.github.conftest import WORKFLOWS, config, no_secrets, pull_request, tree, workflow_run
from tests.github.fake_github import BASE_SHA

pytestmark = pytest.mark.e2e

HEAD = "9" * 40


def base_branch(fake, directory, gpu: dict, files: dict[str, str] | None = None):
    """The base branch's checkout, which fork-plan.yml runs from; GitHub serves the same files
    as the pull request's base commit."""
    checkout = tree(directory, gpu, files)
    fake.add_tree(BASE_SHA, checkout)
    return checkout


def fork_configs(gha, fake, tmp_path, number: int = 21, gpu: dict | None = None):
    """The unprivileged half for a fork's pull request whose gpu.jsonc adds endpoint `forked`."""
    fake.add_pull(number, HEAD, head_repo="mallory/ml-api", head_repo_id=99)
    files = {"handler.py": "import runpod\nrunpod.serverless.start({'handler': lambda job: job})\n", "notes/secret-plan.txt": "not a config"}
    checkout = tree(tmp_path / "fork", gpu or config("api", "forked"), files)
    fake.add_tree(HEAD, checkout)  # the pull request's head commit, as GitHub serves it
    run = gha.run(WORKFLOWS / "fork-configs.yml", pull_request(number, HEAD, checkout, fork=True))
    assert run.job("configs").status == "success", run.job("configs").steps
    return run


def fork_plan(gha, fake, tmp_path, unprivileged):
    """The privileged half for `unprivileged`'s configs, run from a base branch whose gpu.jsonc
    declares the project with endpoint `api` only."""
    return gha.run(WORKFLOWS / "fork-plan.yml", workflow_run(unprivileged.run_id, HEAD, base_branch(fake, tmp_path / "base", config("api"))))


def commented_fork_plan(gha, fake, tmp_path, gpu: dict | None = None):
    """Both halves for a fork whose config is `gpu` (default: `api` and `forked`), planned
    successfully: the privileged run and the body of its one comment."""
    privileged = fork_plan(gha, fake, tmp_path, fork_configs(gha, fake, tmp_path, gpu=gpu))
    assert privileged.job("plan").status == "success", privileged.job("plan").steps
    (comment,) = fake.comments_on(21)
    return privileged, comment["body"]


def test_the_fork_s_configs_are_planned_from_the_base_branch_and_commented(gha, fake, tmp_path):
    unprivileged = fork_configs(gha, fake, tmp_path)
    (uploaded,) = fake.artifacts
    assert set(uploaded["files"]) == {"gpu.jsonc", "handler.py", "pr-number"}  # data only: no other file of the fork
    assert uploaded["workflow_run"]["head_repository_id"] == 99
    assert [r for r in fake.requests] == []  # the fork's run never talks to the API

    base = base_branch(fake, tmp_path / "base", config("api"))
    privileged = gha.run(WORKFLOWS / "fork-plan.yml", workflow_run(unprivileged.run_id, HEAD, base))
    job = privileged.job("plan")
    assert job.status == "success", job.steps
    (comment,) = fake.comments_on(21)
    assert read_marker(comment["body"]).key == "gpu.jsonc"
    assert "endpoint.forked will be created" in comment["body"]  # the fork's config, not the base's
    assert job.step("gpuctl").outputs["artifact"] == f"gpuctl-plan-{HEAD}"
    plan = fake.artifact(privileged.run_id, f"gpuctl-plan-{HEAD}")
    assert plan is not None and plan["workflow_run"]["head_repository_id"] == fake.repository_id  # a trusted run made it
    no_secrets(unprivileged, fake)
    no_secrets(privileged, fake)


def test_a_pull_request_number_that_does_not_match_the_run_gets_no_comment(gha, fake, tmp_path):
    unprivileged = fork_configs(gha, fake, tmp_path, number=22)
    fake.add_pull(23, "8" * 40)  # someone else's pull request
    fake.artifacts[0]["files"]["pr-number"] = b"23\n"  # what a fork's own workflow could upload
    privileged = fork_plan(gha, fake, tmp_path, unprivileged)
    job = privileged.job("plan")
    assert job.status == "failure"
    assert fake.comments_on(23) == [] and fake.comments_on(22) == []
    assert "pull request #23 is at 888888888888, but the configs came from a run for 999999999999" in job.step("run").err
    assert "Traceback" not in privileged.texts()


def test_the_fork_plan_runs_only_for_a_fork_s_successful_pull_request_run(gha, fake, tmp_path):
    event = workflow_run(5000, HEAD, base_branch(fake, tmp_path / "base", config("api")))
    event.payload["workflow_run"]["conclusion"] = "failure"
    assert gha.run(WORKFLOWS / "fork-plan.yml", event).job("plan").status == "skipped"
    event.payload["workflow_run"] |= {"conclusion": "success", "head_repository": {"full_name": fake.repository}}
    assert gha.run(WORKFLOWS / "fork-plan.yml", event).job("plan").status == "skipped"
    assert fake.requests == []


def test_a_fork_s_config_that_reads_a_secret_it_does_not_get_still_plans(gha, fake, tmp_path):
    """The privileged run has no API_TOKEN (it is the fork's `${VAR}`, not a secret of this
    repository): the plan shows the value as unknown instead of failing, and comments (ADR 24)."""
    gpu = config("api", "forked")
    gpu["serverless"][1]["runpod"]["env"]["API_TOKEN"] = "${API_TOKEN}"
    privileged, body = commented_fork_plan(gha, fake, tmp_path, gpu)
    assert "endpoint.forked will be created" in body
    assert "+ env.API_TOKEN" in body and "= (from $API_TOKEN, unknown in this run)" in body
    assert body.count("API_TOKEN is not set in this run") == 1
    assert "environment variable API_TOKEN is not set" not in privileged.texts()
    no_secrets(privileged, fake)


def test_a_fork_that_writes_a_literal_over_a_secret_never_sees_the_account_s_value(gha, fake, account, tmp_path):
    """The deployed endpoint holds HF_TOKEN from a `${VAR}`; a fork's pull request replaces it
    with a literal. The privileged plan reads the live account, and the comment it posts on the
    fork's pull request shows the literal replacing a hidden value, never the secret."""
    secret = "hf_deployed_canary_5e1d0c"
    base = config("api", env={"HF_TOKEN": "${HF_TOKEN}"})
    deployed = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=tree(tmp_path / "deployed", base), env={"HF_TOKEN": secret})
    assert deployed.code == 0, deployed.err
    unprivileged = fork_configs(gha, fake, tmp_path, gpu=config("api", env={"HF_TOKEN": "tell-me"}))
    privileged = gha.run(WORKFLOWS / "fork-plan.yml", workflow_run(unprivileged.run_id, HEAD, base_branch(fake, tmp_path / "base", base)))
    job = privileged.job("plan")
    assert job.status == "success", job.steps
    (comment,) = fake.comments_on(21)
    assert '~ env.HF_TOKEN = (sensitive) → "tell-me"' in comment["body"]
    plan = fake.artifact(privileged.run_id, f"gpuctl-plan-{HEAD}")
    assert secret not in comment["body"] + job.summary + privileged.texts() + str(plan)
    no_secrets(privileged, fake)


def test_fork_configs_takes_one_config_per_line_so_a_path_may_hold_spaces(gha, fake, tmp_path):
    """CONFIGS in fork-configs.yml is one path per line, as the action's `config` input is: a
    path with a space is one config, not two words."""
    import yaml

    workflow = yaml.safe_load((WORKFLOWS / "fork-configs.yml").read_text())
    (step,) = [s for s in workflow["jobs"]["configs"]["steps"] if "CONFIGS" in (s.get("env") or {})]
    step["env"]["CONFIGS"] = "gpu.jsonc\n  services/my api/gpu.jsonc  \n\n"
    patched = tmp_path / "fork-configs.yml"
    patched.write_text(yaml.safe_dump(workflow, sort_keys=False))
    fake.add_pull(24, HEAD, head_repo="mallory/ml-api", head_repo_id=99)
    files = {"services/my api/gpu.jsonc": "{}", "services/my api/handler.py": "print()\n", "services/my/gpu.jsonc": "{}"}
    run = gha.run(patched, pull_request(24, HEAD, tree(tmp_path / "fork", config("api"), files), fork=True))
    assert run.job("configs").status == "success", run.job("configs").steps
    (uploaded,) = fake.artifacts
    assert set(uploaded["files"]) == {"gpu.jsonc", "services/my api/gpu.jsonc", "services/my api/handler.py", "pr-number"}


def test_configs_the_fork_s_run_uploaded_that_are_not_the_pull_request_s_get_no_plan(gha, fake, tmp_path):
    """The fork controls its run of fork-configs.yml, so it can upload a harmless gpu.jsonc
    while the pull request changes another. The privileged run compares each uploaded file with
    the pull request's head commit and plans nothing that differs: the comment says why."""
    import json

    unprivileged = fork_configs(gha, fake, tmp_path)
    (uploaded,) = fake.artifacts
    uploaded["files"]["gpu.jsonc"] = json.dumps(config("api")).encode()  # not what the pull request holds
    privileged = fork_plan(gha, fake, tmp_path, unprivileged)
    job = privileged.job("plan")
    assert job.status == "failure"
    (comment,) = fake.comments_on(21)
    assert "gpuctl could not plan `gpu.jsonc`" in comment["body"] and "is not the pull request's at 999999999999" in comment["body"]
    assert "will be created" not in comment["body"] and "No changes" not in comment["body"]
    assert fake.artifact(privileged.run_id, f"gpuctl-plan-{HEAD}") is None  # no plan to apply on merge
    assert "Traceback" not in privileged.texts()

    uploaded["files"]["gpu.jsonc"] = (tmp_path / "fork" / "gpu.jsonc").read_bytes()  # the real one, and a handler file the fork invented
    uploaded["files"]["extra.py"] = b"print('not in the pull request')\n"
    again = gha.run(WORKFLOWS / "fork-plan.yml", workflow_run(unprivileged.run_id, HEAD, base_branch(fake, tmp_path / "base2", config("api"))))
    assert again.job("plan").status == "failure"
    assert "extra.py is not the pull request's" in fake.comments_on(21)[0]["body"]


def _another_team(account, tmp_path) -> dict:
    """Another team's project in the same account: endpoint `ledger` of project `billing`."""
    gpu = config("ledger", project_id="billing")
    gpu["serverless"]["runpod"] |= {"image_name": "ghcr.io/acme/billing-ledger:7.3.1", "env": {"LEDGER_DSN": "postgres://ledger-db.internal/books"}}
    deployed = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=tree(tmp_path / "billing", gpu))
    assert deployed.code == 0, deployed.err
    (endpoint,) = account.endpoints()
    return endpoint


@pytest.mark.parametrize("base_has_it", [True, False], ids=["base-declares-another-project", "no-config-on-the-base"])
def test_a_fork_s_config_naming_another_project_is_not_planned(gha, fake, account, tmp_path, base_has_it):
    """The plan reads the account with its key and is posted publicly: a fork that sets
    project_id to another team's project would read that project's endpoints (names, ids,
    images, env literals) in the comment. A config plans only the project the same path
    declares on the pull request's base commit; here it gets an error saying why, and nothing
    of the other project is read into any comment, output, log or file."""
    ledger = _another_team(account, tmp_path)
    unprivileged = fork_configs(gha, fake, tmp_path, gpu=config("probe", project_id="billing"))
    base = base_branch(fake, tmp_path / "base", config("api"))
    if not base_has_it:
        del fake.trees[BASE_SHA]["gpu.jsonc"]
    privileged = gha.run(WORKFLOWS / "fork-plan.yml", workflow_run(unprivileged.run_id, HEAD, base))
    job = privileged.job("plan")
    assert job.status == "failure"
    (comment,) = fake.comments_on(21)
    why = ('it plans project "billing", but gpu.jsonc on the pull request\'s base (ba5eba5eba5e) declares project_id "ml-api"' if base_has_it
           else "gpu.jsonc on the pull request's base (ba5eba5eba5e) does not exist")
    for text in (comment["body"], job.summary, job.step("run").err):
        assert "gpu.jsonc was not planned" in text and why in text, text
        assert "a maintainer can push the branch to this repository" in text
    assert job.step("gpuctl").outputs["exit_code"] == "1"
    assert fake.artifact(privileged.run_id, f"gpuctl-plan-{HEAD}") is None
    seen = privileged.texts() + json.dumps([c["body"] for c in fake.comments.values()])
    for secret in ("ledger", ledger["id"], "billing-ledger:7.3.1", "ledger-db.internal"):
        assert secret not in seen
    assert "Traceback" not in seen
    no_secrets(privileged, fake)


def test_a_fork_s_config_of_the_base_s_project_still_plans_beside_another_project(gha, fake, account, tmp_path):
    ledger = _another_team(account, tmp_path)
    privileged, body = commented_fork_plan(gha, fake, tmp_path)
    assert "endpoint.forked will be created" in body and "endpoint.api will be created" in body
    assert ledger["id"] not in body and "billing-ledger" not in privileged.texts()


def test_a_fork_s_config_that_adopts_another_project_s_endpoint_is_not_planned(gha, fake, account, tmp_path):
    """`adopt` takes an endpoint over by id from any project, and its plan shows that endpoint's
    configuration as the old values: a fork that learnt an id could read another team's endpoint
    through its own project. In the fork flow a block may adopt only what the same config on
    the base commit adopts; otherwise nothing of the account is read for it."""
    ledger = _another_team(account, tmp_path)
    gpu = config("api")
    gpu["serverless"]["adopt"] = ledger["id"]
    unprivileged = fork_configs(gha, fake, tmp_path, gpu=gpu)
    privileged = fork_plan(gha, fake, tmp_path, unprivileged)
    job = privileged.job("plan")
    assert job.status == "failure"
    (comment,) = fake.comments_on(21)
    assert "gpu.jsonc was not planned" in comment["body"] and f"endpoint.api adopts endpoint {ledger['id']}" in comment["body"]
    assert "does not adopt it" in comment["body"] and "a maintainer can push the branch to this repository" in comment["body"]
    assert fake.artifact(privileged.run_id, f"gpuctl-plan-{HEAD}") is None
    seen = privileged.texts() + json.dumps([c["body"] for c in fake.comments.values()])
    for secret in ("ledger", "billing", "billing-ledger:7.3.1", "ledger-db.internal"):
        assert secret not in seen

    adopting = base_branch(fake, tmp_path / "adopting", gpu)  # the maintainers adopt it on the base: then it plans
    again = gha.run(WORKFLOWS / "fork-plan.yml", workflow_run(unprivileged.run_id, HEAD, adopting))
    assert again.job("plan").status == "success", again.job("plan").steps
    assert f"adopts endpoint {ledger['id']} from project \"billing\"" in fake.comments_on(21)[0]["body"]


def _guessable_account(account, tmp_path) -> dict[str, str]:
    """What a fork could guess the names of, beside the base's project: another team's endpoint
    `ledger` with its volume `ledger-cache`, and an endpoint `legacy` that no project owns (its
    marker removed in the console). Their ids, by name."""
    billing = config("ledger", project_id="billing")
    billing["serverless"]["runpod"] |= {"image_name": "ghcr.io/acme/billing-ledger:7.3.1"}
    billing["serverless"]["volume"] = {"name": "ledger-cache", "size_gb": 20}
    billing["serverless"]["runpod"]["data_center_ids"] = ["EU-RO-1"]
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=tree(tmp_path / "billing", billing)).code == 0
    legacy = config("legacy", project_id="old")
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=tree(tmp_path / "old", legacy)).code == 0
    ids = {e["name"]: e["id"] for e in account.endpoints()}
    (endpoint,) = [e for e in account.endpoints() if e["name"] == "legacy"]
    env = {k: v for k, v in endpoint["env"].items() if k != "GPUCTL_PROJECT"}
    account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"env": env}).raise_for_status()
    (volume,) = account.volumes()
    return ids | {"ledger-cache": volume["id"]}


@pytest.mark.parametrize("probe", ["endpoint-name", "unowned-endpoint-name", "look-alike", "volume-name", "volume-outside-data-centers", "smaller-volume"])
def test_a_fork_s_config_cannot_learn_what_the_account_holds_outside_its_project(gha, fake, account, tmp_path, probe):
    """Within the base's project, a fork can still name anything in its config: a block named
    like another team's endpoint, like an endpoint no project owns, or a volume named like an
    account's volume (volumes belong to no project). The plan comment must not tell it that
    such a thing exists, nor its id, owner, data center or size: in the fork flow the plan sees
    only this project's endpoints and volumes, and what the base config names; the rest of the
    account reads as absent."""
    ids = _guessable_account(account, tmp_path)
    gpu = config("api", "forked")
    forked = gpu["serverless"][1]
    if probe == "endpoint-name":
        forked["name"] = "ledger"
    elif probe == "unowned-endpoint-name":
        forked["name"] = "legacy"
    elif probe == "look-alike":
        forked["name"] = "leg"
    elif probe == "volume-name":
        forked["volume"] = {"name": "ledger-cache"}
    elif probe == "volume-outside-data-centers":
        forked["volume"] = {"name": "ledger-cache"}
        forked["runpod"]["data_center_ids"] = ["US-TX-3"]
    else:
        forked["volume"] = {"name": "ledger-cache", "size_gb": 10}
        forked["runpod"]["data_center_ids"] = ["EU-RO-1"]
    privileged, body = commented_fork_plan(gha, fake, tmp_path, gpu)
    assert " will be created" in body
    seen = privileged.texts() + json.dumps([c["body"] for c in fake.comments.values()]) + str(fake.artifact(privileged.run_id, f"gpuctl-plan-{HEAD}"))
    for secret in (*ids.values(), "billing", "billing-ledger", "already exists", "unmanaged", "EU-RO-1 (", "20 GB", "left alone"):
        assert secret not in seen, secret
    no_secrets(privileged, fake)


def test_a_fork_s_plan_still_sees_its_project_s_endpoints_and_volumes(gha, fake, account, tmp_path):
    """The narrowed view hides only what is not the project's: the base's deployed endpoint and
    the volume it attaches are planned as they are (no change), beside another team's."""
    _guessable_account(account, tmp_path)
    base = config("api")
    base["serverless"] |= {"volume": {"name": "api-cache", "size_gb": 20}}
    base["serverless"]["runpod"]["data_center_ids"] = ["EU-RO-1"]
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=tree(tmp_path / "deployed", base)).code == 0
    gpu = config("api", "forked")
    gpu["serverless"][0] |= {"volume": {"name": "api-cache", "size_gb": 20}}
    gpu["serverless"][0]["runpod"]["data_center_ids"] = ["EU-RO-1"]
    unprivileged = fork_configs(gha, fake, tmp_path, gpu=gpu)
    privileged = gha.run(WORKFLOWS / "fork-plan.yml", workflow_run(unprivileged.run_id, HEAD, base_branch(fake, tmp_path / "base", base)))
    assert privileged.job("plan").status == "success", privileged.job("plan").steps
    (comment,) = fake.comments_on(21)
    assert "endpoint.forked will be created" in comment["body"]
    assert "endpoint.api will be" not in comment["body"]
    assert "1 to create, 0 to update" in privileged.job("plan").step("gpuctl").outputs["summary"]


def test_a_fork_s_text_in_the_privileged_run_s_log_is_never_a_workflow_command(gha, fake, tmp_path):
    """The privileged run's log quotes the fork's config (an error shows the value it is
    about), and GitHub's runner obeys a log line that starts with `::` (`::error::`,
    `::add-mask::`, `::stop-commands::`, `::set-output`) or holds `##[`. Every such line gpuctl
    writes is shown escaped, never obeyed."""
    gpu = config("api", "forked")
    gpu["serverless"][1]["runpod"]["env"]["OTHER"] = "${E\n ::error::key leaked ##[x]}"
    unprivileged = fork_configs(gha, fake, tmp_path, gpu=gpu)
    privileged = fork_plan(gha, fake, tmp_path, unprivileged)
    job = privileged.job("plan")
    assert job.status == "failure"
    log = "\n".join(s.out + s.err for s in job.steps)
    assert " \\::error::key leaked #\\#[x]" in log
    for line in log.splitlines():
        assert not line.lstrip().startswith("::") and "##[" not in line, line


def _fork_plan_with_policy(tmp_path, policy: str):
    """fork-plan.yml with the action's `policy` input set to `policy`."""
    import yaml

    workflow = yaml.safe_load((WORKFLOWS / "fork-plan.yml").read_text())
    (step,) = [s for s in workflow["jobs"]["plan"]["steps"] if s.get("id") == "gpuctl"]
    step["with"]["policy"] = policy
    patched = tmp_path / "fork-plan.yml"
    patched.write_text(yaml.safe_dump(workflow, sort_keys=False))
    return patched


def test_a_fork_cannot_choose_the_policy_its_plan_is_checked_against(gha, fake, tmp_path):
    """The working directory of fork-plan.yml holds what the fork's own run uploaded: a policy
    file given relative to it is the fork's (here the pull request loosens platform.jsonc, and
    the plan passed). It is refused; the base checkout's file, given by its path there, is the
    one the plan is checked against."""
    loose = '{"max_max_workers": 10}'
    fake.add_pull(21, HEAD, head_repo="mallory/ml-api", head_repo_id=99)
    checkout = tree(tmp_path / "fork", config("api", max_workers=3), {"platform.jsonc": loose})
    fake.add_tree(HEAD, checkout)
    unprivileged = gha.run(WORKFLOWS / "fork-configs.yml", pull_request(21, HEAD, checkout, fork=True))
    fake.artifacts[0]["files"]["platform.jsonc"] = loose.encode()  # what a fork's own fork-configs.yml can add
    base = base_branch(fake, tmp_path / "base", config("api", max_workers=2), {"platform.jsonc": '{"max_max_workers": 2}'})

    refused = gha.run(_fork_plan_with_policy(tmp_path, "platform.jsonc"), workflow_run(unprivileged.run_id, HEAD, base))
    job = refused.job("plan")
    assert job.status == "failure"
    (comment,) = fake.comments_on(21)
    assert "the policy file platform.jsonc is among the downloaded configs" in comment["body"] and "github.workspace" in comment["body"]
    assert "passed" not in comment["body"] and fake.artifact(refused.run_id, f"gpuctl-plan-{HEAD}") is None

    checked = gha.run(_fork_plan_with_policy(tmp_path, "${{ github.workspace }}/platform.jsonc"), workflow_run(unprivileged.run_id, HEAD, base))
    job = checked.job("plan")
    assert job.status == "failure" and job.step("gpuctl").outputs["exit_code"] == "4"
    assert "max_workers is 3; the policy allows at most 2" in fake.comments_on(21)[0]["body"]


def test_a_damaged_config_on_the_base_is_named_with_its_place_and_problem(gha, fake, tmp_path):
    """The base's gpu.jsonc decides what a fork's config may plan; when it cannot be parsed, the
    comment names that file at the base commit, where in it, what is wrong and what to do."""
    unprivileged = fork_configs(gha, fake, tmp_path)
    base = base_branch(fake, tmp_path / "base", config("api"))
    fake.trees[BASE_SHA]["gpu.jsonc"] = b'{\n  "project_id": "ml-api",\n  "serverless": [ }\n'
    privileged = gha.run(WORKFLOWS / "fork-plan.yml", workflow_run(unprivileged.run_id, HEAD, base))
    assert privileged.job("plan").status == "failure"
    (comment,) = fake.comments_on(21)
    assert "gpu.jsonc on the pull request's base (ba5eba5eba5e) could not be read: gpu.jsonc@ba5eba5eba5e:3:19: invalid JSONC" in comment["body"], comment["body"]
    assert "fix gpu.jsonc on the base branch" in comment["body"]
    assert comment["body"].count("could not be read") == 1


def test_an_artifact_with_more_files_than_a_config_needs_is_not_checked_one_by_one(gha, fake, tmp_path):
    """Each file beside a config costs one call to GitHub to check, and the token's hourly
    limit is the repository's: a fork whose pull request holds thousands of files there must not
    spend it. Past a bound the config is refused at once, saying why."""
    from gpuctl.github.fork import MAX_FILES

    files = {f"workflows/w{i}.json": "{}" for i in range(MAX_FILES + 1)}
    fake.add_pull(21, HEAD, head_repo="mallory/ml-api", head_repo_id=99)
    checkout = tree(tmp_path / "fork", config("api"), files)
    fake.add_tree(HEAD, checkout)
    unprivileged = gha.run(WORKFLOWS / "fork-configs.yml", pull_request(21, HEAD, checkout, fork=True))
    assert len(fake.artifacts[0]["files"]) > MAX_FILES
    privileged = fork_plan(gha, fake, tmp_path, unprivileged)
    assert privileged.job("plan").status == "failure"
    (comment,) = fake.comments_on(21)
    assert f"the uploaded configs hold {MAX_FILES + 2} files in the directory of gpu.jsonc, more than the {MAX_FILES} gpuctl checks" in comment["body"]
    assert sum("/contents/" in r["path"] for r in fake.requests) == 0


def test_an_uploaded_file_too_large_for_a_repository_is_refused_unread(tmp_path):
    """The artifact of a fork's own run can hold any file: one of many GiB was read whole into
    the privileged run's memory to hash it. A file over GitHub's 100 MiB limit cannot be the
    pull request's, so it is refused by its size, unread, and the config is not planned."""
    from gpuctl.errors import GpuctlError
    from gpuctl.github import fork

    class PullRequestFiles:  # GitHub's contents API: every path is a file of the pull request, gpu.jsonc as uploaded
        def repo(self, *segments: str) -> str:
            return "/".join(segments)

        def request(self, method: str, path: str, params=None, **shape) -> dict:
            return {"type": "file", "sha": fork.blob_id(b"{}") if path.endswith("gpu.jsonc") else "0" * 40}

    (tmp_path / "gpu.jsonc").write_text("{}")
    with open(tmp_path / "model.bin", "wb") as big:
        big.truncate(fork.MAX_FILE_BYTES + 1)  # sparse: no disk, nothing to read unless it is read
    with pytest.raises(GpuctlError) as refused:
        fork.verify(PullRequestFiles(), tmp_path, "gpu.jsonc", HEAD)
    assert "the uploaded model.bin is not the pull request's" in str(refused.value), str(refused.value)
    assert "larger than 100 MiB" in str(refused.value), str(refused.value)


def test_a_fork_s_config_reads_no_variable_of_the_privileged_run(gha, fake, tmp_path):
    """The privileged run's environment holds the RunPod key, the GitHub token and GitHub's own
    variables. A fork's `${VAR}` reads none of them: each value is unknown, as a secret the run
    does not have is, so the fork's config never reaches the key, and cannot make a value of
    the run (GITHUB_REPOSITORY, in every link of the comment) a secret that is then masked
    wherever the comment says it. (`${GITHUB_TOKEN}` is a config error in any config:
    tests/e2e/test_ci_credentials.py.)"""
    gpu = config("api", "forked")
    gpu["serverless"][1]["runpod"]["env"].update({"K": "${RUNPOD_API_KEY}", "R": "${GITHUB_REPOSITORY}"})
    privileged, body = commented_fork_plan(gha, fake, tmp_path, gpu)
    for variable in ("RUNPOD_API_KEY", "GITHUB_REPOSITORY"):
        assert f"= (from ${variable}, unknown in this run)" in body, body
    assert "(redacted)" not in body + privileged.job("plan").summary
    assert f"(https://github.com/{fake.repository}/actions/runs/{privileged.run_id})" in body
    no_secrets(privileged, fake)


def test_a_fork_s_plan_links_each_key_to_its_line_at_the_pull_request_s_head(gha, fake, account, tmp_path):
    """The fork flow's own checkout (GITHUB_SHA) is the base branch, which it plans nothing
    from: it plans the configs the fork's run uploaded, each checked to be the file at the pull
    request's head, so the keys link to their lines there."""
    from tests.github.conftest import REPO

    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=tree(tmp_path / "deployed", config("api"))).code == 0
    privileged, body = commented_fork_plan(gha, fake, tmp_path, gpu=config("api", max_workers=4))
    lines = (tmp_path / "fork" / "gpu.jsonc").read_text().splitlines()
    (line,) = [i for i, text in enumerate(lines, 1) if '"max_workers"' in text]
    assert f"[`serverless.scaling.max_workers`](https://github.com/{REPO}/blob/{HEAD}/gpu.jsonc#L{line}) gpu.jsonc:{line}" in body, body
    assert "/blob/" + "d" * 40 not in body
    no_secrets(privileged, fake)


def test_a_fork_planned_after_the_base_branch_changed_its_directory_is_planned_as_its_head(gha, fake, tmp_path):
    """The base branch added a requirements.txt beside gpu.jsonc after the fork branched. On a
    pull request actions/checkout checks out GitHub's merge of it into the base, so the fork's
    run uploaded that file too; the privileged run checks every uploaded file against the pull
    request's head, which has no such file, and refused to plan ("not the pull request's").
    fork-configs.yml checks out the head, which is what the check and the comment name."""
    fake.add_pull(21, HEAD, head_repo="mallory/ml-api", head_repo_id=99)
    head = tree(tmp_path / "fork-head", config("api", "forked"))
    fake.add_tree(HEAD, head)
    merge = tree(tmp_path / "fork-merge", config("api", "forked"), {"requirements.txt": "runpod==1.7\n"})
    unprivileged = gha.run(WORKFLOWS / "fork-configs.yml", pull_request(21, HEAD, merge, fork=True, head=head))
    assert unprivileged.job("configs").status == "success", unprivileged.job("configs").steps
    assert set(fake.artifacts[0]["files"]) == {"gpu.jsonc", "pr-number"}
    privileged = fork_plan(gha, fake, tmp_path, unprivileged)
    assert privileged.job("plan").status == "success", privileged.job("plan").steps
    (comment,) = fake.comments_on(21)
    assert "forked" in comment["body"] and "not the pull request's" not in comment["body"]



@pytest.mark.parametrize("written, refused", [
    ("platform.jsonc", True),  # among the downloaded configs, as written: the fork's, even as a link to the base's file
    ("{workspace}/platform.jsonc", False),  # the base checkout's file, by its path there
    ("{workspace}/leads-in.jsonc", True),  # a link of the base checkout into the downloaded configs: never the fork's file
    ("{workspace}/../pr/../base/platform.jsonc", False),  # `..` folded: the base checkout's
])
def test_the_fork_flow_s_policy_is_judged_by_its_path_as_written(tmp_path, written, refused):
    """The fork flow refuses a policy file among the configs the fork's run uploaded (its
    working directory). It decided that from where links lead (`resolve()`), unlike plan and
    apply, which decide from the path as the workflow names it (`Job.in_checkout`): a link
    among the downloaded configs that led to the base checkout's file was taken as the base's
    policy, though the path named is the fork's to fill. The path as written decides; a link
    that leads into the downloaded configs is refused too."""
    import io

    from gpuctl.cli.context import AppContext
    from gpuctl.github.env import Actions
    from gpuctl.github.job import Job
    from gpuctl.github.plan_flow import PlanOptions, _policy_among_the_configs

    base, pr = tmp_path / "base", tmp_path / "pr"
    base.mkdir(), pr.mkdir()
    (base / "platform.jsonc").write_text('{"max_max_workers": 2}')
    (pr / "gpu.jsonc").write_text("{}")
    (pr / "platform.jsonc").symlink_to(base / "platform.jsonc")
    (base / "leads-in.jsonc").symlink_to(pr / "gpu.jsonc")
    job = Job(AppContext(environ={"GITHUB_WORKSPACE": str(base)}, cwd=pr, stdout=io.StringIO(), stderr=io.StringIO()), Actions())
    opts = PlanOptions(("gpu.jsonc",), "runpod", pr / "plans", False, pr / "pr-number", "gpuctl-plan", written.format(workspace=base))
    error = _policy_among_the_configs(job, opts)
    assert (error is not None) == refused, error
    if refused:
        assert "downloaded configs" in error.summary and "github.workspace" in (error.hint or ""), error.format()


def test_a_fork_s_plan_comment_left_under_a_path_its_pull_request_moved_away_from_is_superseded(gha, fake, tmp_path):
    """A fork's pull request planned `gpu.jsonc`, then moved it to `svc/gpu.jsonc` (the base
    branch declares the project at both paths, as while a move lands). The fork flow judged
    "gone" in its own checkout, the base branch, which still has `gpu.jsonc`: the old plan
    stayed beside the new one. What counts is the pull request's head commit, as GitHub has it."""
    import yaml

    base = base_branch(fake, tmp_path / "base", config("api"), {"svc/gpu.jsonc": json.dumps(config("api"))})
    first = fork_plan(gha, fake, tmp_path, fork_configs(gha, fake, tmp_path, gpu=config("api")))
    assert first.job("plan").status == "success", first.job("plan").steps
    (old,) = [dict(c) for c in fake.comments_on(21)]
    assert read_marker(old["body"]).key == "gpu.jsonc"

    moved_head = "8" * 40
    fake.add_pull(21, moved_head, head_repo="mallory/ml-api", head_repo_id=99)
    moved = tmp_path / "fork-moved"
    (moved / "svc").mkdir(parents=True)
    (moved / "svc/gpu.jsonc").write_text(json.dumps(config("api"), indent=2))
    fake.add_tree(moved_head, moved)
    workflow = yaml.safe_load((WORKFLOWS / "fork-configs.yml").read_text())
    (step,) = [s for s in workflow["jobs"]["configs"]["steps"] if "CONFIGS" in (s.get("env") or {})]
    step["env"]["CONFIGS"] = "svc/gpu.jsonc"
    patched = tmp_path / "fork-configs.yml"
    patched.write_text(yaml.safe_dump(workflow, sort_keys=False))
    unprivileged = gha.run(patched, pull_request(21, moved_head, moved, fork=True))
    assert unprivileged.job("configs").status == "success", unprivileged.job("configs").steps
    gha.action_inputs |= {"config": "svc/gpu.jsonc"}
    second = gha.run(WORKFLOWS / "fork-plan.yml", workflow_run(unprivileged.run_id, moved_head, base))
    assert second.job("plan").status == "success", second.job("plan").steps
    stale = fake.comments[old["id"]]
    assert "superseded" in stale["body"].lower() and "`svc/gpu.jsonc`" in stale["body"], stale["body"]
    (new,) = [c for c in fake.comments_on(21) if read_marker(c["body"]).key == "svc/gpu.jsonc"]
    assert f"[its plan comment]({new['html_url']})" in stale["body"], stale["body"]

"""Policy through the real CLI against the local provider: a plan that breaks a rule exits 4
(ExitCode.POLICY) and the provider's request log shows no write, whether the rule is in
gpu.jsonc's policy block, in a `--policy FILE`, or broken by a saved plan given to --from-plan."""

from __future__ import annotations

import json

from gpuctl.errors import ExitCode
from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.policy.support import where


def _writes(account) -> list[dict]:
    return [r for r in account.requests() if r["method"] not in ("GET", "HEAD", "OPTIONS")]


def _with_policy(policy: dict, **scaling) -> dict:
    return echo_config(**scaling) | {"policy": policy}


def test_a_violation_in_the_config_block_fails_deploy_with_exit_4_before_any_write(account, tmp_path):
    proj = project(tmp_path / "p", _with_policy({"max_max_workers": 1}, max_workers=2), {"handler.py": ECHO_HANDLER})
    result = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert result.code == ExitCode.POLICY == 4, result.err
    assert "breaks 1 policy rule; nothing was written" in result.err
    located = where(proj / "gpu.jsonc", '"max_workers": 2')  # the error points at the value's line in gpu.jsonc
    assert (f"{located}: endpoint.echo: serverless.scaling.max_workers: "
            "max_workers is 2; the policy allows at most 1 [max_max_workers, gpu.jsonc]") in result.err
    assert "Policy (gpu.jsonc): 1 violation" in result.out  # the plan shown before the refusal says why
    assert _writes(account) == [] and account.writes() == 0
    assert account.endpoints() == []


def test_plan_exits_4_and_the_json_plan_carries_each_violation(account, tmp_path):
    proj = project(tmp_path / "p", _with_policy({"require_secret_env": True}), {"handler.py": ECHO_HANDLER})
    config = json.loads((proj / "gpu.jsonc").read_text())
    config["serverless"]["runpod"]["env"]["HF_TOKEN"] = "hf_kQzPwLmXyRtBvNcDfGhJsAeUiOp1234567"
    (proj / "gpu.jsonc").write_text(json.dumps(config, indent=2))
    result = account.gpu("serverless", "deploy", "--plan", "--json", "--detailed-exitcode", cwd=proj)
    assert result.code == 4, result.err  # a policy failure outranks "changes pending" (2)
    policy = result.json()["policy"]
    assert policy["sources"] == ["gpu.jsonc"]
    assert policy["violations"] == [{"rule": "require_secret_env", "endpoint": "endpoint.echo", "path": "serverless.runpod.env.HF_TOKEN",
                                     "message": policy["violations"][0]["message"], "source": "gpu.jsonc",
                                     "where": where(proj / "gpu.jsonc", '"HF_TOKEN"')}]
    assert "hf_kQz" not in policy["violations"][0]["message"]
    assert _writes(account) == []


def test_a_policy_file_is_enforced_and_a_plan_that_keeps_it_deploys(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    (proj / "platform.jsonc").write_text('{\n  // the platform team\'s rules\n  "allowed_gpu_types": ["NVIDIA L4"]\n}\n')
    refused = account.gpu("serverless", "deploy", "-y", "--policy", "platform.jsonc", cwd=proj)
    assert refused.code == 4, refused.err
    assert 'GPU type "NVIDIA GeForce RTX 4090" is not allowed; allowed: "NVIDIA L4" [allowed_gpu_types, platform.jsonc]' in refused.err
    assert _writes(account) == []
    (proj / "platform.jsonc").write_text('{"allowed_gpu_types": ["NVIDIA L4", "NVIDIA GeForce RTX 4090"], "max_max_workers": 4}')
    kept = account.gpu("serverless", "deploy", "-y", "--policy", "platform.jsonc", cwd=proj)
    assert kept.code == 0, kept.err
    assert [e["name"] for e in account.endpoints()] == ["echo"]


def test_an_unknown_key_in_the_policy_file_is_located_with_a_fix(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    (proj / "platform.jsonc").write_text('{\n  "max_max_worker": 4\n}\n')
    result = account.gpu("serverless", "deploy", "--plan", "--policy", "platform.jsonc", cwd=proj)
    assert result.code == 1
    assert 'platform.jsonc:2:3: max_max_worker: unknown key\n  hint: did you mean "max_max_workers"?' in result.err
    assert "Traceback" not in result.err


def test_forbid_delete_stops_a_prune_and_the_endpoint_stays(account, tmp_path):
    proj = project(tmp_path / "p", {"project_id": "e2e", "serverless": [echo_config("a")["serverless"], echo_config("b")["serverless"]]},
                   {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    before = len(_writes(account))
    (proj / "gpu.jsonc").write_text(json.dumps(_with_policy({"forbid_delete": True}, name="a")))
    result = account.gpu("serverless", "deploy", "-y", "--prune", cwd=proj)
    assert result.code == 4, result.err
    assert "endpoint.b: the plan deletes endpoint.b" in result.err and "[forbid_delete, gpu.jsonc]" in result.err
    assert len(_writes(account)) == before
    assert sorted(e["name"] for e in account.endpoints()) == ["a", "b"]


def test_a_saved_plan_with_violations_is_never_applied_even_without_the_policy(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(max_workers=3), {"handler.py": ECHO_HANDLER})
    (proj / "platform.jsonc").write_text('{"max_max_workers": 2}')
    saved = account.gpu("serverless", "deploy", "--plan", "--out", "plan.json", "--policy", "platform.jsonc", cwd=proj)
    assert saved.code == 4, saved.err
    assert json.loads((proj / "plan.json").read_text())["policy"]["violations"][0]["rule"] == "max_max_workers"
    applied = account.gpu("serverless", "deploy", "--from-plan", "plan.json", cwd=proj)  # no --policy this time
    assert applied.code == 4, applied.err
    assert "the saved plan breaks 1 policy rule; nothing was written" in applied.err
    assert _writes(account) == [] and account.endpoints() == []


def test_require_secret_env_catches_the_usual_credential_names_and_a_password_in_a_url(account, tmp_path):
    """Review 3, R1: `require_secret_env` matched only `*_TOKEN`, `*_KEY`, `*SECRET*`, so a
    platform team's "credentials from secrets" rule passed DB_PASSWORD, OPENAI_APIKEY, GH_PAT and a
    DATABASE_URL with a password, and the plan went green. Settings that are no credentials
    (vLLM's MAX_MODEL_LEN, TOKENIZER, MAX_TOKENS) stay literals."""
    env = {"DB_PASSWORD": "hunter2", "OPENAI_APIKEY": "sk-proj-abc", "GH_PAT": "ghp_aaaa", "DATABASE_URL": "postgres://u:pw-canary-77@db/x",
           "MAX_MODEL_LEN": "8192", "TOKENIZER": "org/tok", "MAX_TOKENS": "512", "CACHE_URL": "redis://cache:6379/0"}
    proj = project(tmp_path / "p", echo_config(env=env), {"handler.py": ECHO_HANDLER})
    (proj / "platform.jsonc").write_text('{"require_secret_env": true}')
    result = account.gpu("serverless", "deploy", "--plan", "--json", "--policy", "platform.jsonc", cwd=proj)
    assert result.code == 4, result.err
    violations = result.json()["policy"]["violations"]
    assert sorted(v["path"] for v in violations) == [f"serverless.runpod.env.{k}" for k in ("DATABASE_URL", "DB_PASSWORD", "GH_PAT", "OPENAI_APIKEY")]
    assert all(v["rule"] == "require_secret_env" and v["source"] == "platform.jsonc" for v in violations)
    assert "pw-canary-77" not in json.dumps(violations)
    assert _writes(account) == []


def test_require_secret_env_reads_the_text_written_beside_a_reference(account, tmp_path):
    """Review 5, R5-5: a value holding any `${VAR}` passed, so a committed password beside one
    went through, shown in the plan only as `(sensitive)`. The reviewer's four values: two break
    the rule, the `${VAR}`-only password keeps it."""
    env = {"DB_URL": "postgres://app:hunter2-canary@${DBHOST}/db", "BASIC_AUTH": "${DBHOST}:pw123-canary",
           "DSN": "postgres://app:${DB_PASSWORD}@db/app", "API_BASE": "https://${DBHOST}/v1", "AUTHORIZATION": "Bearer ${DB_PASSWORD}"}
    proj = project(tmp_path / "p", echo_config(env=env), {"handler.py": ECHO_HANDLER})
    (proj / "platform.jsonc").write_text('{"require_secret_env": true}')
    result = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", "--policy", "platform.jsonc", cwd=proj,
                         env={"DBHOST": "db.internal", "DB_PASSWORD": "s3cret-canary"})
    assert result.code == 4, result.err
    violations = result.json()["policy"]["violations"]
    assert sorted(v["path"] for v in violations) == ["serverless.runpod.env.BASIC_AUTH", "serverless.runpod.env.DB_URL"]
    assert not any(canary in result.out + result.err for canary in ("hunter2-canary", "pw123-canary", "s3cret-canary"))
    assert _writes(account) == []


def test_a_platform_policy_pins_the_variables_a_config_may_read(account, tmp_path):
    """`allowed_env_vars` (ADR 34): a `${VAR}` the platform's list leaves out breaks the plan at
    its key, and deploy writes nothing."""
    proj = project(tmp_path / "p", echo_config(env={"HF_TOKEN": "${HF_TOKEN}", "DB": "${OTHER_SECRET}"}), {"handler.py": ECHO_HANDLER})
    (proj / "platform.jsonc").write_text('{"allowed_env_vars": ["HF_TOKEN"]}')
    env = {"HF_TOKEN": "hf_canary_123456", "OTHER_SECRET": "other_canary_123456"}
    refused = account.gpu("serverless", "deploy", "-y", "--policy", "platform.jsonc", cwd=proj, env=env)
    assert refused.code == 4, refused.err
    said = " ".join(refused.err.split())
    at = where(proj / "gpu.jsonc", '"DB"')
    assert f"{at}: endpoint.echo: serverless.runpod.env.DB: DB reads ${{OTHER_SECRET}}" in said, refused.err
    assert "[allowed_env_vars, platform.jsonc]" in said and "other_canary_123456" not in refused.out + refused.err
    assert _writes(account) == []


def test_max_always_on_prices_the_dearest_listed_gpu_type_whatever_comes_first(account, tmp_path):
    """Review 6, R6-2: always-on was priced at the first pool's active rate, so listing a cheap
    `gpu_type` first and an H100 in `gpu_types` showed $0.94/h and passed a $1/h limit, although
    RunPod v2 may place both always-on workers on H100s ($6.70/h). Both orders are refused, with
    the same figure, and the plan, its JSON and `status` say the same number."""
    h100, l4 = "NVIDIA H100 80GB HBM3", "NVIDIA L4"
    figures = {}
    for name, first, rest in (("h100", h100, []), ("l4first", l4, [h100])):
        config = echo_config(min_workers=2, max_workers=4)
        config["serverless"] |= {"gpu_type": first, "gpu_types": rest}
        proj = project(tmp_path / name, config, {"handler.py": ECHO_HANDLER})
        (proj / "platform.jsonc").write_text('{"max_always_on_per_hour": 1.0}')
        refused = account.gpu("serverless", "deploy", "--plan", "--provider", "local", "--policy", "platform.jsonc", cwd=proj)
        assert refused.code == 4, refused.out + refused.err
        assert "the plan's always-on cost estimate is $6.70/h; the policy allows at most $1.00/h" in refused.out + refused.err
        plan = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", "--policy", "platform.jsonc", cwd=proj)
        figures[name] = plan.json()["cost"]["always_on_per_hour"]
    assert figures["h100"] == figures["l4first"] == 6.696
    assert _writes(account) == []

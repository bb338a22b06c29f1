"""Each policy rule with a plan that keeps it and one that breaks it: the violation names the rule,
the endpoint and the gpu.jsonc key, and a plan with no policy has no verdict at all."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from gpuctl.config import build_desired, load_config
from gpuctl.config.policy import Policy
from gpuctl.model import Observed, Override
from gpuctl.plan import plan as make_plan
from gpuctl.policy.guard import Guard
from tests.policy.support import CATALOG, GPU, block, checked, config, deployed, rules, where


def test_no_policy_means_no_verdict(tmp_path):
    assert checked(tmp_path, config(block())).policy is None


@pytest.mark.parametrize("policy,keeps", [
    ({"allowed_gpu_types": [GPU, "NVIDIA L4"]}, True),
    ({"allowed_gpu_types": ["NVIDIA L4"]}, False),
    ({"max_min_workers": 1}, True),
    ({"max_min_workers": 0}, False),  # 0 is a limit, not "off"
    ({"max_max_workers": 3}, True),
    ({"max_max_workers": 2}, False),
])
def test_endpoint_rules(tmp_path, policy, keeps):
    plan = checked(tmp_path, config(block(min_workers=1, max_workers=3), policy=policy))
    [rule] = policy
    assert plan.policy.sources == ("gpu.jsonc",)
    assert rules(plan) == ([] if keeps else [(rule, "endpoint.api", {"allowed_gpu_types": "serverless.gpu_type", "max_min_workers": "serverless.scaling.min_workers",
                                                                       "max_max_workers": "serverless.scaling.max_workers"}[rule])])


def test_a_fallback_gpu_is_named_by_its_list_index_in_its_block(tmp_path):
    fallback = block("b") | {"gpu_types": ["NVIDIA L4", "NVIDIA RTX A6000"]}
    plan = checked(tmp_path, config(block("a"), fallback, policy={"allowed_gpu_types": [GPU, "NVIDIA L4"]}))
    assert rules(plan) == [("allowed_gpu_types", "endpoint.b", "serverless[1].gpu_types[1]")]
    assert '"NVIDIA RTX A6000" is not allowed' in plan.policy.violations[0].message
    assert plan.policy.violations[0].where == where(tmp_path / "gpu.jsonc", '"NVIDIA RTX A6000"')  # the list item itself


@pytest.mark.parametrize("rule,attr", [("max_always_on_per_hour", "always_on_per_hour"), ("max_worst_case_per_hour", "worst_case_per_hour")])
def test_cost_limits_use_the_plans_own_estimate(tmp_path, rule, attr):
    doc = config(block(min_workers=1, max_workers=3))
    estimate = getattr(checked(tmp_path, doc).cost, attr)
    assert estimate > 0
    at_limit = checked(tmp_path, doc | {"policy": {rule: estimate}})
    over = checked(tmp_path, doc | {"policy": {rule: round(estimate - 0.01, 2)}})
    assert rules(at_limit) == []
    assert rules(over) == [(rule, None, None)] and over.policy.violations[0].where is None  # the plan's total is written nowhere
    assert f"${estimate:,.2f}/h" in over.policy.violations[0].message


def test_forbid_delete(tmp_path):
    account = deployed(tmp_path, config(block("a"), block("b")))
    kept = checked(tmp_path, config(block("a"), block("b"), policy={"forbid_delete": True}), account, prune=True)
    pruned = checked(tmp_path, config(block("a"), policy={"forbid_delete": True}), account, prune=True)
    assert rules(kept) == []
    assert rules(pruned) == [("forbid_delete", "endpoint.b", None)]
    assert "the plan deletes endpoint.b (ep-b)" in pruned.policy.violations[0].message


def test_forbid_replace(tmp_path):
    account = deployed(tmp_path, config(block()))
    same = checked(tmp_path, config(block(), policy={"forbid_replace": True}), account)
    moved = replace(account, endpoints=({**account.endpoints[0], "type": "LOAD_BALANCER"},))
    replaced = checked(tmp_path, config(block(), policy={"forbid_replace": True}), moved)
    assert rules(same) == []
    assert [c.action.value for c in replaced.changes] == ["replace"]
    assert rules(replaced) == [("forbid_replace", "endpoint.api", None)]


@pytest.mark.parametrize("key", ["HF_TOKEN", "OPENAI_API_KEY", "MY_SECRET_THING", "client_secret", "DB_PASSWORD", "OPENAI_APIKEY", "GH_PAT",
                                 "GOOGLE_CREDENTIALS", "PRIVATE_KEY_PEM"])
def test_credentials_must_come_from_a_secret_or_the_environment(tmp_path, key):
    policy = {"require_secret_env": True}
    literal = checked(tmp_path, config(block(env={key: "abc"}), policy=policy))
    assert rules(literal) == [("require_secret_env", "endpoint.api", f"serverless.runpod.env.{key}")]
    assert "abc" not in literal.policy.violations[0].message
    for value in ({"secret": "hf"}, "${TOKEN}", "Bearer ${TOKEN}"):
        assert rules(checked(tmp_path, config(block(env={key: value}), policy=policy))) == []


def test_a_url_with_a_password_is_a_credential_whatever_its_key(tmp_path):
    """Review 3, R1: `DATABASE_URL: postgres://app:hunter2@db/app` passed `require_secret_env`."""
    policy = {"require_secret_env": True}
    literal = checked(tmp_path, config(block(env={"DATABASE_URL": "postgres://app:hunter2@db/app", "CACHE_URL": "redis://cache:6379"}), policy=policy))
    assert rules(literal) == [("require_secret_env", "endpoint.api", "serverless.runpod.env.DATABASE_URL")]
    message = literal.policy.violations[0].message
    assert "hunter2" not in message and "password" in message
    assert rules(checked(tmp_path, config(block(env={"DATABASE_URL": "postgres://app:${TOKEN}@db/app"}), policy=policy))) == []


@pytest.mark.parametrize("key, value", [
    ("DB_URL", "postgres://app:hunter2@${TOKEN}/db"),  # the host from the environment, the password written
    ("DB_URL", "postgres://${TOKEN}:hunter2@db/app"),
    ("DB_URL", "postgres://app:pre${TOKEN}@db/app"),  # part of the password written
    ("BASIC_AUTH", "${TOKEN}:pw123"),  # a credential key: the literal remainder is the secret
    ("API_KEY", "sk-${TOKEN}-live9"),
    ("API_KEY", "https://api.example.com/${TOKEN}?key=abc123"),
], ids=["url-host-ref", "url-user-ref", "url-part-ref", "basic-auth", "key-around-ref", "key-in-query"])
def test_a_credential_written_beside_a_reference_breaks_the_rule(tmp_path, key, value):
    """Review 5, R5-5: any value holding a `${VAR}` passed `require_secret_env`, so a literal
    password beside one was committed and then shown only as `(sensitive)`."""
    plan = checked(tmp_path, config(block(env={key: value}), policy={"require_secret_env": True}))
    assert rules(plan) == [("require_secret_env", "endpoint.api", f"serverless.runpod.env.{key}")]
    message = plan.policy.violations[0].message
    assert not any(secret in message for secret in ("hunter2", "pw123", "live9", "abc123", "pre"))


@pytest.mark.parametrize("key, value", [
    ("DB_URL", "postgres://app:${TOKEN}@db/app"),
    ("DB_URL", "postgres://${TOKEN}:${TOKEN}@${TOKEN}/app"),
    ("API_BASE", "https://${TOKEN}/v1"),  # a URL without userinfo is an address, not a secret
    ("API_KEY", "https://${TOKEN}/v1"),
    ("AUTHORIZATION", "Bearer ${TOKEN}"),
    ("BASIC_AUTH", "admin:${TOKEN}"),  # a user name before the password
    ("BASIC_AUTH", "${TOKEN}:${TOKEN}"),
    ("COOKIE", "session=${TOKEN}; theme=${TOKEN}"),
    ("AUTH", "X-Api-Key: ${TOKEN}"),
    ("API_KEY", "${TOKEN}${TOKEN}\n"),
    ("GREETING", "hello ${TOKEN}"),  # not a credential key, no URL password
], ids=["url-password-ref", "url-all-refs", "url-no-userinfo", "key-url-no-userinfo", "bearer", "user-then-ref", "refs-and-colon",
        "cookie-names", "header-name", "refs-only", "plain-text"])
def test_references_and_separators_keep_the_rule(tmp_path, key, value):
    """Only text that could be the credential breaks it: an authentication scheme, a name before
    ':' or '=', punctuation, and a URL's scheme, host and path do not (docs/policy.md)."""
    assert rules(checked(tmp_path, config(block(env={key: value}), policy={"require_secret_env": True}))) == []


@pytest.mark.parametrize("key, value", [
    ("HF_TOKEN", "hf_${TOKEN}"),  # a provider's fixed token prefix, the token itself from the environment
    ("OPENAI_API_KEY", "sk-proj-${TOKEN}"),
    ("GH_PAT", "github_pat_${TOKEN}"),
    ("AUTHORIZATION", "Bearer hf_${TOKEN}"),
    ("DB_CREDENTIALS", "user=admin;password=${TOKEN}"),  # key=value settings: only a credential's value counts
    ("DB_CREDENTIALS", "Server=db.internal;User Id=admin;Password=${TOKEN};Encrypt=true"),
    ("DB_CREDENTIALS", "host=db user=admin password=${TOKEN} sslmode=require"),
    ("AUTH", "client_id=gpuctl&client_secret=${TOKEN}"),
    ("AZURE_STORAGE_KEY", "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${TOKEN};EndpointSuffix=core.windows.net"),
    ("AZURE_SAS_TOKEN", "sv=2021-06-08&se=2030-01-01&sp=r&spr=https&sig=${TOKEN}"),
    ("DB_PASSWORD", "Server=db;Database=app;Uid=app;Pwd=${TOKEN};Port=5432"),
], ids=["hf-prefix", "sk-prefix", "github-pat-prefix", "bearer-prefix", "kv-semicolons", "kv-ado", "kv-libpq", "kv-query",
        "azure-ref", "sas-ref", "odbc-ref"])
def test_a_known_prefix_or_a_setting_beside_a_reference_keeps_the_rule(tmp_path, key, value):
    """`hf_${REST}` and `user=admin;password=${PW}` were refused as literal secrets though the
    secret is the `${VAR}`: a known token prefix and the settings of a key=value string whose
    credential is a reference are not the credential."""
    assert rules(checked(tmp_path, config(block(env={key: value}), policy={"require_secret_env": True}))) == []


@pytest.mark.parametrize("key, value", [
    ("HF_TOKEN", "hf_kQzPwLmXyRtBvNcDfGhJsAeUiOp1234567"),  # a whole token written
    ("HF_TOKEN", "hf_${TOKEN}abc123"),  # part of it written after the reference
    ("HF_TOKEN", "zz_${TOKEN}"),  # no prefix gpuctl knows: part of the secret as far as it can tell
    ("DB_CREDENTIALS", "user=admin;password=hunter2"),
    ("DB_CREDENTIALS", "user=${TOKEN};password=hunter2"),
    ("DB_CREDENTIALS", "user=admin;password=pre${TOKEN}"),
    ("DB_CREDENTIALS", "host=db user=admin password=hunter2 sslmode=${TOKEN}"),
    ("AUTH", "client_id=${TOKEN}&client_secret=hunter2"),
    # R7-1: the secret's setting is not a name gpuctl's env-key test calls a credential's
    ("DB_PASSWORD", "Server=${TOKEN};Uid=app;Pwd=hunter2"),
    ("AZURE_STORAGE_KEY", "DefaultEndpointsProtocol=https;AccountName=${TOKEN};AccountKey=Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MA==;EndpointSuffix=core.windows.net"),
    ("AZURE_SAS_TOKEN", "sv=2021-06-08&se=${TOKEN}&sp=r&sig=AbCdEf0123456789SecretSig%3D"),
    ("SERVICEBUS_SECRET", "Endpoint=sb://${TOKEN}.servicebus.windows.net/;SharedAccessKeyName=Root;SharedAccessKey=c2VjcmV0c2VjcmV0c2VjcmV0"),
    ("DB_CREDENTIALS", "host=${TOKEN};user=app;mystery=hunter2"),  # a setting gpuctl does not know: fail closed
], ids=["hf-literal", "hf-suffix", "unknown-prefix", "kv-literal", "kv-literal-beside-ref", "kv-part", "kv-libpq-literal", "kv-query-literal",
        "odbc-pwd", "azure-accountkey", "azure-sas-sig", "servicebus-key", "kv-unknown-setting"])
def test_a_literal_token_or_password_setting_still_breaks_the_rule(tmp_path, key, value):
    plan = checked(tmp_path, config(block(env={key: value}), policy={"require_secret_env": True}))
    assert rules(plan) == [("require_secret_env", "endpoint.api", f"serverless.runpod.env.{key}")]
    assert not any(secret in plan.policy.violations[0].message for secret in ("hunter2", "kQzPw", "abc123", "pre", "Zm9v", "AbCdEf", "c2Vj"))


def test_a_generated_looking_literal_beside_a_reference_warns(tmp_path):
    """R5-5: the high-entropy warning skipped every value with a `${VAR}` too."""
    env = {"CALLBACK": "https://hooks.example.com/${TOKEN}/hf_kQzPwLmXyRtBvNcDfGhJsAeUiOp1234567", "MODEL": "${TOKEN}/meta-llama/Llama-3.1-8B-Instruct"}
    plan = checked(tmp_path, config(block(env=env), policy={"warn_high_entropy_env": True}))
    warned = [n for n in plan.notices if n.code == "policy-high-entropy-env"]
    assert len(warned) == 1 and "serverless.runpod.env.CALLBACK" in warned[0].message and "hf_kQz" not in warned[0].message


def test_keys_that_do_not_look_like_credentials_may_be_literal(tmp_path):
    plan = checked(tmp_path, config(block(env={"MODEL_NAME": "org/model", "KEYBOARD": "x", "TOKENIZER": "y", "MAX_TOKENS": "512",
                                               "MAX_MODEL_LEN": "8192", "KEY_PREFIX": "k"}), policy={"require_secret_env": True}))
    assert rules(plan) == []


def test_high_entropy_literals_warn_and_never_fail(tmp_path):
    env = {"CALLBACK": "hf_kQzPwLmXyRtBvNcDfGhJsAeUiOp1234567", "MODEL": "meta-llama/Llama-3.1-8B-Instruct"}
    plan = checked(tmp_path, config(block(env=env), policy={"warn_high_entropy_env": True}))
    assert rules(plan) == []
    warned = [n for n in plan.notices if n.code == "policy-high-entropy-env"]
    assert [(n.address, n.level) for n in warned] == [("endpoint.api", "warning")]
    assert "serverless.runpod.env.CALLBACK" in warned[0].message and "hf_kQz" not in warned[0].message
    off = checked(tmp_path, config(block(env=env), policy={"max_max_workers": 9}))
    assert not [n for n in off.notices if n.code == "policy-high-entropy-env"]


def test_a_violation_from_a_flag_says_so(tmp_path):
    (tmp_path / "gpu.jsonc").write_text(json.dumps(config(block(), policy={"max_max_workers": 4})))
    loaded = load_config(tmp_path / "gpu.jsonc", [Override("--max-workers", "scaling.max_workers", 9)], CATALOG)
    plan = Guard.of(loaded.policy, loaded).check(make_plan(build_desired(loaded, {}, CATALOG), Observed(), CATALOG))
    assert plan.policy.violations[0].message == "max_workers is 9; the policy allows at most 4 (set by --max-workers)"
    assert plan.policy.violations[0].where == "--max-workers"  # not the file's max_workers, which keeps the rule


def test_a_policy_file_and_the_block_merge_into_the_stricter(tmp_path):
    platform = Policy(("platform.jsonc",), allowed_gpu_types=(GPU, "NVIDIA L4"), max_max_workers=5,
                      origin={"allowed_gpu_types": "platform.jsonc", "max_max_workers": "platform.jsonc"})
    plan = checked(tmp_path, config(block(max_workers=4), policy={"max_max_workers": 3, "allowed_gpu_types": ["NVIDIA L4"]}), extra=platform)
    assert plan.policy.sources == ("platform.jsonc", "gpu.jsonc")
    found = {v.rule: v.source for v in plan.policy.violations}
    assert found == {"max_max_workers": "gpu.jsonc", "allowed_gpu_types": "platform.jsonc and gpu.jsonc"}
    loose = checked(tmp_path, config(block(max_workers=4), policy={"max_max_workers": 50}), extra=platform)
    assert rules(loose) == []  # the block may not widen the file's limit: 4 ≤ min(5, 50)
    wide = checked(tmp_path, config(block(max_workers=6), policy={"max_max_workers": 50}), extra=platform)
    assert [(v.rule, v.source) for v in wide.policy.violations] == [("max_max_workers", "platform.jsonc")]


def test_allowed_env_vars_pins_the_variables_a_config_may_read(tmp_path):
    """Review 3, R6: a platform team pins which variables of the deploying environment (CI's
    secrets) a config may route into a worker; a `${VAR}` outside the list breaks the plan at its key."""
    env = {"LEVEL": "debug", "DB": "postgres://app:${TOKEN}@db/app", "S": {"secret": "s"}}
    plan = checked(tmp_path, config(block(env=env), policy={"allowed_env_vars": ["HF_TOKEN"]}))
    assert rules(plan) == [("allowed_env_vars", "endpoint.api", "serverless.runpod.env.DB")]
    assert "${TOKEN}" in plan.policy.violations[0].message and "allowed: HF_TOKEN" in plan.policy.violations[0].message
    assert rules(checked(tmp_path, config(block(env=env), policy={"allowed_env_vars": ["HF_TOKEN", "TOKEN"]}))) == []
    assert rules(checked(tmp_path, config(block(env={"LEVEL": "debug"}), policy={"allowed_env_vars": []}))) == []


def test_allowed_env_vars_of_two_policies_intersect(tmp_path):
    platform = Policy(("platform.jsonc",), allowed_env_vars=("TOKEN", "HF_TOKEN"), origin={"allowed_env_vars": "platform.jsonc"})
    env = {"HF": "${TOKEN}"}
    narrowed = checked(tmp_path, config(block(env=env), policy={"allowed_env_vars": ["HF_TOKEN", "EXTRA"]}), extra=platform)
    assert rules(narrowed) == [("allowed_env_vars", "endpoint.api", "serverless.runpod.env.HF")]
    assert "allowed: HF_TOKEN" in narrowed.policy.violations[0].message
    assert rules(checked(tmp_path, config(block(env=env), policy={"allowed_env_vars": ["TOKEN", "EXTRA"]}), extra=platform)) == []


def test_volume_rules_read_the_plan_and_merge_into_the_stricter(tmp_path):
    """Review 6, R6-3: `forbid_shared_volumes` refuses a volume endpoints of another project (or
    unmanaged ones) attach, `max_volume_size_gb` the size a plan gives a volume; a limit merges
    into the lower, a switch is on when either policy turns it on."""
    vol = {"id": "vol-1", "name": "models", "size": 20, "dataCenter": "EU-RO-1"}
    theirs = {"id": "ep-t", "name": "theirs", "env": {"GPUCTL_PROJECT": "other"}, "networkVolumes": ["vol-1"]}
    mine = {"id": "ep-m", "name": "mine", "env": {"GPUCTL_PROJECT": "demo"}, "networkVolumes": ["vol-1"]}
    shared = block() | {"volume": {"name": "models", "size_gb": 30}}
    shared["runpod"] = shared["runpod"] | {"data_center_ids": ["EU-RO-1"]}
    platform = Policy(("platform.jsonc",), max_volume_size_gb=40, forbid_shared_volumes=True,
                      origin={"max_volume_size_gb": "platform.jsonc", "forbid_shared_volumes": "platform.jsonc"})
    plan = checked(tmp_path, config(shared, policy={"max_volume_size_gb": 25}), Observed(endpoints=(theirs,), network_volumes=(vol,)), extra=platform)
    assert [(v.rule, v.endpoint, v.source) for v in plan.policy.violations] == [
        ("max_volume_size_gb", "network_volume.models@EU-RO-1", "gpu.jsonc"), ("forbid_shared_volumes", "network_volume.models@EU-RO-1", "platform.jsonc")]
    assert 'endpoint "theirs" (ep-t) of project "other"' in plan.policy.violations[1].message
    assert "give volume.name" not in plan.policy.violations[1].message  # the advice is the warning's, not the violation's
    own = checked(tmp_path, config(shared), Observed(endpoints=(mine,), network_volumes=(vol,)), extra=platform)
    assert rules(own) == [] and not [n for n in own.notices if n.code == "shared-volume"]


def _models_volume() -> tuple[dict, dict]:
    vol = {"id": "vol-1", "name": "models", "size": 20, "dataCenter": "EU-RO-1"}
    shared = block() | {"volume": {"name": "models", "size_gb": 30}}
    shared["runpod"] = shared["runpod"] | {"data_center_ids": ["EU-RO-1"]}
    return vol, shared


def test_a_pod_mounting_the_volume_makes_it_shared(tmp_path):
    """Review 8: only endpoints counted, so a training pod writing to the volume (v2's
    `mounts.network[].volumeId`; v1's flat `networkVolumeId`) never made it shared: deploy grew
    and mounted it with no word, and forbid_shared_volumes let it through. A pre-warm pod of the
    project's own endpoint (gpuctl-warm-<id>-..., with the project's marker) is the project's."""
    vol, shared = _models_volume()
    trainer = {"id": "pod-t", "name": "trainer", "status": "RUNNING", "mounts": {"network": [{"volumeId": "vol-1", "path": "/workspace"}]}}
    legacy = {"id": "pod-l", "name": "old", "status": "EXITED", "networkVolumeId": "vol-1"}
    mine = {"id": "ep-m", "name": "api", "env": {"GPUCTL_PROJECT": "demo"}, "networkVolumes": ["vol-1"]}
    warm = {"id": "pod-w", "name": "gpuctl-warm-ep-m-abc123-until1700000000", "env": {"GPUCTL_PROJECT": "demo"},  # the marker the pre-warm writes (R10-7)
            "mounts": {"network": [{"volumeId": "vol-1", "path": "/runpod-volume"}]}}
    warm["name"] = "gpuctl-warm-epm-abc123-until1700000000"
    mine["id"] = "epm"
    plan = checked(tmp_path, config(shared, policy={"forbid_shared_volumes": True}),
                   Observed(endpoints=(mine,), network_volumes=(vol,), pods=(trainer, legacy, warm)))
    (notice,) = [n for n in plan.notices if n.code == "shared-volume"]
    assert 'pod "trainer" (pod-t, running)' in notice.message and 'pod "old" (pod-l, exited)' in notice.message, notice.message
    assert "pod-w" not in notice.message and "grows it from 20 to 30 GB" in notice.message
    assert rules(plan) == [("forbid_shared_volumes", "network_volume.models@EU-RO-1", None)]
    alone = checked(tmp_path, config(shared, policy={"forbid_shared_volumes": True}), Observed(endpoints=(mine,), network_volumes=(vol,), pods=(warm,)))
    assert rules(alone) == [] and not [n for n in alone.notices if n.code == "shared-volume"]
    unread = checked(tmp_path, config(shared), Observed(endpoints=(mine,), network_volumes=(vol,), pods_unread="403 Forbidden"))
    (said,) = [n for n in unread.notices if n.code == "shared-volume-pods-unread"]
    assert "403 Forbidden" in said.message and "vol-1" in said.message


def test_forbid_shared_volumes_can_except_named_volumes_and_merges_into_the_stricter(tmp_path):
    """Review 8: the rule refused every shared volume, an intended one too (a model cache two
    projects read). `{"except": [names]}` allows those volumes; merged with another policy, the
    exceptions intersect (`true` has none), so a project cannot widen a platform's rule."""
    vol, shared = _models_volume()
    theirs = {"id": "ep-t", "name": "theirs", "env": {"GPUCTL_PROJECT": "other"}, "networkVolumes": ["vol-1"]}
    account = Observed(endpoints=(theirs,), network_volumes=(vol,))
    allowed = checked(tmp_path, config(shared, policy={"forbid_shared_volumes": {"except": ["models"]}}), account)
    assert rules(allowed) == [] and [n.code for n in allowed.notices if n.code == "shared-volume"] == ["shared-volume"]
    other = checked(tmp_path, config(shared, policy={"forbid_shared_volumes": {"except": ["cache"]}}), account)
    assert rules(other) == [("forbid_shared_volumes", "network_volume.models@EU-RO-1", None)]
    platform = Policy(("platform.jsonc",), forbid_shared_volumes=True, origin={"forbid_shared_volumes": "platform.jsonc"})
    narrowed = checked(tmp_path, config(shared, policy={"forbid_shared_volumes": {"except": ["models"]}}), account, extra=platform)
    assert rules(narrowed) == [("forbid_shared_volumes", "network_volume.models@EU-RO-1", None)]
    both = Policy(("platform.jsonc",), forbid_shared_volumes=True, shared_volumes_except=("models", "cache"), origin={"forbid_shared_volumes": "platform.jsonc"})
    kept = checked(tmp_path, config(shared, policy={"forbid_shared_volumes": {"except": ["models"]}}), account, extra=both)
    assert rules(kept) == []

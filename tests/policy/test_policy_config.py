"""The policy block and the policy file are read like the rest of gpu.jsonc: every problem at
file:line:col with its key path and a fix; a rule is on only when its key is given."""

from __future__ import annotations

import pytest

from gpuctl.config import load_config
from gpuctl.config.policy import load_policy_file
from gpuctl.errors import ConfigError
from tests.policy.support import CATALOG


def _errors(call) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        call()
    return [d.format() for d in caught.value.diagnostics]


def test_an_unknown_key_in_the_block_is_located_with_a_fix(tmp_path):
    path = tmp_path / "gpu.jsonc"
    path.write_text('{\n  "serverless": {"template": "vllm", "gpu_type": "NVIDIA L4"},\n  "policy": {\n    "forbid_deletes": true\n  }\n}\n')
    assert _errors(lambda: load_config(path, catalog=CATALOG)) == ['gpu.jsonc:4:5: policy.forbid_deletes: unknown key\n  hint: did you mean "forbid_delete"?']


def test_wrong_types_and_unknown_gpus_in_a_policy_file(tmp_path):
    path = tmp_path / "platform.jsonc"
    path.write_text('{\n  "max_max_workers": "4",\n  "forbid_replace": 1\n}\n')
    assert _errors(lambda: load_policy_file(path, "platform.jsonc", CATALOG)) == [
        'platform.jsonc:2:3: max_max_workers: expected an integer, got "4"\n  hint: remove the quotes: 4',
        "platform.jsonc:3:3: forbid_replace: expected true or false, got 1\n  hint: write true or false",
    ]
    path.write_text('{"max_worst_case_per_hour": -2, "max_min_workers": 1001}')
    assert _errors(lambda: load_policy_file(path, "platform.jsonc", CATALOG)) == [
        "platform.jsonc:1:2: max_worst_case_per_hour: must be ≥ 0.0, got -2\n  hint: write a number of at least 0",
        "platform.jsonc:1:33: max_min_workers: must be ≤ 1000, got 1001\n  hint: write a whole number from 0 to 1000",
    ]
    path.write_text('// the platform team\n{"allowed_gpu_types": ["NVIDIA L4", "RTX 4090"]}')
    assert _errors(lambda: load_policy_file(path, "platform.jsonc", CATALOG)) == [
        'platform.jsonc:2:37: allowed_gpu_types[1]: unknown GPU type "RTX 4090"\n  hint: did you mean "NVIDIA GeForce RTX 4090"?']


def test_a_policy_file_holds_one_object(tmp_path):
    path = tmp_path / "platform.jsonc"
    path.write_text('["NVIDIA L4"]')
    [error] = _errors(lambda: load_policy_file(path, "platform.jsonc", CATALOG))
    assert error.startswith("platform.jsonc:1:1: a policy file holds one object")


def test_a_missing_or_directory_policy_file_gets_a_fix_about_policy_not_gpu_jsonc(tmp_path):
    [missing] = _errors(lambda: load_policy_file(tmp_path / "nope.jsonc", "nope.jsonc", CATALOG))
    assert "does not exist" in missing and "hint: check the path given to --policy" in missing and "gpu.jsonc" not in missing
    [directory] = _errors(lambda: load_policy_file(tmp_path, "policies", CATALOG))
    assert "is a directory" in directory and "hint: pass the file itself with --policy" in directory


def test_only_given_rules_are_on(tmp_path):
    path = tmp_path / "platform.jsonc"
    path.write_text('{"$schema": "x", "max_min_workers": 0, "forbid_delete": false, "allowed_gpu_types": []}')
    policy = load_policy_file(path, "platform.jsonc", CATALOG)
    assert (policy.max_min_workers, policy.forbid_delete) == (0, False)
    assert policy.allowed_gpu_types == () and policy.origin == {"allowed_gpu_types": "platform.jsonc", "max_min_workers": "platform.jsonc"}


def test_a_key_given_twice_in_a_policy_file_is_located_as_in_gpu_jsonc(tmp_path):
    """A policy file with `max_max_workers` twice was read as its last value, with no word: a
    platform team's limit of 4 became 100 unseen. gpu.jsonc reports a repeated key; so does this."""
    path = tmp_path / "platform.jsonc"
    path.write_text('{\n  "max_max_workers": 4,\n  "max_max_workers": 100\n}\n')
    assert _errors(lambda: load_policy_file(path, "platform.jsonc", CATALOG)) == [
        "platform.jsonc:3:3: max_max_workers: key appears twice (first at line 2)\n  hint: remove one of them; JSON keeps only the last"]

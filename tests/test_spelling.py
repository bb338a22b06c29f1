"""Did-you-mean suggestions (issue 8, item 7): an exact match in any case, then the family the
word names, then the closest spelling. GPU types are matched against the catalog's ids and
display names; config keys keep the single closest key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from gpuctl.catalog import load_catalog
from gpuctl.spelling import did_you_mean, did_you_mean_one_of, suggestions

CATALOG = load_catalog()
GPU_NAMES = {g.display_name: g.id for g in CATALOG.gpus.values()} | {g.id: g.id for g in CATALOG.gpus.values()}
A100S = sorted(g.id for g in CATALOG.gpus.values() if "A100" in g.id)


def test_the_catalog_has_the_families_these_tests_rely_on():
    assert len(A100S) == 2 and "NVIDIA A40" in CATALOG.gpus


@pytest.mark.parametrize("word", ["NVIDIA A100", "A100", "a100", "nvidia  a100"])
def test_a_family_suggests_its_members_and_not_a_look_alike(word):
    assert sorted(suggestions(word, GPU_NAMES)) == A100S


@pytest.mark.parametrize(("word", "expected"), [
    ("nvidia geforce rtx 4090", "NVIDIA GeForce RTX 4090"),  # the id, in another case
    ("RTX 4090", "NVIDIA GeForce RTX 4090"),  # a display name: its id
    ("H100 SXM", "NVIDIA H100 80GB HBM3"),  # a display name whose words are not in the id
    ("NVIDIA H200 NVLL", "NVIDIA H200 NVL"),  # no family: the closest spelling
])
def test_one_clear_meaning_gives_one_suggestion(word, expected):
    assert suggestions(word, GPU_NAMES) == [expected]


def test_an_exact_match_beats_its_family():
    assert suggestions("nvidia l40", GPU_NAMES) == ["NVIDIA L40"]  # not L40S too


def test_a_family_keeps_the_catalog_order():
    h100s = [g.id for g in CATALOG.gpus.values() if " H100" in g.id]
    assert suggestions("H100", GPU_NAMES) == h100s


@pytest.mark.parametrize("word", ["NVIDIA", "RTX"])
def test_a_word_that_names_half_the_catalog_suggests_nothing(word):
    assert suggestions(word, GPU_NAMES) == []


def test_the_hint_lists_every_suggestion():
    assert did_you_mean_one_of("A100", GPU_NAMES) == f'did you mean "{A100S[0]}" or "{A100S[1]}"?'
    assert did_you_mean_one_of("RTX 4090", GPU_NAMES) == 'did you mean "NVIDIA GeForce RTX 4090"?'
    assert did_you_mean_one_of("qwerty", GPU_NAMES) is None


@pytest.mark.parametrize(("word", "expected"), [("gpu_tpye", "gpu_type"), ("gpuType", "gpu_type"), ("scalling", "scaling")])
def test_config_keys_still_get_the_single_closest_key(word, expected):
    keys = ["name", "template", "gpu_type", "gpu_types", "scaling", "runpod", "volume"]
    assert did_you_mean(word, keys) == f'did you mean "{expected}"?'


def test_config_validate_suggests_the_a100_ids_for_nvidia_a100(tmp_path: Path):
    """The real CLI on a file: the error is located and names both A100 ids, not the A40."""
    config = {"serverless": {"name": "big", "template": "custom-image", "gpu_type": "NVIDIA A100",
                             "runpod": {"image_name": "ghcr.io/example/worker:1.0"}}}
    (tmp_path / "gpu.jsonc").write_text(json.dumps(config, indent=2))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RUNPOD_", "GPUCTL_", "GPU_"))} | {"NO_COLOR": "1", "HOME": str(tmp_path)}
    done = subprocess.run([sys.executable, "-m", "gpuctl", "config", "validate"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode == 1, done.stderr
    assert 'gpu.jsonc:5:5: serverless.gpu_type: unknown GPU type "NVIDIA A100"' in done.stderr
    assert f'  hint: did you mean "{A100S[0]}" or "{A100S[1]}"?' in done.stderr
    assert "A40" not in done.stderr and "Traceback" not in done.stderr


def test_a_suggestion_from_the_account_is_one_line():
    """The choices may be names another tool wrote in the account: a newline in one began a
    line of the hint that read like gpuctl's own error."""
    from gpuctl.spelling import did_you_mean, did_you_mean_one_of

    forged = "echo\nerror: x\x1b[2J"
    assert did_you_mean("echo\nerror: y", [forged]) == 'did you mean "echo\\nerror: x\\x1b[2J"?'
    assert did_you_mean_one_of("echo\nerror: y", {forged: forged}) == 'did you mean "echo\\nerror: x\\x1b[2J"?'

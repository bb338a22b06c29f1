"""A number no reader of ours can hold (1e400 is beyond a 64-bit float; Python reads at most
4300 digits) is reported as out of range, with the limits, wherever it is written: gpu.jsonc
and policy files were told "incomplete number: write digits after the sign or exponent", and
a saved plan "not UTF-8 text"."""

from __future__ import annotations

import shutil

import pytest

from gpuctl.errors import GpuctlError
from gpuctl.render.document import read_saved
from tests.conftest import FIXTURES, run_cli

HUGE = ["1e400", "-1e400", "9" * 5000, "2.5E+999"]
PLAN = ["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod"]


@pytest.fixture
def project(tmp_path):
    for name in ("gpu.jsonc", "observed.json"):
        shutil.copy(FIXTURES / "plans" / "seed-full-nochange" / name, tmp_path / name)
    return tmp_path


@pytest.mark.parametrize("number", HUGE)
def test_gpu_jsonc(project, number):
    text = (project / "gpu.jsonc").read_text()
    (project / "gpu.jsonc").write_text(text.replace('"max_workers": 5', f'"max_workers": {number}'))
    result = run_cli(["config", "validate"], project)
    assert result.code == 1 and "gpu.jsonc:14:22: invalid JSONC: number out of range" in result.err, result.err
    assert "hint: write a number of at most 4300 digits, within ±1.7e308" in result.err, result.err


@pytest.mark.parametrize("number", HUGE)
def test_policy_file(project, number):
    (project / "policy.jsonc").write_text(f'{{\n  "max_always_on_per_hour": {number}\n}}\n')
    result = run_cli([*PLAN, "--policy", "policy.jsonc"], project)
    assert result.code == 1 and "policy.jsonc:2:29: invalid JSONC: number out of range" in result.err, result.err


@pytest.mark.parametrize("text", ["1e", "-", "1.5e-"])
def test_an_incomplete_number_is_still_called_one(project, text):
    (project / "gpu.jsonc").write_text((project / "gpu.jsonc").read_text().replace('"max_workers": 5', f'"max_workers": {text}'))
    result = run_cli(["config", "validate"], project)
    assert result.code == 1 and "invalid JSONC: incomplete number" in result.err, result.err


def test_saved_plan(tmp_path):
    path = tmp_path / "plan.json"
    path.write_text('{"format_version": "1", "prune": ' + "1" * 5000 + "}")
    with pytest.raises(GpuctlError) as caught:
        read_saved(path)
    assert "is not a saved plan: it holds a number of more than 4300 digits" in caught.value.format()
    assert caught.value.hint and "--plan --out plan.json" in caught.value.hint

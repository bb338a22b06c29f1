"""JSON that gpuctl finds inside strings of the account (a record template's GPUCTL_APPLIED,
an endpoint's GPUCTL_LOCAL_COMMAND, a job's error) is read with gpuctl.v2.json_in: anyone can
edit those strings, and JSON nested deeper than Python reads raises RecursionError, which is
no ValueError. A deploy --plan against such a snapshot was an internal error."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpuctl.config.from_account import local_command
from gpuctl.jobs import error_parts
from tests.conftest import FIXTURES, run_cli

DEEP = "[" * 100_000 + "]" * 100_000
CASE = FIXTURES / "plans" / "drift-origins"


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "gpu.jsonc").write_bytes((CASE / "gpu.jsonc").read_bytes())
    doc = json.loads((CASE / "observed.json").read_text())
    records = [t for t in doc["templates"] if t["name"].startswith("gpuctl-applied-")]
    assert records
    for record in records:
        record["env"]["GPUCTL_APPLIED"] = DEEP
    (tmp_path / "observed.json").write_text(json.dumps(doc))
    return tmp_path


@pytest.mark.parametrize("command", [["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod"],
                                     ["serverless", "drift", "--observed", "observed.json"]])
def test_a_record_nested_too_deeply_is_a_record_that_cannot_be_read(project, command):
    """read_record's contract: a record someone edited into nonsense classifies nothing."""
    result = run_cli(command, project, {"HF_TOKEN": "hf_x"})
    assert "internal error" not in result.err and "Traceback" not in result.err, result.err
    assert result.code in (0, 2), result.err


def test_a_job_error_nested_too_deeply_is_shown_as_its_text():
    assert error_parts({"error": DEEP}) == (None, DEEP, None)


def test_a_local_command_nested_too_deeply_is_no_local_block(tmp_path):
    assert local_command({"env": {"GPUCTL_LOCAL_COMMAND": DEEP}}, tmp_path) is None


@pytest.mark.parametrize("text, expected", [('{"a": 1}', (True, {"a": 1})), ("null", (True, None)), ("nope", (False, None)), (DEEP, (False, None))])
def test_json_in(text, expected):
    from gpuctl.v2 import json_in

    assert json_in(text) == expected

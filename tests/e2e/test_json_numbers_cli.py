"""gpu's `--json` is RFC 8259 JSON whatever the worker returns, and a job input file saved with
a UTF-8 BOM is read (review 9, R9-1 and R9-4), driving the real CLI against the local provider.

A worker returning float("nan") (numpy metrics) made the job COMPLETED with the bare token NaN
in its output, which `invoke --json` and `job status --json` printed: stdout that no JSON reader
but Python's reads (jq, JSON.parse, Go)."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import STAYS, Account, deployed_project, echo_config

WORKER = (Path(__file__).parents[1] / "local" / "workers" / "number_worker.py").read_text()


def strict(text: str) -> Any:
    """JSON as jq reads it: no NaN, no Infinity."""
    def refuse(token: str) -> Any:
        raise AssertionError(f"{token} is not JSON: {text[:300]}")

    def number(token: str) -> float:
        assert math.isfinite(float(token)), f"{token} is no 64-bit float: {text[:300]}"
        return float(token)

    return json.loads(text, parse_constant=refuse, parse_float=number)


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Account, Path]]:
    config = echo_config(name="nums", idle_timeout=STAYS)
    config["serverless"]["local"] = {"command": ["python", "number_worker.py"]}
    with deployed_project(tmp_path_factory.mktemp("json-numbers"), config, {"number_worker.py": WORKER}) as found:
        yield found


def test_a_worker_returning_nan_gives_json_on_stdout_and_says_why_the_job_failed(deployed: tuple[Account, Path]) -> None:
    account, proj = deployed
    invoked = account.gpu("serverless", "invoke", "nums", "--input", '{"number": "nan"}', "--json", cwd=proj)
    job = strict(invoked.out)
    assert job["status"] == "FAILED", invoked.out
    assert "the number NaN, which JSON does not have" in job["error"] and "return finite numbers from the handler" in job["error"], job
    status = account.gpu("serverless", "job", "status", "nums", job["id"], "--json", cwd=proj)
    assert strict(status.out)["status"] == "FAILED", status.out + status.err


def test_a_job_input_file_with_a_utf8_bom_is_read(deployed: tuple[Account, Path]) -> None:
    account, proj = deployed
    (proj / "bom.json").write_bytes(b'\xef\xbb\xbf{"number": "1.5"}\n')
    invoked = account.gpu("serverless", "invoke", "nums", "--input", "@bom.json", "--json", cwd=proj)
    assert invoked.code == 0, invoked.err
    assert strict(invoked.out)["output"] == {"loss": 1.5, "step": 1}

"""R4: the local provider answers 30 % of calls with 429 or 503 (with Retry-After), or commits
a create and then fails: deploy converges with 0 duplicates, and no retry of a request is sent
before its Retry-After has passed."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

FAST_GRACE = {"GPUCTL_VISIBILITY_GRACE": "3"}


def _two_endpoints() -> dict:
    config = echo_config(name="a", volume="models")
    config["serverless"] = [config["serverless"], json.loads(json.dumps(config["serverless"])) | {"name": "b"}]
    return config


def _retries_waited(log: list[dict]) -> list[tuple[str, float]]:
    """(path, gap) for every request that followed a 429/503 on the same method and path."""
    ordered = sorted(log, key=lambda r: r["at"])
    gaps = []
    for i, entry in enumerate(ordered):
        if entry["status"] not in (429, 503):
            continue
        following = next((r for r in ordered[i + 1:] if (r["method"], r["path"]) == (entry["method"], entry["path"])), None)
        if following:
            gaps.append((entry["path"], following["at"] - entry["at"]))
    return gaps


@pytest.mark.parametrize("seed", [3, 11])
def test_storm_of_429_and_503_converges_without_early_retries(account, tmp_path, seed):
    proj = project(tmp_path / "p", _two_endpoints(), {"handler.py": ECHO_HANDLER})
    account.faults(
        {"action": "status", "status": 429, "retry_after": 1, "probability": 0.15},
        {"action": "status", "status": 503, "retry_after": 1, "probability": 0.18},
        seed=seed,
    )
    result = account.gpu("serverless", "deploy", "-y", cwd=proj, env=FAST_GRACE, timeout=300)
    log = account.requests()
    account.clear_faults()
    assert result.code == 0, result.err
    assert sorted(e["name"] for e in account.endpoints()) == ["a", "b"] and len(account.volumes()) == 1
    failed = [r for r in log if r["status"] in (429, 503)]
    assert len(failed) >= 3, "the storm did not happen"
    gaps = _retries_waited(log)
    assert gaps and all(gap >= 0.99 for _, gap in gaps), [g for g in gaps if g[1] < 0.99]
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0


def test_commit_then_fail_creates_no_duplicate(account, tmp_path):
    proj = project(tmp_path / "p", _two_endpoints(), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "action": "commit_then_fail", "status": 500, "probability": 1.0})
    result = account.gpu("serverless", "deploy", "-y", cwd=proj, env=FAST_GRACE)
    account.clear_faults()
    assert result.code == 0, result.err
    assert "the answer was lost, but the create took effect" in result.err
    assert sorted(e["name"] for e in account.endpoints()) == ["a", "b"] and len(account.volumes()) == 1


def test_object_invisible_for_seconds_after_create_is_waited_for(account, tmp_path):
    """RunPod's stale reads: the read-back of a fresh endpoint 404s for a while."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "delay_visibility", "seconds": 2, "times": 1})
    result = account.gpu("serverless", "deploy", "-y", cwd=proj, env=FAST_GRACE)
    account.clear_faults()
    assert result.code == 0, result.err
    assert [e["name"] for e in account.endpoints()] == ["echo"]

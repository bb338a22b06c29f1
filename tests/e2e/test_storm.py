"""R4: the local provider answers 30 % of calls with 429 or 503 (with Retry-After), or commits
a create and then fails: deploy converges with 0 duplicates, no request is sent before a
Retry-After has passed (not a retry of the same request, nor the lookup after a failed create,
nor a request of another worker of a parallel apply), and a create refused with 429/503 is sent
again without waiting out the visibility grace."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

FAST_GRACE = {"GPUCTL_VISIBILITY_GRACE": "3"}
GRACE_WAIT = "may not be visible yet"  # the engine's Waiting event while it waits out the grace
IN_FLIGHT_S = 0.25  # a request that reaches the server this soon after a 429 left it was sent before the client read the 429


def _two_endpoints() -> dict:
    config = echo_config(name="a", volume="models")
    config["serverless"] = [config["serverless"], json.loads(json.dumps(config["serverless"])) | {"name": "b"}]
    return config


def _early(log: list[dict], pause: float = 1.0) -> list[tuple[dict, dict]]:
    """(answer that asked for a pause, a request that came before the pause was over) for every
    429/503 with `Retry-After: 1`. Requests of other workers that were already on their way
    when the 429 was answered (arriving within IN_FLIGHT_S) could not have known of it."""
    ordered = sorted(log, key=lambda r: r["at"])
    return [(entry, other) for i, entry in enumerate(ordered) if entry["status"] in (429, 503)
            for other in ordered[i + 1:] if entry["at"] + IN_FLIGHT_S < other["at"] < entry["at"] + pause * 0.99]


def _after_failed_creates(log: list[dict], statuses: tuple[int, ...]) -> list[tuple[dict, dict]]:
    """(failed create, the next request of any kind) for every POST answered with `statuses`.
    Under --parallelism 1 the engine sends creates one at a time, so nothing else is in flight."""
    ordered = sorted(log, key=lambda r: r["at"])
    return [(entry, ordered[i + 1]) for i, entry in enumerate(ordered[:-1]) if entry["method"] == "POST" and entry["status"] in statuses]


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


@pytest.mark.parametrize("parallelism", ["1", "10"])
@pytest.mark.parametrize("seed", [3, 11])
def test_storm_of_429_and_503_converges_without_early_retries(account, tmp_path, seed, parallelism):
    proj = project(tmp_path / "p", _two_endpoints(), {"handler.py": ECHO_HANDLER})
    account.faults(
        {"action": "status", "status": 429, "retry_after": 1, "probability": 0.15},
        {"action": "status", "status": 503, "retry_after": 1, "probability": 0.18},
        seed=seed,
    )
    result = account.gpu("serverless", "deploy", "-y", "--parallelism", parallelism, cwd=proj, env=FAST_GRACE, timeout=300)
    log = account.requests()
    account.clear_faults()
    assert result.code == 0, result.err
    assert sorted(e["name"] for e in account.endpoints()) == ["a", "b"] and len(account.volumes()) == 1
    failed = [r for r in log if r["status"] in (429, 503)]
    assert len(failed) >= 3, "the storm did not happen"
    assert not _early(log), _early(log)
    if parallelism == "1":  # one request at a time: each retry is the next request to its path
        gaps = _retries_waited(log)
        assert gaps and all(gap >= 0.99 for _, gap in gaps), [g for g in gaps if g[1] < 0.99]
    assert GRACE_WAIT not in result.err, result.err
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0


def test_refused_creates_are_sent_again_after_retry_after_without_a_grace_wait(account, tmp_path):
    """A create answered 429 or 503 was turned away, not committed: no lookup, no grace (the
    default 20 s here), just the same create again once Retry-After has passed. One change at
    a time, so the request after each refused create is its retry."""
    proj = project(tmp_path / "p", _two_endpoints(), {"handler.py": ECHO_HANDLER})
    account.faults(
        {"op": "create", "kind": "network_volume", "action": "status", "status": 503, "retry_after": 1, "times": 2},
        {"op": "create", "kind": "endpoint", "action": "status", "status": 503, "retry_after": 1, "times": 1},
        {"op": "create", "kind": "endpoint", "action": "status", "status": 429, "retry_after": 1, "times": 1},
    )
    result = account.gpu("serverless", "deploy", "-y", "--parallelism", "1", cwd=proj)
    log = account.requests()
    assert result.code == 0, result.err
    assert GRACE_WAIT not in result.err, result.err
    refused = _after_failed_creates(log, (429, 503))
    assert len(refused) == 4, refused
    for failed, following in refused:
        assert (following["method"], following["path"]) == ("POST", failed["path"]), (failed, following)
        assert following["at"] - failed["at"] >= 1.0, (failed, following)
    assert sorted(e["name"] for e in account.endpoints()) == ["a", "b"] and len(account.volumes()) == 1


def test_the_lookup_after_a_create_with_a_lost_outcome_waits_for_retry_after(account, tmp_path):
    """A 500 after the create committed may hide the object: the identity lookup that follows
    is a new request, and still must not go out before the answer's Retry-After."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "commit_then_fail", "status": 500, "retry_after": 1, "times": 1})
    result = account.gpu("serverless", "deploy", "-y", "--parallelism", "1", cwd=proj, env=FAST_GRACE)
    log = account.requests()
    assert result.code == 0, result.err
    assert "the answer was lost, but the create took effect" in result.err
    [(failed, lookup)] = _after_failed_creates(log, (500,))
    assert (lookup["method"], lookup["path"]) == ("GET", "/v2/serverless")
    assert lookup["at"] - failed["at"] >= 1.0, (failed, lookup)
    assert [e["name"] for e in account.endpoints()] == ["echo"]


@pytest.mark.parametrize("parallelism", ["1", "10"])
def test_commit_then_fail_creates_no_duplicate(account, tmp_path, parallelism):
    proj = project(tmp_path / "p", _two_endpoints(), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "action": "commit_then_fail", "status": 500, "probability": 1.0})
    result = account.gpu("serverless", "deploy", "-y", "--parallelism", parallelism, cwd=proj, env=FAST_GRACE)
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

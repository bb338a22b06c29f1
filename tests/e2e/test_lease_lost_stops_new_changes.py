"""A deploy that learns mid-apply that its account lease was taken (another run's --break-lock):
nothing new starts, the changes running finish, and the summary is exact. The change whose read-
back found the other run's values was listed as `failed` though its own write had landed; it is
now listed as applied, then overwritten. And changes were started after the run knew its lease
was gone, each one another write over the other run's (its renewal finds a lost lease within a
minute, a read-back at once): now they are listed as not attempted.

Run A updates two endpoints one at a time (`--parallelism 1`); its first PATCH lands and its
answer is held (`commit_then_hang`) while run B breaks the lease and writes its own values; the
test then lets A's answer go, and A's read-back finds B's value."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import echo_config, project
from tests.e2e.test_account_lease import checkouts
from tests.support.wait import until

pytestmark = pytest.mark.e2e


def _config(max_workers: int) -> dict:
    blocks = []
    for name in ("echo", "later"):
        block = echo_config(name=name, project_id="shared", max_workers=max_workers)["serverless"]
        del block["local"]  # its working directory, which differs between checkouts, is part of the endpoint
        blocks.append(block)
    return {"project_id": "shared", "serverless": blocks}


def test_once_the_lease_is_known_lost_nothing_new_starts_and_the_overwritten_change_is_not_failed(account, tmp_path):
    first, second = checkouts(tmp_path, "shared")
    project(first, _config(2))
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=first).code == 0
    project(first, _config(3))
    project(second, _config(4))
    account.faults({"op": "update", "kind": "endpoint", "action": "commit_then_hang", "seconds": 3600, "times": 1})
    victim = account.popen("serverless", "deploy", "-y", "--parallelism", "1", "--provider", "local", cwd=first)
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or victim.poll() is not None, "A's first PATCH to be held")
        assert victim.poll() is None, victim.communicate()
        breaker = account.gpu("serverless", "deploy", "-y", "--break-lock", "--provider", "local", cwd=second)
        assert breaker.code == 0, breaker.err
    finally:
        account.clear_faults()
    patches_before = sum(1 for r in account.requests() if r["method"] == "PATCH" and r["path"].startswith("/v2/serverless/"))
    out, err = victim.communicate(timeout=120)
    patches = sum(1 for r in account.requests() if r["method"] == "PATCH" and r["path"].startswith("/v2/serverless/"))
    assert victim.returncode == 1, err
    assert {e["name"]: e["workers"]["max"] for e in account.endpoints()} == {"echo": 4, "later": 4}  # B's writes stand
    assert patches == patches_before, err  # A wrote nothing after it learned its lease was gone
    assert "  overwritten:   update endpoint.echo (" in err and "applied, then changed by another writer" in err, err
    assert "failed:" not in err, err
    assert "  not attempted: update endpoint.later" in err, err
    assert "Apply stopped, the account lease was taken meanwhile:" in err, err
    assert "changed by another writer after this run's write" in err, err
    assert "hint: run `gpu serverless drift --provider local` once the other run has finished" in err, err
    assert "Traceback" not in err, err

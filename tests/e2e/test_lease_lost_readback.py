"""A deploy whose account lease was taken while it applied, and whose write another run then
changed before this run's checks read it back: the difference is that other run's write, not
the provider's. It was reported as "the local provider did not honour workers.max" with the
hint "if it persists, the API ignores this field" (review 5, R5-9), or, when the other write
came after the read-back, as "inconsistent result after apply ... did not keep what was
written": a false diagnosis of the provider and a "run deploy again" while the other run may
still be going. Now both end on the lease-lost path: `Applied, but the account lease was taken
meanwhile:`, the other writer named, and the drift advice."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import echo_config, project
from tests.e2e.test_account_lease import checkouts, plant_lease
from tests.support.wait import until

pytestmark = pytest.mark.e2e


def _config(max_workers: int) -> dict:
    config = echo_config(project_id="shared", max_workers=max_workers)
    del config["serverless"]["local"]  # its working directory, which differs between checkouts, is part of the endpoint
    return config


@pytest.mark.parametrize("held", [
    # A's PATCH lands, then its answer is held: B's write comes before A reads the endpoint back
    {"op": "update", "kind": "endpoint", "action": "commit_then_hang", "seconds": 3600, "times": 1},
    # A's read-back is answered as A wrote it, but held: B's write comes before A's check after the apply
    {"op": "get", "kind": "endpoint", "action": "commit_then_hang", "seconds": 3600, "after": 1, "times": 1},
], ids=["before-the-read-back", "before-the-check-after-apply"])
@pytest.mark.parametrize("then", ["released", "held"], ids=["breaker-finished", "third-holder"])
def test_a_write_changed_by_the_run_that_broke_the_lease_is_not_blamed_on_the_provider(account, tmp_path, held, then):
    first, second = checkouts(tmp_path, "shared")
    project(first, _config(2))
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=first).code == 0
    project(first, _config(3))
    project(second, _config(4))
    account.faults(held)
    victim = account.popen("serverless", "deploy", "-y", "--provider", "local", cwd=first)
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or victim.poll() is not None, "A's request to be held")
        assert victim.poll() is None, victim.communicate()
        breaker = account.gpu("serverless", "deploy", "-y", "--break-lock", "--provider", "local", cwd=second)
        assert breaker.code == 0, breaker.err
        assert "breaking, as --break-lock asks, the lease held by pid" in breaker.err, breaker.err
        if then == "held":
            plant_lease(account, "shared", expires_in=240, host="ci-runner-9")  # a third run holds it when A checks
    finally:
        account.clear_faults()
    out, err = victim.communicate(timeout=120)
    assert account.endpoints()[0]["workers"]["max"] == 4  # B's write stands: A's was changed after it landed
    assert victim.returncode == 1, err
    assert "did not honour" not in err and "ignores this field" not in err and "did not keep" not in err, err
    assert "inconsistent result" not in err, err
    assert "Applied, but the account lease was taken meanwhile:" in err, err
    assert "changed by another writer after this run's write" in err, err
    assert "workers.max" in err, err
    if then == "held":
        assert "the account lease was taken over by pid 4242 on ci-runner-9 meanwhile" in err, err
    else:
        assert "the account lease was deleted from the account meanwhile" in err, err
        assert "the account lease was deleted from the account (broken by another run's --break-lock" in err, err
    assert "hint: run `gpu serverless drift --provider local` once the other run has finished" in err, err  # the run's --provider, repeated
    assert "Traceback" not in err, err


def test_a_read_back_that_differs_while_the_lease_is_held_still_blames_the_provider(account, tmp_path):
    """The lease is this run's all along: a field the provider did not keep is the provider's."""
    proj = project(tmp_path / "p", echo_config(project_id="kept"))
    account.faults({"op": "create", "kind": "endpoint", "action": "drop_field", "field": "workers.max", "times": 1})
    result = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    assert result.code == 1, result.err
    assert "error: endpoint.echo: the local provider did not honour workers.max" in result.err, result.err
    assert "Apply stopped:" in result.err and "taken meanwhile" not in result.err and "another writer" not in result.err, result.err

"""An interrupt (Ctrl-C, or SIGTERM: a CI runner cancelling) that comes while deploy releases the
account lease: the release finishes, and deploy then exits 130 with the summary of what it
applied. Cut short, it used to leave the lease in the account until it went stale (5-6
minutes), so the project's next deploy waited for it or exited 3.

The signal lands in the release and nowhere else: the local provider holds the lease's DELETE
(a hang that lasts until the test clears the rules) and the test sends the signal once the
account has that request; it clears the rules only after gpu has said it finishes the release
first, or after gpu has exited (the defect)."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.conftest import echo_config, project
from tests.support.wait import until

pytestmark = pytest.mark.e2e

IMAGE_2 = "ghcr.io/example/echo-worker:0.2.0"
# Every template DELETE is held until the rules are cleared (no `times`: a retry of the held
# one, after gpu's own request timeout, is held as well), so the hold outlasts the test.
HOLD_RELEASE = {"op": "delete", "kind": "template", "action": "hang", "seconds": 3600}


def _leases(account) -> list[dict]:
    return [t for t in account.server.http.get("/v2/templates").json()["templates"] if str(t.get("name", "")).startswith("gpuctl-lock-")]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_during_the_lease_release_lets_it_finish_then_exits_130(account, tmp_path, signum):
    config = echo_config()
    proj = project(tmp_path / "p", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    config["serverless"]["runpod"]["image_name"] = IMAGE_2
    project(proj, config)

    account.faults(HOLD_RELEASE)
    deploy = account.popen("serverless", "deploy", "-y", cwd=proj)
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or deploy.poll() is not None, "the lease's release to be held")
        assert deploy.poll() is None, deploy.communicate()
        assert [t["name"] for t in _leases(account)] == ["gpuctl-lock-e2e"]  # held, not yet released
        deploy.send_signal(signum)
        seen = []
        for line in deploy.stderr:  # until gpu says it finishes the release first, or exits
            seen.append(line)
            if "interrupted: releasing the account lease" in line:
                break
        left = _leases(account) if deploy.poll() is not None else None
    finally:
        account.clear_faults()  # lets the held DELETE go on
    out, rest = deploy.communicate(timeout=120)
    err = "".join(seen) + rest
    assert left is None, f"gpu exited with its lease still in the account: {left}\n{err}"
    assert deploy.returncode == 130, err
    assert "done:          update endpoint.echo" in err, err
    assert "Traceback" not in err, err
    assert _leases(account) == []

    again = account.gpu("serverless", "deploy", "-y", "--detailed-exitcode", "--lock-timeout", "0s", cwd=proj)
    assert again.code == 0, again.err  # nothing to apply, and no lease in the way
    assert "stale" not in again.err and "holds the account lease" not in again.err, again.err

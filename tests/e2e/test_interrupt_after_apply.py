"""A Ctrl-C or SIGTERM that comes after every change was applied, while deploy still reads the
account back, releases the lease or prints its result: the changes are in the account (and in
the journal), so the summary of what was applied is still printed and deploy exits 130, the
interrupt's code. It used to end with a bare `interrupted`: a CI log could not tell what was
applied. The signal is sent while the local provider holds the post-apply read of the account (until
the test clears the rules), so it lands in that window and nowhere else."""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.conftest import echo_config, project
from tests.support.wait import until

pytestmark = pytest.mark.e2e

IMAGE_2 = "ghcr.io/example/echo-worker:0.2.0"


def _updated(account, tmp_path):
    """A deployed endpoint whose gpu.jsonc now asks for a new image: an update to apply."""
    config = echo_config()
    proj = project(tmp_path / "p", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    config["serverless"]["runpod"]["image_name"] = IMAGE_2
    return project(proj, config)


def _interrupted_after_apply(account, proj, signum: int, *args: str):
    """Run deploy; once its read of the account after the apply hangs (the third list of
    volumes: the first plan, the plan under the lease, then the check after the apply), send
    `signum`. (stdout, stderr, exit code)."""
    # Held until the test clears the rules, not for a fixed time: a 60 s hang (with `times: 1`,
    # so gpu's retry after its own 30 s request timeout went through) ended before the signal
    # on a loaded machine, and deploy finished with exit 0. Every later list of volumes is held.
    account.faults({"op": "list", "kind": "network_volume", "action": "hang", "seconds": 3600, "after": 2})
    process = account.popen("serverless", "deploy", "-y", *args, cwd=proj)
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or process.poll() is not None, "the post-apply read to hang")
        assert process.poll() is None, process.communicate()
        log = account.requests()
        patched = [r for r in log if r["method"] == "PATCH" and r["path"].startswith("/v2/serverless/")]
        assert patched, log  # the signal comes after the endpoint was written, not before
        process.send_signal(signum)
        out, err = process.communicate(timeout=120)
    finally:
        account.clear_faults()
    return out, err, process.returncode


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupt_after_the_apply_still_prints_what_was_applied_and_exits_130(account, tmp_path, signum):
    proj = _updated(account, tmp_path)
    out, err, code = _interrupted_after_apply(account, proj, signum)
    assert code == 130, err
    assert "done:          update endpoint.echo" in err, err
    assert "every change listed as done was applied" in err, err
    assert "Traceback" not in err
    assert account.endpoints()[0]["image"] == IMAGE_2
    again = account.gpu("serverless", "deploy", "-y", "--detailed-exitcode", cwd=proj)
    assert again.code == 0, again.err  # nothing left to apply


def test_with_json_the_result_document_says_what_was_applied(account, tmp_path):
    proj = _updated(account, tmp_path)
    out, err, code = _interrupted_after_apply(account, proj, signal.SIGINT, "--json")
    assert code == 130, err
    doc = json.loads(out)
    assert [(d["address"], d["action"]) for d in doc["outcome"]["done"]] == [("endpoint.echo", "update")], doc
    assert doc["applied"] is False and "interrupted" in doc["error"], doc

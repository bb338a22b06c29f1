"""An interrupt while `deploy --break-lock` takes the account lease: the live lease of another
run was deleted by then, which is a change in the account, so deploy no longer says "nothing was
changed" (it did). What was done is said: whose lease was broken, and that the run it was
broken from may still be going."""

from __future__ import annotations

import json
import signal

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.e2e.test_account_lease import plant_lease
from tests.support.terminal import Output
from tests.support.wait import until

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("args", [(), ("--json",)], ids=["text", "json"])
def test_an_interrupt_after_break_lock_broke_the_lease_says_so(account, tmp_path, args):
    proj = project(tmp_path / "p", echo_config(project_id="breaking"), {"handler.py": ECHO_HANDLER})
    plant_lease(account, "breaking", expires_in=300, host="ci-runner-7", pid=4242)  # live: its holder renews it
    # this run's own lease, once the other is gone: the first create (refused, the name is taken)
    # is answered at once, so the break is not waited for behind a held request's timeout
    account.faults({"op": "create", "kind": "template", "action": "hang", "seconds": 3600, "after": 1})
    process = account.popen("serverless", "deploy", "-y", "--break-lock", *args, cwd=proj)
    err = Output.of_pipe(process.stderr)
    try:
        err.wait_for("breaking, as --break-lock asks, the lease held by pid 4242 on ci-runner-7")
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or process.poll() is not None, "the lease's create to be held")
        assert process.poll() is None
        process.send_signal(signal.SIGTERM)
    finally:
        account.clear_faults()
    code, out, said = process.wait(timeout=120), process.stdout.read(), err.rest()
    assert code == 130, said
    assert "nothing was changed in the account" not in said, said
    error = next(line for line in said.splitlines() if line.startswith("error: "))
    assert error.startswith("error: interrupted before the apply: no endpoint or volume was changed, but the account lease held by pid 4242 on ci-runner-7"), said
    assert "was broken (--break-lock)" in error, said
    assert account.endpoints() == []
    if args:
        doc = json.loads(out)
        assert doc["applied"] is False and doc["error"] == error.removeprefix("error: ")

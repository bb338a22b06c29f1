"""A create the server holds past gpuctl's own HTTP timeout (30 s; GPU_HTTP_TIMEOUT makes it 2 s
here): the answer is lost, and what gpuctl does next depends on whether the server had carried
it out yet.

The local provider holds the POST (a fault rule that lasts until the test clears the rules), so
the test waits on gpuctl's timeout and its lookups, never on a sleep of its own:

- held after the commit: the identity lookup finds the endpoint; nothing is sent again;
- held before the commit: the lookup finds nothing, yet the server may still carry the create
  out. gpuctl sent it again, and when the held one went on, the account had two endpoints of
  one name (the next deploy stopped on them). It now sends nothing more and says to deploy
  again; that deploy adopts the endpoint the held create made."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project
from tests.support.wait import until

pytestmark = pytest.mark.e2e

GRACE = {"GPUCTL_VISIBILITY_GRACE": "1", "GPU_HTTP_TIMEOUT": "2"}  # the hold outlasts the timeout whatever its length


def _creates(account) -> int:
    return sum(1 for r in account.requests() if r["method"] == "POST" and r["path"] == "/v2/serverless")


def test_a_create_committed_then_held_past_the_timeout_is_found_not_sent_again(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "commit_then_hang", "seconds": 3600})
    try:
        done = account.gpu("serverless", "deploy", "-y", cwd=proj, env=GRACE)
    finally:
        account.clear_faults()
    assert done.code == 0, done.err
    assert "the answer was lost, but the create took effect" in done.err, done.err
    assert [e["name"] for e in account.endpoints()] == ["echo"]
    assert _creates(account) == 1


def test_a_create_held_before_it_commits_is_not_sent_again(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "hang", "seconds": 3600})
    try:
        stopped = account.gpu("serverless", "deploy", "-y", cwd=proj, env=GRACE)
        assert account.endpoints() == []  # the held create has not been carried out yet
    finally:
        account.clear_faults()  # the held create goes on now, as a slow server's would
    assert stopped.code == 1, stopped.err
    assert "no answer within 2 s" in stopped.err and "it was not sent again" in stopped.err, stopped.err
    assert "Traceback" not in stopped.err
    [created] = until(account.endpoints, "the held create to be carried out")
    assert _creates(account) == 1  # the held create, and no second one
    again = account.gpu("serverless", "deploy", "-y", cwd=proj, env=GRACE)
    assert again.code == 0, again.err
    assert [e["id"] for e in account.endpoints()] == [created["id"]]

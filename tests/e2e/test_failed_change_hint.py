"""What a failed request's hint says it did (review 2 F6): a PATCH or DELETE whose retries all
ended in a 5xx may have been carried out (the local provider's `commit_then_fail` lands the
change, then answers 500), so its hint never says "changed nothing"; a failed read still does."""

from __future__ import annotations

import json

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project


def test_a_patch_that_failed_after_retries_but_landed_says_it_may_have_been_carried_out(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    (proj / "gpu.jsonc").write_text(json.dumps(echo_config(max_workers=5)))
    account.faults({"op": "update", "kind": "endpoint", "action": "commit_then_fail", "status": 500, "times": 20})
    failed = account.gpu("serverless", "deploy", "-y", "--parallelism", "1", cwd=proj)
    account.clear_faults()
    assert failed.code == 1, failed.out + failed.err
    assert "PATCH /v2/serverless/" in failed.err and "server error 500" in failed.err
    assert [e["workers"]["max"] for e in account.endpoints()] == [5]  # the change landed
    assert "changed nothing" not in failed.err
    assert "hint: the write may have been carried out: `gpu serverless deploy --plan` shows what the account has now" in failed.err
    assert "Traceback" not in failed.err


def test_a_read_that_failed_after_retries_still_says_it_changed_nothing(account, tmp_path):
    account.faults({"op": "list", "kind": "endpoint", "action": "status", "status": 500, "times": 20})
    failed = account.gpu("serverless", "list", "--all", cwd=tmp_path)
    account.clear_faults()
    assert failed.code == 1, failed.out + failed.err
    assert "GET /v2/serverless" in failed.err and "server error 500" in failed.err
    assert "this request changed nothing, so run the command again in a minute" in failed.err


def test_a_delete_that_failed_after_retries_says_what_fits_a_delete(account, tmp_path):
    """Its hint was deploy's: "deploying again is safe (gpuctl looks an endpoint up before it
    creates one)" (review 5, R5-2)."""
    proj = project(tmp_path / "p", echo_config(), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    ident = account.endpoints()[0]["id"]
    account.faults({"op": "delete", "kind": "endpoint", "action": "status", "status": 500, "times": 20})
    failed = account.gpu("serverless", "delete", "echo", "-y", cwd=proj)
    account.clear_faults()
    assert failed.code == 1, failed.err
    assert "deploying again" not in failed.err, failed.err
    assert f"hint: the delete may have been carried out: `gpu serverless list` shows whether endpoint {ident} is still there" in failed.err, failed.err

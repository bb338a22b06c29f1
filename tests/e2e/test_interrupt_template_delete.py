"""SIGTERM or Ctrl-C while `gpu serverless template delete` has its DELETE in flight. It sent
the DELETE outside gpuctl.interrupts.writing and ended with a bare `interrupted` while the
account deleted the template anyway; now it follows the rule `delete` follows: the DELETE in
flight finishes, the command says the template is deleted (or, after a second interrupt, that
the outcome is unknown and how to find out), and exits 130."""

from __future__ import annotations

import json
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests.support.terminal import Output
from tests.support.wait import until

pytestmark = pytest.mark.e2e

HELD = {"op": "delete", "kind": "template", "action": "hang", "seconds": 3600}


def _spare(account) -> dict:
    body = {"name": "spare-tpl", "image": "ghcr.io/example/echo-worker:0.1.0", "serverless": True}
    return account.server.http.post("/v2/templates", json=body).json()


def _names(account) -> list[str]:
    return [t["name"] for t in account.server.http.get("/v2/templates").json()["templates"]]


def _held(account, process) -> bool:
    return bool(account.server.admin("GET", "faults")["rules"][0]["fired"]) or process.poll() is not None


@contextmanager
def _interrupted_delete(account, tmp_path, signum: int, *extra: str) -> Iterator[tuple[dict, subprocess.Popen, Output]]:
    """`template delete` of a spare template with its DELETE held at the account, interrupted once
    (`signum`) and seen waiting for that DELETE: the template, the process and its stderr."""
    spare = _spare(account)
    account.faults(HELD)
    process = account.popen("serverless", "template", "delete", spare["id"], "-y", *extra, cwd=tmp_path)
    err = Output.of_pipe(process.stderr)
    with account.driving(process):
        until(lambda: _held(account, process), "the DELETE to be held")
        assert process.poll() is None, err.rest()
        process.send_signal(signum)
        err.wait_for("waiting for the delete in flight to finish")
        yield spare, process, err


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_template_delete_finishes_its_delete_says_so_and_exits_130(account, tmp_path, signum):
    with _interrupted_delete(account, tmp_path, signum) as (spare, process, err):
        pass
    said = err.rest()
    assert process.wait(timeout=120) == 130, said
    assert f"interrupted, after the delete: template spare-tpl ({spare['id']}) is deleted" in said, said
    assert "error: interrupted\n" not in said, said
    assert "spare-tpl" not in _names(account)


def test_a_second_interrupt_says_the_outcome_is_unknown_and_how_to_find_out(account, tmp_path):
    with _interrupted_delete(account, tmp_path, signal.SIGINT) as (spare, process, err):
        process.send_signal(signal.SIGINT)
        said = err.rest()  # to the end: the second interrupt ends the wait while the DELETE is still held
        assert process.wait(timeout=120) == 130, said
    assert f"the delete of template spare-tpl ({spare['id']}) was in flight: its outcome is unknown" in said, said
    assert f"gpu serverless template delete {spare['id']} --ignore-not-found" in said, said


def test_a_json_template_delete_interrupted_prints_its_document(account, tmp_path):
    with _interrupted_delete(account, tmp_path, signal.SIGINT, "--json") as (spare, process, err):
        account.clear_faults()  # the DELETE is let go: the command ends, and its stdout with it
        said, out = err.rest(), process.stdout.read()
        assert process.wait(timeout=120) == 130, said
    doc = json.loads(out)
    assert (doc["deleted"], doc["already_gone"]) == (spare["id"], False), doc
    assert doc["error"].startswith("interrupted, after the delete: template spare-tpl"), doc

"""SIGTERM or Ctrl-C while `rollback` or `delete` has its one write in flight (review 3, R9).
Both used to print a bare `error: interrupted` and exit at once, abandoning the request, which
the account then carried out seconds later: an operator mid-incident believed nothing had
changed. Now they follow deploy's rule (gpuctl.interrupts.writing): the write in flight
finishes, they say what was done, and exit 130. The signal is sent while the local provider
holds the write (until the test clears the rules), so it lands in that window and nowhere else.
A rollback is also kept as gpuctl's apply: history said the account made its release."""

from __future__ import annotations

import signal

import pytest

from tests.e2e.conftest import echo_config, project
from tests.support.terminal import Output
from tests.support.wait import until

pytestmark = pytest.mark.e2e

IMAGE_1, IMAGE_2 = "ghcr.io/example/echo-worker:0.1.0", "ghcr.io/example/echo-worker:0.2.0"
LAPTOP = {"GIT_AUTHOR_NAME": "Ada Lovelace", "USER": "ada"}


def _two_versions(account, tmp_path):
    config = echo_config()
    proj = project(tmp_path / "p", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=LAPTOP).code == 0
    config["serverless"]["runpod"]["image_name"] = IMAGE_2
    project(proj, config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=LAPTOP).code == 0
    return proj


def _interrupted_while_held(account, proj, rule: dict, signum: int, *args: str) -> tuple[int, str]:
    """`gpu *args` with the write `rule` names held by the account; `signum` once it is held,
    then the write is let go. (exit code, stderr)."""
    code, said, _ = _interrupted_while_held_out(account, proj, rule, signum, *args)
    return code, said


def _interrupted_while_held_out(account, proj, rule: dict, signum: int, *args: str) -> tuple[int, str, str]:
    """As `_interrupted_while_held`, with stdout: (exit code, stderr, stdout)."""
    account.faults(rule | {"action": "hang", "seconds": 3600})
    process = account.popen(*args, cwd=proj, env=LAPTOP)
    err = Output.of_pipe(process.stderr)
    try:
        until(lambda: account.server.admin("GET", "faults")["rules"][0]["fired"] or process.poll() is not None, "the write to be held")
        assert process.poll() is None, err.rest()
        process.send_signal(signum)
        err.wait_for("in flight to finish")
    finally:
        account.clear_faults()
    said = err.rest()
    out = process.stdout.read()
    process.stdout.close()
    return process.wait(timeout=120), said, out


def _one_document(out: str, err: str) -> dict:
    """The one JSON document on stdout; its `error` is the `error:` line of stderr."""
    import json

    doc = json.loads(out)  # one document, nothing else
    errors = [line.removeprefix("error: ") for line in err.splitlines() if line.startswith("error: ")]
    assert errors and doc["error"] == errors[0], (doc.get("error"), err)
    return doc


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_rollback_finishes_its_write_says_so_and_exits_130(account, tmp_path, signum):
    proj = _two_versions(account, tmp_path)
    code, err = _interrupted_while_held(account, proj, {"op": "update", "kind": "endpoint"}, signum, "serverless", "rollback", "echo", "--to", "1", "-y")
    assert code == 130, err
    assert "waiting for the rollback's write in flight to finish" in err, err
    assert "after the rollback was written: endpoint echo is on the configuration of version 1 (now version 3)" in err, err
    assert "gpu serverless pull echo --write" in err, err
    assert [e["image"] for e in account.endpoints()] == [IMAGE_1]


def test_a_rollback_is_recorded_as_gpuctls_apply_in_history(account, tmp_path):
    """history's MADE BY said `account` for the release a rollback made."""
    proj = _two_versions(account, tmp_path)
    done = account.gpu("serverless", "rollback", "echo", "--to", "1", "-y", cwd=proj, env=LAPTOP)
    assert done.code == 0, done.err
    history = account.gpu("serverless", "history", "echo", "--json", cwd=proj)
    newest = history.json()["releases"][0]
    assert (newest["version"], newest["made_by"], newest["applied_by"]) == (3, "gpuctl", "Ada Lovelace"), history.out


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_an_interrupted_delete_finishes_its_write_says_so_and_exits_130(account, tmp_path, signum):
    proj = _two_versions(account, tmp_path)
    code, err = _interrupted_while_held(account, proj, {"op": "delete", "kind": "endpoint"}, signum, "serverless", "delete", "echo", "-y")
    assert code == 130, err
    assert "waiting for the delete in flight to finish" in err, err
    assert "after the delete: endpoint echo" in err and "is deleted" in err, err
    assert account.endpoints() == []
    assert not [t for t in account.server.http.get("/v2/templates").json()["templates"] if t["name"].startswith("gpuctl-")]  # records and lease gone too


@pytest.mark.parametrize("command", [("rollback", "echo", "--to", "1", "-y"), ("delete", "echo", "-y")])
def test_an_interrupt_before_the_write_says_nothing_was_changed(account, tmp_path, command):
    """While it waits for the account lease a deploy holds: nothing was written, and it says so
    instead of a bare `interrupted`."""
    from tests.e2e.test_account_lease import plant_lease

    proj = _two_versions(account, tmp_path)
    plant_lease(account, "e2e", expires_in=300)
    process = account.popen("serverless", *command, "--lock-timeout", "5m", cwd=proj)
    err = Output.of_pipe(process.stderr)
    err.wait_for("waiting for the account lease")
    process.send_signal(signal.SIGTERM)
    said = err.rest()
    process.stdout.close()
    assert process.wait(timeout=120) == 130, said
    assert ("interrupted before the rollback was written: nothing was changed" in said if command[0] == "rollback"
            else "interrupted before the delete was sent: endpoint echo" in said), said
    assert [e["image"] for e in account.endpoints()] == [IMAGE_2]


def test_an_interrupted_rollback_json_prints_its_document_saying_the_write_landed(account, tmp_path):
    """`rollback --json` interrupted during its write printed nothing on stdout: a script could
    not tell that the release had been made. It prints the document deploy --json would:
    what was done (applied, the new version) and the error."""
    proj = _two_versions(account, tmp_path)
    code, err, out = _interrupted_while_held_out(account, proj, {"op": "update", "kind": "endpoint"}, signal.SIGTERM,
                                                 "serverless", "rollback", "echo", "--to", "1", "-y", "--json")
    assert code == 130, err
    doc = _one_document(out, err)
    assert (doc["applied"], doc["gpu_jsonc_differs"], doc["from_version"], doc["to_version"], doc["new_version"]) == (True, True, 2, 1, 3), doc
    assert doc["endpoint"]["name"] == "echo" and doc["changes"], doc
    assert doc["error"].startswith("interrupted, after the rollback was written")


def test_an_interrupted_delete_json_prints_its_document_saying_it_was_deleted(account, tmp_path):
    proj = _two_versions(account, tmp_path)
    ident = account.endpoints()[0]["id"]
    code, err, out = _interrupted_while_held_out(account, proj, {"op": "delete", "kind": "endpoint"}, signal.SIGINT,
                                                 "serverless", "delete", "echo", "-y", "--json")
    assert code == 130, err
    doc = _one_document(out, err)
    assert (doc["deleted"], doc["not_found"], doc["already_gone"], doc["volumes_kept"]) == (ident, False, False, []), doc
    assert doc["error"].startswith("interrupted, after the delete")


@pytest.mark.parametrize("command", [("rollback", "echo", "--to", "1", "-y"), ("delete", "echo", "-y")])
def test_an_interrupt_before_the_write_json_prints_a_document_saying_nothing_was_done(account, tmp_path, command):
    from tests.e2e.test_account_lease import plant_lease

    proj = _two_versions(account, tmp_path)
    plant_lease(account, "e2e", expires_in=300)
    process = account.popen("serverless", *command, "--json", "--lock-timeout", "5m", cwd=proj)
    err = Output.of_pipe(process.stderr)
    err.wait_for("waiting for the account lease")
    process.send_signal(signal.SIGTERM)
    said = err.rest()
    out = process.stdout.read()
    process.stdout.close()
    assert process.wait(timeout=120) == 130, said
    doc = _one_document(out, said)
    assert (doc["applied"], doc["new_version"]) == (False, 2) if command[0] == "rollback" else doc["deleted"] is None, doc
    assert doc["error"].startswith("interrupted before the")
    assert [e["image"] for e in account.endpoints()] == [IMAGE_2]


@pytest.mark.parametrize("command, code, words", [
    (("rollback", "echo", "--to", "1", "-y"), 3, "holds the account lease"),
    (("rollback", "echo", "--to", "9", "-y"), 1, "version"),
    (("rollback", "echo", "--to", "1"), 1, "needs confirmation"),
    (("rollback", "ecko", "--to", "1", "-y"), 1, "ecko"),
    (("delete", "echo", "-y"), 3, "holds the account lease"),
    (("delete", "ecko", "-y"), 1, "ecko"),
    (("delete", "echo"), 1, "needs confirmation"),
    (("template", "delete", "nope", "-y"), 1, "nope"),
], ids=["rollback-lease", "rollback-no-version", "rollback-unanswered", "rollback-not-found", "delete-lease", "delete-not-found", "delete-unanswered",
        "template-not-found"])
def test_a_refused_rollback_or_delete_json_prints_its_document(account, tmp_path, command, code, words):
    """As `deploy --json` does for each refusal: applied (deleted) nothing, and the reason."""
    from tests.e2e.test_account_lease import plant_lease

    proj = _two_versions(account, tmp_path)
    if code == 3:
        plant_lease(account, "e2e", expires_in=300)
    done = account.gpu("serverless", *command, "--json", cwd=proj)
    assert done.code == code, done.err
    doc = _one_document(done.out, done.err)
    assert words in doc["error"], doc
    assert doc.get("applied", False) is False and doc.get("deleted") is None, doc
    assert [e["image"] for e in account.endpoints()] == [IMAGE_2]

"""Parallel apply against the local provider, through the real CLI: a volume is created before
the endpoint that attaches it is sent, independent endpoints do not wait for it, a 429 on one
worker holds back every worker, and a failure or a Ctrl-C stops new work while running work
finishes and is reported."""

from __future__ import annotations

import json
import signal
from collections import Counter

from tests.e2e.conftest import ECHO_HANDLER, Run, echo_config, project
from tests.support.terminal import Output
from tests.support.wait import until

# Every endpoint create is held until the test clears the rules (a fixed 2 s hang let a and b
# finish, and c start, before the signal on a loaded machine).
HOLD_CREATES = {"op": "create", "kind": "endpoint", "action": "hang", "seconds": 3600}
IN_FLIGHT_S = 0.25  # a request that reaches the server this soon after a 429 left it was sent before the client read the 429


def _endpoints(*names: str, volume_for: str | None = None) -> dict:
    blocks = []
    for name in names:
        block = echo_config(name=name, volume="models" if name == volume_for else None)["serverless"]
        blocks.append(block)
    return {"project_id": "e2e", "serverless": blocks}


def _posts(log: list[dict], path: str) -> list[dict]:
    return sorted((r for r in log if r["method"] == "POST" and r["path"] == path), key=lambda r: r["at"])


def test_a_volume_is_created_before_the_endpoint_that_attaches_it_and_others_do_not_wait(account, tmp_path):
    """The volume's create is held by the provider until b's create has been answered (then the
    test lets it go): b did not wait for it, a did. It was a 2 s hang and b's create had to come
    within those 2 s, which a loaded machine did not always manage."""
    proj = project(tmp_path / "p", _endpoints("a", "b", volume_for="a"), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "network_volume", "action": "hang", "seconds": 3600, "times": 1})
    process = account.popen("serverless", "deploy", "-y", "--parallelism", "10", cwd=proj)
    try:
        during = until(lambda: (account.server.admin("GET", "faults")["rules"][0]["fired"] and _posts(account.requests(), "/v2/serverless"))
                       or process.poll() is not None, "b's create to be answered while the volume's create is held")
        assert not _posts(account.requests(), "/v2/network-volumes"), "the volume's create was answered: it was not held"
    finally:
        account.clear_faults()
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert isinstance(during, list) and len(during) == 1, during  # b's create, answered while the volume's was held; a's waits for it
    log = account.requests()  # `at`: when a request arrived
    [volume_create] = _posts(log, "/v2/network-volumes")
    endpoint_creates = _posts(log, "/v2/serverless")
    assert len(endpoint_creates) == 2
    read_back = [r for r in log if r["method"] == "GET" and r["path"].startswith("/v2/network-volumes/") and r["at"] >= volume_create["at"]]
    assert read_back, "the volume was never read back"
    later = [r for r in endpoint_creates if r != during[0]]
    assert len(later) == 1 and later[0]["at"] >= read_back[0]["at"]  # a's create came after the volume was created and read back
    attached = {e["name"]: e.get("networkVolumes") for e in account.endpoints()}
    assert attached["a"] == [account.volumes()[0]["id"]] and not attached["b"]


def test_a_429_on_one_worker_holds_back_every_worker(account, tmp_path):
    proj = project(tmp_path / "p", _endpoints("a", "b", "c", "d"), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "status", "status": 429, "retry_after": 2, "times": 1})
    result = account.gpu("serverless", "deploy", "-y", "--parallelism", "10", cwd=proj)
    assert result.code == 0, result.err
    log = sorted(account.requests(), key=lambda r: r["at"])
    [refused] = [r for r in log if r["status"] == 429]
    held = [r for r in log if refused["at"] + IN_FLIGHT_S < r["at"] < refused["at"] + 1.98]
    resumed = [r for r in log if r["at"] >= refused["at"] + 1.98]
    assert not held, held
    assert len(_posts(resumed, "/v2/serverless")) >= 1  # the refused create, sent again after the pause
    assert len(resumed) > 8, "the other workers had nothing left to do: the test proves nothing"
    assert sorted(e["name"] for e in account.endpoints()) == ["a", "b", "c", "d"]


def test_after_a_failure_nothing_new_starts_running_changes_finish_and_the_summary_is_exact(account, tmp_path):
    proj = project(tmp_path / "p", _endpoints("a", "b", "c", "d"), {"handler.py": ECHO_HANDLER})
    account.faults(
        {"op": "create", "kind": "endpoint", "action": "hang", "seconds": 3600, "times": 1},  # the first create is held...
        {"op": "create", "kind": "endpoint", "action": "status", "status": 400, "times": 1},  # ...the second is rejected meanwhile
    )
    process = account.popen("serverless", "deploy", "-y", "--json", "--parallelism", "2", cwd=proj)
    err = Output.of_pipe(process.stderr)
    try:
        err.wait_for(": create failed")  # then the held one is let go (it was a 1 s hang, which load could outlast)
    finally:
        account.clear_faults()
    result = Run(process.wait(timeout=120), process.stdout.read(), err.rest())
    assert result.code == 1, result.err
    outcome = json.loads(result.out)["outcome"]
    done = [d["address"] for d in outcome["done"]]
    failed = [f["address"] for f in outcome["failed"]]
    skipped = [n["address"] for n in outcome["not_attempted"]]
    assert len(done) == 1 and len(failed) == 1 and len(skipped) == 2, outcome
    assert sorted(done + failed + skipped) == ["endpoint.a", "endpoint.b", "endpoint.c", "endpoint.d"]
    assert [f"endpoint.{e['name']}" for e in account.endpoints()] == done  # the slow create finished; nothing else was created
    assert "not attempted:" in result.err
    account.clear_faults()
    fixed = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert fixed.code == 0, fixed.err
    assert sorted(e["name"] for e in account.endpoints()) == ["a", "b", "c", "d"]


def test_ctrl_c_lets_the_changes_in_flight_finish_reports_exactly_what_happened_and_a_rerun_converges(account, tmp_path):
    """(A second Ctrl-C stops the wait instead: tests/e2e/test_interrupt_write_in_flight.py and
    the SIGTERM test below.)"""
    proj = project(tmp_path / "p", _endpoints("a", "b", "c", "d"), {"handler.py": ECHO_HANDLER})
    account.faults(HOLD_CREATES)  # a and b are in flight when Ctrl-C comes, until the test lets them go
    process = account.popen("serverless", "deploy", "-y", "--parallelism", "2", cwd=proj)
    err = Output.of_pipe(process.stderr)
    try:
        err.wait_for("endpoint.a: creating…")
        err.wait_for("endpoint.b: creating…")
        process.send_signal(signal.SIGINT)
        err.wait_for("in flight to finish")
    finally:
        account.clear_faults()
    said = err.rest()
    assert process.wait() == 130, said
    assert "interrupted: waiting for the 2 changes in flight to finish (a second interrupt stops waiting); nothing new starts" in said
    for line in ("done:          create endpoint.a", "done:          create endpoint.b",
                 "not attempted: create endpoint.c", "not attempted: create endpoint.d"):
        assert line in said, said
    assert "error: interrupted: the changes in flight finished; nothing else was started" in said
    assert "hint: run deploy again to apply the rest" in said  # deploy's view; a GitHub apply job says to re-run the job
    assert sorted(e["name"] for e in account.endpoints()) == ["a", "b"]
    again = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert again.code == 0, again.err
    assert Counter(e["name"] for e in account.endpoints()) == Counter("abcd")


def test_a_rate_limit_pause_is_shown_as_one_not_as_a_silent_stall(account, tmp_path):
    proj = project(tmp_path / "p", _endpoints("a", "b", "c"), {"handler.py": ECHO_HANDLER})
    account.faults({"op": "create", "kind": "endpoint", "action": "status", "status": 429, "retry_after": 2, "ratelimit": True, "times": 1})
    result = account.gpu("serverless", "deploy", "-y", "--parallelism", "10", cwd=proj)
    assert result.code == 0, result.err
    [pause] = [line for line in result.err.splitlines() if "rate limited" in line]
    assert pause.startswith("… rate limited: ") and pause.endswith("every request waits 2s"), pause
    assert sorted(e["name"] for e in account.endpoints()) == ["a", "b", "c"]


def test_in_a_log_each_step_is_one_line_however_long(account, tmp_path):
    """Not at a terminal, progress lines are log records: never wrapped at the console width
    (COLUMNS=120 here), or grep and CI annotations see half a record."""
    long = "n" * 110
    proj = project(tmp_path / "p", _endpoints(long, "b"), {"handler.py": ECHO_HANDLER})
    result = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert result.code == 0, result.err
    [started, finished] = [line for line in result.err.splitlines() if long in line]
    assert started == f"+ endpoint.{long}: creating…"
    assert finished.startswith(f"+ endpoint.{long}: create complete after ") and finished.endswith("]"), result.err


def test_sigterm_from_a_cancelled_ci_job_is_a_ctrl_c_the_summary_is_printed_and_the_lease_released(account, tmp_path):
    """GitLab, Jenkins and Kubernetes cancel a job with SIGTERM (GitHub Actions sends it after
    SIGINT). It killed deploy on the spot: no summary, and the project's account lease and name
    claims left in the account until they went stale, so the next CI run waited or exited 3.
    It now ends as Ctrl-C does. A second SIGTERM (GitHub's, 7.5 s after its SIGINT) stops the
    wait for the creates in flight, which the account still holds: their outcome is unknown,
    and the lease and the name claims are released all the same (review 5, R5-2)."""
    proj = project(tmp_path / "p", _endpoints("a", "b", "c"), {"handler.py": ECHO_HANDLER})
    account.faults(HOLD_CREATES)
    process = account.popen("serverless", "deploy", "-y", "--parallelism", "2", cwd=proj)
    err = Output.of_pipe(process.stderr)
    try:
        err.wait_for("endpoint.b: creating…")
        process.send_signal(signal.SIGTERM)
        err.wait_for("in flight to finish")
        process.send_signal(signal.SIGTERM)
        said = err.rest()
        assert process.wait() == 130, said
        locks = [t["name"] for t in account.server.http.get("/v2/templates").json()["templates"] if t["name"].startswith("gpuctl-lock-")]
    finally:
        account.clear_faults()
    assert "Two interrupts received" in said, said
    assert "create endpoint.a: Two interrupts received" in said and "not attempted: create endpoint.c" in said, said
    assert not locks, locks  # the project's lease and every name claim released

"""Advice for another way of running a command (`gpu github apply`'s "re-run this workflow job")
is a new error with that hint: the error it was given keeps its own, whatever its type."""

from __future__ import annotations

from gpuctl.engine.apply import Interrupted
from gpuctl.errors import Diagnostic, DiagnosticsError, ExitCode, GpuctlError
from gpuctl.github.runner import RERUN, Stopped, job_advice


def test_with_hint_copies_the_error_and_leaves_the_original_alone():
    stopped = Stopped(Interrupted("interrupted", hint="run deploy again"), {"outcome": {}})
    located = DiagnosticsError("1 problem", [Diagnostic("bad", "endpoints[0].name")])
    for error in (stopped, located, GpuctlError("boom", detail="why", hint="old")):
        hinted = error.with_hint("new")
        assert type(hinted) is type(error) and hinted is not error
        assert (hinted.summary, hinted.detail, hinted.exit_code, hinted.hint) == (error.summary, error.detail, error.exit_code, "new")
        assert error.hint != "new"
    assert stopped.with_hint("new").result is stopped.result and stopped.exit_code == ExitCode.INTERRUPTED


def test_job_advice_gives_a_new_error_as_the_deploy_view_does():
    cause = GpuctlError("the local provider did not honour workers.max", hint="deploy again")
    advised = job_advice(cause)
    assert advised.hint.endswith(RERUN) and cause.hint == "deploy again"
    interrupted = Interrupted("interrupted")
    assert job_advice(interrupted).hint == RERUN and interrupted.hint is None


def test_a_located_error_shows_the_detail_and_hint_it_was_given():
    """`job_advice` gives a plan or config error the apply job's advice with `with_hint`; the
    printed error (the job's log and summary) must carry it, after the located problems, as
    every other error prints its hint."""
    located = DiagnosticsError("1 problem", [Diagnostic("taken", "endpoints[0].name", hint="rename it")])
    advised = job_advice(located)
    assert advised.format() == f"error: 1 problem\nendpoints[0].name: taken\n  hint: rename it\nhint: {advised.hint}"
    assert located.format() == "error: 1 problem\nendpoints[0].name: taken\n  hint: rename it"
    detailed = DiagnosticsError("1 problem", [Diagnostic("bad", "x")])
    detailed.detail = "the account changed meanwhile"
    assert detailed.format() == "error: 1 problem\nx: bad\nthe account changed meanwhile"

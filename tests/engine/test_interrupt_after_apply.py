"""The last stretch of a deploy: an interrupt that arrives after the flow returned what it
applied, before deploy prints it (a window no output line marks, so it is driven here by a
deployment whose `apply` is interrupted on its way out), ends like one inside the flow: the
summary of what was applied, then the interrupt's error (exit 130). It used to be a bare
`interrupted`."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest

from gpuctl.engine.apply import ApplyFailed, Outcome
from gpuctl.engine.flow import Deployment, DeployResult, InterruptedAfterApply
from gpuctl.errors import ExitCode


class _Applied(Deployment):
    """A deployment whose engine applied `outcome`, interrupted once `apply` has returned."""

    def __init__(self, outcome: Outcome):  # no provider: nothing here talks to one
        self.emit = SimpleNamespace(stopped=lambda failure: failure.cause)
        self.applied = DeployResult(plan=None, observed=None, outcome=outcome)

    def apply(self):
        raise KeyboardInterrupt  # as a SIGINT would, between `return` and the report


def test_an_interrupt_between_apply_and_its_report_prints_what_was_applied():
    from gpuctl.cli.deploy import _apply

    notes: list[str] = []
    s = SimpleNamespace(app=SimpleNamespace(note=notes.append, stdout=io.StringIO()), opts=SimpleNamespace(json_result=False), target="local", result=None)
    with pytest.raises(InterruptedAfterApply) as raised:
        _apply(s, _Applied(Outcome(done=[("endpoint.a", "update", "ep1")])))
    assert raised.value.exit_code == ExitCode.INTERRUPTED
    assert notes == ["Applied, then interrupted:\n  done:          update endpoint.a (ep1)"]


def test_before_anything_was_applied_an_interrupt_stays_an_interrupt():
    from gpuctl.cli.deploy import _apply

    deployment = _Applied(Outcome())
    deployment.applied = None
    s = SimpleNamespace(app=SimpleNamespace(note=print, stdout=io.StringIO()), opts=SimpleNamespace(json_result=False), target="local", result=None)
    with pytest.raises(KeyboardInterrupt):
        _apply(s, deployment)


def test_an_error_other_than_an_interrupt_after_the_apply_is_not_turned_into_one():
    from gpuctl.engine.flow import InconsistentResult

    deployment = _Applied(Outcome(done=[("endpoint.a", "update", "ep1")]))
    assert deployment.interrupted_after_apply(InconsistentResult("differs")) is None
    failure = deployment.interrupted_after_apply(KeyboardInterrupt())
    assert isinstance(failure, ApplyFailed) and failure.result is deployment.applied

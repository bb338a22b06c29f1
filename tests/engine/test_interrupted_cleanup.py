"""Cleanups an interrupt must not cut in half (gpuctl.interrupts): the account lease's release
and create, the project lock's release. The signal is sent to this process from inside the
step (os.kill on the main thread), so it lands exactly there: the step finishes, and the
interrupt takes its course afterwards; one that comes while another exception already ends
the command leaves that exception standing."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from gpuctl.engine.lease import TOKEN, Lease, lease_name
from gpuctl.engine.lock import ProjectLock
from gpuctl.interrupts import cleanup
from gpuctl.provider.errors import AmbiguousWrite
from tests.engine.test_lease_clock import Account, Clock

pytestmark = pytest.mark.skipif(threading.current_thread() is not threading.main_thread(), reason="signals reach the main thread only")


def _interrupt(signum: int = signal.SIGINT) -> None:
    os.kill(os.getpid(), signum)


def _raised(run) -> BaseException | None:
    """What `run()` ended with; a KeyboardInterrupt is returned too, never let through to
    pytest, which would take it for a Ctrl-C of the whole session."""
    try:
        run()
    except BaseException as exc:  # noqa: BLE001
        return exc
    return None


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_a_cleanup_lets_it_finish_then_interrupts(signum):
    done = []
    previous = signal.signal(signal.SIGTERM, lambda s, f: (_ for _ in ()).throw(KeyboardInterrupt()))  # as gpu's main() sets it
    try:
        with pytest.raises(KeyboardInterrupt):
            cleanup(lambda: (_interrupt(signum), done.append("rest of the step")), unwinding=False)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert done == ["rest of the step"]


def test_a_signal_during_a_cleanup_while_an_error_unwinds_leaves_that_error_standing():
    done, said = [], []
    cleanup(lambda: (_interrupt(), done.append("rest")), lambda: said.append("said"), unwinding=True)  # no KeyboardInterrupt: the error in flight ends the command
    assert done == ["rest"] and said == ["said"]


class _Deleting(Account):
    """An account whose template DELETE is where the interrupt comes (`during`)."""

    def __init__(self) -> None:
        super().__init__()
        self.during_delete = lambda: None
        self.during_create = lambda: None

    def delete_template(self, template_id: str) -> None:
        self.during_delete()
        super().delete_template(template_id)

    def create_template(self, body: dict) -> dict:
        made = super().create_template(body)
        self.during_create()
        return made


def _lease(account: Account, notes: list) -> Lease:
    clock = Clock()
    return Lease(account, lease_name("project", "app"), "app", "me", clock=clock, sleep=clock.sleep, on_note=notes.append)


def test_an_interrupt_during_the_lease_release_lets_the_release_finish_then_is_raised():
    account, notes = _Deleting(), []
    account.during_delete = _interrupt
    def run():
        with _lease(account, notes).held(0, renew_every=3600):
            pass

    assert isinstance(_raised(run), KeyboardInterrupt)
    assert account.templates == {}  # released: the next deploy finds no lease
    assert notes == ["interrupted: releasing the account lease (gpuctl-lock-app) first"]


def test_an_interrupt_during_the_release_after_an_error_keeps_that_error():
    account, notes = _Deleting(), []
    account.during_delete = _interrupt
    def run():
        with _lease(account, notes).held(0, renew_every=3600):
            raise ValueError("the body's own error")

    assert repr(_raised(run)) == repr(ValueError("the body's own error"))
    assert account.templates == {}


def test_an_interrupt_during_the_lease_create_still_releases_the_lease_it_created():
    account, notes = _Deleting(), []
    account.during_create = _interrupt
    entered = []
    def run():
        with _lease(account, notes).held(0, renew_every=3600):
            entered.append(True)

    assert isinstance(_raised(run), KeyboardInterrupt)
    assert entered == [] and account.templates == {}


def test_an_interrupt_after_a_lease_create_whose_answer_was_lost_finds_and_releases_it():
    account, notes = _Deleting(), []

    def lost() -> None:
        _interrupt()
        raise AmbiguousWrite("POST /v2/templates: the answer was lost (ReadTimeout)")

    account.during_create = lost

    def run():
        with _lease(account, notes).held(0, renew_every=3600):
            pass

    assert isinstance(_raised(run), KeyboardInterrupt)
    assert account.templates == {}, [t["env"].get(TOKEN) for t in account.templates.values()]


def test_an_interrupt_during_the_project_lock_release_still_leaves_no_holder_record(tmp_path, monkeypatch):
    """The lock file names its holder until deploy's release empties it; a release cut short
    left the record, and the next deploy said the previous one "did not finish"."""
    from types import SimpleNamespace

    from gpuctl.engine import flow

    real = ProjectLock.release

    def release(lock):
        _interrupt()
        real(lock)

    monkeypatch.setattr(flow.ProjectLock, "release", release)

    class Done(flow.Deployment):
        def _locked(self):
            return "applied"

    request = SimpleNamespace(desired=SimpleNamespace(endpoints=[]), project_dir=tmp_path, command="gpu serverless deploy", lock_timeout=0.0)
    assert isinstance(_raised(Done(provider=None, request=request).apply), flow.InterruptedBeforeApply)  # the interrupt, said as nothing written (this flow wrote nothing)
    monkeypatch.undo()
    again = ProjectLock(tmp_path / ".gpu" / "deploy.lock", "gpu serverless deploy")
    again.acquire(0)
    assert again.interrupted is None
    again.release()

"""A lease taken from its holder while held (another run's --break-lock): the holder finds
out when it renews or releases it, says who holds it now, and deletes nothing of the other's."""

from __future__ import annotations

from gpuctl.engine.lease import Lease, lease_name
from gpuctl.provider.errors import NotFound
from tests.engine.test_lease_clock import Account


class Strict(Account):
    """Updating a template that is gone is a 404, as RunPod answers it."""

    def update_template(self, template_id: str, patch: dict) -> dict:
        if template_id not in self.templates:
            raise NotFound("no such template")
        return super().update_template(template_id, patch)


def _held(account: Account, notes: list[str], holder: str = "pid 1 on a") -> Lease:
    lease = Lease(account, lease_name("project", "p"), "p", holder, on_note=notes.append, sleep=lambda s: None)
    lease.acquire(0.0)
    return lease


def test_a_renewal_finds_the_lease_taken_over_and_names_the_new_holder():
    account, notes = Strict(), []
    mine = _held(account, notes)
    other = Lease(account, mine.name, "p", "pid 2 on b", on_note=lambda m: None, sleep=lambda s: None)
    other.acquire(0.0, break_lock=True)
    mine.renew()
    assert mine.lost is not None and mine.lost.startswith("taken over by pid 2 on b"), mine.lost
    assert any("was taken over by pid 2 on b" in n and n.startswith("warning: ") for n in notes), notes
    mine.release()
    assert [t["env"]["GPUCTL_LEASE_HOLDER"] for t in account.templates.values()] == ["pid 2 on b"]  # the other's lease stands


def test_a_release_finds_the_lease_deleted_and_says_so_once():
    account, notes = Strict(), []
    mine = _held(account, notes)
    account.templates.clear()  # broken by a run that has released it since
    mine.release()
    assert mine.lost is not None and mine.lost.startswith("deleted from the account"), mine.lost
    assert len([n for n in notes if "deleted from the account" in n]) == 1, notes
    mine.renew()
    mine.release()
    assert len([n for n in notes if "deleted from the account" in n]) == 1, notes


def test_a_lease_held_to_the_end_is_not_lost():
    account, notes = Strict(), []
    mine = _held(account, notes)
    mine.renew()
    mine.release()
    assert mine.lost is None and account.templates == {} and notes == []

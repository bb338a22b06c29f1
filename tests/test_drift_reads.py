"""`gpu serverless drift` reads the account again when it changed between its reads."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gpuctl.cli import drift_cmd
from gpuctl.errors import GpuctlError
from gpuctl.model import Desired, Observed
from gpuctl.plan.drift import record_body
from gpuctl.provider.errors import NotFound

RECORD = {**record_body("demo", "ep-new", "echo", {}, "2026-12-06T00:00:00Z"), "id": "t1"}


def _desired(*names: str) -> Desired:
    """gpu.jsonc's blocks by name: no volume, cached model nor registry, so drift reads the three lists."""
    return Desired("demo", "gpu.jsonc", tuple(SimpleNamespace(name=n, renamed_from=None, cached_model=None, volume=None, registry_auth=None) for n in names))


DESIRED = _desired("echo")


class Account:
    """An account whose endpoint `ep-new` exists by id, while the lists it answers lag."""

    def __init__(self, states):
        self.states, self.gets, self.closed = list(states), [], False

    def observe(self, _refs, registries=False, pods=False):
        return self.states.pop(0)

    def get_endpoint(self, endpoint_id):
        self.gets.append(endpoint_id)
        if endpoint_id != "ep-new":
            raise NotFound("gone")
        return {"id": endpoint_id}

    def close(self):
        self.closed = True


def _observe(monkeypatch, account):
    monkeypatch.setattr("gpuctl.cli.connect.connect", lambda *a, **k: account)
    return drift_cmd._observe(None, SimpleNamespace(target="runpod", desired=DESIRED))


LAGGING = Observed((), (), (RECORD,))
CAUGHT_UP = Observed(({"id": "ep-new", "name": "echo", "env": {"GPUCTL_PROJECT": "demo"}},), (), (RECORD,))


def test_a_record_of_an_endpoint_made_after_the_list_was_read_reads_the_account_again(monkeypatch):
    account = Account([LAGGING, CAUGHT_UP])
    assert _observe(monkeypatch, account) is CAUGHT_UP
    assert account.gets == ["ep-new"] and account.closed


def test_an_endpoint_really_deleted_is_checked_once_and_reported(monkeypatch):
    gone = Observed((), (), ({**record_body("demo", "ep-old", "echo", {}, "2026-12-06T00:00:00Z"), "id": "t2"},))
    account = Account([gone])
    assert _observe(monkeypatch, account) is gone
    assert account.gets == ["ep-old"]


def test_a_record_of_a_name_gpu_jsonc_no_longer_has_is_not_checked(monkeypatch):
    """Records of endpoints deleted long ago pile up; only a block's name is looked up."""
    other = Observed((), (), ({**record_body("demo", "ep-x", "retired", {}, "2026-12-06T00:00:00Z"), "id": "t3"},))
    account = Account([other])
    assert _observe(monkeypatch, account) is other and account.gets == []


def test_an_account_that_keeps_changing_is_an_error_not_a_report(monkeypatch):
    account = Account([LAGGING] * drift_cmd.READS)
    with pytest.raises(GpuctlError) as raised:
        _observe(monkeypatch, account)
    assert "changed while it was read" in raised.value.summary and "ep-new" in raised.value.summary and account.closed
    assert raised.value.hint


@pytest.mark.parametrize("names, said", [(("echo",), "1 endpoint then found by id (ep-echo)"),
                                         (("echo", "api"), "2 endpoints then found by id (ep-api, ep-echo)")])
def test_the_endpoints_the_lists_kept_leaving_out_are_counted_in_words_that_agree(monkeypatch, names, said):
    """It said "endpoint ep-api, ep-echo was missing": one noun, several ids."""
    records = tuple({**record_body("demo", f"ep-{n}", n, {}, "2026-12-06T00:00:00Z"), "id": f"t-{n}"} for n in names)
    account = Account([Observed((), (), records)] * drift_cmd.READS)
    account.get_endpoint = lambda endpoint_id: {"id": endpoint_id}
    desired = _desired(*names)
    monkeypatch.setattr("gpuctl.cli.connect.connect", lambda *a, **k: account)
    with pytest.raises(GpuctlError) as raised:
        drift_cmd._observe(None, SimpleNamespace(target="runpod", desired=desired))
    assert said in raised.value.summary, raised.value.summary

"""A read-back that differs from what was just written is the provider's fault only while the
account lease is still this run's; once it was taken, the run that took it wrote meanwhile
(review 5, R5-9). The e2e cases (tests/e2e/test_lease_lost_readback.py) cover endpoints; the
same check guards a volume's read-back."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from gpuctl.engine.apply import Engine, LeaseLost, NotHonoured


def _engine(lost: str | None) -> Engine:
    return Engine(provider=SimpleNamespace(name="local"), project_id="p", journal=None, lease_lost=lambda: lost)


CHANGE = SimpleNamespace(desired={"name": "models", "dataCenterId": "EU-RO-1", "size": 20})
LIVE = {"id": "v1", "name": "models", "dataCenterId": "EU-RO-1", "size": 30}


def test_a_volume_read_back_that_differs_under_a_lost_lease_is_the_other_writers():
    with pytest.raises(LeaseLost) as caught:
        _engine("taken over by pid 7 on runner-2 (`gpu serverless deploy`) (expires in 240s unless renewed)")._verify_volume(CHANGE, LIVE | {"name": "renamed"})
    error = caught.value
    assert error.summary == "changed by another writer after this run's write (name read back otherwise): the account lease was taken over by pid 7 on runner-2 meanwhile"
    assert "taken over by pid 7 on runner-2 (`gpu serverless deploy`) (expires in 240s unless renewed) while this run held it" in error.detail
    assert error.hint.startswith("run `gpu serverless drift` once the other run has finished")


def test_a_volume_read_back_that_differs_under_a_held_lease_is_the_providers():
    with pytest.raises(NotHonoured, match="the volume read back differs in name"):
        _engine(None)._verify_volume(CHANGE, LIVE | {"name": "renamed"})


def test_a_volume_read_back_as_written_asks_nothing_of_the_lease():
    asked = []
    engine = Engine(provider=None, project_id="p", journal=None, lease_lost=lambda: asked.append(1))
    assert engine._verify_volume(CHANGE, LIVE) == "v1" and asked == []

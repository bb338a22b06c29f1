"""An endpoint's releases answer is read through gpuctl.v2 (ADR 26), and an odd value in it is
no crash: `deploy --wait-healthy --rollback-on-failure` did `int(endpointVersion or 0)`, a
ValueError (an internal error) for a version that is not a whole number."""

from __future__ import annotations

import pytest

from gpuctl.v2 import Progress, release_version, rollout, rollout_progress


@pytest.mark.parametrize("doc,version", [({"endpointVersion": 4}, 4), ({"endpointVersion": "4"}, None), ({"endpointVersion": "v4"}, None),
                                         ({"endpointVersion": True}, None), ({"endpointVersion": None}, None), ({}, None), ({"endpointVersion": 0}, 0)])
def test_the_version_is_a_whole_number_or_none(doc, version):
    assert release_version(doc) == version


def test_the_rollout_is_carried_as_sent_and_read_field_by_field():
    sent = {"inProgress": True, "workersOnLatest": 1, "workersTotal": 3, "percentOnLatest": 33}
    doc = {"rollout": sent}
    assert rollout(doc) == sent and rollout(doc) is not sent
    assert rollout_progress(rollout(doc)) == Progress(True, 1, 3, 33)
    for missing in ({}, {"rollout": None}, {"rollout": "soon"}):
        assert rollout(missing) is None
        assert rollout_progress(rollout(missing)) == Progress(False, None, None, None)

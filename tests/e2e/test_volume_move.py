"""Moving an endpoint with a network volume to another data center creates a new, empty volume
there and keeps the old one: a network volume never moves. The plan's warning says so before
anything is written, and what to do (copy the data; the old volume stays billed until deleted)."""

from __future__ import annotations

from tests.e2e.conftest import echo_config, project


def test_moving_data_center_warns_that_the_data_stays_behind(account, tmp_path):
    config = echo_config(volume="models")
    proj = project(tmp_path / "p", config)
    assert (done := account.gpu("serverless", "deploy", "-y", cwd=proj)).code == 0, done.err
    (old,) = account.volumes()
    assert old["dataCenter"] == "EU-RO-1"

    config["serverless"]["runpod"]["data_center_ids"] = ["US-KS-2"]
    project(proj, config)
    planned = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    assert planned.code == 0, planned.err
    (warning,) = [w for w in planned.json()["warnings"] if w["code"] == "volume-outside-data-centers"]
    assert warning["address"] == "network_volume.models@EU-RO-1"
    for said in ("Its data does not move", "the new volume in US-KS-2 is created empty", "copy into it",
                 "the volume in EU-RO-1 is kept, and its storage billed, until you delete it"):
        assert said in warning["message"], warning["message"]
    text = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert "Its data does not move" in text.out.replace("\n", " "), text.out

    assert (done := account.gpu("serverless", "deploy", "-y", cwd=proj)).code == 0, done.err
    volumes = {v["dataCenter"]: v for v in account.volumes()}
    assert set(volumes) == {"EU-RO-1", "US-KS-2"} and volumes["EU-RO-1"]["id"] == old["id"]  # as warned: the old one kept
    assert account.endpoints()[0]["networkVolumes"] == [volumes["US-KS-2"]["id"]]  # the endpoint uses the new, empty one

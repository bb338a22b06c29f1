"""The read-only day-2 views (`list`, `status`, `logs`, `invoke`, `job`) a week after the first
deploy, when the account or the working copy is not as the deploy left them: a block's name
held by an endpoint this project does not own, gpu.jsonc half edited. They still show the
account, and say what they could not take into account."""

from __future__ import annotations

import json

from tests.e2e.conftest import echo_config, project


def _by_hand(account, name: str, env: dict | None = None) -> str:
    """An endpoint made outside gpuctl (no GPUCTL_PROJECT marker): its id."""
    made = account.server.http.post("/v2/serverless", json={"name": name, "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]},
                                                             "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "env": env or {}})
    assert made.status_code == 201, made.text
    return made.json()["id"]


def _two_blocks(name: str = "echo") -> dict:
    config = echo_config(name)
    second = json.loads(json.dumps(config["serverless"])) | {"name": f"{name}-b"}
    return {"project_id": config["project_id"], "serverless": [config["serverless"], second]}


def test_list_shows_a_block_whose_name_an_endpoint_of_no_project_holds_and_the_other_blocks(account, tmp_path):
    """The block's endpoint was deleted and someone made one of that name by hand: `list` still
    lists the project, the block as "taken" by that endpoint (never "in sync": it is not ours)
    and the others as they are; deploy is what refuses."""
    proj = project(tmp_path / "p", _two_blocks())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    ours = {e["name"]: e["id"] for e in account.endpoints()}
    theirs = _by_hand(account, "echo")
    beside = {r["name"]: r for r in account.gpu("serverless", "list", "--json", cwd=proj).json()["endpoints"]}
    assert (beside["echo"]["state"], beside["echo"]["id"]) == ("in sync", ours["echo"]), "the one beside ours was listed as the block's"
    assert account.server.http.delete(f"/v2/serverless/{ours['echo']}").status_code in (200, 204)

    listed = account.gpu("serverless", "list", "--json", cwd=proj)
    assert listed.code == 0, listed.err
    rows = {r["name"]: r for r in listed.json()["endpoints"]}
    assert rows["echo-b"]["state"] == "in sync" and rows["echo-b"]["id"] == ours["echo-b"]
    assert rows["echo"]["state"] == "taken" and rows["echo"]["id"] is None, rows["echo"]
    assert rows["echo"]["taken_by"] == {"id": theirs, "project": None}
    assert rows["echo-b"]["taken_by"] is None, "every row has the same keys"

    text = account.gpu("serverless", "list", cwd=proj)
    assert text.code == 0, text.err
    line = next(x for x in text.out.splitlines() if x.startswith("echo "))
    assert f"taken by {theirs} (unmanaged)" in line, text.out


def test_list_shows_a_block_whose_name_another_project_holds(account, tmp_path):
    mine = project(tmp_path / "mine", _two_blocks())
    other = project(tmp_path / "other", echo_config("echo", project_id="other"))
    assert account.gpu("serverless", "deploy", "-y", cwd=other).code == 0
    theirs = account.endpoints()[0]["id"]

    listed = account.gpu("serverless", "list", "--json", cwd=mine)
    assert listed.code == 0, listed.err
    rows = {r["name"]: r for r in listed.json()["endpoints"]}
    assert rows["echo"]["state"] == "taken" and rows["echo"]["taken_by"] == {"id": theirs, "project": "other"}
    assert rows["echo-b"]["state"] == "missing"

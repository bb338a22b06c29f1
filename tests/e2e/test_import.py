"""`gpu serverless import` end to end: an endpoint made with RunPod's own SDK
(`runpod.create_endpoint`) against the local provider is imported; the block reproduces it,
`import --write` then `deploy` makes exactly one endpoint write (the marker PATCH) and the
next plan is empty. Another project's endpoint is refused without --force. Env values from
the account are never printed."""

from __future__ import annotations

import json

import pytest
import runpod

from tests.e2e.conftest import echo_config, project

CANARY = "stage-canary-5150"


@pytest.fixture
def sdk(account, monkeypatch):
    """The runpod SDK pointed at the local provider, as `eval "$(gpu local env)"` would."""
    monkeypatch.setenv("RUNPOD_API_BASE_URL", account.server.info["api_base_url"])
    monkeypatch.setattr(runpod, "api_key", account.server.token)
    return runpod


def _endpoint_writes(account) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in account.requests() if r["method"] != "GET" and r["path"].startswith("/v2/serverless")]


def _without_marker(endpoint: dict) -> dict:
    return {**endpoint, "env": {k: v for k, v in endpoint["env"].items() if k != "GPUCTL_PROJECT"}}


def test_sdk_endpoint_import_then_deploy_writes_only_the_marker(account, sdk, tmp_path):
    volume = account.server.http.post("/v2/network-volumes", json={"name": "sdk-models", "size": 40, "dataCenter": "EU-RO-1"}).json()
    template = sdk.create_template("sdk-worker", "ghcr.io/acme/worker:2.1", env={"STAGE": CANARY, "TOKEN": "{{ RUNPOD_SECRET_acme.token }}"},
                                   is_serverless=True, container_disk_in_gb=15)
    made = sdk.create_endpoint("sdk-ep", template["id"], gpu_ids="AMPERE_24,-NVIDIA L4", workers_max=2, idle_timeout=9,
                               network_volume_id=volume["id"], flashboot=True)
    proj = project(tmp_path / "p", echo_config())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    before_text, writes = (proj / "gpu.jsonc").read_text(), account.writes()

    shown = account.gpu("serverless", "import", "sdk-ep", "--json", cwd=proj)
    assert shown.code == 0, shown.err
    block = shown.json()["block"]
    assert block == {
        "name": "sdk-ep", "template": "custom-image", "gpu_type": "NVIDIA GeForce RTX 3090", "gpu_types": ["NVIDIA RTX A5000"],
        "scaling": {"min_workers": 0, "max_workers": 2, "idle_timeout": 9}, "volume": {"name": "sdk-models"},
        "runpod": {"image_name": "ghcr.io/acme/worker:2.1", "container_disk_gb": 15, "scaler_type": "queue_delay", "scaler_value": 4,
                   "execution_timeout_ms": 600000, "flashboot": True,
                   "env": {"STAGE": {"secret": "STAGE"}, "TOKEN": {"secret": "acme.token"}}},
        "adopt": made["id"],
    }
    assert shown.json()["placeholders"] == ["STAGE"] and shown.json()["written"] is False
    assert (proj / "gpu.jsonc").read_text() == before_text and account.writes() == writes

    text = account.gpu("serverless", "import", made["id"], cwd=proj)
    assert text.code == 0 and '"adopt": "%s"' % made["id"] in text.out
    assert "+ env.GPUCTL_PROJECT" in text.err and "env.STAGE" in text.err  # the plan: the marker, and the placeholder's change
    assert "--literal-env" in text.err and CANARY not in text.out + text.err

    written = account.gpu("serverless", "import", "sdk-ep", "--write", "--literal-env", "STAGE", cwd=proj)
    assert written.code == 0, written.err
    assert CANARY not in written.out + written.err and CANARY in (proj / "gpu.jsonc").read_text()
    first_block = before_text[before_text.index('"serverless": ') + 14:before_text.rstrip().rindex("}")].rstrip()
    assert first_block in (proj / "gpu.jsonc").read_text()  # the block that was there is kept as it was

    live = account.server.http.get(f"/v2/serverless/{made['id']}").json()
    account.server.admin("POST", "requests/reset")
    deployed = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert deployed.code == 0, deployed.err
    assert _endpoint_writes(account) == [("PATCH", f"/v2/serverless/{made['id']}")]
    after = account.server.http.get(f"/v2/serverless/{made['id']}").json()
    assert after["env"]["GPUCTL_PROJECT"] == "e2e" and _without_marker(after) == live

    planned = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj)
    assert planned.code == 0, planned.out


def test_another_projects_endpoint_needs_force_and_can_be_renamed(account, tmp_path):
    theirs = echo_config(name="shared", project_id="other-team")
    assert account.gpu("serverless", "deploy", "-y", cwd=project(tmp_path / "theirs", theirs)).code == 0
    (endpoint,) = account.endpoints()
    mine = tmp_path / "mine"
    mine.mkdir()

    refused = account.gpu("serverless", "import", "shared", "--write", cwd=mine)
    assert refused.code == 1 and 'belongs to project "other-team"' in refused.err and "--force" in refused.err
    assert "Traceback" not in refused.err and not (mine / "gpu.jsonc").exists()

    taken = account.gpu("serverless", "import", "shared", "--force", "--name", "ours", "--write", "--literal-env", "GREETING", cwd=mine)
    assert taken.code == 0, taken.err
    assert '"project_id": "mine"' in (mine / "gpu.jsonc").read_text()
    assert 'from project "other-team"' in taken.err and 'renames it from "shared"' in taken.err

    account.server.admin("POST", "requests/reset")
    deployed = account.gpu("serverless", "deploy", "-y", cwd=mine)
    assert deployed.code == 0, deployed.err
    assert _endpoint_writes(account) == [("PATCH", f"/v2/serverless/{endpoint['id']}")]
    (now,) = account.endpoints()
    assert (now["id"], now["name"], now["env"]["GPUCTL_PROJECT"]) == (endpoint["id"], "ours", "mine")
    assert now["env"]["GPUCTL_LOCAL_COMMAND"] == endpoint["env"]["GPUCTL_LOCAL_COMMAND"]  # local.command came back too
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=mine).code == 0


def test_import_refuses_what_would_clash(account, tmp_path):
    proj = project(tmp_path / "p", echo_config())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    again = account.gpu("serverless", "import", "echo", "--name", "copy", cwd=proj)
    assert again.code == 1 and "declares it (serverless)" in again.err and "gpu serverless pull" in again.err
    other = account.server.create_endpoint("echo", worker=None, env={"GREETING": "hi-there"})  # a console user's, of the same name
    clash = account.gpu("serverless", "import", other["id"], cwd=proj)
    assert clash.code == 1 and 'already declares an endpoint named "echo"' in clash.err and "--name" in clash.err
    literal = account.gpu("serverless", "import", other["id"], "--name", "copy", "--literal-env", "GREETING", cwd=proj)
    assert literal.code == 1 and "needs --write" in literal.err
    unknown = account.gpu("serverless", "import", other["id"], "--name", "copy", "--write", "--literal-env", "GRETING", cwd=proj)
    assert unknown.code == 1 and "GREETING" in unknown.err and "Traceback" not in unknown.err
    missing = account.gpu("serverless", "import", "nosuch", cwd=proj)
    assert missing.code == 1 and 'no endpoint named or with id "nosuch"' in missing.err
    slow = account.server.create_endpoint("slow", worker=None, timeout=700_000_000)  # beyond gpu.jsonc's 7 days
    unfit = account.gpu("serverless", "import", slow["id"], "--write", cwd=proj)
    assert unfit.code == 1 and "gpu.jsonc cannot declare this endpoint" in unfit.err and "execution_timeout_ms: must be ≤ 604800000" in unfit.err
    assert (proj / "gpu.jsonc").read_text() == json.dumps(echo_config(), indent=2)  # nothing was written by any of them

    extra = account.server.create_endpoint("extra", worker=None)
    for ref, more in ((other["id"], ["--name", "copy"]), (extra["id"], [])):  # the object becomes a list, then one more block
        assert account.gpu("serverless", "import", ref, *more, "--write", cwd=proj).code == 0
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert sorted(e["name"] for e in account.endpoints() if e["env"].get("GPUCTL_PROJECT") == "e2e") == ["copy", "echo", "extra"]
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0

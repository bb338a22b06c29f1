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


def _suggested(err: str) -> list[str]:
    """The command import's "nothing was written" note suggests, as arguments after `gpu`."""
    import shlex

    line = next(line for line in err.splitlines() if line.startswith("nothing was written"))
    command = shlex.split(line.split("`")[1])
    assert command[0] == "gpu"
    return command[1:]


def test_the_suggested_write_command_repeats_the_options_given_and_works(account, tmp_path):
    theirs = echo_config(name="shared", project_id="other-team")
    assert account.gpu("serverless", "deploy", "-y", cwd=project(tmp_path / "theirs", theirs)).code == 0
    (endpoint,) = account.endpoints()
    mine = project(tmp_path / "my project", echo_config(project_id="mine"))
    config = str(mine / "gpu.jsonc")
    before = (mine / "gpu.jsonc").read_text()

    shown = account.gpu("serverless", "import", "shared", "--force", "--name", "ours", "--config", config, "--provider", "local", cwd=tmp_path)
    assert shown.code == 0, shown.err
    suggested = _suggested(shown.err)
    assert suggested == ["serverless", "import", endpoint["id"], "--name", "ours", "--force", "--config", config, "--provider", "local", "--write"]
    literal = next(line for line in shown.err.splitlines() if "--literal-env KEY" in line)
    assert "--name ours --force --config" in literal and literal.rstrip().endswith("--write --literal-env KEY")
    assert (mine / "gpu.jsonc").read_text() == before

    written = account.gpu(*suggested, cwd=tmp_path)  # exactly what it said
    assert written.code == 0, written.err
    assert '"name": "ours"' in (mine / "gpu.jsonc").read_text() and '"adopt": "%s"' % endpoint["id"] in (mine / "gpu.jsonc").read_text()
    assert "import again" not in written.err and 'in place of {"secret": "<KEY>"}' in written.err  # the block is there now: no rerun

    orphan_dir = project(tmp_path / "lone", echo_config(name="lonely", project_id="lone"))  # without gpu.jsonc, the project is the directory's name
    assert account.gpu("serverless", "deploy", "-y", cwd=orphan_dir).code == 0
    (orphan_dir / "gpu.jsonc").unlink()
    again = account.gpu("serverless", "import", "lonely", cwd=orphan_dir)
    assert again.code == 0, again.err
    assert _suggested(again.err)[3:] == ["--write"]  # nothing given, nothing repeated


def test_the_preview_is_the_whole_plan_deploy_will_make(account, tmp_path):
    """Another endpoint of the project was deleted in the account: deploy after the import
    creates it again, so the preview says so, and its cost and headline are that plan's."""
    blocks = [echo_config(name="a", min_workers=1)["serverless"], echo_config(name="b")["serverless"]]
    del blocks[1]["runpod"]["env"]  # nothing for import to leave as a placeholder: b's own plan is empty
    proj = project(tmp_path / "p", {"project_id": "two", "serverless": blocks})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    ids = {e["name"]: e["id"] for e in account.endpoints()}
    project(proj, {"project_id": "two", "serverless": [blocks[0]]})  # b is an orphan now
    account.server.http.delete(f"/v2/serverless/{ids['a']}").raise_for_status()  # a is gone from the account

    shown = account.gpu("serverless", "import", "b", cwd=proj)
    assert shown.code == 0, shown.err
    assert "No changes" not in shown.err and "change nothing" not in shown.err
    assert "endpoint.a will be created" in shown.err and "Plan: 1 to create, 0 to update, 0 to replace, 0 to delete." in shown.err
    assert "endpoint.b: no change" in shown.err and "1 other change" in shown.err
    as_json = account.gpu("serverless", "import", "b", "--json", cwd=proj)
    assert as_json.code == 0, as_json.err
    preview = as_json.json()["plan"]

    assert account.gpu("serverless", "import", "b", "--write", cwd=proj).code == 0
    planned = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    assert planned.code == 0, planned.err
    after = planned.json()
    for key in ("has_changes", "summary", "cost"):
        assert preview[key] == after[key], key
    assert [(r["address"], r["action"]) for r in preview["resource_changes"]] == [(r["address"], r["action"]) for r in after["resource_changes"]]


# A GPU CLI user's gpu.jsonc for pods (docs/configuration.md: gpuctl ignores these keys), with
# Windows line endings and comments: the file import adds the first serverless block to.
POD_CONFIG = ('{\r\n'
              '  // pods, for GPU CLI\r\n'
              '  "project_id": "pods", // the marker\r\n'
              '  "gpu_types": ["NVIDIA GeForce RTX 4090"],\r\n'
              '  "environment": {"python": "3.11"} /* GPU CLI reads it */\r\n'
              '}\r\n')
EMPTY_LIST = ('{\r\n'
              '\t"project_id": "pods",\r\n'
              '\t"gpu_types": ["NVIDIA GeForce RTX 4090"],\r\n'
              '\t"serverless": [ /* none yet */ ],\r\n'
              '}\r\n')


@pytest.mark.parametrize("before", [POD_CONFIG, EMPTY_LIST], ids=["no-serverless-key", "empty-list"])
def test_import_writes_the_first_block_into_a_config_without_one(account, tmp_path, before):
    """Review 5, R5-7: import refused a gpu.jsonc without a serverless block ("no serverless
    block", or "the list of serverless blocks is empty") and asked for the block it generates
    to be written by hand. It adds it: the pod keys, comments and CRLF kept, the plan shown."""
    import pyjson5

    from gpuctl.config.edit import comments

    made = account.server.create_endpoint("ext-1", worker=None, env={"MODE": "fast"}, workers={"min": 0, "max": 2, "idleTimeout": 7})
    proj = tmp_path / "pods"
    proj.mkdir()
    config = proj / "gpu.jsonc"
    config.write_bytes(before.encode())

    pulled = account.gpu("serverless", "pull", "--provider", "local", cwd=proj)  # nothing to pull: it says import is the way
    assert pulled.code == 1 and "Traceback" not in pulled.err
    assert "gpu.jsonc:" in pulled.err and "gpu serverless import NAME --write" in pulled.err, pulled.err

    shown = account.gpu("serverless", "import", "ext-1", "--provider", "local", cwd=proj)
    assert shown.code == 0, shown.err
    assert '"adopt": "%s"' % made["id"] in shown.out and "+ env.GPUCTL_PROJECT" in shown.err
    assert _suggested(shown.err) == ["serverless", "import", made["id"], "--provider", "local", "--write"]
    assert config.read_bytes() == before.encode()  # nothing was written

    as_json = account.gpu("serverless", "import", "ext-1", "--provider", "local", "--json", cwd=proj)
    assert as_json.code == 0, as_json.err
    block = as_json.json()["block"]

    written = account.gpu("serverless", "import", "ext-1", "--provider", "local", "--write", cwd=proj)
    assert written.code == 0, written.err
    assert 'added the block of endpoint "ext-1" to gpu.jsonc' in written.err and "+ env.GPUCTL_PROJECT" in written.err
    after = config.read_bytes().decode()
    assert after.count("\n") == after.count("\r\n"), after  # CRLF throughout, the new lines too
    assert comments(after) == comments(before)
    data, old = pyjson5.decode(after), pyjson5.decode(before)
    assert data == {**old, "serverless": block if "serverless" not in old else [block]}
    assert after.startswith(before[:before.index('"gpu_types"')])  # what comes before the insertion is kept byte for byte

    account.server.admin("POST", "requests/reset")
    deployed = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    assert deployed.code == 0, deployed.err
    assert _endpoint_writes(account) == [("PATCH", f"/v2/serverless/{made['id']}")]  # adopted: the marker, and nothing else
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--provider", "local", cwd=proj).code == 0


# A pod config of GPU CLI with no project_id, and one with `"serverless": null` (S18).
POD_ONLY = '{\n  // pods, for GPU CLI\n  "gpu_types": ["NVIDIA GeForce RTX 4090"],\n  "environment": {"python": "3.11"}\n}\n'
NULL_BLOCKS = '{\n  "project_id": "pods",\n  "gpu_types": ["NVIDIA GeForce RTX 4090"],\n  "serverless": null\n}\n'


def test_import_write_gives_a_pod_config_without_project_id_the_one_its_plan_used(account, tmp_path):
    """import --write added the block and no project_id, so the next plan warned that the
    marker is the directory's name. It now writes that name as project_id, as a new gpu.jsonc
    import creates gets one."""
    import pyjson5

    made = account.server.create_endpoint("ext-2", worker=None, workers={"min": 0, "max": 2, "idleTimeout": 7})
    proj = tmp_path / "podproj"
    proj.mkdir()
    config = proj / "gpu.jsonc"
    config.write_text(POD_ONLY)
    written = account.gpu("serverless", "import", "ext-2", "--provider", "local", "--write", cwd=proj)
    assert written.code == 0, written.err
    assert 'project_id "podproj"' in written.err, written.err
    data = pyjson5.decode(config.read_text())
    assert data["project_id"] == "podproj" and data["serverless"]["adopt"] == made["id"]
    assert data["gpu_types"] == ["NVIDIA GeForce RTX 4090"] and "// pods, for GPU CLI" in config.read_text()
    planned = account.gpu("serverless", "deploy", "--plan", "--provider", "local", cwd=proj)
    assert planned.code == 0, planned.err
    assert "project_id is not set" not in planned.err, planned.err


def test_import_takes_serverless_null_as_no_block_yet(account, tmp_path):
    import pyjson5

    made = account.server.create_endpoint("ext-3", worker=None, workers={"min": 0, "max": 2, "idleTimeout": 7})
    proj = tmp_path / "pods"
    proj.mkdir()
    config = proj / "gpu.jsonc"
    config.write_text(NULL_BLOCKS)
    shown = account.gpu("serverless", "import", "ext-3", "--provider", "local", cwd=proj)
    assert shown.code == 0, shown.err
    written = account.gpu("serverless", "import", "ext-3", "--provider", "local", "--write", cwd=proj)
    assert written.code == 0, written.err
    data = pyjson5.decode(config.read_text())
    assert data["serverless"]["adopt"] == made["id"] and data["project_id"] == "pods"
    assert "project_id" not in written.err  # it had one
    validated = account.gpu("config", "validate", cwd=proj)
    assert validated.code == 0, validated.out + validated.err


@pytest.mark.parametrize("before", [POD_ONLY, NULL_BLOCKS], ids=["no-serverless-key", "serverless-null"])
def test_list_on_a_pod_config_says_it_declares_no_serverless_endpoint(account, tmp_path, before):
    """`list` said a pod config "is not valid"; it is a file with no serverless endpoints yet."""
    proj = tmp_path / "pods"
    proj.mkdir()
    (proj / "gpu.jsonc").write_text(before)
    listed = account.gpu("serverless", "list", "--provider", "local", cwd=proj)
    assert listed.code == 0, listed.err
    assert "not valid" not in listed.err and "Traceback" not in listed.err
    assert "gpu.jsonc declares no serverless endpoints" in listed.err, listed.err
    assert "gpu serverless import NAME --write" in listed.err

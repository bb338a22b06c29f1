"""`gpu serverless history` and `rollback` (issue 10, item 5): the real CLI against the local
provider. The endpoint moves twice, once through `deploy` (gpu.jsonc edited) and once as a
console user would (a PATCH on the REST v2 API); history lists the three versions with their
diffs and never an env value; `rollback --to 1` makes a new release whose configuration is
version 1's, checked against the provider's own release diffs, not against gpuctl's."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from gpuctl.plan import drift
from tests.e2e.conftest import ROOT, echo_config, project
from tests.support.terminal import run_on_terminal

pytestmark = pytest.mark.e2e

SCHEMA = json.loads((ROOT / "schema" / "history.schema.json").read_text())
CANARY = "canary-s3cr3t-4f9a1c"  # set in the console; must never appear in any output
IMAGE_1, IMAGE_2 = "ghcr.io/example/echo-worker:0.1.0", "ghcr.io/example/echo-worker:0.2.0"
IMAGE_3 = "ghcr.io/example/echo-worker:0.3.0\x1b[2J"  # console values with escape sequences in them
ODD_KEY = "NOTE\x1b]0;pwned\x07"


def releases(account, endpoint_id: str) -> dict:
    return account.server.http.get(f"/v2/serverless/{endpoint_id}/releases").json()


def three_versions(account, tmp_path):
    """v1: deploy; v2: deploy after editing the image and an env value in gpu.jsonc;
    v3: the console changes the image and adds a secret env value."""
    config = echo_config()
    proj = project(tmp_path / "proj", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    config["serverless"]["runpod"] |= {"image_name": IMAGE_2, "env": {"GREETING": "bonjour"}}
    project(proj, config)
    deployed = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert deployed.code == 0, deployed.err
    endpoint = account.endpoints()[0]
    console = {"image": IMAGE_3, "env": {**endpoint["env"], "CANARY": CANARY, ODD_KEY: "x"}}
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json=console).status_code == 200
    return proj, endpoint["id"]


def test_history_lists_versions_newest_first_with_diffs_and_no_env_values(account, tmp_path):
    proj, endpoint_id = three_versions(account, tmp_path)
    result = account.gpu("serverless", "history", "echo", "--json", cwd=proj)
    assert result.code == 0, result.err
    assert CANARY not in result.out and "bonjour" not in result.out and "hello" not in result.out
    doc = result.json()
    jsonschema.validate(doc, SCHEMA)
    assert doc["endpoint"] == {"id": endpoint_id, "name": "echo", "project": "e2e"} and doc["endpoint_version"] == 3
    assert [r["version"] for r in doc["releases"]] == [3, 2, 1]
    assert [r["current"] for r in doc["releases"]] == [True, False, False]
    v3, v2, v1 = doc["releases"]
    assert {e["path"]: e for e in v3["diff"]}["image"]["new"] == IMAGE_3
    assert {e["path"]: e["env_keys"] for e in v3["diff"] if e["path"] == "env"} == {"env": {"added": ["CANARY", ODD_KEY], "removed": [], "changed": []}}
    assert {e["path"]: (e["old"], e["new"]) for e in v2["diff"]}["image"] == (IMAGE_1, IMAGE_2)
    env_v2 = next(e for e in v2["diff"] if e["path"] == "env")
    assert env_v2["env_keys"]["changed"] == ["GREETING"] and env_v2["new"]["GREETING"] == {"sensitive": True}
    # created with the project's marker, by a deploy the record keeps with the version it made:
    # gpuctl's, however close together the releases were made (L8)
    assert v1["made_by"] == "gpuctl" and "GPUCTL_PROJECT marker" in v1["made_by_reason"], v1
    assert v2["made_by"] == "gpuctl", v2
    assert v3["made_by"] in ("account", "unknown"), v3  # the console's: no apply the record keeps made it
    assert all(r["source"] == "MANUAL" and r["workers"] == 0 for r in doc["releases"])

    text = account.gpu("serverless", "history", "echo", cwd=proj)
    assert text.code == 0, text.err
    assert "\x1b" not in text.out and "\x07" not in text.out  # escapes are shown, not obeyed:
    assert "0.3.0\\u001b[2J" in text.out and "+NOTE\\x1b]0;pwned\\x07" in text.out  # values as JSON, keys as text
    assert CANARY not in text.out and "env +CANARY" in text.out and "bonjour" not in text.out
    assert text.out.index("3 (current)") < text.out.index(IMAGE_2) and "MADE BY" in text.out


def test_rollback_makes_a_release_equal_to_version_1_and_says_gpu_jsonc_differs(account, tmp_path):
    proj, endpoint_id = three_versions(account, tmp_path)
    result = account.gpu("serverless", "rollback", "echo", "--to", "1", "-y", cwd=proj)
    assert result.code == 0, result.err
    assert CANARY not in result.out + result.err and "hello" not in result.out  # version 1's value: gpu.jsonc no longer holds it
    assert "- env.CANARY = (sensitive)" in result.out and '~ env.GREETING = "bonjour" → (sensitive)' in result.out
    assert "gpu.jsonc now differs from the account" in result.out and "gpu serverless pull echo --write" in result.out

    after = releases(account, endpoint_id)
    assert after["endpointVersion"] == 4 and [r["version"] for r in after["releases"]] == [4, 3, 2, 1]
    version_1 = {e["field"]: e["new"] for e in after["releases"][-1]["diff"]}  # the create's diff holds every container field
    endpoint = account.server.http.get(f"/v2/serverless/{endpoint_id}").json()
    names = {"image": "template.imageName", "args": "template.dockerArgs", "disk": "template.containerDiskInGb",
             "ports": "template.ports", "env": "template.env"}
    assert {k: endpoint[k] for k in names} == {k: version_1[f] for k, f in names.items()}
    assert {e["field"] for e in after["releases"][0]["diff"]} == {"template.imageName", "template.env"}

    history = account.gpu("serverless", "history", "echo", "--json", cwd=proj)
    newest = history.json()["releases"][0]
    assert newest["version"] == 4 and newest["current"] and newest["made_by"] == "gpuctl"  # the rollback is kept as gpuctl's apply (review 3, R9)
    assert {e["path"]: e["new"] for e in newest["diff"]}["image"] == IMAGE_1
    assert account.gpu("serverless", "rollback", "echo", "--to", "1", "-y", cwd=proj).out.count("nothing to roll back") == 1


def _secrets_then_console_edits(account, tmp_path) -> tuple[Path, tuple[str, ...]]:
    """A deploy with a `${VAR}` secret, then console edits: the literal GREETING replaced, the
    secret replaced and a CANARY added. The project and every secret value that must not show."""
    token, console_token, console_greeting = "tok-v4r-9c2e11", "tok-console-77ab3f", "console-greeting-5e1d"
    proj = project(tmp_path / "proj", echo_config(env={"TOKEN": "${MY_TOKEN}"}))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env={"MY_TOKEN": token}).code == 0
    endpoint = account.endpoints()[0]
    console = {"env": {**endpoint["env"], "GREETING": console_greeting, "TOKEN": console_token, "CANARY": CANARY}}
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json=console).status_code == 200
    return proj, (token, console_token, console_greeting, CANARY)


def test_the_rollback_plan_shows_env_values_gpu_jsonc_holds_as_literals_and_hides_every_other(account, tmp_path):
    """A value the user wrote in gpu.jsonc and committed is no secret: the plan shows it. A
    value set in the console, a `${VAR}`'s value, and a value the console put in place of a
    literal stay `(sensitive)`, and appear nowhere in the output."""
    proj, secrets = _secrets_then_console_edits(account, tmp_path)
    result = account.gpu("serverless", "rollback", "echo", "--to", "1", "--plan", cwd=proj)
    assert result.code == 0, result.err
    said = result.out + result.err
    assert '~ env.GREETING = (sensitive) → "hello"' in result.out, result.out  # gpu.jsonc's literal
    assert "~ env.TOKEN = (sensitive) → (sensitive)" in result.out and "- env.CANARY = (sensitive)" in result.out, result.out
    for secret in secrets:
        assert secret not in said, said


def test_history_says_who_applied_each_deploy_locally_and_in_ci_and_never_an_email_or_token(account, tmp_path):
    """Deploys seconds apart, one from a laptop (the git author) and one from GitHub Actions (the
    actor): history said `unknown` for both, the record knowing only the last deploy. Each is
    now gpuctl's, with who applied it; the account holds no email and no token."""
    config = echo_config()
    proj = project(tmp_path / "proj", config)
    laptop = {"GIT_AUTHOR_NAME": "Ada Lovelace", "GIT_AUTHOR_EMAIL": "ada@example.com", "USER": "ada"}
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=laptop).code == 0
    config["serverless"]["runpod"]["image_name"] = IMAGE_2
    project(proj, config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=laptop).code == 0
    config["serverless"]["runpod"]["image_name"] = "ghcr.io/example/echo-worker:0.4.0"
    project(proj, config)
    ci = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octo-bot", "GITHUB_TOKEN": "ghs_t0ken-5f3a9c", "USER": "runner"}
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=ci).code == 0
    result = account.gpu("serverless", "history", "echo", "--json", cwd=proj)
    assert result.code == 0, result.err
    jsonschema.validate(result.json(), SCHEMA)
    made = {r["version"]: (r["made_by"], r["applied_by"]) for r in result.json()["releases"]}
    # each apply keeps the version its write made (the releases' endpointVersion): exact, however
    # close together the deploys ran
    assert made == {1: ("gpuctl", "Ada Lovelace"), 2: ("gpuctl", "Ada Lovelace"), 3: ("gpuctl", "octo-bot")}, result.out
    table = account.gpu("serverless", "history", "echo", cwd=proj, env={"COLUMNS": "200"})
    assert "gpuctl (Ada Lovelace)" in table.out, table.out
    templates = account.server.http.get("/v2/templates").json()["templates"]
    stored = json.dumps(templates)
    assert "ada@example.com" not in stored and "ghs_t0ken" not in stored and "Ada Lovelace" in stored and "octo-bot" in stored


def test_rollback_without_yes_and_without_a_terminal_refuses_and_writes_nothing(account, tmp_path):
    proj, endpoint_id = three_versions(account, tmp_path)
    writes = account.writes()
    refused = account.gpu("serverless", "rollback", "echo", "--to", "2", cwd=proj)
    assert refused.code == 1 and "no terminal to ask on" in refused.err and "-y" in refused.err
    assert "Traceback" not in refused.err and "~ image" in refused.out  # the plan was shown first
    assert account.writes() == writes and releases(account, endpoint_id)["endpointVersion"] == 3


def test_rollback_asks_on_a_terminal_and_no_changes_nothing(account, tmp_path):
    proj, endpoint_id = three_versions(account, tmp_path)
    code, output = run_on_terminal(["serverless", "rollback", "echo", "--to", "1"], proj, account.env, [("Roll back echo to version 1?", "n")])
    assert code == 1 and "cancelled: nothing was changed" in output and CANARY not in output
    assert releases(account, endpoint_id)["endpointVersion"] == 3


def test_unknown_version_lists_the_versions_there_are(account, tmp_path):
    proj, _ = three_versions(account, tmp_path)
    result = account.gpu("serverless", "rollback", "echo", "--to", "9", "-y", cwd=proj)
    assert result.code == 1 and "has no version 9; its versions are 3, 2, 1" in result.err and "Traceback" not in result.err


def test_rollback_refuses_an_endpoint_of_no_project_unless_forced(account, tmp_path):
    proj, _ = three_versions(account, tmp_path)
    http = account.server.http
    other = http.post("/v2/serverless", json={"name": "console-made", "type": "QUEUE", "image": "a/b:1", "gpu": {"pools": ["ADA_24"]},
                                               "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}).json()
    assert http.patch(f"/v2/serverless/{other['id']}", json={"image": "a/b:2"}).status_code == 200
    refused = account.gpu("serverless", "rollback", "console-made", "--to", "1", "-y", cwd=proj)
    assert refused.code == 1 and "belongs to no project" in refused.err and "--force" in refused.err
    assert releases(account, other["id"])["endpointVersion"] == 2
    forced = account.gpu("serverless", "rollback", "console-made", "--to", "1", "-y", "--force", cwd=proj)
    assert forced.code == 0, forced.err
    assert "no GPUCTL_PROJECT marker" in forced.out and "pull" not in forced.out  # no gpu.jsonc to bring back in line
    assert http.get(f"/v2/serverless/{other['id']}").json()["image"] == "a/b:1"


def test_rollback_waits_for_no_deploy_it_holds_the_projects_account_lease(account, tmp_path):
    from tests.e2e.test_account_lease import plant_lease, templates

    proj, endpoint_id = three_versions(account, tmp_path)
    lease = plant_lease(account, "e2e", expires_in=300)
    held = account.gpu("serverless", "rollback", "echo", "--to", "1", "-y", cwd=proj)
    assert held.code == 3 and "holds the account lease" in held.err and "ci-runner-7" in held.err, held.err
    assert releases(account, endpoint_id)["endpointVersion"] == 3  # nothing was written
    account.server.http.delete(f"/v2/templates/{lease['id']}")
    assert account.gpu("serverless", "rollback", "echo", "--to", "1", "-y", cwd=proj).code == 0
    assert not [t for t in templates(account) if t["name"].startswith("gpuctl-lock-")]  # taken, then released


def test_rollback_json_shows_the_env_values_the_text_plan_shows_and_hides_every_other(account, tmp_path):
    """`rollback --plan --json` follows the text plan's rule (render.history.env_shown over
    planning.env_literals): gpu.jsonc's literal and gpuctl's marker are shown, a `${VAR}`'s
    value, a console value and a value gpu.jsonc no longer holds are `{"sensitive": true}`, in
    both formats, and no secret appears in either."""
    proj, secrets = _secrets_then_console_edits(account, tmp_path)
    text = account.gpu("serverless", "rollback", "echo", "--to", "1", "--plan", cwd=proj)
    result = account.gpu("serverless", "rollback", "echo", "--to", "1", "--plan", "--json", cwd=proj)
    assert text.code == 0 and result.code == 0, text.err + result.err
    hidden = {"sensitive": True}
    (env,) = [c for c in result.json()["changes"] if c["field"] == "env"]
    mine = {side: {k: v for k, v in env[side].items() if not k.startswith("GPUCTL_")} for side in ("old", "new")}
    assert mine == {"new": {"GREETING": "hello", "TOKEN": hidden}, "old": {"GREETING": hidden, "TOKEN": hidden, "CANARY": hidden}}, env
    assert env["old"]["GPUCTL_PROJECT"] == env["new"]["GPUCTL_PROJECT"] == "e2e"  # gpuctl's own marker, shown as the text shows it
    assert '~ env.GREETING = (sensitive) → "hello"' in text.out and result.err == text.out  # the same plan, on stderr beside the JSON
    for secret in secrets:
        assert secret not in text.out + text.err + result.out + result.err, secret


def test_an_endpoint_made_through_the_api_with_a_copied_marker_is_not_said_to_be_gpuctls(account, tmp_path):
    """`history` said MADE BY gpuctl for version 1 of any endpoint created with a GPUCTL_PROJECT
    marker, though one made in the console or through the API with the marker copied into it
    makes the same release. It says what is known: the marker, and the project it names."""
    body = {"name": "copied", "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]},
            "env": {"GPUCTL_PROJECT": "e2e"}, "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}}
    made = account.server.http.post("/v2/serverless", json=body).json()
    nowhere = tmp_path / "no-project"
    nowhere.mkdir()
    result = account.gpu("serverless", "history", made["id"], "--json", cwd=nowhere)
    assert result.code == 0, result.err
    jsonschema.validate(result.json(), SCHEMA)
    (v1,) = result.json()["releases"]
    assert v1["made_by"] == "marker" and v1["applied_by"] is None and 'marker of project "e2e"' in v1["made_by_reason"], v1
    table = account.gpu("serverless", "history", made["id"], cwd=nowhere, env={"COLUMNS": "200"})
    assert table.code == 0, table.err
    assert "gpuctl (" not in table.out and " marker " in table.out and "anyone can copy" in table.out, table.out


def test_a_rollback_of_env_values_gpu_jsonc_reads_from_variables_or_secrets_says_what_to_set(account, tmp_path):
    """Its one instruction, `pull --write`, writes nothing for a value gpu.jsonc reads from a
    `${VAR}` or a RunPod secret, so the next deploy silently undid the rollback; and its plan
    showed `(sensitive) → (sensitive)` where deploy's names the RunPod secret (review 3, R4)."""
    old_token, new_db, old_db = "tok-old-7c1e9a44", "db-new-52b0e7f1", "db-old-93d4a6c2"
    config = echo_config(env={"API_TOKEN": "${APITOK}", "DB_PASSWORD": "${DBPW}"})
    proj = project(tmp_path / "proj", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env={"APITOK": old_token, "DBPW": old_db}).code == 0
    config["serverless"]["runpod"]["env"] |= {"API_TOKEN": {"secret": "api_tok"}}
    project(proj, config)
    deployed = account.gpu("serverless", "deploy", "-y", cwd=proj, env={"DBPW": new_db})
    assert deployed.code == 0, deployed.err
    result = account.gpu("serverless", "rollback", "echo", "--to", "1", "-y", cwd=proj, env={"DBPW": new_db})
    assert result.code == 0, result.err
    said = result.out + result.err
    assert old_token not in said and old_db not in said and new_db not in said
    assert "~ env.API_TOKEN = (RunPod secret api_tok) → (sensitive)" in result.out, result.out
    assert 'env.API_TOKEN: gpu.jsonc reads it from the RunPod secret "api_tok", which pull never writes: set that' in result.out, result.out
    assert "env.DB_PASSWORD: gpu.jsonc reads it from ${DBPW}" in result.out and "the next deploy undoes the rollback of it" in result.out, result.out
    assert "pull echo --write" not in result.out, result.out  # it would write nothing
    as_json = account.gpu("serverless", "rollback", "echo", "--to", "2", "-y", "--json", cwd=proj, env={"DBPW": new_db})
    assert as_json.code == 0, as_json.err
    doc = as_json.json()
    assert {e["key"] for e in doc["env_read_elsewhere"]} == {"API_TOKEN", "DB_PASSWORD"}, doc
    env = next(c for c in doc["changes"] if c["field"] == "env")
    assert env["new"]["API_TOKEN"] == {"sensitive": True, "secret": "api_tok"}, env


def test_each_deploy_keeps_the_release_version_its_write_made_so_history_needs_no_clock(account, tmp_path):
    """deploy read the version its write made from the endpoint object, where RunPod's v2
    documents none (the local provider, true to it, sends none): every apply was kept without a
    version and history matched releases with applies by time, so deploys within one second
    left version 1 `marker` and the others `unknown` (L8). The version is RunPod's documented
    `endpointVersion` of the releases, read back after the write: a create keeps 1, an image
    change the release it made, a scaling change (no release) none."""
    config = echo_config()
    proj = project(tmp_path / "proj", config)
    who = {"GIT_AUTHOR_NAME": "Ada Lovelace"}
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=who).code == 0
    config["serverless"]["runpod"]["image_name"] = IMAGE_2
    project(proj, config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=who).code == 0
    config["serverless"]["scaling"]["max_workers"] = 3  # applied to the autoscaler: no release
    project(proj, config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj, env=who).code == 0
    endpoint_id = account.endpoints()[0]["id"]
    assert releases(account, endpoint_id)["endpointVersion"] == 2
    templates = account.server.http.get("/v2/templates").json()["templates"]
    record = next(t for t in templates if t["name"] == drift.record_name(endpoint_id))
    assert [version for _, _, version in drift.applies_of(record)] == [1, 2, None]
    result = account.gpu("serverless", "history", "echo", "--json", cwd=proj)
    assert result.code == 0, result.err
    made = {r["version"]: (r["made_by"], r["applied_by"]) for r in result.json()["releases"]}
    assert made == {2: ("gpuctl", "Ada Lovelace"), 1: ("gpuctl", "Ada Lovelace")}, result.out


def test_a_deploy_whose_release_version_cannot_be_read_stands_and_keeps_its_apply_without_one(account, tmp_path):
    """RunPod types `endpointVersion` as nullable ("null if unknown"): a deploy that cannot read
    it has still written and read back its endpoint, so it succeeds; its apply is kept without a
    version (history then matches it by time) rather than with a wrong one."""
    config = echo_config()
    proj = project(tmp_path / "proj", config)
    account.faults({"op": "get", "kind": "endpoint", "action": "omit_field", "field": "endpointVersion"})
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    config["serverless"]["runpod"]["image_name"] = IMAGE_2
    project(proj, config)
    deployed = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert deployed.code == 0, deployed.err
    account.clear_faults()
    endpoint_id = account.endpoints()[0]["id"]
    assert releases(account, endpoint_id)["endpointVersion"] == 2
    templates = account.server.http.get("/v2/templates").json()["templates"]
    record = next(t for t in templates if t["name"] == drift.record_name(endpoint_id))
    assert [version for _, _, version in drift.applies_of(record)] == [None, None]


def test_a_scaling_only_update_reads_no_releases_and_an_image_change_reads_them(account, tmp_path):
    """Reading the release version costs requests (RunPod's take hundreds of ms each): an update
    read /releases before and after every write, two more requests per endpoint, 32 % more time
    for 50 updates one by one (bench/apply_parallel.py). Only a change of the template or env
    makes a release (api-notes §endpoint), so an update that sends only workers, scaling,
    timeout or flashboot reads none, and is kept without a version, as it made no release."""
    config = echo_config()
    proj = project(tmp_path / "proj", config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    endpoint_id = account.endpoints()[0]["id"]

    def release_reads() -> int:
        return sum(1 for r in account.requests() if r["path"].endswith(f"/{endpoint_id}/releases"))

    read = release_reads()
    config["serverless"]["scaling"]["max_workers"] = 3
    project(proj, config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert release_reads() == read
    config["serverless"]["runpod"]["image_name"] = IMAGE_2
    project(proj, config)
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert release_reads() == read + 2  # the version before and after: exact whatever RunPod's rule
    templates = account.server.http.get("/v2/templates").json()["templates"]
    record = next(t for t in templates if t["name"] == drift.record_name(endpoint_id))
    assert [version for _, _, version in drift.applies_of(record)] == [1, None, 2]

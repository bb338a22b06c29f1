"""`runpod.registry_auth` end to end (review L5): a private image needs the account's container
registry credential on the endpoint (RunPod v2 `registry`, the credential's id). gpu.jsonc
names it as the console shows it; the plan resolves the name with one `GET /v2/registries`
(none when no block declares it), an unknown name is an error at the key naming the names
the account has, `import` and `pull` write the name back, a snapshot carries the
credentials' names and ids, and no credential is ever answered, printed or stored in clear
where others can read it."""

from __future__ import annotations

import json
import stat

import pytest

from tests.e2e.conftest import echo_config, project

pytestmark = pytest.mark.e2e

PASSWORD = "registry-canary-7731"  # the credential: never answered, printed, logged or stored in state.db


def _credential(account, name: str, password: str = PASSWORD) -> dict:
    made = account.server.http.post("/v2/registries", json={"name": name, "username": "deployer", "password": password})
    assert made.status_code == 201, made.text
    assert set(made.json()) == {"id", "name"} and made.json()["name"] == name
    return made.json()


def _private(registry_auth: str, **kw) -> dict:
    config = echo_config(**kw)
    config["serverless"]["runpod"]["registry_auth"] = registry_auth
    return config


def _registry_reads(account) -> int:
    return sum(1 for r in account.requests() if r["path"].startswith("/v2/registries"))


def _position(text: str, key: str) -> tuple[int, int]:
    """1-based line and column of `"key"` in `text`."""
    for number, line in enumerate(text.splitlines(), 1):
        if f'"{key}"' in line:
            return number, line.index(f'"{key}"') + 1
    raise AssertionError(key)


def test_a_block_with_registry_auth_by_name_creates_the_endpoint_with_the_credential_id(account, tmp_path):
    other = _credential(account, "dockerhub-team")
    ghcr = _credential(account, "ghcr-private")
    proj = project(tmp_path / "p", _private("ghcr-private"))

    plan = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    assert plan.code == 0, plan.err
    (change,) = plan.json()["resource_changes"]
    assert {c["path"]: c["after"] for c in change["changes"]}["registry"] == ghcr["id"]
    assert change["desired"]["registry"] == ghcr["id"]

    applied = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert applied.code == 0, applied.err
    (endpoint,) = account.endpoints()
    assert endpoint["registry"] == ghcr["id"]
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0

    # An id works as well as the name: the same credential, nothing to change.
    project(proj, _private(ghcr["id"]))
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0
    project(proj, _private("ghcr-private"))

    # Another credential set in the console is drift; pull writes its name back.
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"registry": other["id"]}).status_code == 200
    drift = account.gpu("serverless", "drift", "--json", cwd=proj)
    assert drift.code == 2, drift.err
    assert [(c["path"], c["config"], c["account"]) for c in drift.json()["drift"][0]["changes"]] == [("registry", ghcr["id"], other["id"])]
    pulled = account.gpu("serverless", "pull", "--write", cwd=proj)
    assert pulled.code == 0, pulled.err
    assert json.loads((proj / "gpu.jsonc").read_text())["serverless"]["runpod"]["registry_auth"] == "dockerhub-team"
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0

    # Cleared in the console: pull removes the key (without it, gpuctl leaves the account's none alone).
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"registry": None}).status_code == 200
    cleared = account.gpu("serverless", "pull", "--write", cwd=proj)
    assert cleared.code == 0, cleared.err
    assert "registry_auth" not in json.loads((proj / "gpu.jsonc").read_text())["serverless"]["runpod"]
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0

    for run in (plan, applied, drift, pulled, cleared):
        assert PASSWORD not in run.out + run.err


def test_a_name_the_account_does_not_have_is_an_error_at_the_key_naming_the_names_it_has(account, tmp_path):
    _credential(account, "ghcr-private")
    proj = project(tmp_path / "p", _private("ghcr-privat"))
    line, col = _position((proj / "gpu.jsonc").read_text(), "registry_auth")

    for args in (("serverless", "deploy", "--plan"), ("serverless", "deploy", "-y")):
        result = account.gpu(*args, cwd=proj)
        assert result.code == 1, result.out + result.err
        assert "Traceback" not in result.err
        assert (f'gpu.jsonc:{line}:{col}: serverless.runpod.registry_auth: no container registry credential named "ghcr-privat": '
                f'the account has "ghcr-private"') in result.err, result.err
        assert "POST /v2/registries" in result.err  # how to create one, on this provider
    assert account.endpoints() == []


def test_registries_are_read_only_when_a_block_declares_one_and_an_undeclared_key_leaves_the_account_alone(account, tmp_path):
    cred = _credential(account, "ghcr-private")
    proj = project(tmp_path / "p", echo_config())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    (endpoint,) = account.endpoints()
    assert endpoint["registry"] is None
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"registry": cred["id"]}).status_code == 200
    reads = _registry_reads(account)

    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0
    assert account.gpu("serverless", "drift", cwd=proj).code == 0
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert account.endpoints()[0]["registry"] == cred["id"]  # a console-set credential is kept
    assert _registry_reads(account) == reads  # and no block declares one: never listed

    declared = project(tmp_path / "declared", _private("ghcr-private"))
    assert account.gpu("serverless", "deploy", "--plan", cwd=declared).code == 0
    assert _registry_reads(account) == reads + 1


def test_import_writes_the_credential_by_name(account, tmp_path):
    cred = _credential(account, "ghcr-private")
    proj = project(tmp_path / "p", _private("ghcr-private", name="private"))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    other = project(tmp_path / "other", echo_config(name="other-one", project_id="other"))
    assert account.gpu("serverless", "deploy", "-y", cwd=other).code == 0
    (theirs,) = [e for e in account.endpoints() if e["name"] == "other-one"]
    assert account.server.http.patch(f"/v2/serverless/{theirs['id']}", json={"registry": cred["id"]}).status_code == 200

    shown = account.gpu("serverless", "import", "other-one", "--force", "--json", cwd=proj)
    assert shown.code == 0, shown.err
    assert shown.json()["block"]["runpod"]["registry_auth"] == "ghcr-private"


def test_a_snapshot_carries_the_credentials_and_an_old_one_says_to_take_a_new_one(account, tmp_path):
    cred = _credential(account, "ghcr-private")
    proj = project(tmp_path / "p", _private("ghcr-private"))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    taken = account.gpu("serverless", "snapshot", "--out", "account.json", cwd=proj)
    assert taken.code == 0, taken.err
    snap = json.loads((proj / "account.json").read_text())
    assert snap["registries"] == [{"id": cred["id"], "name": "ghcr-private"}]
    assert PASSWORD not in (proj / "account.json").read_text()
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", "--observed", "account.json", cwd=proj).code == 0

    del snap["registries"]
    (proj / "old.json").write_text(json.dumps(snap))
    old = account.gpu("serverless", "deploy", "--plan", "--observed", "old.json", cwd=proj)
    assert old.code == 1, old.out + old.err
    line, col = _position((proj / "gpu.jsonc").read_text(), "registry_auth")
    assert f"gpu.jsonc:{line}:{col}: serverless.runpod.registry_auth: " in old.err and "gpu serverless snapshot" in old.err, old.err


def test_the_local_provider_never_answers_or_stores_a_credential_in_clear(account):
    cred = _credential(account, "ghcr-private")
    http = account.server.http
    assert http.get(f"/v2/registries/{cred['id']}").json() == cred
    assert http.get("/v2/registries").json() == {"registries": [cred]}
    refused = http.post("/v2/registries", json={"name": "x", "username": "u", "password": 12345, "extra": PASSWORD})
    assert refused.status_code in (400, 422) and PASSWORD not in refused.text and "12345" not in refused.text
    assert http.get("/v2/registries/nope").status_code == 404

    data = account.server.data_dir
    stored = data / "registries" / cred["id"]
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600 and stat.S_IMODE(stored.parent.stat().st_mode) == 0o700
    for path in data.rglob("*"):
        if path.is_file() and path != stored:
            assert PASSWORD.encode() not in path.read_bytes(), path

    assert http.delete(f"/v2/registries/{cred['id']}").status_code == 204
    assert http.get("/v2/registries").json() == {"registries": []} and not stored.exists()


def test_removing_the_key_clears_a_credential_gpuctl_set_and_leaves_one_set_in_the_console(account, tmp_path):
    """Stop 17, G3 (ADR 41): with `runpod.registry_auth` removed from gpu.jsonc, the credential
    gpuctl had set stayed on the endpoint, the plan "in sync", unlike any other managed field a
    user removes (an env key is removed). The last-applied record says gpuctl set it: the plan
    clears it (changed in gpu.jsonc). A credential set in the console, of which the record
    says nothing, is still left alone."""
    ghcr = _credential(account, "ghcr-private")
    proj = project(tmp_path / "p", _private("ghcr-private"))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    (endpoint,) = account.endpoints()
    assert endpoint["registry"] == ghcr["id"]

    project(proj, echo_config())  # the key removed
    plan = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    assert plan.code == 0, plan.err
    (change,) = plan.json()["resource_changes"]
    assert change["action"] == "update", change
    assert [(c["path"], c["before"], c["after"], c["origin"]) for c in change["changes"]] == [("registry", ghcr["id"], None, "config")], change
    applied = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert applied.code == 0, applied.err
    assert account.endpoints()[0]["registry"] is None
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0
    writes = account.writes()
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert account.writes() == writes  # the record is current: nothing to write

    # Now set in the console: no record of gpuctl setting it, so it is left alone.
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"registry": ghcr["id"]}).status_code == 200
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert account.endpoints()[0]["registry"] == ghcr["id"]


def test_a_credential_deleted_in_the_console_leaves_the_endpoint_and_the_plan_says_so_at_the_key(account, tmp_path):
    """RunPod's `deleteRegistry` is not refused by templates (so endpoints) that use the
    credential: they lose it (`registry` becomes null); only a pod using it refuses the delete.
    The local provider left the deleted id on the endpoint. Now the endpoint has none, the plan
    says at the key that the account has no such credential and how to make one, and once it
    is made again the plan puts it back on the endpoint."""
    ghcr = _credential(account, "ghcr-private")
    proj = project(tmp_path / "p", _private("ghcr-private"))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert account.server.http.delete(f"/v2/registries/{ghcr['id']}").status_code == 204  # as in the console
    (endpoint,) = account.endpoints()
    assert endpoint["registry"] is None

    line, col = _position((proj / "gpu.jsonc").read_text(), "registry_auth")
    plan = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert plan.code == 1, plan.out + plan.err
    assert "Traceback" not in plan.err
    assert (f'gpu.jsonc:{line}:{col}: serverless.runpod.registry_auth: no container registry credential named "ghcr-private": '
            "the account has none") in plan.err, plan.err
    assert "POST /v2/registries" in plan.err

    again = _credential(account, "ghcr-private")  # the hint's fix
    replan = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    assert replan.code == 0, replan.err
    (change,) = replan.json()["resource_changes"]
    assert [(c["path"], c["before"], c["after"]) for c in change["changes"]] == [("registry", None, again["id"])], change
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert account.endpoints()[0]["registry"] == again["id"]
    for run in (plan, replan):
        assert PASSWORD not in run.out + run.err


def test_pull_after_the_credential_was_deleted_in_the_console_proposes_removing_the_key(account, tmp_path):
    """Stop 19: with the credential gpu.jsonc names deleted in the console (RunPod then sets the
    endpoint's `registry` to null), pull refused with deploy's plan error. Bringing the account
    into gpu.jsonc is pull's job: it proposes removing `registry_auth` (the endpoint has none),
    and --write removes it. drift reports the credential missing, at the key, with the fix."""
    ghcr = _credential(account, "ghcr-private")
    proj = project(tmp_path / "p", _private("ghcr-private"))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    assert account.server.http.delete(f"/v2/registries/{ghcr['id']}").status_code == 204  # as in the console
    line, col = _position((proj / "gpu.jsonc").read_text(), "registry_auth")

    shown = account.gpu("serverless", "pull", cwd=proj)
    assert shown.code == 0, shown.out + shown.err
    assert any(line.startswith("-") and '"registry_auth": "ghcr-private"' in line for line in shown.out.splitlines()), shown.out
    assert 'no container registry credential named "ghcr-private"' in shown.err, shown.err
    assert "registry_auth" in json.loads((proj / "gpu.jsonc").read_text())["serverless"]["runpod"]  # nothing written

    drift = account.gpu("serverless", "drift", cwd=proj)
    assert drift.code == 1, drift.out + drift.err
    assert "Traceback" not in drift.err and "internal error" not in drift.err.lower(), drift.err
    assert (f'gpu.jsonc:{line}:{col}: serverless.runpod.registry_auth: no container registry credential named "ghcr-private": '
            "the account has none") in drift.err, drift.err
    assert "gpu serverless pull --write" in drift.err, drift.err  # or make it again

    written = account.gpu("serverless", "pull", "--write", cwd=proj)
    assert written.code == 0, written.out + written.err
    assert "registry_auth" not in json.loads((proj / "gpu.jsonc").read_text())["serverless"]["runpod"]
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0
    for run in (shown, drift, written):
        assert PASSWORD not in run.out + run.err


def test_pull_after_the_credential_was_deleted_takes_the_other_one_the_endpoint_holds(account, tmp_path):
    """The same, with another credential set on the endpoint in the console: pull writes its name."""
    ghcr = _credential(account, "ghcr-private")
    other = _credential(account, "dockerhub-team")
    proj = project(tmp_path / "p", _private("ghcr-private"))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    (endpoint,) = account.endpoints()
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"registry": other["id"]}).status_code == 200
    assert account.server.http.delete(f"/v2/registries/{ghcr['id']}").status_code == 204

    written = account.gpu("serverless", "pull", "--write", cwd=proj)
    assert written.code == 0, written.out + written.err
    assert json.loads((proj / "gpu.jsonc").read_text())["serverless"]["runpod"]["registry_auth"] == "dockerhub-team"
    assert account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj).code == 0


def test_pull_keeps_a_mistyped_registry_auth_and_says_where_and_what_the_account_has(account, tmp_path):
    """A name no credential has, on an endpoint gpuctl never set a credential on, is gpu.jsonc's
    own (a typo, or a credential not made yet): pull proposed removing the key, as if the
    credential had been deleted in the console. Now it keeps it and says, at the key, which
    credentials the account has and the closest; deploy --plan and import stop at it."""
    _credential(account, "ghcr-private")
    _credential(account, "dockerhub-team")
    proj = project(tmp_path / "p", echo_config())
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    other = project(tmp_path / "other", echo_config(name="other-one", project_id="other"))
    assert account.gpu("serverless", "deploy", "-y", cwd=other).code == 0
    project(proj, _private("ghcr-privat"))
    before = (proj / "gpu.jsonc").read_text()
    line, col = _position(before, "registry_auth")
    at = f'gpu.jsonc:{line}:{col}: serverless.runpod.registry_auth: no container registry credential named "ghcr-privat"'

    for args in (("serverless", "pull"), ("serverless", "pull", "--write")):
        done = account.gpu(*args, cwd=proj)
        assert done.code == 0, done.out + done.err
        assert "registry_auth" not in done.out and "deleted in the console?" not in done.err, done.out + done.err
        assert at in done.err and '"dockerhub-team", "ghcr-private"' in done.err and 'did you mean "ghcr-private"?' in done.err, done.err
        assert "pull keeps the key" in done.err, done.err
        assert (proj / "gpu.jsonc").read_text() == before
    shown = account.gpu("serverless", "pull", "--json", cwd=proj)
    assert shown.code == 0, shown.err
    assert shown.json()["pulled"] == [] and shown.json()["diff"] == ""
    (left,) = shown.json()["left"]
    assert (left["address"], left["field"], left["origin"]) == ("endpoint.echo", "registry", "config") and at in left["reason"], left

    for args in (("serverless", "deploy", "--plan"), ("serverless", "import", "other-one", "--force")):
        stopped = account.gpu(*args, cwd=proj)
        assert stopped.code == 1 and "Traceback" not in stopped.err, stopped.out + stopped.err
        assert f'{line}:{col}: serverless' in stopped.err and 'named "ghcr-privat": the account has "dockerhub-team", "ghcr-private"' in stopped.err, stopped.err
        assert 'did you mean "ghcr-private"?' in stopped.err, stopped.err
    assert (proj / "gpu.jsonc").read_text() == before


def test_pull_keeps_a_name_mistyped_after_the_credential_was_applied(account, tmp_path):
    """The record says gpuctl set a credential, and the endpoint still holds it: the account did
    not move, gpu.jsonc did. pull keeps the new name and names the one the endpoint holds."""
    _credential(account, "ghcr-private")
    proj = project(tmp_path / "p", _private("ghcr-private"))
    assert account.gpu("serverless", "deploy", "-y", cwd=proj).code == 0
    project(proj, _private("ghcr-privat"))
    before = (proj / "gpu.jsonc").read_text()
    done = account.gpu("serverless", "pull", "--write", cwd=proj)
    assert done.code == 0, done.out + done.err
    assert (proj / "gpu.jsonc").read_text() == before
    assert 'no container registry credential named "ghcr-privat"' in done.err and 'did you mean "ghcr-private"?' in done.err, done.err
    assert 'the endpoint holds "ghcr-private"' in done.err and "kept (changed in gpu.jsonc" not in done.err, done.err

    # What the account did change is still pulled around the kept key (the edit is checked by a
    # second plan, which meets the same name).
    (endpoint,) = account.endpoints()
    assert account.server.http.patch(f"/v2/serverless/{endpoint['id']}", json={"workers": {"max": 3}}).status_code == 200
    written = account.gpu("serverless", "pull", "--write", cwd=proj)
    assert written.code == 0, written.out + written.err
    runpod = json.loads((proj / "gpu.jsonc").read_text())["serverless"]
    assert runpod["scaling"]["max_workers"] == 3 and runpod["runpod"]["registry_auth"] == "ghcr-privat", runpod

"""Two repositories of one project (review 8, R8-4; ADR 60): a template copied with its
`project_id`, or a service split into a new repository, keeps gpu.jsonc at the repository root,
so the record's gpu.jsonc (ADR 35) names the same path for both and told them apart by nothing:
repository B's `deploy -y --prune` deleted repository A's live endpoint as one that "left
gpu.jsonc", and B's drift advised pruning it. The record now keeps which repository applied an
endpoint (GitHub Actions: GITHUB_REPOSITORY; elsewhere the git remote `origin`; with its host, ADR 62),
and an endpoint another repository applied is kept with a note naming it; so is one whose record
names a repository this checkout cannot be shown to be, never pruned on a guess."""

from __future__ import annotations

import json

import jsonschema
import pytest

from gpuctl.plan import drift
from tests.e2e.conftest import ROOT, echo_config, project
from tests.e2e.test_owner_config import commit, git

pytestmark = pytest.mark.e2e

SHA_A = "a" * 40
SHA_B = "b" * 40


def actions(repository: str, sha: str) -> dict[str, str]:
    return {"GITHUB_ACTIONS": "true", "CI": "true", "GITHUB_REPOSITORY": repository, "GITHUB_REF_NAME": "main", "GITHUB_SHA": sha}


def repository(tmp_path, name: str, config: dict, origin: str | None = None):
    repo = tmp_path / name
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    if origin:
        git(repo, "remote", "add", "origin", origin)
    project(repo, config, {"handler.py": ""})
    commit(repo, "config")
    return repo


def two_repositories(account, tmp_path, origins: tuple[str | None, str | None] = (None, None), env_a: dict | None = None):
    """acme/team-a (endpoint svc-a) and acme/team-b (endpoint svc-b), both `"project_id": "r8gh"`
    with gpu.jsonc at the root; team-a deployed (from `env_a`)."""
    a = repository(tmp_path, "team-a", echo_config(name="svc-a", project_id="r8gh"), origins[0])
    b = repository(tmp_path, "team-b", echo_config(name="svc-b", project_id="r8gh"), origins[1])
    done = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=a, env=env_a)
    assert done.code == 0, done.err
    return a, b


def assert_kept_from_team_a(account, b, env: dict | None, code: str = "other-config"):
    svc_a = next(e for e in account.endpoints() if e["name"] == "svc-a")
    planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", "--provider", "local", cwd=b, env=env)
    assert planned.code == 0, planned.out + planned.err
    doc = planned.json()
    [change] = [r for r in doc["resource_changes"] if r["id"] == svc_a["id"]]
    assert change["action"] == "no-op" and not change.get("drift"), change
    assert "left gpu.jsonc" not in planned.out and "no longer in gpu.jsonc" not in planned.out, planned.out
    [note] = [n for n in doc["notes"] if n["address"] == "endpoint.svc-a"]
    assert note["code"] == code, note
    assert f"gpu serverless delete {svc_a['id']}" in note["message"], note

    applied = account.gpu("serverless", "deploy", "-y", "--prune", "--provider", "local", cwd=b, env=env)
    assert applied.code == 0, applied.err
    assert {e["name"] for e in account.endpoints()} == {"svc-a", "svc-b"}

    drift = account.gpu("serverless", "drift", "--json", "--provider", "local", cwd=b, env=env)
    jsonschema.validate(drift.json(), json.loads((ROOT / "schema" / "drift.schema.json").read_text()))
    assert drift.code == (0 if code == "other-config" else 2), drift.out + drift.err
    assert not [d for d in drift.json()["drift"] if d.get("address") == "endpoint.svc-a"], drift.out
    assert [n["address"] for n in drift.json()["notes"]] == ["endpoint.svc-a"], drift.out
    for fmt in ("text", "markdown"):
        shown = account.gpu("serverless", "drift", "--format", fmt, "--provider", "local", cwd=b, env=env)
        assert "--prune" not in shown.out and "orphan" not in shown.out, shown.out
        assert svc_a["id"] in shown.out, shown.out
    return note


def test_prune_in_actions_keeps_an_endpoint_another_repository_applied(account, tmp_path):
    """The reviewer's reproduction: both applied by GitHub Actions, one per repository."""
    _, b = two_repositories(account, tmp_path, env_a=actions("acme/team-a", SHA_A))
    note = assert_kept_from_team_a(account, b, actions("acme/team-b", SHA_B))
    assert "acme/team-a" in note["message"], note


def test_prune_on_a_laptop_keeps_an_endpoint_another_repository_applied(account, tmp_path):
    """Two checkouts of two repositories on one machine, no CI variable: the git remote tells
    the repositories apart (an scp-like and an https URL name owner/repo alike)."""
    _, b = two_repositories(account, tmp_path, origins=("git@github.com:acme/team-a.git", "https://github.com/acme/team-b"))
    note = assert_kept_from_team_a(account, b, None)
    assert "acme/team-a" in note["message"], note


def test_a_checkout_that_cannot_tell_its_repository_prunes_nothing_another_may_have_applied(account, tmp_path):
    """team-a's apply recorded its repository; team-b's checkout has no remote and runs outside
    Actions, so nothing shows svc-a is its own: kept and reported (exit 2), not deleted."""
    _, b = two_repositories(account, tmp_path, env_a=actions("acme/team-a", SHA_A))
    note = assert_kept_from_team_a(account, b, None, code="config-unproven")
    assert "acme/team-a" in note["message"], note


def test_this_repository_still_prunes_its_own_orphan(account, tmp_path):
    """CI applied two blocks; a laptop's checkout of the same repository (its remote spelled
    another way) drops one and prunes it; so does CI."""
    both = echo_config(name="keep", project_id="r8gh")
    both["serverless"] = [both["serverless"], echo_config(name="gone", project_id="r8gh")["serverless"],
                          echo_config(name="gone2", project_id="r8gh")["serverless"]]
    repo = repository(tmp_path, "team-a", both, "ssh://git@github.com/Acme/Team-A.git")
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=repo, env=actions("acme/team-a", SHA_A)).code == 0
    both["serverless"] = both["serverless"][::2]
    (repo / "gpu.jsonc").write_text(json.dumps(both))
    planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", "--provider", "local", cwd=repo)
    assert [r["name"] for r in planned.json()["resource_changes"] if r["action"] == "delete"] == ["gone"], planned.out
    assert account.gpu("serverless", "deploy", "-y", "--prune", "--provider", "local", cwd=repo).code == 0
    assert {e["name"] for e in account.endpoints()} == {"keep", "gone2"}
    both["serverless"] = both["serverless"][:1]
    (repo / "gpu.jsonc").write_text(json.dumps(both))
    assert account.gpu("serverless", "deploy", "-y", "--prune", "--provider", "local", cwd=repo, env=actions("acme/team-a", SHA_B)).code == 0
    assert {e["name"] for e in account.endpoints()} == {"keep"}


def recorded_repository(account, endpoint_id: str) -> str | None:
    [record] = [t for t in account.server.http.get("/v2/templates").json()["templates"] if t["name"] == drift.record_name(endpoint_id)]
    return {e["key"]: e["value"] for e in record["env"]}.get(drift.REPOSITORY_ENV) if isinstance(record["env"], list) else record["env"].get(drift.REPOSITORY_ENV)


def test_a_deploy_from_a_checkout_that_cannot_name_its_repository_keeps_the_one_the_record_named(account, tmp_path):
    """Review 11, R11-8: a clone of team-a's checkout by its local path (origin: a path, no
    repository's name) deploys svc-a; the record kept acme/team-a, so team-b's --prune still
    keeps svc-a instead of deleting it."""
    a, b = two_repositories(account, tmp_path, origins=("git@github.com:acme/team-a.git", "git@github.com:acme/team-b.git"))
    svc_a = next(e for e in account.endpoints() if e["name"] == "svc-a")
    assert recorded_repository(account, svc_a["id"]) == "github.com:acme/team-a"
    clone = tmp_path / "team-a-clone"
    git(tmp_path, "clone", "-q", str(a), str(clone))
    config = json.loads((clone / "gpu.jsonc").read_text())
    config["serverless"]["runpod"]["env"]["G"] = "2"
    (clone / "gpu.jsonc").write_text(json.dumps(config))
    commit(clone, "G=2")
    applied = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=clone)
    assert applied.code == 0 and "1 updated" in applied.out, applied.out + applied.err
    assert recorded_repository(account, svc_a["id"]) == "github.com:acme/team-a"
    note = assert_kept_from_team_a(account, b, None)
    assert "acme/team-a" in note["message"], note


def test_an_endpoint_another_repository_applied_and_renamed_in_the_account_is_not_taken_back(account, tmp_path):
    """Review 11, R11-1: acme/c and acme/d, one project_id and one block name; c's endpoint is
    renamed in the console. d's deploy creates its own "worker" and keeps c's (another
    repository's) instead of renaming it back and writing d's env over it."""
    c = repository(tmp_path, "c", echo_config(name="worker", project_id="r11cd"), "git@github.com:acme/c.git")
    d = repository(tmp_path, "d", echo_config(name="worker", project_id="r11cd"), "git@github.com:acme/d.git")
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=c).code == 0
    [theirs] = account.endpoints()
    answer = account.server.http.patch(f"/v2/serverless/{theirs['id']}", json={"name": "worker-renamed-by-ops"})
    assert answer.status_code == 200, answer.text
    planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", "--provider", "local", cwd=d)
    assert planned.code == 0, planned.out + planned.err
    doc = planned.json()
    changes = {(r["address"], r["action"], r["id"]) for r in doc["resource_changes"] if r["kind"] == "endpoint"}
    assert changes == {("endpoint.worker", "create", None), ("endpoint.worker-renamed-by-ops", "no-op", theirs["id"])}, changes
    assert [n["code"] for n in doc["notes"] if n["address"] == "endpoint.worker-renamed-by-ops"] == ["other-config"], doc["notes"]
    assert account.gpu("serverless", "deploy", "-y", "--prune", "--provider", "local", cwd=d).code == 0
    now = {e["id"]: e["name"] for e in account.endpoints()}
    assert now[theirs["id"]] == "worker-renamed-by-ops" and sorted(now.values()) == ["worker", "worker-renamed-by-ops"], now


def test_prune_keeps_an_endpoint_a_same_named_repository_on_another_host_applied(account, tmp_path):
    """Review 11, R11-9: acme/api on a company GitLab and acme/api on GitHub, one project_id.
    The record named the path alone, so both read as `acme/api` and B's --prune deleted A's
    live endpoint. The record now names the host too (no user, token or port)."""
    _, b = two_repositories(account, tmp_path, origins=("https://lee:glpat-0123456789@GitLab.Corp:8443/acme/api.git",
                                                        "git@github.com:acme/api.git"))
    svc_a = next(e for e in account.endpoints() if e["name"] == "svc-a")
    assert recorded_repository(account, svc_a["id"]) == "gitlab.corp:acme/api"
    note = assert_kept_from_team_a(account, b, None)
    assert "repository gitlab.corp:acme/api" in note["message"] and "glpat" not in note["message"], note


def without_origin(account, tmp_path):
    """team-a (origin acme/team-a) and team-b (acme/team-b) as above, team-a deployed; then
    team-a's checkout loses its `origin`: from now on it cannot name its repository."""
    a, b = two_repositories(account, tmp_path, origins=("git@github.com:acme/team-a.git", "git@github.com:acme/team-b.git"))
    svc_a = next(e for e in account.endpoints() if e["name"] == "svc-a")
    assert recorded_repository(account, svc_a["id"]) == "github.com:acme/team-a"
    git(a, "remote", "remove", "origin")
    return a, b, svc_a


def test_a_replace_from_a_checkout_that_cannot_name_its_repository_keeps_the_one_the_record_named(account, tmp_path):
    """Review, F1: a replace deleted the endpoint and its record, then created the new one with
    a record naming no repository, so team-b's --prune planned to delete team-a's new endpoint.
    The new endpoint's record now carries the repository the replaced one's named."""
    a, b, svc_a = without_origin(account, tmp_path)
    account.server.admin("POST", "seed", {"endpoints": [svc_a | {"type": "LOAD_BALANCER"}]})  # made a load balancer in the console: v2 cannot PATCH it back
    applied = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=a)
    assert applied.code == 0 and "1 replaced" in applied.out, applied.out + applied.err
    [new] = [e for e in account.endpoints() if e["name"] == "svc-a"]
    assert new["id"] != svc_a["id"], new
    assert recorded_repository(account, new["id"]) == "github.com:acme/team-a"
    note = assert_kept_from_team_a(account, b, None)
    assert "acme/team-a" in note["message"], note


def test_a_create_in_place_of_an_endpoint_deleted_in_the_account_keeps_the_repository_its_record_named(account, tmp_path):
    """The same root: svc-a deleted in the console, team-a's checkout without `origin` creates
    it again; the new record names the repository the block's previous record named."""
    a, b, svc_a = without_origin(account, tmp_path)
    assert account.server.http.delete(f"/v2/serverless/{svc_a['id']}").status_code in (200, 204)
    applied = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=a)
    assert applied.code == 0 and "1 created" in applied.out, applied.out + applied.err
    [new] = [e for e in account.endpoints() if e["name"] == "svc-a"]
    assert recorded_repository(account, new["id"]) == "github.com:acme/team-a"
    note = assert_kept_from_team_a(account, b, None)
    assert "acme/team-a" in note["message"], note


def test_a_create_beside_an_endpoint_renamed_in_the_account_keeps_the_repository_its_record_named(account, tmp_path):
    """The same root (ADR 59): svc-a renamed in the console is kept (config-unproven: this
    checkout cannot show it is acme/team-a) and the block creates a new svc-a, whose record names
    acme/team-a as the block's previous record did; team-b's --prune deletes neither."""
    a, b, svc_a = without_origin(account, tmp_path)
    answer = account.server.http.patch(f"/v2/serverless/{svc_a['id']}", json={"name": "svc-a-by-ops"})
    assert answer.status_code == 200, answer.text
    applied = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=a)
    assert applied.code == 0 and "1 created" in applied.out, applied.out + applied.err
    [new] = [e for e in account.endpoints() if e["name"] == "svc-a"]
    assert recorded_repository(account, new["id"]) == "github.com:acme/team-a"
    planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", "--provider", "local", cwd=b)
    assert planned.code == 0, planned.out + planned.err
    assert not [r for r in planned.json()["resource_changes"] if r["action"] == "delete"], planned.out
    assert account.gpu("serverless", "deploy", "-y", "--prune", "--provider", "local", cwd=b).code == 0
    assert {e["name"] for e in account.endpoints()} == {"svc-a", "svc-a-by-ops", "svc-b"}


def test_a_renamed_from_naming_another_repository_s_endpoint_does_not_take_it(account, tmp_path):
    """Review 12, F3: team-b's block written with `"renamed_from": "svc-a"` (a copy-paste, or a
    guess) renamed team-a's endpoint to team-b's block and wrote it over; R11-1 had closed only
    the console-rename match. renamed_from takes only an endpoint whose record may be this
    gpu.jsonc's: team-a's is kept with the other-config note, and team-b's block is created."""
    _, b = two_repositories(account, tmp_path, origins=("git@github.com:acme/team-a.git", "git@github.com:acme/team-b.git"))
    svc_a = next(e for e in account.endpoints() if e["name"] == "svc-a")
    config = echo_config(name="svc-b", project_id="r8gh")
    config["serverless"]["renamed_from"] = "svc-a"
    project(b, config)
    commit(b, "renamed_from")
    planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", "--provider", "local", cwd=b)
    assert planned.code == 0, planned.out + planned.err
    actions = {r["address"]: (r["action"], r.get("id")) for r in planned.json()["resource_changes"]}
    assert actions["endpoint.svc-b"] == ("create", None), actions
    assert ("no-op", svc_a["id"]) in actions.values(), actions
    assert account.gpu("serverless", "deploy", "-y", "--prune", "--provider", "local", cwd=b).code == 0
    now = {e["id"]: e["name"] for e in account.endpoints()}
    assert now[svc_a["id"]] == "svc-a" and sorted(now.values()) == ["svc-a", "svc-b"], now

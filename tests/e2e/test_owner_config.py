"""Two gpu.jsonc of one project (review 3, R8; ADR 35): a gpu.jsonc copied to a second service's
directory keeps the project_id, so each config took the other's live endpoints for its own
orphans: `deploy --prune` deleted them and drift advised pruning them every night. The
last-applied record now says which gpu.jsonc applied an endpoint (its path from the repository
root), and an endpoint last applied from another gpu.jsonc is kept, with a note naming it."""

from __future__ import annotations

import json
import os
import subprocess

import jsonschema
import pytest

from tests.e2e.conftest import ROOT, echo_config, project

pytestmark = pytest.mark.e2e


def monorepo(account, tmp_path):
    """A repository with a/gpu.jsonc (endpoint ma) and b/gpu.jsonc (endpoint mb), both of project
    "mono", each deployed from its own directory."""
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    a = project(repo / "a", echo_config(name="ma", project_id="mono"), {"handler.py": ""})
    b = project(repo / "b", echo_config(name="mb", project_id="mono"), {"handler.py": ""})
    for d in (a, b):
        done = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=d)
        assert done.code == 0, done.err
    return a, b


def test_prune_keeps_an_endpoint_another_gpu_jsonc_of_the_project_applied(account, tmp_path):
    a, b = monorepo(account, tmp_path)
    planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", "--provider", "local", cwd=a)
    assert planned.code == 0, planned.err
    doc = planned.json()
    mb = next(r for r in doc["resource_changes"] if r["name"] == "mb")
    assert mb["action"] == "no-op" and not mb.get("drift"), mb
    assert "applied from b/gpu.jsonc" in mb["reason"] and "same project_id" in mb["reason"], mb
    assert doc["summary"].get("delete", 0) == 0 and doc["summary"].get("orphan", 0) == 0, doc["summary"]
    assert any(n["address"] == "endpoint.mb" and "b/gpu.jsonc" in n["message"] for n in doc["notes"]), doc["notes"]

    applied = account.gpu("serverless", "deploy", "-y", "--prune", "--provider", "local", cwd=a)
    assert applied.code == 0, applied.err
    assert {e["name"] for e in account.endpoints()} == {"ma", "mb"}
    text = account.gpu("serverless", "deploy", "--plan", "--prune", "--provider", "local", cwd=b).out
    assert "applied from a/gpu.jsonc" in text and "will be deleted" not in text, text


def test_drift_does_not_advise_pruning_another_gpu_jsonc_s_endpoint(account, tmp_path):
    a, _ = monorepo(account, tmp_path)
    result = account.gpu("serverless", "drift", "--provider", "local", cwd=a)
    assert result.code == 0, result.out + result.err
    assert "--prune" not in result.out and "orphan" not in result.out, result.out


def test_an_endpoint_this_gpu_jsonc_applied_is_still_its_orphan(account, tmp_path):
    """The record names this gpu.jsonc, so a block removed from it is an orphan as before, and
    --prune deletes it."""
    a, _ = monorepo(account, tmp_path)
    both = echo_config(name="ma", project_id="mono")
    both["serverless"] = [both["serverless"], echo_config(name="mc", project_id="mono")["serverless"]]
    (a / "gpu.jsonc").write_text(json.dumps(both))
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=a).code == 0
    (a / "gpu.jsonc").write_text(json.dumps(echo_config(name="ma", project_id="mono")))
    result = account.gpu("serverless", "deploy", "-y", "--prune", "--provider", "local", cwd=a)
    assert result.code == 0, result.err
    assert {e["name"] for e in account.endpoints()} == {"ma", "mb"}


GIT_ENV = {"GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
           "GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def git(repo, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], env=os.environ | GIT_ENV, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(repo, message: str) -> str:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def in_actions(sha: str) -> dict[str, str]:
    """An apply as GitHub Actions runs it: the record keeps GITHUB_SHA (ADR 37)."""
    return {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "o/mono", "GITHUB_REF_NAME": "main", "GITHUB_SHA": sha}


def moved_dropping_b(account, tmp_path):
    """One git repository whose gpu.jsonc (project "mv", endpoints keep and gone) was deployed
    by CI from its commit, then moved to svc/gpu.jsonc in a later commit that removed the
    block "gone" (review 6, R6-4)."""
    repo = tmp_path / "repo"
    repo.mkdir(parents=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "https://github.com/o/mono.git")  # the repository CI applied from (ADR 60)
    both = echo_config(name="keep", project_id="mv")
    both["serverless"] = [both["serverless"], echo_config(name="gone", project_id="mv")["serverless"]]
    project(repo, both, {"handler.py": ""})
    first = commit(repo, "both")
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=repo, env=in_actions(first)).code == 0
    (repo / "gpu.jsonc").unlink()
    project(repo / "svc", echo_config(name="keep", project_id="mv"), {"handler.py": ""})
    commit(repo, "move to svc, drop gone")
    return repo


def test_an_endpoint_whose_recorded_gpu_jsonc_is_gone_is_this_one_s_orphan(account, tmp_path):
    """Its record names gpu.jsonc, applied from a commit this checkout descends from, and the
    checkout has no gpu.jsonc: it left the repository, no config can take it for its own any
    more, so it is the orphan of the config that reads the project now: drift reports it
    (exit 2), list shows it, and --prune deletes it."""
    repo = moved_dropping_b(account, tmp_path)
    run = ("--provider", "local", "--config", "svc/gpu.jsonc")
    gone = next(e for e in account.endpoints() if e["name"] == "gone")

    drift = account.gpu("serverless", "drift", "--json", *run, cwd=repo)
    assert drift.code == 2, drift.out + drift.err
    [entry] = [e for e in drift.json()["drift"] if e["id"] == gone["id"]]
    assert entry["drift"] == "orphan", entry
    listed = account.gpu("serverless", "list", "--json", *run, cwd=repo)
    assert listed.code == 0, listed.err
    assert gone["id"] in listed.out, listed.out

    planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--detailed-exitcode", "--json", *run, cwd=repo)
    assert planned.code == 2, planned.out + planned.err
    [change] = [r for r in planned.json()["resource_changes"] if r["id"] == gone["id"]]
    assert change["action"] == "delete", change
    assert account.gpu("serverless", "deploy", "-y", "--prune", *run, cwd=repo).code == 0
    assert {e["name"] for e in account.endpoints()} == {"keep"}


def test_drift_names_an_endpoint_another_existing_gpu_jsonc_applied(account, tmp_path):
    """Kept, and in sync (exit 0), but never silently: the report says which endpoint of the
    project it leaves to which gpu.jsonc, in text and JSON."""
    a, _ = monorepo(account, tmp_path)
    mb = next(e for e in account.endpoints() if e["name"] == "mb")
    text = account.gpu("serverless", "drift", "--provider", "local", cwd=a)
    assert text.code == 0, text.out + text.err
    assert "In sync" in text.out and mb["id"] in text.out and "b/gpu.jsonc" in text.out, text.out
    doc = account.gpu("serverless", "drift", "--json", "--provider", "local", cwd=a).json()
    jsonschema.validate(doc, json.loads((ROOT / "schema" / "drift.schema.json").read_text()))
    assert doc["in_sync"] is True
    assert [n["address"] for n in doc["notes"]] == ["endpoint.mb"] and "b/gpu.jsonc" in doc["notes"][0]["message"], doc["notes"]


def test_a_sparse_checkout_never_takes_another_gpu_jsonc_for_gone(account, tmp_path):
    """A sparse checkout (`actions/checkout` with `sparse-checkout: svc`) leaves other configs
    of the repository out of the working tree although they exist: their absence says nothing,
    so their endpoints are kept, never pruned on a guess (ADR 52)."""
    repo = moved_dropping_b(account, tmp_path)
    (repo / ".git" / "info").mkdir(exist_ok=True)
    (repo / ".git" / "info" / "sparse-checkout").write_text("svc/\n")
    run = ("--provider", "local", "--config", "svc/gpu.jsonc")
    planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", *run, cwd=repo)
    assert planned.code == 0, planned.out + planned.err
    assert not [r for r in planned.json()["resource_changes"] if r["action"] == "delete"], planned.out
    assert {e["name"] for e in account.endpoints()} == {"keep", "gone"}


def older_checkout(account, tmp_path):
    """Review 7, R7-2: release v1 has svc-a alone; svc-b/gpu.jsonc (same project) came later.
    Both deployed from main; then v1 is checked out to redeploy service a. svc-b/gpu.jsonc is
    missing from this working tree, yet it is in the repository."""
    repo = tmp_path / "mono"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    a = project(repo / "svc-a", echo_config(name="sa", project_id="mono"), {"handler.py": ""})
    commit(repo, "a")
    git(repo, "tag", "v1")
    b = project(repo / "svc-b", echo_config(name="sb", project_id="mono"), {"handler.py": ""})
    head = commit(repo, "b")
    for d in (a, b):
        assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=d, env=in_actions(head)).code == 0
    git(repo, "checkout", "-q", "v1")
    assert not (repo / "svc-b" / "gpu.jsonc").exists()
    return repo


def _sb_kept_by_a_pruning_plan(account, repo, run: tuple[str, ...]):
    """`deploy --plan --prune --json` of svc-a (`run`) in `repo`, asserted to keep svc-b's endpoint sb
    (a no-op, never a delete): the plan's result and sb."""
    sb = next(e for e in account.endpoints() if e["name"] == "sb")
    planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", *run, cwd=repo)
    assert planned.code == 0, planned.out + planned.err
    [change] = [r for r in planned.json()["resource_changes"] if r["id"] == sb["id"]]
    assert change["action"] == "no-op", change
    return planned, sb


def test_an_older_checkout_never_prunes_a_newer_config_s_endpoint(account, tmp_path):
    repo = older_checkout(account, tmp_path)
    run = ("--provider", "local", "--config", "svc-a/gpu.jsonc")
    planned, sb = _sb_kept_by_a_pruning_plan(account, repo, run)
    assert "no longer in the repository" not in planned.out

    text = account.gpu("serverless", "drift", *run, cwd=repo)
    assert text.code == 2, text.out + text.err  # the nightly job surfaces it
    assert "In sync" not in text.out and "--prune" not in text.out, text.out
    assert sb["id"] in text.out and "svc-b/gpu.jsonc" in text.out, text.out
    assert f"gpu serverless delete {sb['id']} --config svc-a/gpu.jsonc --provider local" in text.out, text.out
    doc = account.gpu("serverless", "drift", "--json", *run, cwd=repo)
    assert doc.code == 2
    jsonschema.validate(doc.json(), json.loads((ROOT / "schema" / "drift.schema.json").read_text()))
    assert doc.json()["in_sync"] is False and doc.json()["drift"] == [], doc.out
    [note] = doc.json()["notes"]
    assert note["code"] == "config-unproven" and note["address"] == "endpoint.sb", note

    assert account.gpu("serverless", "deploy", "-y", "--prune", *run, cwd=repo).code == 0
    assert {e["name"] for e in account.endpoints()} == {"sa", "sb"}


@pytest.mark.parametrize("how", ["shallow", "unknown-commit", "no-commit"])
def test_a_gone_config_is_not_pruned_without_proof(account, tmp_path, how):
    """The move of R6-4, but nothing shows this checkout descends from the apply: a shallow
    clone lacking the recorded commit, a commit the repository never had, a laptop's apply
    (no commit recorded). Kept, and reported."""
    if how == "shallow":
        origin = moved_dropping_b(account, tmp_path / "o")
        repo = tmp_path / "clone"
        subprocess.run(["git", "clone", "-q", "--depth", "1", f"file://{origin}", str(repo)], env=os.environ | GIT_ENV, check=True)
    else:
        repo = tmp_path / "repo"
        repo.mkdir()
        git(repo, "init", "-q", "-b", "main")
        both = echo_config(name="keep", project_id="mv")
        both["serverless"] = [both["serverless"], echo_config(name="gone", project_id="mv")["serverless"]]
        project(repo, both, {"handler.py": ""})
        commit(repo, "both")
        env = in_actions("0123456789abcdef0123456789abcdef01234567") if how == "unknown-commit" else {}
        assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=repo, env=env).code == 0
        (repo / "gpu.jsonc").unlink()
        project(repo / "svc", echo_config(name="keep", project_id="mv"), {"handler.py": ""})
        commit(repo, "move")
    run = ("--provider", "local", "--config", "svc/gpu.jsonc")
    planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", *run, cwd=repo)
    assert planned.code == 0, planned.out + planned.err
    assert not [r for r in planned.json()["resource_changes"] if r["action"] == "delete"], planned.out
    drift = account.gpu("serverless", "drift", *run, cwd=repo)
    assert drift.code == 2 and "gpu serverless delete" in drift.out, drift.out
    assert account.gpu("serverless", "deploy", "-y", "--prune", *run, cwd=repo).code == 0
    assert {e["name"] for e in account.endpoints()} == {"keep", "gone"}


def deployed_by_ci(account, tmp_path, b: str):
    """A git repository (its origin the repository CI applied from, ADR 60) with svc-a/gpu.jsonc
    (endpoint sa) and `b`/gpu.jsonc (endpoint sb), both of project "mono", committed and each
    deployed by CI from that commit. The repository's directory."""
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "remote", "add", "origin", "https://github.com/o/mono.git")
    project(repo / "svc-a", echo_config(name="sa", project_id="mono"), {"handler.py": ""})
    project(repo / b, echo_config(name="sb", project_id="mono"), {"handler.py": ""})
    head = commit(repo, "a and b")
    for d in ("svc-a", b):
        assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=repo / d, env=in_actions(head)).code == 0
    return repo


def test_a_config_deleted_by_hand_but_still_in_head_is_not_gone(account, tmp_path):
    """Review 8: "gone" was judged by the working tree alone. A gpu.jsonc deleted by hand (or by a
    move not yet committed) in a checkout that descends from its apply read as proven gone, so
    `deploy --prune` deleted its endpoint, although HEAD, what the repository holds, still has
    it. HEAD's tree is the judge now: missing from both, or kept as unproven."""
    repo = deployed_by_ci(account, tmp_path, "svc-b")
    (repo / "svc-b" / "gpu.jsonc").unlink()  # by hand; HEAD still has it
    run = ("--provider", "local", "--config", "svc-a/gpu.jsonc")
    planned, sb = _sb_kept_by_a_pruning_plan(account, repo, run)
    [note] = [n for n in planned.json()["notes"] if n["address"] == "endpoint.sb"]
    assert note["code"] == "config-unproven" and "HEAD" in note["message"], note
    assert account.gpu("serverless", "deploy", "-y", "--prune", *run, cwd=repo).code == 0
    assert {e["name"] for e in account.endpoints()} == {"sa", "sb"}

    commit(repo, "drop b")  # committed: now gone, proven
    planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", *run, cwd=repo)
    [change] = [r for r in planned.json()["resource_changes"] if r["id"] == sb["id"]]
    assert change["action"] == "delete", change


def test_the_command_that_brings_back_a_config_deleted_by_hand_runs_from_any_directory(account, tmp_path):
    """Review 10, R10-8: the note suggested `git checkout HEAD -- svc b/gpu.jsonc`, unquoted (the
    shell splits it in two) and from the repository root, while git reads a pathspec from the
    current directory: run in svc-a/, it matched nothing. Run as printed, in a shell, from the
    root and from a subdirectory, it now brings the file back."""
    import re
    import shlex

    repo = deployed_by_ci(account, tmp_path, "svc b")
    gone = repo / "svc b" / "gpu.jsonc"
    for cwd, run in ((repo, ("--config", "svc-a/gpu.jsonc")), (repo / "svc-a", ())):
        gone.unlink()
        planned = account.gpu("serverless", "deploy", "--plan", "--prune", "--json", "--provider", "local", *run, cwd=cwd)
        assert planned.code == 0, planned.out + planned.err
        [note] = [n for n in planned.json()["notes"] if n["address"] == "endpoint.sb"]
        command = re.search(r"`(git [^`]*)`", note["message"]).group(1)
        assert shlex.split(command)[:4] == ["git", "checkout", "HEAD", "--"], command
        subprocess.run(command, shell=True, cwd=cwd, check=True, capture_output=True)
        assert gone.exists(), (cwd, command)


def test_list_shows_an_endpoint_drift_reports_as_unproven(account, tmp_path):
    """Review 8: drift reports an endpoint whose recorded gpu.jsonc this checkout lacks, unproven
    gone (exit 2), but `list` showed proven orphans alone, so the endpoint drift counts was
    missing from the project's list. Both show it now."""
    repo = older_checkout(account, tmp_path)
    sb = next(e for e in account.endpoints() if e["name"] == "sb")
    run = ("--provider", "local", "--config", "svc-a/gpu.jsonc")
    listed = account.gpu("serverless", "list", "--json", *run, cwd=repo)
    assert listed.code == 0, listed.err
    [row] = [r for r in listed.json()["endpoints"] if r["id"] == sb["id"]]
    assert row["state"] == "unproven" and "svc-b/gpu.jsonc" in row["note"], row
    text = account.gpu("serverless", "list", *run, cwd=repo)
    assert sb["id"] in text.out and "unproven" in text.out, text.out

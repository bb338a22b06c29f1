"""Which repository applied an endpoint (ADR 60, review 8, R8-4): how a run names its own
repository, how a record names the one that applied it, and the planner keeping an endpoint
another repository applied (or one not shown to be this repository's) out of --prune."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import replace

import pytest

from gpuctl.author import place_repository, remote_repository, repository, same_repository
from gpuctl.catalog import load_catalog
from gpuctl.config.loader import build_desired, load_config
from gpuctl.model import MARKER_ENV, Desired, Observed
from gpuctl.plan import drift
from gpuctl.plan.model import Action
from gpuctl.plan.planner import plan

CATALOG = load_catalog()


@pytest.mark.parametrize("url, named", [
    ("git@github.com:acme/team-a.git", "github.com:acme/team-a"),
    ("https://github.com/acme/team-a", "github.com:acme/team-a"),
    ("https://github.com/acme/team-a.git/", "github.com:acme/team-a"),
    ("ssh://git@GitHub.COM:22/Acme/Team-A.git", "github.com:Acme/Team-A"),  # the host lower-cased, no port
    ("https://x-access-token:ghs_0123456789@github.com/acme/team-a.git", "github.com:acme/team-a"),  # the token is never kept
    ("https://lee:hunter2@gitlab.corp:8443/acme/team-a.git", "gitlab.corp:acme/team-a"),  # nor a user, a password or a port
    ("git@gitlab.corp:acme/team-a.git", "gitlab.corp:acme/team-a"),
    ("https://gitlab.example.com/group/sub/svc.git", "gitlab.example.com:group/sub/svc"),  # a subgroup is path, never host
    ("git@work-gh:acme/team-a.git", "work-gh:acme/team-a"),  # an ssh alias names its host as written
    ("ssh://git@[::1]/acme/team-a.git", None),  # not a host name
    ("https://gh_tok@github.com/acme/team-a", "github.com:acme/team-a"),
    ("/srv/git/team-a.git", None),  # a remote on this machine names no repository
    ("file:///srv/git/team-a.git", None),
    ("../team-a", None),
    ("https://github.com/", None),
    ("git@github.com:acme/te am.git", None),
    ("", None),
])
def test_a_remote_is_named_by_its_host_and_path(url, named):
    """Review 11, R11-9: the host is part of the name, so a company GitLab's acme/team-a is not
    github.com's; no user, password, token or port is ever kept."""
    assert remote_repository(url) == named
    assert named is None or not any(secret in named for secret in ("ghs_", "hunter2", "lee", "8443", "gh_tok", "git@"))


@pytest.mark.parametrize("a, b, same", [
    ("github.com:acme/api", "github.com:Acme/API", True),
    ("github.com:acme/api", "gitlab.corp:acme/api", False),  # R11-9: same path, another host
    ("github.com:acme/api", "github.com:acme/web", False),
    ("acme/api", "acme/API", True),  # two records of an earlier gpuctl (ADR 60) compare as before
    ("acme/api", "github.com:acme/api", False),  # a record without host is never proven this host's (ADR 62)
    ("gitlab.corp:group/sub/svc", "group/sub/svc", False),
    ("group/sub/svc", "gitlab.corp:sub/svc", False),  # a subgroup path is never read as host/owner/repo
])
def test_two_names_are_one_repository_only_on_one_host(a, b, same):
    assert same_repository(a, b) is same and same_repository(b, a) is same


GIT_ENV = {"GIT_CONFIG_GLOBAL": "/dev/null", "GIT_CONFIG_NOSYSTEM": "1"}


def test_a_run_names_its_repository_from_actions_else_the_origin_remote(tmp_path):
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True, env=os.environ | GIT_ENV)
    environ = dict(os.environ) | GIT_ENV
    environ.pop("GITHUB_ACTIONS", None)
    assert repository(environ, tmp_path) is None  # no origin
    assert repository(environ, None) is None
    subprocess.run(["git", "-C", str(tmp_path), "remote", "add", "origin", "git@github.com:acme/team-a.git"], check=True, env=environ)
    assert repository(environ, tmp_path) == "github.com:acme/team-a"
    actions = environ | {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/team-b"}
    assert repository(actions, tmp_path) == "github.com:acme/team-b"  # the one Actions runs for, as `where` names it; github.com when unset
    assert repository(actions | {"GITHUB_SERVER_URL": "https://x:tok@GHE.Corp:8443/"}, tmp_path) == "ghe.corp:acme/team-b"  # Enterprise Server
    assert repository(actions | {"GITHUB_SERVER_URL": "not a url"}, tmp_path) is None  # nothing tells its host
    assert repository(actions | {"GITHUB_REPOSITORY": "not a name"}, tmp_path) == "github.com:acme/team-a"


def test_a_record_names_its_repository_else_its_last_deploy_s_actions_place():
    assert place_repository("acme/team-a:main") == "acme/team-a"
    assert place_repository("lee@laptop") is None and place_repository("laptop") is None and place_repository(None) is None
    written = drift.record_body("p", "ep1", "svc", {}, "2026-12-07T00:00:00Z", [["2026-12-07T00:00:00Z", "lee", None]], "gpu.jsonc",
                                [["2026-12-07T00:00:00Z", "abc", "lee@laptop"]], repository="acme/team-a")
    assert written["env"][drift.REPOSITORY_ENV] == "acme/team-a"
    assert drift.read_record(written).applied_in() == "acme/team-a"
    legacy = drift.record_body("p", "ep1", "svc", {}, "2026-12-07T00:00:00Z", [["2026-12-07T00:00:00Z", "ci", None]], "gpu.jsonc",
                               [["2026-12-07T00:00:00Z", "abc", "acme/team-a:main", "aaaaaaaaaaaa"]])
    assert drift.REPOSITORY_ENV not in legacy["env"]
    assert drift.read_record(legacy).applied_in() == "acme/team-a"
    laptop = drift.record_body("p", "ep1", "svc", {}, "2026-12-07T00:00:00Z", [["2026-12-07T00:00:00Z", "lee", None]], "gpu.jsonc",
                               [["2026-12-07T00:00:00Z", "abc", "lee@laptop"]])
    assert drift.read_record(laptop).applied_in() is None


def test_a_record_naming_another_repository_or_none_lags():
    """A deploy rewrites it, so the protection reaches records written before (as ADR 35 did)."""
    body = drift.record_body("p", "ep1", "svc", {"name": "svc"}, "2026-12-07T00:00:00Z", config="gpu.jsonc", repository="acme/team-a")
    record = drift.read_record(body)
    assert not drift.lagging(record, "ep1", {"name": "svc"}, "gpu.jsonc", "ACME/team-a")
    assert not drift.lagging(record, "ep1", {"name": "svc"}, "gpu.jsonc", None)
    assert drift.lagging(record, "ep1", {"name": "svc"}, "gpu.jsonc", "acme/team-b")
    assert drift.lagging(record, "ep1", {"name": "svc"}, "gpu.jsonc", "github.com:acme/team-a")  # ADR 62: brought up to date with its host
    none = drift.read_record(drift.record_body("p", "ep1", "svc", {"name": "svc"}, "2026-12-07T00:00:00Z", config="gpu.jsonc"))
    assert drift.lagging(none, "ep1", {"name": "svc"}, "gpu.jsonc", "acme/team-a")


def _desired(tmp_path, ours) -> Desired:
    """Project "p" of repository `ours`: gpu.jsonc at its root declares svc-b."""
    path = tmp_path / "gpu.jsonc"
    path.write_text(json.dumps({"project_id": "p", "serverless": {"name": "svc-b", "template": "custom-image", "gpu_type": "NVIDIA L4",
                                                                  "runpod": {"image_name": "a/b:1"}}}))
    return replace(build_desired(load_config(path, catalog=CATALOG), {}, CATALOG), config_id="gpu.jsonc", config_repository=ours)


def _planned(tmp_path, theirs: str | None, ours: str | None, prune: bool = True):
    """Repository `ours` plans project "p" against endpoint svc-a, which its record says
    repository `theirs` applied from gpu.jsonc at its root. Returns svc-a's change and notes."""
    endpoint = {"id": "ep1", "name": "svc-a", "env": {MARKER_ENV: "p"}, "gpuTypeIds": ["NVIDIA L4"], "workersMax": 1}
    record = {**drift.record_body("p", "ep1", "svc-a", {}, "2026-12-07T00:00:00Z", config="gpu.jsonc", repository=theirs), "id": "t1"}
    result = plan(_desired(tmp_path, lambda: ours), Observed((endpoint,), (), (record,)), CATALOG, prune=prune)
    [change] = [c for c in result.changes if c.name == "svc-a"]
    return change, [n for n in result.notices if n.address == "endpoint.svc-a"]


def test_prune_keeps_an_endpoint_another_repository_applied(tmp_path):
    change, [note] = _planned(tmp_path, "github.com:acme/team-a", "github.com:acme/team-b")
    assert change.action is Action.NOOP and change.drift is None, change
    assert "repository github.com:acme/team-a" in change.reason and "no longer in gpu.jsonc" not in change.reason, change.reason
    assert note.code == "other-config" and "acme/team-a" in note.message and "gpu serverless delete ep1" in note.message, note


def test_prune_keeps_an_endpoint_not_shown_to_be_this_repository_s(tmp_path):
    """The record names a repository; this checkout has no remote and runs outside Actions."""
    change, [note] = _planned(tmp_path, "github.com:acme/team-a", None)
    assert change.action is Action.NOOP, change
    assert note.code == "config-unproven" and "gpu serverless delete ep1" in note.message, note


def test_prune_keeps_an_endpoint_a_same_named_repository_on_another_host_applied(tmp_path):
    """Review 11, R11-9: acme/team-a on a company GitLab is not acme/team-a on GitHub."""
    change, [note] = _planned(tmp_path, "gitlab.corp:acme/team-a", "github.com:acme/team-a")
    assert change.action is Action.NOOP, change
    assert note.code == "other-config" and "repository gitlab.corp:acme/team-a" in note.message, note


@pytest.mark.parametrize("theirs, ours, code", [
    ("acme/team-a", "github.com:acme/team-a", "config-unproven"),  # one path: on which host it was is not known
    ("acme/team-a", "gitlab.corp:acme/team-a", "config-unproven"),
    ("acme/team-a", "github.com:acme/team-b", "other-config"),  # another path is another repository on any host
    ("group/sub/svc", "gitlab.corp:group/sub/svc", "config-unproven"),
])
def test_a_record_without_host_is_never_proven_this_repository_s(tmp_path, theirs, ours, code):
    """ADR 62: a record gpuctl wrote before it kept the host (`owner/repo`, ADR 60) is kept, not
    pruned, by every repository, its own too, with a note saying how to delete it."""
    change, [note] = _planned(tmp_path, theirs, ours)
    assert change.action is Action.NOOP, change
    assert note.code == code and "gpu serverless delete ep1" in note.message, note
    assert not drift.lagging(drift.read_record(drift.record_body("p", "ep1", "svc", {"name": "svc"}, "2026-12-07T00:00:00Z", config="gpu.jsonc",
                                                                 repository=ours)), "ep1", {"name": "svc"}, "gpu.jsonc", ours)
    assert drift.lagging(drift.read_record(drift.record_body("p", "ep1", "svc", {"name": "svc"}, "2026-12-07T00:00:00Z", config="gpu.jsonc",
                                                             repository=theirs)), "ep1", {"name": "svc"}, "gpu.jsonc", ours)  # rewritten by a deploy


@pytest.mark.parametrize("theirs, ours", [("github.com:acme/team-a", "github.com:Acme/Team-A"), ("acme/team-a", "Acme/Team-A"), (None, None),
                                          (None, "github.com:acme/team-a")])
def test_this_repository_s_own_endpoint_is_still_its_orphan(tmp_path, theirs, ours):
    """One repository (named alike without case); or a record naming none (applied from a
    directory outside git, or by an earlier gpuctl outside Actions): as before (ADR 60)."""
    assert _planned(tmp_path, theirs, ours)[0].action is Action.DELETE
    assert _planned(tmp_path, theirs, ours, prune=False)[0].action is Action.ORPHAN


def test_a_plan_with_nothing_that_left_gpu_jsonc_never_asks_which_repository_this_is(tmp_path):
    asked = []
    desired = _desired(tmp_path, lambda: asked.append(1))
    plan(desired, Observed(), CATALOG, prune=True)
    plan(desired, Observed(({"id": "x", "name": "other", "env": {MARKER_ENV: "q"}},), (), ()), CATALOG, prune=True)
    assert asked == []


def _record(endpoint_id: str, name: str, repository: str | None, config: str | None = "gpu.jsonc") -> dict:
    return {**drift.record_body("p", endpoint_id, name, {}, "2026-12-07T00:00:00Z", config=config, repository=repository), "id": f"t-{endpoint_id}"}


def test_a_create_or_replace_takes_the_repository_the_block_s_previous_record_named():
    """Review F1: the record of an endpoint a replace or a create makes keeps the repository the
    block's previous record named (drift.previous_repositories), for a run that cannot name its
    own. A replace: its endpoint's record. A create: the records naming the block and this
    gpu.jsonc whose endpoint no other block declares, when they agree."""
    from gpuctl.plan.model import Kind, ResourceChange

    def change(name, action, endpoint_id=None):
        return ResourceChange(Kind.ENDPOINT, name, f"endpoint.{name}", action, endpoint_id, desired={"name": name})

    changes = [change("replaced", Action.REPLACE, "ep1"), change("gone", Action.CREATE), change("renamed", Action.CREATE),
               change("torn", Action.CREATE), change("elsewhere", Action.CREATE), change("taken", Action.CREATE),
               change("other", Action.UPDATE, "ep7"), change("never", Action.CREATE)]
    templates = [_record("ep1", "replaced", "acme/a"), _record("ep0", "replaced", "acme/z"),  # a replace reads its own endpoint's record
                 _record("ep2", "gone", "acme/a"), _record("ep2b", "gone", None),  # one naming none does not disagree
                 _record("ep3", "renamed", "Acme/A"), _record("ep3b", "renamed", "acme/a"),  # one repository, spelled two ways
                 _record("ep4", "torn", "acme/a"), _record("ep4b", "torn", "acme/b"),  # two repositories: which is not guessed
                 _record("ep5", "elsewhere", "acme/a", config="svc/gpu.jsonc"),  # another gpu.jsonc's block (ADR 35)
                 _record("ep7", "taken", "acme/a")]  # its endpoint is another block's now
    assert drift.previous_repositories(changes, templates, "p", "gpu.jsonc") == {
        "endpoint.replaced": "acme/a", "endpoint.gone": "acme/a", "endpoint.renamed": "Acme/A"}
    assert drift.previous_repositories(changes, templates, "q", "gpu.jsonc") == {}  # another project's records
    assert drift.previous_repositories(changes, [_record("ep5", "elsewhere", "acme/a", config=None)], "p", "gpu.jsonc") == {"endpoint.elsewhere": "acme/a"}

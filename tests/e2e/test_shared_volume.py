"""A gpu.jsonc `volume` that names a network volume another project's endpoints attach (or an
endpoint gpuctl does not manage): volumes are reused by name and carry no marker, so the plan
grew it (irreversibly) and mounted it into this project's workers without a word, and a PR
reviewer saw only `size = 20 → 50` (review 6, R6-3). The plan now warns, naming who uses it, in
text, JSON and the PR comment; `forbid_shared_volumes` refuses such a plan and
`max_volume_size_gb` bounds the size a plan gives a volume."""

from __future__ import annotations

import json

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

pytestmark = pytest.mark.e2e


def _writes(account) -> list[dict]:
    return [r for r in account.requests() if r["method"] not in ("GET", "HEAD", "OPTIONS")]


def _other_project_with_volume(account, tmp_path):
    """Project "w1" deployed with its endpoint "w1" and the 20 GB volume "w1vol" (EU-RO-1)."""
    theirs = project(tmp_path / "w1", echo_config("w1", project_id="w1", volume="w1vol"), {"handler.py": ECHO_HANDLER})
    done = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=theirs)
    assert done.code == 0, done.err
    (volume,) = account.volumes()
    return volume


def _ours(tmp_path, size_gb: int = 50, policy: dict | None = None):
    config = echo_config("vol", project_id="vol", volume="w1vol")
    config["serverless"]["volume"]["size_gb"] = size_gb
    if policy is not None:
        config["policy"] = policy
    return project(tmp_path / "vol", config, {"handler.py": ECHO_HANDLER})


def test_another_projects_volume_is_named_in_the_text_json_and_pr_comment_and_a_policy_refuses_it(account, tmp_path):
    volume = _other_project_with_volume(account, tmp_path)
    (theirs,) = account.endpoints()
    proj = _ours(tmp_path)
    address = "network_volume.w1vol@EU-RO-1"

    text = account.gpu("serverless", "deploy", "--plan", "--provider", "local", cwd=proj)
    assert text.code == 0, text.err
    said = " ".join(text.out.split())
    assert f'endpoint "w1" ({theirs["id"]}) of project "w1"' in said, text.out
    assert "grows it from 20 to 50 GB, which cannot be undone" in said, text.out

    doc = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj).json()
    (warning,) = [w for w in doc["warnings"] if w["code"] == "shared-volume"]
    assert warning["address"] == address
    assert volume["id"] in warning["message"] and 'project "w1"' in warning["message"] and "share" in warning["message"]

    markdown = account.gpu("serverless", "deploy", "--plan", "--format", "markdown", "--provider", "local", cwd=proj)
    assert markdown.code == 0, markdown.err
    assert "of project" in markdown.out and theirs["id"] in markdown.out and "cannot be undone" in markdown.out, markdown.out

    before = len(_writes(account))
    (proj / "platform.jsonc").write_text('{"forbid_shared_volumes": true}')
    refused = account.gpu("serverless", "deploy", "-y", "--provider", "local", "--policy", "platform.jsonc", cwd=proj)
    assert refused.code == 4, refused.out + refused.err
    assert f"{address}: " in refused.err and "[forbid_shared_volumes, platform.jsonc]" in refused.err, refused.err
    assert len(_writes(account)) == before
    assert account.volumes()[0]["size"] == 20 and [e["name"] for e in account.endpoints()] == ["w1"]


def test_a_volume_an_unmanaged_endpoint_attaches_is_named_too(account, tmp_path):
    made = account.server.http.post("/v2/network-volumes", json={"name": "w1vol", "size": 10, "dataCenter": "EU-RO-1"})
    assert made.status_code in (200, 201), made.text
    vid = made.json()["id"]
    hand = account.server.http.post("/v2/serverless", json={"name": "by-hand", "type": "QUEUE", "image": "x/y:1", "gpu": {"pools": ["ADA_24"]},
                                                              "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "networkVolumes": [vid]})
    assert hand.status_code == 201, hand.text
    proj = _ours(tmp_path)
    doc = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj).json()
    (warning,) = [w for w in doc["warnings"] if w["code"] == "shared-volume"]
    assert f'endpoint "by-hand" ({hand.json()["id"]}), unmanaged' in warning["message"], warning
    assert "from 10 to 50 GB" in warning["message"]


def test_the_projects_own_volume_is_no_shared_volume_and_max_volume_size_bounds_a_growth(account, tmp_path):
    """The project's own volume, attached to its own endpoints, grows with no warning; and a
    size above `max_volume_size_gb` is refused, for a growth as for a create."""
    proj = project(tmp_path / "own", {"project_id": "own", "serverless": [echo_config("a", volume="cache")["serverless"],
                                                                           echo_config("b", volume="cache")["serverless"]]},
                   {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj).code == 0
    config = json.loads((proj / "gpu.jsonc").read_text())
    for block in config["serverless"]:
        block["volume"]["size_gb"] = 60
    (proj / "gpu.jsonc").write_text(json.dumps(config, indent=2))
    doc = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj).json()
    assert [w for w in doc["warnings"] if w["code"] == "shared-volume"] == []
    assert [c["action"] for c in doc["resource_changes"] if c["kind"] == "network_volume"] == ["update"]

    (proj / "platform.jsonc").write_text('{"max_volume_size_gb": 40, "forbid_shared_volumes": true}')
    refused = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", "--policy", "platform.jsonc", cwd=proj)
    assert refused.code == 4, refused.err
    (violation,) = refused.json()["policy"]["violations"]
    assert violation["rule"] == "max_volume_size_gb" and violation["endpoint"] == "network_volume.cache@EU-RO-1"
    assert "60 GB" in violation["message"] and "at most 40 GB" in violation["message"]
    fresh = project(tmp_path / "fresh", echo_config(volume="new") | {"policy": {"max_volume_size_gb": 10}}, {"handler.py": ECHO_HANDLER})
    created = account.gpu("serverless", "deploy", "--plan", "--provider", "local", cwd=fresh)
    assert created.code == 4 and "max_volume_size_gb" in created.out + created.err, created.out + created.err


def test_a_pod_mounting_the_volume_is_named_and_a_policy_can_except_the_volume(account, tmp_path):
    """Review 8: only endpoints counted, so a volume a training pod writes to (its
    `mounts.network`) read as this project's alone: deploy grew it and mounted it into the
    workers with no word, and `forbid_shared_volumes` let it through. The plan reads the pods
    (one list call, only when a block declares a volume) and names the pod; a policy that
    intends the sharing says so with `{"except": ["w1vol"]}`."""
    made = account.server.http.post("/v2/network-volumes", json={"name": "w1vol", "size": 10, "dataCenter": "EU-RO-1"})
    assert made.status_code in (200, 201), made.text
    vid = made.json()["id"]
    pod = account.server.http.post("/v2/pods", json={"name": "trainer", "image": "x/y:1", "cpu": {"id": "cpu3c", "vcpuCount": 2},
                                                     "mounts": {"network": [{"volumeId": vid, "path": "/workspace"}]}})
    assert pod.status_code in (200, 201), pod.text
    proj = _ours(tmp_path, policy={"forbid_shared_volumes": True})
    refused = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj)
    assert refused.code == 4, refused.out + refused.err
    doc = refused.json()
    (warning,) = [w for w in doc["warnings"] if w["code"] == "shared-volume"]
    assert f'pod "trainer" ({pod.json()["id"]}' in warning["message"] and "from 10 to 50 GB" in warning["message"], warning
    assert [v["rule"] for v in doc["policy"]["violations"]] == ["forbid_shared_volumes"]
    assert [r for r in account.requests() if r["method"] == "GET" and r["path"] == "/v2/pods"], "the plan lists the pods"

    allowed = _ours(tmp_path / "again", policy={"forbid_shared_volumes": {"except": ["w1vol"]}})
    planned = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=allowed)
    assert planned.code == 0, planned.out + planned.err
    assert [w["code"] for w in planned.json()["warnings"] if w["code"] == "shared-volume"] == ["shared-volume"]


def test_pods_that_cannot_be_listed_are_said_and_do_not_stop_the_plan(account, tmp_path):
    """A key without pod access (GET /v2/pods refused) still plans: the plan says the pods were
    not checked, on the volume it names; a project without a volume never lists them."""
    volume = _other_project_with_volume(account, tmp_path)
    account.faults({"op": "list", "kind": "pod", "action": "status", "status": 403})
    proj = _ours(tmp_path)
    planned = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj)
    assert planned.code == 0, planned.out + planned.err
    (said,) = [w for w in planned.json()["warnings"] if w["code"] == "shared-volume-pods-unread"]
    assert volume["id"] in said["message"] and "403" in said["message"], said
    assert [w for w in planned.json()["warnings"] if w["code"] == "shared-volume"], "the endpoints are still checked"
    account.clear_faults()
    listed = len([r for r in account.requests() if r["path"] == "/v2/pods"])
    plain = project(tmp_path / "plain", echo_config("plain", project_id="plain"), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "--plan", "--provider", "local", cwd=plain).code == 0
    assert len([r for r in account.requests() if r["path"] == "/v2/pods"]) == listed


def test_forbid_shared_volumes_refuses_a_plan_whose_pods_cannot_be_read(account, tmp_path):
    """Review 10, R10-6: with GET /v2/pods refused (a Serverless-scoped key) the policy passed on a
    `shared-volume-pods-unread` warning and deploy grew the trainer's volume 10 → 50 GB, for good.
    A policy that forbids sharing now fails closed: the plan is refused, naming the pods listing,
    the volume and the fixes; `except` for the volume lets it through with the warning."""
    made = account.server.http.post("/v2/network-volumes", json={"name": "w1vol", "size": 10, "dataCenter": "EU-RO-1"})
    vid = made.json()["id"]
    pod = account.server.http.post("/v2/pods", json={"name": "trainer", "image": "x/y:1", "cpu": {"id": "cpu3c", "vcpuCount": 2},
                                                     "mounts": {"network": [{"volumeId": vid, "path": "/workspace"}]}})
    assert pod.status_code in (200, 201), pod.text
    account.faults({"op": "list", "kind": "pod", "action": "status", "status": 403})
    proj = _ours(tmp_path, policy={"forbid_shared_volumes": True})
    planned = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=proj)
    assert planned.code == 4, planned.out + planned.err
    (violation,) = planned.json()["policy"]["violations"]
    assert violation["rule"] == "forbid_shared_volumes", violation
    for said in ("GET /v2/pods", "403", f'"w1vol" ({vid})', "an API key that can read pods", '"except": ["w1vol"]'):
        assert said in violation["message"], (said, violation)
    applied = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    assert applied.code == 4, applied.out + applied.err
    assert [v["size"] for v in account.volumes()] == [10], "the volume was not grown"
    allowed = _ours(tmp_path / "again", policy={"forbid_shared_volumes": {"except": ["w1vol"]}})
    passed = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=allowed)
    assert passed.code == 0 and passed.json()["policy"]["violations"] == [], passed.out + passed.err
    assert [w for w in passed.json()["warnings"] if w["code"] == "shared-volume-pods-unread"]


def test_only_this_projects_live_prewarm_pods_are_not_volume_users(account, tmp_path):
    """Review 10, R10-7: any pod *named* like a pre-warm of the project's endpoint was never
    counted as a user of the volume, whoever made it and however long past its deadline. A pod
    is a pre-warm of this project only with the project's marker in its env (as gpuctl's CPU
    pre-warm writes it) and before its deadline."""
    import time
    proj = _ours(tmp_path, size_gb=50)
    assert account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj).code == 0
    (ep,) = account.endpoints()
    (vol,) = account.volumes()
    future = int(time.time()) + 3600
    cases = [(f"gpuctl-warm-{ep['id']}-abcdef-until{future}", {}, 4),  # no marker: anyone's pod
             (f"gpuctl-warm-{ep['id']}-abcdef-until{future}", {"GPUCTL_PROJECT": "other"}, 4),  # another project's marker
             (f"gpuctl-warm-{ep['id']}-abcdef-until1", {"GPUCTL_PROJECT": "vol"}, 4),  # long past its deadline
             (f"gpuctl-warm-{ep['id']}-abcdef-until{future}", {"GPUCTL_PROJECT": "vol"}, 0)]  # this project's live pre-warm
    for i, (name, env, code) in enumerate(cases):
        pod = account.server.http.post("/v2/pods", json={"name": name, "image": "x/y:1", "cpu": {"id": "cpu3c", "vcpuCount": 2}, "env": env,
                                                         "mounts": {"network": [{"volumeId": vol["id"], "path": "/workspace"}]}})
        assert pod.status_code in (200, 201), pod.text
        strict = _ours(tmp_path / str(i), size_gb=50, policy={"forbid_shared_volumes": True})
        planned = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=strict)
        assert planned.code == code, (name, env, planned.out + planned.err)
        if code:
            (violation,) = planned.json()["policy"]["violations"]
            assert f'pod "{name}"' in violation["message"], violation
        account.server.http.delete(f"/v2/pods/{pod.json()['id']}")

"""The pure rules behind `history` and `rollback` (gpuctl/releases.py): who made a release, and
the configuration of a version rebuilt from RunPod's release diffs."""

from __future__ import annotations

import pytest

from gpuctl.releases import (HistoryIncomplete, VersionNotFound, applied_at, attribute, configuration_at, patch_body,
                             rollback_changes)

MARKER = {"GPUCTL_PROJECT": "demo"}


def release(version: int, at: str, *diff: tuple, source: str = "MANUAL") -> dict:
    return {"id": f"rel_{version}", "version": version, "source": source, "buildId": "b1" if source == "GIT_BUILD" else None,
            "createdAt": at, "workerCount": 0, "diff": [{"field": f, "old": o, "new": n} for f, o, n in diff]}


def record(applied: str, project: str = "demo", endpoint_id: str = "ep1") -> dict:
    return {"name": f"gpuctl-applied-{endpoint_id}", "env": {"GPUCTL_PROJECT": project, "GPUCTL_APPLIED_AT": applied}}


ENDPOINT = {"id": "ep1", "name": "demo", "env": {**MARKER, "A": "3"}, "image": "img:3", "gpu": {"count": 1}, "dataCenterIds": []}
HISTORY = {"endpointVersion": 3, "releases": [
    release(3, "2026-12-01T10:30:00Z", ("template.imageName", "img:2", "img:3"), ("template.env", {**MARKER, "A": "2"}, {**MARKER, "A": "3"})),
    release(2, "2026-12-01T10:00:00Z", ("template.imageName", "img:1", "img:2"), ("gpuCount", 2, 1)),
    release(1, "2026-12-01T09:00:00Z", ("template.imageName", None, "img:1"), ("template.env", None, {**MARKER, "A": "2"})),
]}


def test_without_a_record_only_a_create_with_the_marker_is_known():
    made = attribute(HISTORY["releases"], None)
    assert {v: m[0] for v, m in made.items()} == {3: "unknown", 2: "unknown", 1: "marker"}
    unmarked = release(1, "2026-12-01T09:00:00Z", ("template.env", None, {"A": "1"}))
    assert attribute([unmarked], None)[1][0] == "unknown"  # created in the console, or by another tool


def test_the_record_names_the_release_of_the_last_deploy_and_what_came_after():
    last_applied = applied_at([record("2026-12-01T10:00:03Z")], ENDPOINT)
    made = attribute(HISTORY["releases"], last_applied)
    assert made[2][0] == "gpuctl" and made[3][0] == "account" and made[1][0] == "marker"
    older = release(2, "2026-12-01T09:50:00Z")
    assert attribute([older], last_applied)[2][0] == "unknown"  # before the last deploy's window: nothing says who


def test_a_create_with_a_copied_marker_is_said_to_carry_the_marker_not_to_be_gpuctls():
    """An endpoint made in the console or through the API with GPUCTL_PROJECT copied into it was
    `gpuctl` in history: the marker proves only that the marker was there. It is "marker", with
    the project it names; only an apply the last-applied record keeps makes version 1 gpuctl's."""
    console = release(1, "2026-12-01T09:00:00Z", ("template.env", None, {**MARKER, "A": "1"}))
    made, why, applied_by = attribute([console], None)[1]
    assert (made, applied_by) == ("marker", None) and 'marker of project "demo"' in why and "console" in why
    applied = [(applied_at([record("2026-12-01T09:00:02Z")], ENDPOINT), "ada", None)]
    made, why, applied_by = attribute([console], applied[0][0], applied)[1]
    assert (made, applied_by) == ("gpuctl", "ada") and "deploy the last-applied record keeps" in why


def test_two_releases_around_the_last_deploy_are_unknown_and_a_git_build_is_the_accounts():
    near = [release(3, "2026-12-01T10:00:04Z"), release(2, "2026-12-01T10:00:01Z"), release(1, "2026-12-01T09:00:00Z", source="GIT_BUILD")]
    made = attribute(near, applied_at([record("2026-12-01T10:00:02Z")], ENDPOINT))
    assert made[3][0] == made[2][0] == "unknown" and made[1] == ("account", "a GitHub build (b1)", None)


def test_each_apply_the_record_keeps_names_its_release_and_who_applied_it():
    """Deploys seconds apart (a local one, then CI's) were each `unknown`: the record knew only
    the last deploy, and two releases in its window could not be told apart. The record keeps
    each apply with who made it; each release goes with the apply closest to it."""
    import json

    from gpuctl.releases import applies

    kept = record("2026-12-01T10:00:05Z")
    kept["env"]["GPUCTL_APPLIES"] = json.dumps([["2026-12-01T09:00:01Z", "Ada Lovelace"], ["2026-12-01T10:00:02Z", "Ada Lovelace"],
                                                ["2026-12-01T10:00:05Z", "octo-bot"]])
    near = [release(4, "2026-12-01T10:30:00Z"), release(3, "2026-12-01T10:00:04Z"), release(2, "2026-12-01T10:00:01Z"),
            release(1, "2026-12-01T09:00:00Z", ("template.env", None, MARKER))]
    made = attribute(near, applied_at([kept], ENDPOINT), applies([kept], ENDPOINT))
    assert made[3] == ("gpuctl", "the release of a deploy the last-applied record keeps, applied by octo-bot", "octo-bot")
    assert made[2][0::2] == ("gpuctl", "Ada Lovelace") and made[1][0::2] == ("gpuctl", "Ada Lovelace")
    assert made[4][0::2] == ("account", None)  # after the last deploy: the console's


def test_an_apply_names_the_release_it_read_back_however_near_the_next_one_is():
    """On a loaded machine a deploy's read-back and record write can take longer than the wait
    before the next deploy's write: release 3 was then nearer deploy 2's record time than deploy
    3's, and matching by time made releases 2 and 3 both `unknown`. Each apply keeps the
    version its write made, read back, and names that release exactly; a pair from an older
    record is still matched by time."""
    import json

    from gpuctl.releases import applies

    kept = record("2026-12-01T10:00:30Z")
    kept["env"]["GPUCTL_APPLIES"] = json.dumps([["2026-12-01T10:00:09Z", "Ada Lovelace", 2], ["2026-12-01T10:00:30Z", "octo-bot", 3]])
    near = [release(3, "2026-12-01T10:00:11Z"), release(2, "2026-12-01T10:00:01Z"), release(1, "2026-12-01T09:00:00Z", ("template.env", None, MARKER))]
    made = attribute(near, applied_at([kept], ENDPOINT), applies([kept], ENDPOINT))
    assert (made[3][0::2], made[2][0::2]) == (("gpuctl", "octo-bot"), ("gpuctl", "Ada Lovelace"))
    kept["env"]["GPUCTL_APPLIES"] = json.dumps([["2026-12-01T10:00:09Z", "Ada Lovelace", True], ["2026-12-01T10:00:30Z", "octo-bot", "3"]])
    assert applies([kept], ENDPOINT) == []  # a version that is no integer: an edited record, read as nothing


@pytest.mark.parametrize(("environ", "expected"), [
    ({"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "octo-bot", "GIT_AUTHOR_NAME": "Ada", "GITHUB_TOKEN": "ghs_secret"}, "octo-bot"),
    ({"GITHUB_ACTOR": "octo-bot", "GIT_AUTHOR_NAME": "Ada Lovelace", "USER": "ada"}, "Ada Lovelace"),  # GITHUB_ACTOR outside Actions: not CI
    ({"GIT_AUTHOR_NAME": "ada@example.com", "USER": "ada"}, "ada"),  # an email is never kept
    ({"GIT_AUTHOR_NAME": "Ada <ada@example.com>", "LOGNAME": "ada2"}, "ada2"),
    ({"USER": "ada\x1b]0;x\x07"}, "ada]0;x"),  # printable only
])
def test_who_applies_is_a_login_or_a_name_never_an_email_or_a_token(environ, expected, tmp_path):
    from gpuctl.author import applier

    home = {"HOME": str(tmp_path), "GIT_CONFIG_NOSYSTEM": "1", "PATH": __import__("os").environ.get("PATH", "")}
    assert applier(home | environ, tmp_path) == expected


def test_a_record_of_another_project_or_endpoint_is_ignored():
    assert applied_at([record("2026-12-01T10:00:03Z", project="other")], ENDPOINT) is None
    assert applied_at([record("2026-12-01T10:00:03Z", endpoint_id="ep2")], ENDPOINT) is None
    assert applied_at([record("not a time")], ENDPOINT) is None


def test_a_version_is_rebuilt_from_the_old_values_of_every_later_release():
    assert configuration_at(HISTORY, ENDPOINT, 1) == {"image": "img:1", "env": {**MARKER, "A": "2"}, "gpu.count": 2}
    assert configuration_at(HISTORY, ENDPOINT, 2) == {"image": "img:2", "env": {**MARKER, "A": "2"}}
    assert configuration_at(HISTORY, ENDPOINT, 3) == {}
    changes = rollback_changes(ENDPOINT, configuration_at(HISTORY, ENDPOINT, 1))
    assert [c["path"] for c in changes] == ["env", "gpu.count", "image"]
    assert patch_body({c["path"]: c["after"] for c in changes}) == {"env": {**MARKER, "A": "2"}, "gpu": {"count": 2}, "image": "img:1"}


def test_older_spellings_of_values_are_read_and_the_marker_is_kept():
    doc = {"endpointVersion": 2, "releases": [
        release(2, "2026-12-01T10:00:00Z", ("template.env", [{"key": "A", "value": "1"}], [{"key": "A", "value": "2"}, {"key": "GPUCTL_PROJECT", "value": "demo"}]),
                ("template.ports", "8000/http,22/tcp", "8000/http"), ("locations", "EU-RO-1,US-TX-3", "")),
        release(1, "2026-12-01T09:00:00Z")]}
    config = configuration_at(doc, ENDPOINT, 1)
    assert config == {"env": {"A": "1"}, "ports": ["8000/http", "22/tcp"], "dataCenterIds": ["EU-RO-1", "US-TX-3"]}
    env = next(c for c in rollback_changes(ENDPOINT, config) if c["path"] == "env")
    assert env["after"] == {"A": "1", **MARKER}  # version 1 had no marker; the endpoint keeps its project


def test_a_missing_version_a_gap_or_an_unwritable_field_is_an_error_that_says_what_to_do():
    with pytest.raises(VersionNotFound) as missing:
        configuration_at(HISTORY, ENDPOINT, 7)
    assert "its versions are 3, 2, 1" in missing.value.summary and "`gpu serverless history ep1`" in missing.value.hint  # by id: a name may be two endpoints'
    gap = {"endpointVersion": 3, "releases": [HISTORY["releases"][0], HISTORY["releases"][2]]}
    with pytest.raises(HistoryIncomplete, match="skip version"):
        configuration_at(gap, ENDPOINT, 1)
    odd = {"endpointVersion": 2, "releases": [release(2, "2026-12-01T10:00:00Z", ("template.volumeMountPath", "/a", "/b")), release(1, "2026-12-01T09:00:00Z")]}
    with pytest.raises(HistoryIncomplete, match="cannot write back") as unwritable:
        configuration_at(odd, ENDPOINT, 1)
    assert "console" in unwritable.value.hint

"""The last-applied record (ADR 10) and the origins it gives, through the pure planner: records
are written exactly as the engine writes them (gpuctl.engine.applied.declared), onto accounts
built by the in-memory apply of tests/support/apply.py."""

from __future__ import annotations

import copy
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gpuctl.engine.applied import declared
from gpuctl.model import MARKER_ENV, Observed, Sensitive
from gpuctl.plan import Action, Kind, plan
from gpuctl.plan import drift
from gpuctl.plan.model import FieldChange, Origin
from tests.support.apply import _id, apply_plan
from tests.support.strategies import CATALOG, configs, desired_from

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _deployed(config: dict, environ: dict | None = None) -> Observed:
    """The account after applying `config` to an empty one, with the records the engine writes."""
    first = plan(desired_from(config, environ), Observed(), CATALOG)
    after = apply_plan(first, Observed())
    ids = {f"{c.address}.id": _id(c.address, 10) for c in first.changes if c.kind is Kind.NETWORK_VOLUME}
    by_name = {e["name"]: e["id"] for e in after.endpoints}
    records = [drift.record_body(config["project_id"], by_name[c.name], c.name, declared(c, ids), "2026-12-01T00:00:00Z")
               for c in first.changes if c.kind is Kind.ENDPOINT]
    return Observed(after.endpoints, after.network_volumes, tuple(records))


def _edit(observed: Observed, name: str, edit) -> Observed:
    endpoints = [copy.deepcopy(e) for e in observed.endpoints]
    edit(next(e for e in endpoints if e["name"] == name))
    return Observed(tuple(endpoints), observed.network_volumes, observed.templates)


def _only_change(result) -> list[tuple[str, str]]:
    changed = [c for c in result.changes if c.action is not Action.NOOP]
    assert len(changed) == 1, changed
    return [(f.path, f.origin.value) for f in changed[0].changes]


def test_values_the_planner_calls_equal_digest_equal():
    assert drift.digest("ep", "scaling.queueDelay", 4) == drift.digest("ep", "scaling.queueDelay", 4.0)
    assert drift.digest("ep", "gpu.pools", ["ADA_24", "AMPERE_24"]) == drift.digest("ep", "gpu.pools", ["AMPERE_24", "ADA_24"])
    assert drift.digest("ep", "env.X", "") == drift.digest("ep", "env.X", None)
    assert drift.digest("ep", "workers.max", 3) != drift.digest("ep", "workers.max", 4)
    assert drift.digest("ep", "workers.max", 3) != drift.digest("other", "workers.max", 3)  # per endpoint: no shared table


def test_a_secret_is_recorded_as_set_and_nothing_derived_from_it():
    secret = "hf_record_canary_7c41"
    env = drift.record_env("p", "ep1", "demo", {"env.HF_TOKEN": Sensitive(secret), "workers.max": 3}, "2026-12-01T00:00:00Z")
    digests = json.loads(env[drift.APPLIED_ENV])
    assert digests["env.HF_TOKEN"] == "set"
    assert secret not in json.dumps(env) and drift.digest("ep1", "env.HF_TOKEN", secret) not in json.dumps(env)
    record = drift.read_record({"name": "gpuctl-applied-ep1", "env": env})
    change = FieldChange("env.HF_TOKEN", "rotated", Sensitive("new"), sensitive=True)
    assert drift.origin(record, change) is Origin.UNKNOWN


def test_a_secret_reference_is_recorded_by_its_text_so_drift_tells_who_moved_it():
    """`{{ RUNPOD_SECRET_x }}` names a secret and holds none (pull prints it), yet the record kept
    "set" for it as for a secret: a reference changed in gpu.jsonc, in the console or in both all
    read "origin unknown", whose advice is to resolve a conflict."""
    old, new, console = "{{ RUNPOD_SECRET_hf_old }}", "{{ RUNPOD_SECRET_hf_new }}", "{{ RUNPOD_SECRET_from_console }}"
    env = drift.record_env("p", "ep1", "demo", {"env.HF_TOKEN": Sensitive(old), "env.KEY": Sensitive("hf_plain_secret_91"), "workers.max": 3},
                           "2026-12-01T00:00:00Z")
    digests = json.loads(env[drift.APPLIED_ENV])
    assert digests["env.HF_TOKEN"] == drift.digest("ep1", "env.HF_TOKEN", old) and digests["env.KEY"] == "set"  # a secret itself stays "set"
    record = drift.read_record({"name": "gpuctl-applied-ep1", "env": env})
    assert drift.origin(record, FieldChange("env.HF_TOKEN", old, Sensitive(new), sensitive=True)) is Origin.CONFIG
    assert drift.origin(record, FieldChange("env.HF_TOKEN", console, Sensitive(old), sensitive=True)) is Origin.ACCOUNT
    assert drift.origin(record, FieldChange("env.HF_TOKEN", console, Sensitive(new), sensitive=True)) is Origin.BOTH
    assert drift.origin(record, FieldChange("env.HF_TOKEN", None, Sensitive(old), sensitive=True)) is Origin.ACCOUNT  # removed in the console
    assert drift.origin(record, FieldChange("env.KEY", "rotated", Sensitive("hf_other_secret_92"), sensitive=True)) is Origin.UNKNOWN


@SETTINGS
@given(configs(), st.data())
def test_each_side_moving_a_secret_reference_is_labelled_by_who_moved_it(config, data):
    """Through the planner, onto an account with the records the engine writes."""
    block = data.draw(st.sampled_from(config["serverless"]))
    block["runpod"]["env"]["HF_REF"] = {"secret": "hf_old"}
    observed = _deployed(config)

    def console(e):
        e["env"]["HF_REF"] = "{{ RUNPOD_SECRET_from_console }}"

    git = copy.deepcopy(config)
    next(b for b in git["serverless"] if b["name"] == block["name"])["runpod"]["env"]["HF_REF"] = {"secret": "hf_new"}
    assert not plan(desired_from(config), observed, CATALOG).has_changes
    assert _only_change(plan(desired_from(config), _edit(observed, block["name"], console), CATALOG)) == [("env.HF_REF", "account")]
    assert _only_change(plan(desired_from(git), observed, CATALOG)) == [("env.HF_REF", "config")]
    assert _only_change(plan(desired_from(git), _edit(observed, block["name"], console), CATALOG)) == [("env.HF_REF", "both")]


def test_a_secret_added_or_put_in_place_of_a_literal_in_gpu_jsonc_is_changed_in_gpu_jsonc():
    """The account as the record says it was (absent, or the literal last applied) means only
    gpu.jsonc moved, whatever gpu.jsonc now holds: a secret added in a pull request read
    "origin unknown", whose advice is to resolve a conflict. Nothing is derived from the secret."""
    env = drift.record_env("p", "ep1", "demo", {"env.MODE": "fast", "workers.max": 3}, "2026-12-01T00:00:00Z")
    record = drift.read_record({"name": "gpuctl-applied-ep1", "env": env})
    added = FieldChange("env.HF_TOKEN", None, Sensitive("hf_new_secret_1"), sensitive=True)
    assert drift.origin(record, added) is Origin.CONFIG
    replaced = FieldChange("env.MODE", "fast", Sensitive("from-a-secret"), sensitive=True)
    assert drift.origin(record, replaced) is Origin.CONFIG
    moved_too = FieldChange("env.MODE", "slow", Sensitive("from-a-secret"), sensitive=True)  # the console changed it as well
    assert drift.origin(record, moved_too) is Origin.UNKNOWN
    snapshot = FieldChange("env.MODE", drift.REDACTED, Sensitive("from-a-secret"), sensitive=True)
    assert drift.origin(record, snapshot) is Origin.UNKNOWN


def test_a_damaged_record_classifies_nothing_and_fails_nothing():
    broken = {"name": "gpuctl-applied-ep1", "env": {MARKER_ENV: "p", drift.APPLIED_ENV: "{not json"}}
    assert drift.read_record(broken) is None
    assert drift.read_record({"name": "gpuctl-applied-ep1", "env": {drift.APPLIED_ENV: "{}"}}) is None  # no owner


@SETTINGS
@given(configs())
def test_a_plan_right_after_apply_with_its_records_is_empty(config):
    result = plan(desired_from(config), _deployed(config), CATALOG)
    assert not result.has_changes and result.in_sync
    assert not [c for c in result.changes if c.drift]


@SETTINGS
@given(configs(), st.data())
def test_each_side_moving_workers_max_is_labelled_by_who_moved(config, data):
    observed = _deployed(config)
    block = data.draw(st.sampled_from(config["serverless"]))
    was = block["scaling"]["max_workers"]

    def console(e):
        e["workers"]["max"] = was + 2

    git = copy.deepcopy(config)
    next(b for b in git["serverless"] if b["name"] == block["name"])["scaling"]["max_workers"] = was + 1
    assert _only_change(plan(desired_from(config), _edit(observed, block["name"], console), CATALOG)) == [("workers.max", "account")]
    assert _only_change(plan(desired_from(git), observed, CATALOG)) == [("workers.max", "config")]
    assert _only_change(plan(desired_from(git), _edit(observed, block["name"], console), CATALOG)) == [("workers.max", "both")]


@SETTINGS
@given(configs(), st.data())
def test_an_env_var_added_in_the_console_is_the_accounts(config, data):
    block = data.draw(st.sampled_from(config["serverless"]))
    observed = _edit(_deployed(config), block["name"], lambda e: e["env"].update(ADDED_IN_CONSOLE="1"))
    assert _only_change(plan(desired_from(config), observed, CATALOG)) == [("env.ADDED_IN_CONSOLE", "account")]


@SETTINGS
@given(configs(), st.data())
def test_a_dropped_marker_is_restored_not_refused(config, data):
    block = data.draw(st.sampled_from(config["serverless"]))
    observed = _edit(_deployed(config), block["name"], lambda e: e["env"].pop(MARKER_ENV))
    result = plan(desired_from(config), observed, CATALOG)
    changed = [c for c in result.changes if c.action is not Action.NOOP]
    assert [(c.name, c.action, c.drift) for c in changed] == [(block["name"], Action.UPDATE, "marker-lost")]
    assert [(f.path, f.after, f.origin) for f in changed[0].changes] == [(f"env.{MARKER_ENV}", config["project_id"], Origin.ACCOUNT)]


@SETTINGS
@given(configs(), st.data())
def test_an_endpoint_deleted_in_the_account_is_re_created_loudly(config, data):
    observed = _deployed(config)
    block = data.draw(st.sampled_from(config["serverless"]))
    gone = next(e for e in observed.endpoints if e["name"] == block["name"])
    left = Observed(tuple(e for e in observed.endpoints if e is not gone), observed.network_volumes, observed.templates)
    result = plan(desired_from(config), left, CATALOG)
    created = [c for c in result.changes if c.action is Action.CREATE and c.kind is Kind.ENDPOINT]
    assert [(c.name, c.drift) for c in created] == [(block["name"], "deleted-in-account")]
    assert gone["id"] in created[0].reason and "NEW id" in created[0].reason
    assert [n for n in result.notices if n.code == "deleted-in-account" and gone["id"] in n.message]


def test_without_a_record_every_origin_is_unknown():
    config = {"project_id": "norec", "serverless": [{"name": "norec", "template": "whisper", "gpu_type": "NVIDIA L4"}]}
    bare = Observed(_deployed(config).endpoints, (), ())
    drifted = _edit(bare, "norec", lambda e: e["workers"].update(max=9))
    assert _only_change(plan(desired_from(config), drifted, CATALOG)) == [("workers.max", "unknown")]


def test_a_rollback_kept_in_the_record_digests_no_env_value_and_a_damaged_one_reads_as_none():
    """The rollback the record keeps (review 3, L6): an env value may be a secret, so only
    the other fields' values are digested, and an env key it wrote is kept as "set" (review 6,
    R6-6); what a person edited into another shape is no rollback."""
    kept = json.loads(drift.rolled_back_env("ep1", 3, 1, {"image": "a:1", "env": {"TOKEN": "s3cret-value-123"}}))
    assert kept["digests"].keys() == {"image", "env.TOKEN"} and kept["digests"]["env.TOKEN"] == "set", kept
    assert "s3cret" not in json.dumps(kept) and kept["paths"] == ["env", "image"]
    rolled = drift._rolled_back(json.dumps(kept))
    assert rolled.made("ep1", FieldChange("image", "a:1", "a:2", origin=Origin.ACCOUNT), {})
    assert not rolled.made("ep1", FieldChange("image", "a:9", "a:2", origin=Origin.ACCOUNT), {})  # the console moved it again
    for damaged in ("", "[]", '{"to": 1}', json.dumps(kept | {"to": True}), json.dumps(kept | {"digests": {"image": 4}})):
        assert drift._rolled_back(damaged) is None, damaged


def _two_configs(config_of_mb: str | None) -> tuple:
    """An account with endpoints ma and mb of project "mono", mb's record written from
    `config_of_mb` (None: a record of before gpuctl kept the config), and the desired state of
    a/gpu.jsonc, which declares ma alone (ADR 35)."""
    both = {"project_id": "mono", "serverless": [{"name": "ma", "template": "custom-image", "gpu_type": "NVIDIA GeForce RTX 4090",
                                                  "runpod": {"image_name": "x/a:1"}},
                                                 {"name": "mb", "template": "custom-image", "gpu_type": "NVIDIA GeForce RTX 4090",
                                                  "runpod": {"image_name": "x/b:1"}}]}
    first = plan(desired_from(both), Observed(), CATALOG)
    after = apply_plan(first, Observed())
    by_name = {e["name"]: e["id"] for e in after.endpoints}
    records = tuple(drift.record_body("mono", by_name[c.name], c.name, declared(c, {}), "2026-12-01T00:00:00Z",
                                      config=config_of_mb if c.name == "mb" else "a/gpu.jsonc") for c in first.changes)
    only_a = desired_from({"project_id": "mono", "serverless": both["serverless"][0]})
    only_a = type(only_a)(**{**only_a.__dict__, "config_id": "a/gpu.jsonc"})
    return only_a, Observed(after.endpoints, after.network_volumes, records)


def test_prune_keeps_an_endpoint_another_gpu_jsonc_of_the_project_applied():
    desired, observed = _two_configs("b/gpu.jsonc")
    result = plan(desired, observed, CATALOG, prune=True)
    mb = next(c for c in result.changes if c.name == "mb")
    assert mb.action is Action.NOOP and mb.drift is None and "applied from b/gpu.jsonc (same project_id" in mb.reason
    assert [n.address for n in result.notices if n.code == "other-config"] == ["endpoint.mb"]
    assert not result.has_changes
    # The note's command names the endpoint by its id, never the account's name (review 5, R5-3).
    (note,) = [n.message for n in result.notices if n.code == "other-config"]
    assert f"`gpu serverless delete {mb.id}" in note and "delete mb`" not in note, note


def test_a_record_without_its_config_is_pruned_as_before():
    desired, observed = _two_configs(None)
    mb = next(c for c in plan(desired, observed, CATALOG, prune=True).changes if c.name == "mb")
    assert mb.action is Action.DELETE
    assert drift.CONFIG_ENV not in drift.record_env("p", "ep", "n", {}, "2026-12-01T00:00:00Z")
    assert drift.read_record(drift.record_body("p", "ep", "n", {}, "2026-12-01T00:00:00Z", config="a/gpu.jsonc")).config == "a/gpu.jsonc"


# -- which gpu.jsonc applied the account's values (review 3, R13; ADR 37) --------------------------

def _record_of(applies: list[list], declared: dict, config: str | None = "gpu.jsonc") -> drift.Record:
    """The record an apply of `declared` writes after `applies` (each [at, by, version, block, where, commit]:
    APPLIES_ENV's items, then APPLIED_FROM_ENV's when a block is given)."""
    sources = [[a[0], *a[3:]] for a in applies if len(a) > 3]
    template = drift.record_body("p", "ep1", "demo", declared, "2026-12-07T06:10:00Z", [a[:3] for a in applies], config, sources)
    return drift.read_record(template | {"name": drift.record_name("ep1")})


def _block(declared: dict) -> str:
    return drift.config_digest(drift.record_digests("ep1", declared))


MAIN = {"name": "demo", "workers.min": 1, "workers.max": 4}
LAPTOP = {"name": "demo", "workers.min": 3, "workers.max": 7}


def test_another_place_applying_after_this_block_is_another_gpu_jsonc():
    record = _record_of([["2026-12-07T06:00:00Z", "ana", 1, _block(MAIN), "octo/ml-api:main", "0123456789ab"],
                         ["2026-12-07T06:10:00Z", None, 2, _block(LAPTOP), "lee@laptop"]], LAPTOP)
    other = drift.other_apply(record, "ep1", MAIN, "gpu.jsonc")
    assert other == drift.Apply("2026-12-07T06:10:00Z", None, 2, _block(LAPTOP), "lee@laptop", None, "gpu.jsonc")
    assert drift.other_apply(record, "ep1", LAPTOP, "gpu.jsonc") is None  # the laptop's own block is the one applied


def test_a_block_nobody_applied_or_one_applied_again_from_the_same_place_is_this_gpu_jsonc_moving():
    next_commit = MAIN | {"workers.max": 5}
    record = _record_of([["t1", "ana", 1, _block(MAIN), "octo/ml-api:main"], ["t2", "ana", 2, _block(next_commit), "octo/ml-api:main"]], next_commit)
    assert drift.other_apply(record, "ep1", MAIN | {"workers.max": 6}, "gpu.jsonc") is None  # not applied yet: a pending change
    assert drift.other_apply(record, "ep1", MAIN, "gpu.jsonc") is None  # a revert merged to the branch that applied both


def test_records_without_block_digests_or_rewritten_since_keep_today_s_origins():
    old = _record_of([["t1", "ana", 1], ["t2", None, 2]], LAPTOP)
    assert drift.other_apply(old, "ep1", MAIN, "gpu.jsonc") is None
    # `pull --write` then a deploy with nothing to change: the record was rewritten without an apply
    rewritten = _record_of([["t1", "ana", 1, _block(MAIN), "octo/ml-api:main"], ["t2", None, 2, _block(LAPTOP), "lee@laptop"]], MAIN | {"workers.max": 9})
    assert drift.other_apply(rewritten, "ep1", MAIN, "gpu.jsonc") is None


def test_two_deploys_within_one_second_keep_each_its_own_place_and_block():
    """CI, stop 29: main's workflow and a laptop applied within one second; APPLIED_FROM_ENV is
    read back by the apply's time, so both applies read as the laptop's and drift called the
    laptop's values "changed in gpu.jsonc". A second apply in one second is kept to the microsecond."""
    now = 1_796_000_000.25
    first = drift.apply_moment([], now)
    second = drift.apply_moment([[first, "ana", 1]], now + 0.5)
    assert first == "2026-11-30T00:53:20Z" and second == "2026-11-30T00:53:20.750000Z"
    record = _record_of([[first, "ana", 1, _block(MAIN), "octo/ml-api:main"], [second, "lee", 2, _block(LAPTOP), "lee@laptop"]], LAPTOP)
    assert drift.other_apply(record, "ep1", MAIN, "gpu.jsonc").where == "lee@laptop"


def test_applies_a_record_kept_with_one_time_take_their_sources_in_order():
    at = "2026-12-07T09:04:00Z"
    record = _record_of([[at, "ana", 1, _block(MAIN), "octo/ml-api:main"], [at, "lee", 2, _block(LAPTOP), "lee@laptop"]], LAPTOP)
    assert [(a.by, a.where) for a in record.applies] == [("ana", "octo/ml-api:main"), ("lee", "lee@laptop")]
    assert drift.other_apply(record, "ep1", MAIN, "gpu.jsonc").where == "lee@laptop"


def test_a_record_naming_another_file_is_another_gpu_jsonc():
    record = _record_of([["t1", "bo", 1, _block(LAPTOP), "bo@desk"]], LAPTOP, config="b/gpu.jsonc")
    assert drift.other_apply(record, "ep1", MAIN, "a/gpu.jsonc").file == "b/gpu.jsonc"
    assert drift.other_apply(record, "ep1", MAIN, None) is None  # flags alone: no file to compare


def test_only_fields_as_last_applied_are_relabelled_and_an_env_value_of_the_other_apply_stays_hidden():
    record = _record_of([["t1", "ana", 1, _block(MAIN), "octo/ml-api:main"], ["t2", None, 2, _block(LAPTOP | {"env.X": "laptop-value"}), "lee@laptop"]],
                        LAPTOP | {"env.X": "laptop-value"})
    other = drift.other_apply(record, "ep1", MAIN, "gpu.jsonc")
    changes = drift._with_origins(drift.ResourceChange(Kind.ENDPOINT, "demo", "endpoint.demo", Action.UPDATE, "ep1", changes=(
        FieldChange("workers.max", 7, 4), FieldChange("workers.min", 9, 1), FieldChange("env.X", "laptop-value", None))), record, other).changes
    assert [(c.path, c.origin) for c in changes] == [("workers.max", Origin.OTHER_CONFIG), ("workers.min", Origin.BOTH), ("env.X", Origin.OTHER_CONFIG)]
    assert isinstance(changes[2].before, Sensitive)  # another file's literal, never committed here: it may be a secret


def test_the_block_digest_is_of_the_record_s_digests_so_a_secret_s_value_changes_nothing():
    assert _block({"env.T": Sensitive("one")}) == _block({"env.T": Sensitive("two")})
    assert _block(MAIN) != _block(LAPTOP) and len(_block(MAIN)) == 12


def test_twenty_deploys_with_where_they_ran_from_stay_small():
    sources = [[f"2026-12-07T06:{i:02d}:00Z", "0123456789ab", "an-owner/a-repository-name:feature/x", "0123456789ab"] for i in range(30)]
    value = drift.sources_env(sources)
    assert len(json.loads(value)) == drift.MAX_APPLIES and len(value) < 2000  # RunPod documents no limit: kept to a few KB
    assert drift.sources_env([["t", "0123456789ab", None, None]]) == '[["t","0123456789ab"]]'  # trailing nulls are not kept


def test_a_gpuctl_before_adr_37_still_reads_the_applies():
    """The new items are in a key of their own: an older gpuctl reads GPUCTL_APPLIES entries of 2
    or 3 items only, and would drop longer ones from history (and from the record it rewrites)."""
    record = _record_of([["t1", "ana", 1, _block(MAIN), "octo/ml-api:main", "0123456789ab"]], MAIN)
    template = drift.record_body("p", "ep1", "demo", MAIN, "t1", [["t1", "ana", 1]], "gpu.jsonc", [["t1", _block(MAIN), "octo/ml-api:main"]])
    assert json.loads(template["env"][drift.APPLIES_ENV]) == [["t1", "ana", 1]]
    assert record.applies == (drift.Apply("t1", "ana", 1, _block(MAIN), "octo/ml-api:main", "0123456789ab"),)


def test_where_an_apply_runs_from(monkeypatch):
    from gpuctl.author import applied_from

    monkeypatch.setattr("socket.gethostname", lambda: "laptop.corp.example")
    ci = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/ml-api", "GITHUB_REF_NAME": "feature/x", "GITHUB_SHA": "0123456789abcdef" * 2 + "01234567"}
    assert applied_from(ci) == ("octo/ml-api:feature/x", "0123456789ab")
    assert applied_from({"USER": "lee"}) == ("lee@laptop", None)
    assert applied_from({}) == ("laptop", None)
    assert applied_from({"USER": "lee\x1b[2J"}) == ("laptop", None)  # not a plain name: left out
    assert applied_from(ci | {"GITHUB_SHA": "not-a-sha", "GITHUB_REF_NAME": "a b"}) == ("octo/ml-api", None)


def test_a_place_outside_github_actions_is_never_public(monkeypatch):
    """ADR 39: what gpuctl writes to GitHub names an apply's place by `public_place`: an Actions
    place as it is, every other place `applied_from` writes (a login and a host, a host alone)
    without the host; a hand-written place that is no Actions one is not trusted to be one."""
    from gpuctl.author import OUTSIDE_ACTIONS, applied_from, public_place

    monkeypatch.setattr("socket.gethostname", lambda: "laptop.corp.example")
    ci = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "octo/ml-api", "GITHUB_REF_NAME": "feature/x", "GITHUB_SHA": "0123456789abcdef" * 2 + "01234567"}
    assert public_place(applied_from(ci)[0]) == "octo/ml-api:feature/x"
    assert public_place(applied_from(ci | {"GITHUB_REF_NAME": ""})[0]) == "octo/ml-api"
    for env in ({"USER": "lee"}, {}, {"USER": "a/b"}):
        assert public_place(applied_from(env)[0]) == OUTSIDE_ACTIONS, env
    for written in ("lee@laptop:main", "octo/ml-api:main@laptop", "octo/ml-api:main laptop", "", "laptop"):
        assert public_place(written) == OUTSIDE_ACTIONS, written
    assert public_place(None) is None and public_place(OUTSIDE_ACTIONS) == OUTSIDE_ACTIONS


def test_a_lease_holder_outside_github_actions_is_never_public(monkeypatch):
    """ADR 39: the project's account lease names its holder `pid 12 on HOST (...)`, and a plan
    comment or drift job summary made while it is held shows it: a public page shows the
    holder's place by the rule of `public_place`, never its host. A lease taken in GitHub
    Actions records the run's place for that."""
    from gpuctl.author import OUTSIDE_ACTIONS, public_holder
    from gpuctl.engine.lease import project_lease

    since = " (`gpu serverless deploy`, since 2026-12-07T06:00:00Z)"
    assert public_holder("pid 12 on lee-thinkpad" + since) == f"pid 12 on {OUTSIDE_ACTIONS}{since}"
    assert public_holder("pid 12 on runner-7 in acme/ml-api:main" + since) == f"pid 12 in acme/ml-api:main{since}"
    assert public_holder("pid 12 on runner-7 in lee@lee-thinkpad" + since) == f"pid 12 on {OUTSIDE_ACTIONS}{since}"
    assert public_holder("pid 12 on lee-thinkpad") == f"pid 12 on {OUTSIDE_ACTIONS}"
    for shown in (f"pid 12 on {OUTSIDE_ACTIONS}{since}", f"pid 12 in acme/ml-api:main{since}"):
        assert public_holder(shown) == shown  # shown once, shown the same again
    for hand_made in ("lee-thinkpad is deploying", "pid twelve on lee-thinkpad (x)", ""):
        assert public_holder(hand_made) == "a holder not shown here", hand_made

    monkeypatch.setattr("socket.gethostname", lambda: "runner-7")
    for name, value in {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/ml-api", "GITHUB_REF_NAME": "main"}.items():
        monkeypatch.setenv(name, value)
    held = project_lease(None, "p", "gpu serverless deploy", print).holder
    assert held.split(" (")[0].endswith(" on runner-7 in acme/ml-api:main") and public_holder(held).split(" (")[0].endswith(" in acme/ml-api:main"), held
    monkeypatch.setenv("GITHUB_ACTIONS", "")
    held = project_lease(None, "p", "gpu serverless deploy", print).holder
    assert held.split(" (")[0].endswith(" on runner-7") and public_holder(held).split(" (")[0].endswith(f" on {OUTSIDE_ACTIONS}"), held


def test_every_lease_holder_a_message_names_is_shown_without_its_host_whatever_follows_it():
    """ADR 39/48: `public_holders` hid a holder only where it is followed by ` (`, as the
    refusal quotes it; deploy's hint names it as `if you are sure pid 12 on HOST is gone`,
    which kept the host on any public page or job log that showed it. Every holder gpuctl
    names is written by `author.holder_name` and recognised wherever it stands."""
    import time

    from gpuctl.author import ACTIONS_RUN, OUTSIDE_ACTIONS, holder_name, public_holders
    from gpuctl.engine.lease import EXPIRES, HOST, PID, Lease

    now = time.time()
    for expires in (now + 240, now + 3000):  # the usual hint, and the one for a holder whose clock is ahead
        template = {"env": {HOST: "lee-thinkpad", PID: "12", EXPIRES: f"{expires:.0f}"}}
        hint = Lease(None, "n", "p", "h", clock=lambda: now)._held_hint(template)
        assert holder_name("12", "lee-thinkpad") in hint, hint
        shown = public_holders(hint)
        assert "lee-thinkpad" not in shown and f"pid 12 on {OUTSIDE_ACTIONS} is gone" in shown, shown
        assert public_holders(shown) == shown
    assert public_holders("pid 12 on fv-az123-456.") == f"pid 12 in {ACTIONS_RUN}."
    assert public_holders("held by pid 12 on runner-7 in acme/ml-api:main") == "held by pid 12 in acme/ml-api:main"
    for said in (f"pid 12 on {OUTSIDE_ACTIONS} is gone", f"pid 12 in {ACTIONS_RUN}, then", "pid 12 in acme/ml-api:main is gone"):
        assert public_holders(said) == said


def test_a_shared_snapshot_keeps_no_block_digest():
    """A block digest is over every field's digest: with the others known, it would confirm a guess
    of the one env literal a snapshot redacts. A snapshot keeps who and where, not the digest."""
    from gpuctl.snapshot import snapshot_document

    declared = {"name": "demo", "workers.max": 4, "env.DB_HOST": "db.internal"}
    block = _block(declared)
    template = drift.record_body("p", "ep1", "demo", declared, "t2", [["t1", "ana", 1]], "gpu.jsonc", [["t1", block, "octo/ml-api:main", "0123456789ab"]])
    template |= {"name": drift.record_name("ep1"), "id": "tpl1"}
    shared = snapshot_document(Observed((), (), (template,)), shown_env=lambda endpoint, key: False)
    (kept,) = shared["templates"]
    assert block not in json.dumps(kept)
    assert json.loads(kept["env"][drift.APPLIED_FROM_ENV]) == [["t1", None, "octo/ml-api:main", "0123456789ab"]]
    assert json.loads(kept["env"][drift.APPLIES_ENV]) == [["t1", "ana", 1]]


def test_a_record_naming_another_file_without_applies_is_another_gpu_jsonc_too():
    record = _record_of([], LAPTOP, config="b/gpu.jsonc")
    assert drift.other_apply(record, "ep1", MAIN, "a/gpu.jsonc") == drift.Apply("2026-12-07T06:10:00Z", file="b/gpu.jsonc")


def test_a_lease_an_older_gpuctl_took_on_a_github_hosted_runner_is_shown_as_in_github_actions():
    """A gpuctl before ADR 39 recorded no place in its lease's holder, in GitHub Actions or not:
    `pid 12 on fv-az123-456 (...)`; only the host says where it ran. It was shown as
    "on a machine outside GitHub Actions", which sent readers of the plan comment looking for a
    laptop. The host names GitHub gives its hosted runners (`fv-az<n>-<n>`, `runnervm<id>`) are
    GitHub Actions' (ADR 48); any other host, a self-hosted runner's too, stays outside."""
    from gpuctl.author import ACTIONS_RUN, OUTSIDE_ACTIONS, public_holder, public_holders

    since = " (`gpu serverless deploy`, since 2026-12-07T06:00:00Z)"
    for host in ("fv-az123-456", "fv-az1022-741", "runnervm6qbrg", "runnervmg1sw1.internal.cloudapp.net"):
        shown = public_holder(f"pid 12 on {host}{since}")
        assert shown == f"pid 12 in {ACTIONS_RUN}{since}", shown
        assert public_holder(shown) == shown
        assert public_holders(f"held by pid 12 on {host}{since} (expires in 240s)") == f"held by pid 12 in {ACTIONS_RUN}{since} (expires in 240s)"
    for host in ("lee-thinkpad", "fv-az123", "my-fv-az123-456", "runnervm", "runner-7", "fv-az1-2x"):
        assert public_holder(f"pid 12 on {host}{since}") == f"pid 12 on {OUTSIDE_ACTIONS}{since}", host
    assert public_holder(f"pid 12 on runnervm6qbrg in acme/ml-api:main{since}") == f"pid 12 in acme/ml-api:main{since}"  # the place, when recorded


def test_a_rollback_keeps_the_env_keys_it_wrote_or_removed_and_credits_only_those():
    """Review 6, R6-6: env keys the rollback release changed are its too. A removed key keeps
    the digest of null, a written one "set" (its value may be a secret), a key it left as it
    was nothing; the marker (gpuctl's own) its digest."""
    before = {"env": {"GREETING": "hi", "BROKEN": "1", "SAME": "x", "GPUCTL_PROJECT": "p"}}
    after = {"env": {"GREETING": "hello-again", "OLD": "s3cret-old", "SAME": "x", "GPUCTL_PROJECT": "q"}}
    kept = json.loads(drift.rolled_back_env("ep1", 3, 1, after, before))
    digests = kept["digests"]
    assert digests.keys() == {"env.GREETING", "env.BROKEN", "env.OLD", "env.GPUCTL_PROJECT"}, digests
    assert digests["env.GREETING"] == digests["env.OLD"] == "set" and "s3cret" not in json.dumps(kept) and "hello-again" not in json.dumps(kept)
    assert digests["env.BROKEN"] == drift.digest("ep1", "env.BROKEN", None)
    assert digests["env.GPUCTL_PROJECT"] == drift.digest("ep1", "env.GPUCTL_PROJECT", "q")
    rolled = drift._rolled_back(json.dumps(kept))
    assert rolled.made("ep1", FieldChange("env.BROKEN", None, "1", origin=Origin.ACCOUNT), {})
    assert not rolled.made("ep1", FieldChange("env.BROKEN", "2", "1", origin=Origin.ACCOUNT), {})  # set again in the console
    # no digest kept: whether the account's value is still the one it wrote is not known (review 7, R7-3)
    assert rolled.made("ep1", FieldChange("env.OLD", "s3cret-old", None, origin=Origin.ACCOUNT), {}) is None
    assert not rolled.made("ep1", FieldChange("env.OLD", None, "v", origin=Origin.ACCOUNT), {})  # removed in the console since
    assert not rolled.made("ep1", FieldChange("env.SAME", "y", "x", origin=Origin.ACCOUNT), {})


def test_a_rollback_keeps_a_keyed_digest_of_an_env_literal_and_credits_only_that_value():
    """Review 7, R7-3: any later value of an env key the rollback wrote was credited to it, so a
    console edit after the rollback read "rolled back by gpuctl". Under a key whose record keeps
    a digest (a literal of gpu.jsonc) the rollback keeps an HMAC keyed by that digest, and only
    the value it wrote matches; without the key (a shared file's "set") it is not known."""
    kept = {"env.MODE": drift.digest("ep1", "env.MODE", "two"), "env.TOKEN": "set"}
    doc = json.loads(drift.rolled_back_env("ep1", 3, 1, {"env": {"MODE": "one", "TOKEN": "s3cret-old"}},
                                           {"env": {"MODE": "two", "TOKEN": "s3cret-new"}}, kept))
    digests = doc["digests"]
    assert digests["env.MODE"].startswith(drift.KEYED) and digests["env.MODE"] != drift.KEYED + drift.digest("ep1", "env.MODE", "one")
    assert digests["env.TOKEN"] == "set" and "s3cret" not in json.dumps(doc)
    rolled = drift._rolled_back(json.dumps(doc))
    assert rolled.made("ep1", FieldChange("env.MODE", "one", "two", origin=Origin.ACCOUNT), kept) is True
    assert rolled.made("ep1", FieldChange("env.MODE", Sensitive("one"), "two", origin=Origin.ACCOUNT), kept) is True  # as drift hides it
    assert rolled.made("ep1", FieldChange("env.MODE", "https://evil.example/exfil", "two", origin=Origin.ACCOUNT), kept) is False
    assert rolled.made("ep1", FieldChange("env.MODE", "one", "two", origin=Origin.ACCOUNT), {"env.MODE": "set"}) is None  # a shared file's record
    assert rolled.made("ep1", FieldChange("env.TOKEN", "s3cret-old", None, origin=Origin.ACCOUNT), kept) is None


def test_a_shared_snapshot_keeps_no_keyed_digest_of_a_value_a_rollback_wrote():
    """A rollback keeps an HMAC of each env value it wrote, keyed by the record's digest of that
    key (review 7, R7-3). A snapshot shows that record digest when it shows the literal, so the
    HMAC of an older value the rollback restored (a secret then, perhaps) could be checked offline
    against guesses: a shared snapshot writes it as "set", as it writes the record's digests."""
    from gpuctl.snapshot import snapshot_document

    declared = {"name": "demo", "env.MODE": "fast"}
    template = drift.record_body("p", "ep1", "demo", declared, "t2", [["t1", "ana", 1]], "gpu.jsonc", None)
    digests = json.loads(template["env"][drift.APPLIED_ENV])
    rolled = drift.rolled_back_env("ep1", 3, 1, {"env": {"MODE": "old-secret-value"}}, {"env": {"MODE": "fast"}}, digests)
    assert '"k:' in rolled, rolled  # the rollback kept a keyed digest: the case this test is about
    template |= {"name": drift.record_name("ep1"), "id": "tpl1"}
    template["env"] = {**template["env"], drift.ROLLED_BACK_ENV: rolled}
    endpoint = {"id": "ep1", "name": "demo", "env": {"MODE": "fast"}}
    shared = snapshot_document(Observed((endpoint,), (), (template,)), shown_env=lambda endpoint, key: key == "MODE")
    (written,) = shared["templates"]
    doc = json.loads(written["env"][drift.ROLLED_BACK_ENV])
    assert doc["digests"] == {"env.MODE": drift.SET}, doc
    assert (doc["version"], doc["to"], doc["paths"]) == (3, 1, ["env"])

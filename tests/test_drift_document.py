"""The drift document and its views, built from hand-made plan documents that carry the
`origin` and `drift` keys of the plan contract (and from ones made before those keys existed)."""

from __future__ import annotations

import pytest

from gpuctl.catalog import load_catalog
from gpuctl.render.drift import build
from gpuctl.render.drift_view import render_markdown, render_text

CATALOG = load_catalog()
ADA = CATALOG.pools["ADA_24"]
DIGEST = "sha256:" + "0" * 64


def body(min_workers=0, max_workers=2, pools=("ADA_24",), env=None) -> dict:
    return {"name": "echo", "image": "ghcr.io/example/echo:1", "gpu": {"pools": list(pools)}, "workers": {"min": min_workers, "max": max_workers},
            "env": env or {"GPUCTL_PROJECT": "demo"}}


def change(path, before, after, origin=None, sensitive=False) -> dict:
    doc = {"path": path, "before": before, "after": after, "sensitive": sensitive, "forces_replace": False}
    return doc | ({"origin": origin} if origin else {})


def resource(action, changes=(), name="echo", id="ep1", drift=None, desired="body", reason="") -> dict:
    doc = {"address": f"endpoint.{name}", "kind": "endpoint", "name": name, "id": id, "action": action, "reason": reason,
           "changes": list(changes), "desired": body() if desired == "body" else desired}
    return doc | ({"drift": drift} if drift else {})


def plan(*resources) -> dict:
    return {"format_version": "1", "tool": {"name": "gpuctl", "version": "0"}, "project_id": "demo", "config": "gpu.jsonc", "provider": "runpod",
            "prune": False, "resource_changes": list(resources), "observed_digest": DIGEST}


PLANS = {
    "in-sync": plan(resource("no-op")),
    "account": plan(resource("update", [change("workers.min", 2, 0, "account")], reason="1 field differs from gpu.jsonc")),
    "config": plan(resource("update", [change("workers.max", 2, 5, "config")], desired=body(max_workers=5))),
    "both": plan(resource("update", [change("workers.max", 4, 3, "both")], desired=body(max_workers=3))),
    "deleted": plan(resource("create", [change("workers.min", None, 1, "config")], id=None, drift="deleted-in-account", desired=body(min_workers=1))),
    "unmanaged": plan(resource("no-op", id="theirs", drift="unmanaged")),
    "marker-lost": plan(resource("update", [change("env.GPUCTL_PROJECT", None, "demo", "account")], drift="marker-lost")),
    "no-keys": plan(resource("update", [change("workers.min", 1, 0)])),
    "orphan": plan(resource("orphan", name="old", id="ep9", desired=None)),
    "secret": plan(resource("update", [change("env.TOKEN", {"sensitive": True}, {"sensitive": True}, "account", sensitive=True)])),
    "unpriced": plan(resource("update", [change("gpu.pools", ["NO_SUCH_POOL"], ["ADA_24"], "account")])),
    "duplicate": plan(resource("no-op", id="ep1"), resource("no-op", id="ep9", drift="duplicate", desired=None,
                                                               reason='2 endpoints carry this project\'s marker and the name "echo": ep1, ep9')),
}


def test_in_sync_has_no_drift_and_no_cost():
    doc = build(PLANS["in-sync"], CATALOG)
    assert doc["in_sync"] and doc["drift"] == [] and doc["cost_of_drift"]["items"] == []
    assert render_text(doc).startswith("In sync: the account matches gpu.jsonc")
    assert "is in sync" in render_markdown(doc)


def test_a_console_raise_of_min_workers_says_who_and_what_it_costs():
    doc = build(PLANS["account"], CATALOG)
    (entry,) = doc["drift"]
    (field,) = entry["changes"]
    assert (field["path"], field["config"], field["account"], field["origin"]) == ("workers.min", 0, 2, "account")
    assert "pull --write" in field["what_to_do"] and "deploy -y" in field["what_to_do"]
    (part,) = doc["cost_of_drift"]["items"][0]["parts"]
    # The two always-on workers bill at the active rate, not the flex one, so the worst case drops
    # too: the phrase says so, or the resource's total would show an amount no field explains.
    cheaper = 2 * (ADA.flex_usd_per_hour - ADA.active_usd_per_hour)
    assert part["worst_case_per_hour"] == pytest.approx(-cheaper)
    assert part["phrase"] == (f"the account raised workers.min 0 → 2: +${2 * ADA.active_usd_per_hour:.2f}/h always-on, "
                              f"-${cheaper:.2f}/h worst case")
    assert doc["cost_of_drift"]["always_on_per_hour"] == pytest.approx(2 * ADA.active_usd_per_hour)
    assert doc["summary"]["origins"] == {"config": 0, "other-config": 0, "account": 1, "both": 0, "unknown": 0}


def test_a_git_change_not_yet_applied_is_priced_from_the_account_side():
    doc = build(PLANS["config"], CATALOG)
    (part,) = doc["cost_of_drift"]["items"][0]["parts"]
    delta = -3 * ADA.flex_usd_per_hour  # the account runs at most 2 of the 5 gpu.jsonc allows
    assert part["worst_case_per_hour"] == pytest.approx(delta)
    assert part["phrase"] == f"gpu.jsonc raised workers.max 2 → 5, not applied yet: -${-delta:.2f}/h worst case until it is"


def test_a_conflict_names_both_values_and_which_apply_keeps():
    doc = build(PLANS["both"], CATALOG)
    field = doc["drift"][0]["changes"][0]
    assert field["origin"] == "both" and "keeps gpu.jsonc's value" in field["what_to_do"]
    assert "4 in the account and 3 in gpu.jsonc" in doc["cost_of_drift"]["items"][0]["parts"][0]["phrase"]


def test_deleted_in_the_account_warns_of_the_new_url_and_lists_no_fields():
    doc = build(PLANS["deleted"], CATALOG)
    (entry,) = doc["drift"]
    assert entry["drift"] == "deleted-in-account" and entry["changes"] == []
    assert "new id" in entry["what_to_do"] and "URL" in entry["what_to_do"]
    assert doc["cost_of_drift"]["always_on_per_hour"] == pytest.approx(-ADA.active_usd_per_hour)
    assert "deleted in the account" in render_text(doc) and "deleted in the account" in render_markdown(doc)


def test_an_unmanaged_look_alike_is_drift_though_apply_changes_nothing():
    doc = build(PLANS["unmanaged"], CATALOG)
    assert not doc["in_sync"] and doc["summary"]["labels"]["unmanaged"] == 1
    assert "gpu serverless import theirs --write" in doc["drift"][0]["what_to_do"]
    assert doc["cost_of_drift"]["items"] == []  # not ours to count


def test_marker_lost_says_how_to_restore_the_marker():
    entry = build(PLANS["marker-lost"], CATALOG)["drift"][0]
    assert entry["drift"] == "marker-lost" and "GPUCTL_PROJECT=demo" in entry["what_to_do"]


def test_a_plan_without_origin_keys_is_unknown_origin():
    doc = build(PLANS["no-keys"], CATALOG)
    entry = doc["drift"][0]
    assert entry["drift"] is None and entry["changes"][0]["origin"] == "unknown"
    assert "workers.min is 1 in the account and 0 in gpu.jsonc" in render_text(doc)


def test_an_orphan_is_priced_from_the_observed_endpoint():
    live = {"id": "ep9", "name": "old", "gpu": {"pools": ["ADA_24"]}, "workers": {"min": 1, "max": 3}}
    doc = build(PLANS["orphan"], CATALOG, {"ep9": live})
    assert doc["drift"][0]["drift"] == "orphan" and "--prune" in doc["drift"][0]["what_to_do"]
    item = doc["cost_of_drift"]["items"][0]
    assert item["always_on_per_hour"] == pytest.approx(ADA.active_usd_per_hour)
    assert item["worst_case_per_hour"] == pytest.approx(ADA.active_usd_per_hour + 2 * ADA.flex_usd_per_hour)
    assert not build(PLANS["orphan"], CATALOG)["cost_of_drift"]["complete"]  # not observed: not known


def test_sensitive_values_stay_hidden_in_every_view():
    doc = build(PLANS["secret"], CATALOG)
    field = doc["drift"][0]["changes"][0]
    assert field["config"] == field["account"] == {"sensitive": True}
    assert "(sensitive)" in render_text(doc) and "(sensitive)" in render_markdown(doc)
    assert doc["cost_of_drift"]["items"] == []


def test_an_unpriced_pool_makes_the_cost_incomplete():
    cost = build(PLANS["unpriced"], CATALOG)["cost_of_drift"]
    assert not cost["complete"] and cost["always_on_per_hour"] == 0.0


def test_markdown_cells_survive_values_from_the_account():
    hostile = plan(resource("update", [change("image", "evil|<script>`x`</script>", "ghcr.io/example/echo:1", "account")]))
    markdown = render_markdown(build(hostile, CATALOG))
    row = next(line for line in markdown.splitlines() if line.startswith("| <code>image</code>"))
    assert "<script>" not in markdown and row.count(" | ") == 5  # six cells, the value did not add one


def test_markdown_is_an_issue_body_with_a_title_summary_and_advice():
    doc = build(plan(*PLANS["account"]["resource_changes"], *PLANS["orphan"]["resource_changes"]), CATALOG)
    markdown = render_markdown(doc)
    assert markdown.splitlines()[0] == "## gpuctl drift: project <code>demo</code>: 2 resources differ from gpu.jsonc: 1 field changed in the account, 1 orphan"
    assert "**Summary:**" in markdown and "### What the labels ask" in markdown
    assert "- **changed in the account**:" in markdown and "- **orphan**:" in markdown


def test_markdown_stays_under_the_issue_body_limit():
    many = plan(*(resource("update", [change("workers.max", 3, 2, "account")], name=f"ep{i}", id=f"id{i}") for i in range(400)))
    markdown = render_markdown(build(many, CATALOG), limit=20_000)
    assert len(markdown) < 20_000 and "Truncated" in markdown and "What the labels ask" in markdown


def test_a_replace_warns_of_the_new_url_in_text_and_markdown():
    forced = {"path": "type", "before": "LB", "after": "QUEUE", "sensitive": False, "forces_replace": True, "origin": "account"}
    doc = build(plan(resource("replace", [forced], reason="type cannot change in place")), CATALOG)
    assert "new id and URL" in render_text(doc)
    markdown = render_markdown(doc)
    assert "new id and URL" in markdown and "(forces replacement)" in markdown


@pytest.mark.parametrize("origin", ["unknown", "account", "both"])
def test_a_secret_that_differs_never_offers_pull_which_never_writes_secrets(origin):
    """gpu.jsonc reads env.TOKEN from a `${VAR}` (or a RunPod secret) and the account holds
    another value. `pull --write` lists such a value and never writes it, so "keep the
    account's with pull --write" would be a lie: the report says to set it where gpu.jsonc
    reads it from, in every view, and the legend does not offer pull for it either."""
    doc = build(plan(resource("update", [change("env.TOKEN", {"sensitive": True}, {"sensitive": True}, origin, sensitive=True)])), CATALOG)
    (field,) = doc["drift"][0]["changes"]
    assert "pull" not in field["what_to_do"].replace("`pull` never writes secrets", "")
    assert "deploy -y" in field["what_to_do"] and "where gpu.jsonc reads it from" in field["what_to_do"]
    text, markdown = render_text(doc), render_markdown(doc)
    assert "pull --write" not in text and "pull --write" not in markdown
    assert "env.TOKEN: a secret" in text and "pull never writes secrets" in markdown


def test_an_env_var_added_in_the_account_says_pull_never_copies_its_value():
    """An env var someone set in the console, which gpu.jsonc does not declare: pull lists it
    with how to declare it, never copying the value, so the advice is to declare it."""
    doc = build(plan(resource("update", [change("env.EXTRA", {"sensitive": True}, None, "account", sensitive=True)])), CATALOG)
    (field,) = doc["drift"][0]["changes"]
    assert "deploy -y` removes it" in field["what_to_do"] and "declare it in runpod.env" in field["what_to_do"]
    assert "pull --write" not in render_text(doc) + render_markdown(doc)


def test_a_literal_env_value_changed_in_the_account_still_offers_pull():
    doc = build(plan(resource("update", [change("env.LOG_LEVEL", {"sensitive": True}, "info", "account")])), CATALOG)
    assert "pull --write" in doc["drift"][0]["changes"][0]["what_to_do"]


def test_an_unmanaged_look_alike_is_not_told_to_rename_a_block_it_has_not_and_says_why_it_is_listed():
    """A copy made in the console (`echo-2`, the image of block echo, no marker) has no block
    of its name: "rename the block" asked for something that does not exist. The advice holds
    for every unmanaged endpoint, and the views show the plan's reason, which says whether it
    holds a block's name or looks like one."""
    why = 'no GPUCTL_PROJECT marker, but its name starts with "echo" and it runs the image of gpu.jsonc\'s endpoint.echo; gpuctl leaves it alone'
    doc = build(plan(resource("no-op", name="echo-2", id="theirs", drift="unmanaged", reason=why)), CATALOG)
    advice = doc["drift"][0]["what_to_do"]
    assert "rename the block in gpu.jsonc" not in advice
    assert "gpu serverless import theirs --write" in advice and "delete it" in advice
    assert why in render_text(doc)
    assert "its name starts with" in render_markdown(doc)


def test_the_lease_note_shows_the_holder_s_command_as_code_and_the_rest_of_it_escaped():
    """The holder of the account lease is written by gpuctl as `pid 12 on host (`gpu serverless
    deploy -y`, since ...)`; the note escaped its backticks like any untrusted text, so the issue
    showed them as characters. The command is code; the holder's other text, which anyone
    with the account key can write, stays text: no mention, no HTML."""
    from gpuctl.plan.model import LeaseSeen
    from gpuctl.render.document import DRIFT_STILL, lease_section

    def held(holder: str) -> dict:
        return lease_section(LeaseSeen("held", "gpuctl-lock-p", holder, "expires in 240s unless renewed"), DRIFT_STILL)

    doc = build(PLANS["account"], CATALOG)
    doc["lease"] = held("pid 12 on box (`gpu serverless deploy -y`, since 2026-12-06T12:00:00Z, @acme/ops <b>box</b>)")
    markdown = render_markdown(doc)
    note = next(line for line in markdown.splitlines() if line.startswith("> **Note:**"))
    assert "(`gpu serverless deploy -y`, since" in note and "\\`" not in note
    assert "<b>" not in note and "&lt;b&gt;" in note and "@&#8203;acme/ops" in note
    doc["lease"] = held("pid 12 on host (`gpu serverless deploy -y`, since `x)")  # a backtick left open is text, escaped
    assert "\\`x)" in render_markdown(doc)


def test_a_drift_that_moves_no_money_says_nothing_about_cost():
    """Only the idle timeout drifted: the report said "+$0.00/h always-on, +$0.00/h worst
    case". Cost is said when the drift moves it, by the rule the plan's cost table uses
    (`plan.cost.moves`)."""
    doc = build(plan(resource("update", [change("workers.idleTimeout", 42, 5, "account")])), CATALOG)
    assert doc["cost_of_drift"]["items"] == []
    for view in (render_text(doc), render_markdown(doc)):
        assert "Cost of the drift" not in view and "$0.00/h" not in view
    same_price = plan(resource("update", [change("gpu.pools", ["ADA_24", "ADA_24"], ["ADA_24"], "account")]))  # the same pool twice: the same cost
    doc = build(same_price, CATALOG)
    assert doc["cost_of_drift"]["items"] == [] and "Cost of the drift" not in render_text(doc) + render_markdown(doc)
    moved = build(PLANS["account"], CATALOG)
    assert "Cost of the drift" in render_text(moved) and "Cost of the drift" in render_markdown(moved)
    unpriced = build(PLANS["unpriced"], CATALOG)  # not known is not nothing: said
    assert "no published price" in render_text(unpriced) and "no published price" in render_markdown(unpriced)


def test_a_duplicate_names_the_endpoint_deploy_keeps_and_the_command_that_deletes_the_other():
    """The kept endpoint is the block's own change (by address), not words read back from a reason."""
    live = {"ep9": {"id": "ep9", "gpu": {"pools": ["ADA_24"]}, "workers": {"min": 1, "max": 2}, "env": {"GPUCTL_PROJECT": "demo"}}}
    doc = build(PLANS["duplicate"], CATALOG, live)
    (entry,) = doc["drift"]
    assert (entry["id"], entry["drift"], entry["changes"]) == ("ep9", "duplicate", [])
    assert "`gpu serverless delete ep9 --force`" in entry["what_to_do"] and "endpoint ep1" in entry["what_to_do"], entry["what_to_do"]
    assert doc["summary"]["labels"]["duplicate"] == 1 and not doc["in_sync"]
    (item,) = doc["cost_of_drift"]["items"]  # its one always-on worker bills beside the kept endpoint's
    assert item["address"] == "endpoint.echo" and item["always_on_per_hour"] == pytest.approx(ADA.active_usd_per_hour)
    text, markdown = render_text(doc), render_markdown(doc)
    assert "endpoint.echo (ep9): duplicate" in text and "why: 2 endpoints" in text
    assert "**duplicate**" in markdown and "gpu serverless delete ID --force" in markdown  # the legend, of any duplicate


def test_the_legend_of_the_unmanaged_label_adopts_by_id_never_by_name():
    """"What the labels ask" said `"adopt": "NAME"` (the legend's resource has no id, and the
    advice fell back to the name), but `adopt` takes an endpoint id: copied as written, the
    block would adopt nothing."""
    markdown = render_markdown(build(PLANS["unmanaged"], CATALOG))
    legend = markdown[markdown.index("### What the labels ask"):]
    assert '"adopt": "NAME"' not in legend and "import NAME" not in legend, legend
    assert '`"adopt": "ID"`' in legend and "`gpu serverless import ID --write`" in legend, legend


def test_no_amount_of_the_drift_is_negative_zero():
    """An endpoint missing from the account with no always-on workers saves $0/h always-on: its
    amount was written -0.0 (minus a zero), which a dashboard reading the JSON shows as "-0"."""
    import json

    doc = build(plan(resource("create", [change("workers.min", None, 0, "config")], id=None, drift="deleted-in-account")), CATALOG)
    text = json.dumps(doc["cost_of_drift"])
    assert doc["cost_of_drift"]["items"] and "-0.0" not in text, text


@pytest.mark.parametrize("label", ["unmanaged", "marker-lost", "duplicate", "deleted", "orphan"])
def test_the_legend_names_no_placeholder_endpoint_in_its_prose(label):
    """Review 2, F3: "What the labels ask" said `set it on endpoint NAME in the console` (the
    legend's resource is any endpoint, so its name fell back to a literal placeholder). A
    placeholder is fine only inside a command (`import NAME --write`, `delete ID --force`)."""
    markdown = render_markdown(build(PLANS[label], CATALOG))
    legend = markdown[markdown.index("### What the labels ask"):]
    assert "endpoint NAME" not in legend and '"NAME"' not in legend, legend

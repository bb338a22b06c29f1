"""Every holder `author.holder_name` can write is hidden by `author.public_holders` wherever a
message puts it (ADR 39, ADR 48): a lock record without a pid (`pid ?`), with a host of any
text, a lease taken in GitHub Actions (` in owner/repo:branch`) followed by more words."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from gpuctl.author import ACTIONS_RUN, OUTSIDE_ACTIONS, holder_name, public_holders

PLACE = r"[A-Za-z0-9._-]+/[A-Za-z0-9._-]+(?::[A-Za-z0-9._/-]+)?"
ACTIONS_PLACE = r"[A-Za-z0-9._-]*[A-Za-z0-9_-]/[A-Za-z0-9._-]*[A-Za-z0-9_-](?::[A-Za-z0-9._/-]*[A-Za-z0-9_/-])?"  # GitHub's: no part ends with a dot
# Where gpuctl's messages put a holder: the refusals (`held by HOLDER (...)`), the local lock's,
# the notes of a wait or a takeover, deploy's hint (`if you are sure HOLDER is gone`).
BEFORE = ("", "another deploy holds the lock: ", "held by ", "if you are sure ", "check that ", "taking over the stale lease of ",
          "error: another gpuctl command of project \"api\" holds the account lease: ")
AFTER = ("", " (`gpu serverless deploy`, since 2026-12-07T06:00:00Z)", " (`gpu x`, since T) (expires in 240s unless renewed)",
         " is gone, --break-lock", " is gone and pass --break-lock; then fix that machine's clock (NTP)", ".", ", then", ": the create was not sent")
PIDS = st.one_of(st.integers(-3, 10**30), st.text(max_size=25), st.none(), st.floats(), st.booleans(), st.lists(st.integers(), max_size=2),
                 st.sampled_from(["12", "null", "a list", "?", " 12", "12 "]))
HOSTS = st.one_of(st.text(max_size=120), st.none(), st.integers(), st.lists(st.text(max_size=3), max_size=2),
                  st.sampled_from(["lee-thinkpad", "lee's laptop (home)", "fv-az123-456", "runnervm6qbrg.internal.cloudapp.net", "host.", "a",
                                   "in", "on", "pid 3 on x", f"x in {OUTSIDE_ACTIONS}", "null", "?", ""]))
PLACES = st.one_of(st.none(), st.text(max_size=40), st.from_regex(PLACE, fullmatch=True),
                   st.sampled_from(["acme/ml-api:main", "acme/ml-api", "acme/ml-api:feature/x.", "lee@lee-thinkpad", "a/b c", ""]))


@settings(max_examples=400, deadline=None)
@given(pid=PIDS, host=HOSTS, place=PLACES, before=st.sampled_from(BEFORE), after=st.sampled_from(AFTER))
def test_public_holders_hides_the_host_of_every_holder_holder_name_writes(pid, host, place, before, after):
    holder = holder_name(pid, host, place)
    assert "\n" not in holder and holder.startswith("pid "), holder
    shown = public_holders(before + holder + after)
    assert shown.startswith(before) and shown.endswith(after), (holder, shown)
    middle = shown[len(before):len(shown) - len(after)]
    assert re.fullmatch(rf"pid (?:[0-9]+|\?) (?:on {OUTSIDE_ACTIONS}|in {ACTIONS_RUN}|in {PLACE})", middle), (holder, shown)
    assert middle.split(" ")[1] == holder.split(" ")[1]  # the pid is kept
    if isinstance(place, str) and re.fullmatch(ACTIONS_PLACE, place):  # as applied_from writes one
        assert middle.endswith(f" in {place}"), (holder, shown)
    assert public_holders(shown) == shown


def test_a_holder_whose_pid_is_unknown_is_written_pid_question_mark_and_shown_without_its_host():
    """A lock record without a pid was named `pid null on HOST`, which `public_holders` did not
    take for a holder, so the host reached a GitHub job's log whole."""
    from gpuctl.engine.lock import describe

    said = "another deploy holds the lock: " + describe({"host": "lee-thinkpad", "command": "gpu serverless deploy", "started_at": "T"})
    assert "pid ? on lee-thinkpad" in said, said
    assert public_holders(said) == f"another deploy holds the lock: pid ? on {OUTSIDE_ACTIONS} (`gpu serverless deploy`, since T)"


def test_deploys_lease_hint_names_its_holder_with_the_place_the_refusal_gives():
    """Deploy's hint (`if you are sure HOLDER is gone, --break-lock`) named the holder by the
    lease's host and pid alone, so a lease a GitHub Actions run holds read as a laptop's
    (`pid 12 on runner-7`, on a public page `on a machine outside GitHub Actions`) while the
    refusal above it said `pid 12 on runner-7 in acme/ml-api:main`."""
    import time

    from gpuctl.engine.lease import EXPIRES, HOLDER, HOST, PID, Lease, describe_holder

    now = time.time()
    for host, place, public in (("runner-7", "acme/ml-api:main", "pid 12 in acme/ml-api:main"), ("lee-thinkpad", None, f"pid 12 on {OUTSIDE_ACTIONS}")):
        for expires in (now + 240, now + 3000):  # the usual hint, and the one for a holder whose clock is ahead
            holder = holder_name(12, host, place)
            template = {"env": {HOLDER: f"{holder} (`gpu github apply`, since T)", HOST: host, PID: "12", EXPIRES: f"{expires:.0f}"}}
            hint = Lease(None, "n", "p", "h", clock=lambda: now)._held_hint(template)
            assert f"{holder} is gone" in hint, hint
            assert describe_holder(template, now).startswith(holder + " ("), describe_holder(template, now)
            assert f"{public} is gone" in public_holders(hint) and host not in public_holders(hint), public_holders(hint)
    template = {"env": {HOLDER: "pid 12 on laptop in acme/ml-api:main (x)", HOST: "runner-7", PID: "12", EXPIRES: f"{now + 240:.0f}"}}
    hint = Lease(None, "n", "p", "h", clock=lambda: now)._held_hint(template)
    assert "pid 12 on runner-7 is gone" in hint, hint  # a holder line that names another host says nothing of this one's place


def test_a_page_on_github_names_another_repository_only_of_this_repositorys_owner():
    """Review 11, R11-7: the note that keeps another repository's endpoint (ADR 60) named that
    repository, which may come from a laptop's private remote (`secret-group/acquisition-target`
    of a self-hosted forge), on a public repository's drift issue and plan comment. What a GitHub
    job writes (Job.clean, PublicLog: `author.public_text`) names another repository only when
    GITHUB_REPOSITORY's owner owns it too; the terminal keeps the name."""
    from types import SimpleNamespace

    from gpuctl.author import ANOTHER_REPOSITORY, public_text
    from gpuctl.commands import Flags
    from gpuctl.plan.planner import _other_repository

    def said(theirs: str, ours: str | None) -> str:
        record = SimpleNamespace(applied_in=lambda: theirs, config="gpu.jsonc")
        desired = SimpleNamespace(repository=lambda: ours, project_id="pub")
        why, _code, note = _other_repository({"id": "mq5pkq910uprsv"}, record, desired, Flags())
        return f"{why}\n{note}"

    for ours in ("acme/public-site", None):
        text = said("secret-group/acquisition-target", ours)
        assert "secret-group" in text  # the terminal's
        shown = public_text(text, "acme/public-site")
        assert "secret-group" not in shown and "acquisition-target" not in shown and ANOTHER_REPOSITORY in shown, shown
        assert public_text(shown, "acme/public-site") == shown
        kept = public_text(said("ACME/team-b", ours), "acme/public-site")
        assert "ACME/team-b" in kept, kept
    assert "gitlab.corp/a/b" not in public_text("of repository gitlab.corp/a/b.", "acme/x")
    # Review 11, R11-9: the record names the host; a page on GitHub names only github.com, never a company's forge.
    for ours in ("github.com:acme/public-site", None):
        text = said("gitlab.corp:acme/api", ours)
        shown = public_text(text, "acme/public-site")
        assert "gitlab.corp" not in shown and "acme/api" not in shown and ANOTHER_REPOSITORY in shown, shown
        assert "github.com:acme/api" in public_text(said("github.com:acme/api", ours), "acme/public-site")
        assert "secret-group" not in public_text(said("github.com:secret-group/x", ours), "acme/public-site")
    mixed = said("acme/api", "ghe.corp:acme/public-site")  # this run's own host on GitHub Enterprise Server is not shown either
    assert "ghe.corp" in mixed and "ghe.corp" not in public_text(mixed, "acme/public-site"), public_text(mixed, "acme/public-site")
    assert "secret-group" not in public_text("of repository secret-group/acquisition-target", None)  # no repository known: none shown
    assert public_text(holder_name(12, "lee-thinkpad"), "acme/x") == public_holders(holder_name(12, "lee-thinkpad"))


def test_a_published_document_names_another_owners_repository_in_no_text_and_keeps_its_data():
    """Review 11, F4: `document.published`, the one filter of what gpu github writes of a plan or
    drift document (the plan artifact too), rewrites every text for people, whatever its field,
    and an apply's place in another owner's GitHub Actions; the values a saved plan is compared
    and applied by are left as they are, and a reason so rewritten compares as the same plan."""
    import json

    from gpuctl.author import ANOTHER_REPOSITORY
    from gpuctl.render.document import comparable, published, writes

    named = "of repository secret-group/target"
    doc = {"project_id": "p", "provider": "local", "config": "gpu.jsonc", "observed_digest": "d",
           "notes": [{"code": "other-config", "address": "endpoint.a", "message": f"applied from gpu.jsonc {named}"}],
           "warnings": [{"code": "w", "address": None, "message": f"pid 12 on lee-laptop said {named}"}],
           "resource_changes": [{"address": "endpoint.a", "name": "a", "id": "e1", "action": "update", "reason": f"kept {named}",
                                 "desired": {"name": "a", "env": {"NOTE": named}},
                                 "changes": [{"path": "env.NOTE", "before": named, "after": "x", "origin": "other-config",
                                              "applied_from": {"at": 1, "by": "lee", "where": "secret-group/target:main", "commit": None, "config": "gpu.jsonc"}}]}],
           "policy": {"violations": [{"rule": "r", "endpoint": "a", "path": None, "message": f"x {named}", "source": None}]},
           "a_later_field": {"deep": [f"text {named}"]}}
    shown = published(doc, "acme/site")
    text = json.dumps({k: v for k, v in shown.items() if k != "resource_changes"}) + json.dumps(shown["resource_changes"][0]["reason"])
    assert "secret-group" not in text and ANOTHER_REPOSITORY in text and "lee-laptop" not in text, text
    change = shown["resource_changes"][0]["changes"][0]
    assert change["applied_from"]["where"] == ANOTHER_REPOSITORY, change
    assert (change["before"], shown["resource_changes"][0]["desired"]) == (named, doc["resource_changes"][0]["desired"])  # values: gpu.jsonc's, the account's
    assert writes(shown) == writes(doc) and comparable(shown["resource_changes"]) == comparable(doc["resource_changes"])
    assert "secret-group" in json.dumps(doc)  # not changed
    ours = published(doc | {"notes": [{"code": "c", "address": None, "message": "of repository ACME/b"}]}, "acme/site")
    assert ours["notes"][0]["message"] == "of repository ACME/b"
    assert published(doc, "secret-group/site")["resource_changes"][0]["changes"][0]["applied_from"]["where"] == "secret-group/target:main"

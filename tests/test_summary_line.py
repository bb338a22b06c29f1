"""The plan's last line counts orphans and says `deploy --prune deletes it`; an endpoint renamed
in the account (ADR 59) is an orphan --prune never deletes, and under `deploy --prune` the line
said --prune deletes it all the same (review 11, R11-2)."""

from gpuctl.render.words import summary_line


def _doc(*drifts: str | None, changes: bool = False) -> dict:
    resources = [{"address": f"endpoint.o{i}", "action": "orphan", "drift": d, "changes": []} for i, d in enumerate(drifts)]
    summary = {"create": 0, "update": 0, "replace": 0, "delete": 0, "orphan": len(drifts)}
    return {"summary": summary, "has_changes": changes, "resource_changes": resources, "observed_from": None}


def test_an_orphan_renamed_in_the_account_is_not_one_prune_deletes():
    line = summary_line(_doc("renamed-in-account"))
    assert "--prune deletes" not in line, line
    assert line == "No changes to apply, but 1 orphaned endpoint renamed in the account still running (--prune never deletes it).", line


def test_orphans_prune_deletes_and_ones_it_never_deletes_are_told_apart():
    line = summary_line(_doc(None, None, "renamed-in-account", changes=True))
    assert line == ("Plan: 0 to create, 0 to update, 0 to replace, 0 to delete. Also 2 orphaned endpoints still running "
                    "(deploy --prune deletes them) and 1 orphaned endpoint renamed in the account still running (--prune never deletes it)."), line


def test_a_plain_orphan_still_says_prune_deletes_it():
    assert summary_line(_doc(None)) == "No changes to apply, but 1 orphaned endpoint still running (deploy --prune deletes it).", summary_line(_doc(None))

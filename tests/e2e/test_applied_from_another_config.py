"""An apply of another gpu.jsonc is not "gpu.jsonc moved" (review 3, R13; ADR 37).

main's gpu.jsonc (workers 1..4) is applied by the apply-on-merge workflow; a copy of the
repository on a laptop (another branch: workers 3..7) is applied with `deploy -y`. Drift from
main's gpu.jsonc saw the account as last applied and said "changed in gpu.jsonc ... `deploy -y`
applies it", a harmless pending change, where the nightly check exists to catch exactly this.
The last-applied record now keeps, with each apply, a digest of the block it applied and where
it ran from, so drift says the values were applied from another gpu.jsonc, by whom and from where.
"""

from __future__ import annotations

import json

import jsonschema
import pytest

from tests.e2e.conftest import ROOT, echo_config, project

pytestmark = pytest.mark.e2e

SHA = "0123456789abcdef0123456789abcdef01234567"
CI = {"GITHUB_ACTIONS": "true", "GITHUB_ACTOR": "ana", "GITHUB_REPOSITORY": "octo/ml-api", "GITHUB_REF_NAME": "main", "GITHUB_SHA": SHA,
      "GIT_AUTHOR_NAME": ""}
LAPTOP = {"GITHUB_ACTIONS": "", "GITHUB_ACTOR": "", "GITHUB_REPOSITORY": "", "GITHUB_REF_NAME": "", "GITHUB_SHA": "", "GIT_AUTHOR_NAME": "",
          "USER": "lee", "LOGNAME": "lee"}
FIELDS = {"workers.min", "workers.max"}
SCHEMAS = {name: json.loads((ROOT / "schema" / f"{name}.schema.json").read_text()) for name in ("drift", "plan")}


def config(path, **scaling) -> dict:
    """The echo block, its local worker in one directory beside the checkouts: the local
    provider keeps the worker's directory in the endpoint's env, which would differ too."""
    worker = path.parent / "worker"
    worker.mkdir(exist_ok=True)
    (worker / "handler.py").write_text("")
    block = echo_config(**scaling)
    block["serverless"]["local"]["cwd"] = str(worker)
    return block


def checkout(path, **scaling):
    """A checkout of the repository: gpu.jsonc at its root, as on main and on the laptop."""
    (path / ".git").mkdir(parents=True)
    return project(path, config(path, **scaling))


def deploy(account, where, env):
    done = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=where, env=env)
    assert done.code == 0, done.err
    return done


@pytest.fixture
def applied_from_laptop(account, tmp_path):
    main = checkout(tmp_path / "main", min_workers=1, max_workers=4)
    laptop = checkout(tmp_path / "laptop", min_workers=3, max_workers=7)
    deploy(account, main, CI)
    deploy(account, laptop, LAPTOP)
    return main, laptop


def test_drift_says_the_account_was_applied_from_another_gpu_jsonc(account, applied_from_laptop):
    main, _ = applied_from_laptop
    result = account.gpu("serverless", "drift", "--provider", "local", cwd=main, env=CI)
    assert result.code == 2, result.out + result.err
    rows = [line for line in result.out.splitlines() if line.strip().startswith(tuple(FIELDS))]
    assert len(rows) == 2 and all("[applied from another gpu.jsonc]" in r for r in rows), result.out
    assert "changed in gpu.jsonc" not in result.out and "applies it" not in result.out, result.out
    assert "2 fields applied from another gpu.jsonc" in result.out, result.out
    assert "revert it through review" in result.out, result.out
    who = next(line for line in result.out.splitlines() if "last applied from another gpu.jsonc" in line)
    assert "by lee from lee@" in who and "(gpu.jsonc) at 20" in who and "no commit recorded" in who, who


def test_drift_json_names_the_other_apply(account, applied_from_laptop):
    main, _ = applied_from_laptop
    result = account.gpu("serverless", "drift", "--json", "--provider", "local", cwd=main, env=CI)
    assert result.code == 2, result.err
    doc = result.json()
    jsonschema.validate(doc, SCHEMAS["drift"])
    changes = {c["path"]: c for e in doc["drift"] for c in e["changes"]}
    assert set(changes) == FIELDS, changes
    for c in changes.values():
        assert c["origin"] == "other-config", c
        applied = c["applied_from"]
        assert applied["by"] == "lee" and applied["where"].startswith("lee@") and applied["commit"] is None and applied["config"] == "gpu.jsonc", applied
        assert "revert it through review" in c["what_to_do"], c
    assert changes["workers.max"]["config"] == 4 and changes["workers.max"]["account"] == 7
    assert doc["summary"]["origins"]["other-config"] == 2 and doc["summary"]["origins"]["config"] == 0, doc["summary"]


def test_the_markdown_meant_to_be_posted_names_no_host(account, applied_from_laptop):
    """ADR 39: `--format markdown` is an issue body, and an issue of a public repository is
    public: it says the apply ran outside GitHub Actions, never the machine's host; the text
    and --json, for the account's own user, keep the place whole."""
    main, _ = applied_from_laptop
    result = account.gpu("serverless", "drift", "--format", "markdown", "--provider", "local", cwd=main, env=CI)
    assert result.code == 2, result.err
    assert "by lee from a machine outside GitHub Actions (gpu.jsonc) at 20" in result.out and "lee@" not in result.out, result.out


def test_the_laptop_s_own_gpu_jsonc_is_in_sync_and_a_reviewed_deploy_ends_it(account, applied_from_laptop):
    main, laptop = applied_from_laptop
    assert account.gpu("serverless", "drift", "--provider", "local", cwd=laptop, env=LAPTOP).code == 0
    deploy(account, main, CI)
    result = account.gpu("serverless", "drift", "--provider", "local", cwd=main, env=CI)
    assert result.code == 0, result.out


def test_a_change_not_applied_yet_is_still_changed_in_gpu_jsonc(account, tmp_path):
    """main's next commit, not applied yet: nobody applied this block, so it is gpu.jsonc moving."""
    main = checkout(tmp_path / "main", min_workers=1, max_workers=4)
    deploy(account, main, CI)
    (main / "gpu.jsonc").write_text(json.dumps(config(main, min_workers=1, max_workers=5)))
    result = account.gpu("serverless", "drift", "--json", "--provider", "local", cwd=main, env=CI)
    assert result.code == 2, result.err
    (change,) = [c for e in result.json()["drift"] for c in e["changes"]]
    assert change["path"] == "workers.max" and change["origin"] == "config" and "applied_from" not in change, change


def test_a_revert_merged_to_the_same_branch_is_still_changed_in_gpu_jsonc(account, tmp_path):
    """1..4 applied from main, then 1..5 from main; main reverts to 1..4 and is not applied yet:
    the block was applied before, but from the place that applied the one after it."""
    main = checkout(tmp_path / "main", min_workers=1, max_workers=4)
    deploy(account, main, CI)
    (main / "gpu.jsonc").write_text(json.dumps(config(main, min_workers=1, max_workers=5)))
    deploy(account, main, CI | {"GITHUB_SHA": "f" * 40})
    (main / "gpu.jsonc").write_text(json.dumps(config(main, min_workers=1, max_workers=4)))
    result = account.gpu("serverless", "drift", "--json", "--provider", "local", cwd=main, env=CI)
    assert result.code == 2, result.err
    (change,) = [c for e in result.json()["drift"] for c in e["changes"]]
    assert change["origin"] == "config", change


def test_the_plan_labels_it_too(account, applied_from_laptop):
    """`deploy --plan` from main's gpu.jsonc shows the same origin beside each change."""
    main, _ = applied_from_laptop
    result = account.gpu("serverless", "deploy", "--plan", "--provider", "local", cwd=main, env=CI)
    assert result.code == 0, result.err
    lines = [line for line in result.out.splitlines() if "workers.m" in line]
    assert lines and all("applied from another gpu.jsonc" in line for line in lines), result.out
    planned = account.gpu("serverless", "deploy", "--plan", "--json", "--provider", "local", cwd=main, env=CI)
    doc = planned.json()
    jsonschema.validate(doc, SCHEMAS["plan"])
    changes = [c for r in doc["resource_changes"] for c in r.get("changes", ())]
    assert {c["origin"] for c in changes} == {"other-config"} and all(c["applied_from"]["by"] == "lee" for c in changes), changes

import json
from tests.e2e.conftest import project
from tests.github.conftest import WORKFLOWS, config, pull_request, push, tree
from gpuctl.github.parts import read_marker

def show(label, run, fake, before):
    new = fake.requests[before:]
    writes = [(r["method"], r["path"].split("/repos/acme/ml-api")[-1]) for r in new if r["method"] != "GET" and r["path"] != "/graphql"]
    print(f"\n=== {label}: " + "; ".join(f"{j.name}={j.status}" for j in run.jobs))
    for j in run.jobs:
        for s in j.steps:
            if s.outputs: print("   outputs", s.name, {k: v for k, v in s.outputs.items() if k != "plan_json"})
            if s.err.strip(): print("   err", s.name, s.err.strip()[:1500].replace("\n", "\n       "))
    print("   writes", writes)
    return len(fake.requests)

def test_walk(gha, fake, account, tmp_path):
    deployed = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=project(tmp_path / "deployed", config("api")))
    assert deployed.code == 0
    n = len(fake.requests)
    fake.add_pull(31, "a1" * 20)
    pr31 = tree(tmp_path / "pr31-1", config("api", max_workers=3))
    n = show("PR31 opened", gha.run(WORKFLOWS / "plan.yml", pull_request(31, "a1" * 20, pr31)), fake, n)
    fake.add_pull(31, "a2" * 20)
    pr31 = tree(tmp_path / "pr31-2", config("api", max_workers=4))
    n = show("PR31 push 2", gha.run(WORKFLOWS / "plan.yml", pull_request(31, "a2" * 20, pr31)), fake, n)
    fake.add_pull(31, "a3" * 20)
    pr31b = tree(tmp_path / "pr31-3", config("api", max_workers=4), {"README.md": "x"})
    n = show("PR31 push 3 (README)", gha.run(WORKFLOWS / "plan.yml", pull_request(31, "a3" * 20, pr31b)), fake, n)
    # PR 32 merged first: changes min_workers
    fake.add_pull(32, "c1" * 20)
    pr32 = tree(tmp_path / "pr32", config("api", min_workers=1))
    n = show("PR32 opened", gha.run(WORKFLOWS / "plan.yml", pull_request(32, "c1" * 20, pr32)), fake, n)
    fake.merge(32, "b1" * 20); fake.add_tree("b1" * 20, pr32)
    n = show("PR32 merged apply", gha.run(WORKFLOWS / "apply.yml", push("b1" * 20, pr32)), fake, n)
    # PR 31 merged WITHOUT rebase: merge commit has both
    both = tree(tmp_path / "both", config("api", min_workers=1, max_workers=4), {"README.md": "x"})
    fake.merge(31, "b2" * 20); fake.add_tree("b2" * 20, both)
    n = show("PR31 merged without replan", gha.run(WORKFLOWS / "apply.yml", push("b2" * 20, both)), fake, n)
    print("COMMENTS31", [(c["id"], read_marker(c["body"]).kind, c["body"][:600]) for c in fake.comments_on(31)])
    # rebased: reopen-ish: new head a4 planned, then merged b3
    fake.pulls[31] |= {"state": "open", "merged_at": None}
    fake.add_pull(31, "a4" * 20)
    n = show("PR31 rebased", gha.run(WORKFLOWS / "plan.yml", pull_request(31, "a4" * 20, both)), fake, n)
    fake.merge(31, "b3" * 20); fake.add_tree("b3" * 20, both)
    n = show("PR31 merged", gha.run(WORKFLOWS / "apply.yml", push("b3" * 20, both)), fake, n)
    n = show("PR31 apply re-run", gha.run(WORKFLOWS / "apply.yml", push("b3" * 20, both)), fake, n)
    fake.add_pull(34, "e1" * 20)
    readme = tree(tmp_path / "readme", config("api", min_workers=1, max_workers=4), {"README.md": "y"})
    n = show("PR34 README only", gha.run(WORKFLOWS / "plan.yml", pull_request(34, "e1" * 20, readme)), fake, n)
    fake.merge(34, "b4" * 20); fake.add_tree("b4" * 20, readme)
    n = show("PR34 merged", gha.run(WORKFLOWS / "apply.yml", push("b4" * 20, readme)), fake, n)
    for num in (31, 32, 34):
        for c in fake.comments_on(num):
            print(f"\n----- comment on #{num} ({read_marker(c['body']).kind})\n" + c["body"][:2500])

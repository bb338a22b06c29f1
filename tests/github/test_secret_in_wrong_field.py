"""A value gpu.jsonc reads from a `${VAR}` (any name, not only credential-like ones), pasted by
mistake into another field, is quoted by that field's config error ("unknown GPU type ..."). In
the GitHub jobs that error goes to the pull request's comment, the job summary, the step's log
and outputs: the plan job and the apply job protect the values of every variable the file reads
before the error is shown (ConfigError.variables, AppContext.protect_variables), as `deploy` does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpuctl.github.parts import read_marker
from tests.e2e.conftest import project
from tests.github.actions import Runner
from tests.github.conftest import WORKFLOWS, config, no_secrets, pull_request, push, tree

pytestmark = pytest.mark.e2e

DB_URL = "postgres://app:s3cr3t-canary@db.internal/app"
CANARY = "s3cr3t-canary"


def with_variable(tmp_path: Path, name: str) -> Path:
    """examples/github/NAME with its commented-out `env:` lines in use, as docs/github.md says
    to: the step gets ${DB_URL} from the repository secret DB_URL."""
    text = (WORKFLOWS / name).read_text()
    commented = "        # env:\n        #   HF_TOKEN: ${{ secrets.HF_TOKEN }}\n"
    assert commented in text
    path = tmp_path / "workflows" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text.replace(commented, "        env:\n          DB_URL: ${{ secrets.DB_URL }}\n"))
    return path


def everything_shown(run, fake) -> str:
    """What the run showed anyone: every log, output and job summary, every file it left outside
    the checkout (which holds the user's own gpu.jsonc), every request body sent to GitHub, every
    comment and every artifact file."""
    logs = [s.out + s.err + json.dumps(s.outputs) for j in run.jobs for s in j.steps] + [j.summary for j in run.jobs]
    files = [p.read_bytes().decode(errors="replace") for p in run.directory.rglob("*") if p.is_file() and "workspace" not in p.relative_to(run.directory).parts]
    sent = [json.dumps(r["body"]) for r in fake.requests] + [c["body"] for c in fake.comments.values()]
    artifacts = [data.decode(errors="replace") for a in fake.artifacts for data in a["files"].values()]
    return "\n".join(logs + files + sent + artifacts)


@pytest.mark.parametrize(("field", "pasted"), [("gpu_type", DB_URL), ("template", DB_URL), ("name", DB_URL + "\n")])
def test_a_variable_value_pasted_into_a_wrong_field_is_not_echoed_by_the_plan_or_the_apply_job(gha: Runner, fake, account, tmp_path, field, pasted):
    gha.secrets = gha.secrets | {"DB_URL": DB_URL}
    gpu = config("api", env={"DATABASE_URL": "${DB_URL}"})
    gpu["serverless"][field] = pasted
    checkout = tree(tmp_path / "pr", gpu)

    fake.add_pull(31, "a1" * 20)
    planned = gha.run(with_variable(tmp_path, "plan.yml"), pull_request(31, "a1" * 20, checkout))
    job = planned.job("plan")
    assert job.status == "failure", job.steps
    (comment,) = [c for c in fake.comments_on(31) if read_marker(c["body"]).kind == "plan"]
    for shown in (comment["body"], job.summary, job.step("run").err):
        assert f"serverless.{field}" in shown, shown  # the place is still named
    assert job.step("gpuctl").outputs["exit_code"] == "1"
    assert CANARY not in everything_shown(planned, fake)

    fake.merge(31, "b1" * 20)
    applied = gha.run(with_variable(tmp_path, "apply.yml"), push("b1" * 20, checkout))
    job = applied.job("apply")
    assert job.status == "failure", job.steps
    assert job.step("gpuctl").outputs["exit_code"] == "1"
    (comment,) = [c for c in fake.comments_on(31) if read_marker(c["body"]).kind == "apply"]
    for shown in (comment["body"], job.summary, job.step("run").err):
        assert f"serverless.{field}" in shown, shown
    assert CANARY not in everything_shown(applied, fake)
    assert account.endpoints() == []
    no_secrets(planned, fake)
    no_secrets(applied, fake)


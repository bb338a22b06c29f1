"""A pull request cannot confirm a guess of an account secret: a literal written over a value
gpuctl applied from a `${VAR}` plans the same write whether or not the guess is right."""

import json

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

SECRET = "hf_first_AAAA"


def _plan_with_literal(account, proj, literal: str):
    config = json.loads((proj / "gpu.jsonc").read_text())
    config["serverless"]["runpod"]["env"]["HF_TOKEN"] = literal
    (proj / "gpu.jsonc").write_text(json.dumps(config))
    return account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", env={"HF_TOKEN": ""}, cwd=proj)


def test_a_right_guess_and_a_wrong_one_plan_the_same_write(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(env={"HF_TOKEN": "${HF_TOKEN}"}), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", env={"HF_TOKEN": SECRET}, cwd=proj).code == 0
    right = _plan_with_literal(account, proj, SECRET)
    wrong = _plan_with_literal(account, proj, "hf_wrong_BBBB")
    assert right.code == wrong.code == 2, right.err
    assert right.out.replace(SECRET, "GUESS") == wrong.out.replace("hf_wrong_BBBB", "GUESS")
    assert '~ env.HF_TOKEN' in right.out and "(sensitive)" in right.out


def test_the_literal_written_once_is_in_sync_after(account, tmp_path):
    proj = project(tmp_path / "p", echo_config(env={"HF_TOKEN": "${HF_TOKEN}"}), {"handler.py": ECHO_HANDLER})
    assert account.gpu("serverless", "deploy", "-y", env={"HF_TOKEN": SECRET}, cwd=proj).code == 0
    _plan_with_literal(account, proj, SECRET)
    applied = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert applied.code == 0, applied.err
    again = account.gpu("serverless", "deploy", "--plan", "--detailed-exitcode", cwd=proj)
    assert again.code == 0, again.out + again.err

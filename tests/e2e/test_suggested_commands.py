"""The commands gpuctl suggests act on what the report was made of (review 5, R5-6) and are
quoted for a shell (R5-3): a project whose gpu.jsonc is services/asr/gpu.jsonc, beside another
project's gpu.jsonc at the root, as docs/github.md lays a repository out. A bare `gpu serverless
pull --write`, run from the root as a person copies it, rewrote the root's gpu.jsonc; each
suggestion now carries the run's --config and --provider, and following it literally (split
as a shell splits it) does what it says."""

from __future__ import annotations

import json
import re
import shlex

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

pytestmark = pytest.mark.e2e

ASR = "services/asr/gpu.jsonc"
FLAGS = ["--config", ASR, "--provider", "local"]
HOSTILE = "a|`x` b; echo pwned"  # an endpoint name anyone who can create an endpoint may choose


def repository(account, tmp_path):
    """The root's gpu.jsonc (project "root", never deployed) and services/asr/gpu.jsonc,
    deployed from the root with --config; then the console raises asr's max workers."""
    root = project(tmp_path / "repo", echo_config("root", project_id="root"), {"handler.py": ECHO_HANDLER})
    project(root / "services" / "asr", echo_config("asr", project_id="asr"), {"handler.py": ECHO_HANDLER})
    done = account.gpu("serverless", "deploy", "-y", *FLAGS, cwd=root)
    assert done.code == 0, done.err
    (asr,) = account.endpoints()
    assert account.server.http.patch(f"/v2/serverless/{asr['id']}", json={"workers": {"min": 0, "max": 5, "idleTimeout": 5}}).status_code == 200
    return root, asr


def orphan(account, asr: dict, name: str = HOSTILE) -> dict:
    """An endpoint with asr's marker and no block: an orphan, named by whoever made it."""
    body = {"name": name, "templateId": asr["templateId"], "gpuTypeIds": asr.get("gpuTypeIds"), "workersMin": 0, "workersMax": 1,
            "env": {"GPUCTL_PROJECT": "asr"}} if "templateId" in asr else None
    body = body or {"name": name, "type": "QUEUE", "scaling": {"type": "QUEUE_DELAY", "queueDelay": 4}, "image": "ghcr.io/example/echo-worker:0.1.0",
                    "gpu": {"pools": ["ADA_24"], "count": 1}, "workers": {"min": 0, "max": 1, "idleTimeout": 5}, "env": {"GPUCTL_PROJECT": "asr"}}
    made = account.server.http.post("/v2/serverless", json=body)
    assert made.status_code == 201, made.text
    return made.json()


def commands(text: str) -> list[list[str]]:
    """Every `gpu ...` command in backticks, as a shell splits it."""
    return [shlex.split(c) for c in re.findall(r"`(gpu [^`]*)`", text)]


def test_drift_advice_carries_the_config_and_provider_and_following_it_pulls_into_that_file(account, tmp_path):
    root, asr = repository(account, tmp_path)
    stray = orphan(account, asr)
    before_root = (root / "gpu.jsonc").read_text()
    report = account.gpu("serverless", "drift", *FLAGS, cwd=root)
    assert report.code == 2, report.err
    said = commands(report.out)
    assert said and all(c[-4:] == FLAGS for c in said), report.out
    assert ["gpu", "serverless", "pull", "--write", *FLAGS] in said and ["gpu", "serverless", "deploy", "-y", *FLAGS] in said
    assert ["gpu", "serverless", "import", stray["id"], "--write", *FLAGS] in said  # the orphan by its id, never its name
    assert not any(HOSTILE in word for c in said for word in c)
    markdown = account.gpu("serverless", "drift", "--format", "markdown", *FLAGS, cwd=root)
    assert f"`gpu serverless pull --write {shlex.join(FLAGS)}`" in markdown.out, markdown.out

    pulled = account.gpu(*["gpu", "serverless", "pull", "--write", *FLAGS][1:], cwd=root)  # as the report says it, from the root
    assert pulled.code == 0, pulled.err
    assert json.loads((root / ASR).read_text())["serverless"]["scaling"]["max_workers"] == 5  # the file the report read
    assert (root / "gpu.jsonc").read_text() == before_root  # not the root's, another project


def test_pull_says_how_to_write_and_check_with_the_run_s_options(account, tmp_path):
    root, asr = repository(account, tmp_path)
    orphan(account, asr)
    shown = account.gpu("serverless", "pull", *FLAGS, cwd=root)
    assert shown.code == 0, shown.err
    assert f"`gpu serverless pull --write {shlex.join(FLAGS)}` applies this to {ASR}" in shown.err, shown.err
    (imports,) = [c for c in commands(shown.err) if c[2] == "import"]
    assert imports[3] != HOSTILE and imports[-4:] == FLAGS, shown.err  # by id: the name is the account's
    written = account.gpu("serverless", "pull", "--write", *FLAGS, cwd=root)
    assert written.code == 0, written.err
    assert f"check it with `gpu serverless deploy --plan {shlex.join(FLAGS)}`" in written.err, written.err
    check = account.gpu(*commands(written.err)[-1][1:], cwd=root)
    assert "asr" in check.out and "root" not in check.out.split("\n", 1)[0], check.out


def test_rollback_says_how_to_pull_with_the_run_s_options(account, tmp_path):
    root, _asr = repository(account, tmp_path)
    config = echo_config("asr", project_id="asr")
    config["serverless"]["runpod"]["image_name"] = "ghcr.io/example/echo-worker:0.2.0"
    project(root / "services" / "asr", config)
    assert account.gpu("serverless", "deploy", "-y", *FLAGS, cwd=root).code == 0  # version 2: another image
    done = account.gpu("serverless", "rollback", "asr", "--to", "1", "-y", *FLAGS, cwd=root)
    assert done.code == 0, done.err
    (line,) = [x for x in done.out.splitlines() if x.startswith("To make gpu.jsonc match the account, run: ")]
    words = shlex.split(line.split("run: ", 1)[1])
    assert words[:5] == ["gpu", "serverless", "pull", "asr", "--write"] and words[-4:] == FLAGS, line

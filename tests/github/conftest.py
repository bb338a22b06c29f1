"""Fixtures for the GitHub integration: a fake GitHub REST API on loopback, an isolated local
provider as the RunPod account (tests/e2e's), and a runner that plays a workflow from
examples/github/ against both, with the gpuctl action forced to `provider: local`."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.conftest import account  # noqa: F401  (the local provider fixture)
from tests.github.actions import ROOT, Event, Runner
from tests.github.fake_github import FakeGitHub, serve

TOKEN = "ghs_canaryTOKEN0123456789abcdefGHIJ"
RUNPOD_KEY = "rpa_CANARYKEY0123456789abcdefghijklmnop"
WORKFLOWS = ROOT / "examples" / "github"
REPO = "acme/ml-api"
FORK = "mallory/ml-api"


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    github = FakeGitHub(token=TOKEN, repository=REPO)
    server = serve(github)
    yield github
    server.shutdown()
    server.server_close()


@pytest.fixture
def gha(fake, account, tmp_path) -> Runner:  # noqa: F811
    """Runs workflows as GitHub would, with the RunPod key and GitHub token as secrets; the
    provider comes from the action's input, so the environment does not choose it."""
    env = {k: v for k, v in account.env.items() if k != "GPU_PROVIDER"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    return Runner(fake, tmp_path / "actions", env, {"GITHUB_TOKEN": TOKEN, "RUNPOD_API_KEY": RUNPOD_KEY}, {"provider": "local"})


def config(*names: str, project_id: str = "ml-api", max_workers: int = 2, min_workers: int = 0, env: dict[str, str] | None = None) -> dict:
    """A gpu.jsonc with one custom-image endpoint per name; no local.command, so its plan is
    the same in every checkout. `env` adds to each endpoint's env."""
    blocks = [{"name": name, "template": "custom-image", "gpu_type": "NVIDIA GeForce RTX 4090",
               "scaling": {"min_workers": min_workers, "max_workers": max_workers, "idle_timeout": 5},
               "runpod": {"image_name": "ghcr.io/acme/worker:1.0.0", "env": {"GREETING": "hello"} | (env or {})}} for name in names]
    return {"project_id": project_id, "serverless": blocks[0] if len(blocks) == 1 else blocks}


def tree(directory: Path, gpu: dict, files: dict[str, str] | None = None) -> Path:
    """A checkout: gpu.jsonc at the repository root, plus `files`."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "gpu.jsonc").write_text(json.dumps(gpu, indent=2))
    for name, content in (files or {}).items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(content)
    return directory


TWO_CONFIGS = "gpu.jsonc\nservices/asr/gpu.jsonc"  # the action's `config` input for `two_projects`


def two_projects(directory: Path) -> Path:
    """A checkout of two configs of two projects: endpoint api in gpu.jsonc, endpoint asr in
    services/asr/gpu.jsonc."""
    return tree(directory, config("api"), {"services/asr/gpu.jsonc": json.dumps(config("asr", project_id="asr"))})


def refused_first_comment(job) -> tuple[str, str]:
    """A job over `two_projects` whose first config's comment GitHub refused: the step failed,
    exit_code is its result (1) and has_changes stays true. The summary lines of the two configs."""
    assert job.status == "failure"
    outputs = job.step("gpuctl").outputs
    assert (outputs["exit_code"], outputs["has_changes"]) == ("1", "true"), outputs
    first, second = outputs["summary"].splitlines()
    return first, second


def pull_request(number: int, head_sha: str, checkout: Path, fork: bool = False, head: Path | None = None) -> Event:
    head_repo = FORK if fork else REPO
    payload = {"action": "synchronize", "number": number, "repository": {"full_name": REPO},
               "pull_request": {"number": number, "head": {"sha": head_sha, "ref": "feature", "repo": {"full_name": head_repo}},
                                "base": {"ref": "main", "repo": {"full_name": REPO}}}}
    return Event("pull_request", payload, sha="f" * 40, tree=checkout, ref=f"refs/pull/{number}/merge", head_repository_id=99 if fork else 1,
                 head_tree=head)


def push(sha: str, checkout: Path) -> Event:
    return Event("push", {"ref": "refs/heads/main", "after": sha, "repository": {"full_name": REPO}}, sha=sha, tree=checkout)


def dispatch(sha: str, checkout: Path, **inputs) -> Event:
    return Event("workflow_dispatch", {"inputs": inputs, "ref": "refs/heads/main", "repository": {"full_name": REPO}, "sender": {"login": "ana"}},
                 sha=sha, tree=checkout)


def schedule(checkout: Path) -> Event:
    return Event("schedule", {"schedule": "17 6 * * *", "repository": {"full_name": REPO}}, sha="e" * 40, tree=checkout)


def workflow_run(run_id: int, head_sha: str, checkout: Path) -> Event:
    payload = {"action": "completed", "repository": {"full_name": REPO},
               "workflow_run": {"id": run_id, "event": "pull_request", "conclusion": "success", "head_sha": head_sha, "head_branch": "feature",
                                "head_repository": {"full_name": FORK}, "pull_requests": []}}
    return Event("workflow_run", payload, sha="d" * 40, tree=checkout)


def no_host(*texts: str) -> None:
    """This machine's host name (whole, or its first label) is in none of `texts`: what gpuctl
    writes to GitHub names no machine outside GitHub Actions (ADR 39)."""
    import re
    import socket

    host = socket.gethostname()
    named = re.compile(rf"(?<![\w.-])({re.escape(host)}|{re.escape(host.split('.')[0])})(?![\w-])")
    for text in texts:
        found = named.search(text)
        assert found is None, text[max(0, found.start() - 200):found.end() + 200]


def no_secrets(run, fake: FakeGitHub) -> None:
    """Neither the GitHub token nor the RunPod key is in any log, output, summary or file of the
    run, nor in anything sent to GitHub."""
    sent = json.dumps([r["body"] for r in fake.requests])
    for secret in (TOKEN, RUNPOD_KEY):
        assert secret not in run.texts()
        assert secret not in sent

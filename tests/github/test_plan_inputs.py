"""The apply's "newer commit" check compares every file a config's plan reads (gpu.jsonc, what
`template: auto` reads beside it, the policy file) with the branch's head, by git blob id, in
a few calls: gpuctl.github.inputs and reviewed.superseded against the fake GitHub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gpuctl.config import templates
from gpuctl.config.shape import ServerlessBlock
from gpuctl.errors import GpuctlError
from gpuctl.github import inputs
from gpuctl.github.client import GitHub
from gpuctl.github.reviewed import superseded
from tests.github.conftest import REPO, TOKEN

RUN, HEAD = "b1" * 20, "b2" * 20
AUTO = json.dumps({"project_id": "ml-api", "serverless": {"name": "api", "gpu_type": "NVIDIA GeForce RTX 4090"}})


def checkout(directory: Path, files: dict[str, str]) -> Path:
    for name, content in files.items():
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text(content)
    return directory


@pytest.fixture
def gh(fake):
    client = GitHub(fake.url, TOKEN, REPO)
    fake.branches["main"] = HEAD
    yield client
    client.close()


def ask(fake, gh, root: Path, key: str = "gpu.jsonc", auto: bool = True, policy: str | None = None) -> tuple[str | None, list[str]]:
    """superseded's answer for the checkout `root` (commit RUN) with main at HEAD, and the calls it made."""
    before = len(fake.requests)
    why = superseded(gh, "refs/heads/main", RUN, inputs.of(root, key, auto, policy))
    return why, [r["path"].removeprefix(f"/repos/{REPO}") for r in fake.requests[before:]]


def test_a_newer_commit_that_changed_only_what_the_plan_does_not_read_is_no_reason(fake, gh, tmp_path):
    files = {"gpu.jsonc": AUTO, "requirements.txt": "vllm\n", "src/handler.py": "x = 1\n", "README.md": "old"}
    root = checkout(tmp_path / "run", files)
    fake.add_tree(HEAD, checkout(tmp_path / "head", files | {"README.md": "new", "docs/guide.md": "new", "src/util.py": "y = 2\n"}))
    why, calls = ask(fake, gh, root)
    assert why is None
    assert calls == ["/git/ref/heads/main", "/contents/", "/contents/src"]  # workflows/ is on neither side: not asked


@pytest.mark.parametrize(("head", "said"), [
    ({"requirements.txt": "faster-whisper\n"}, "requirements.txt, which template auto reads for gpu.jsonc, was changed"),
    ({"workflows/flow.json": '{"1": {"class_type": "KSampler"}}'}, "workflows/flow.json, which template auto reads for gpu.jsonc, was added"),
    ({"Dockerfile": None}, "Dockerfile, which template auto reads for gpu.jsonc, was deleted"),
    ({"src/handler.py": "import runpod\nrunpod.serverless.start({})\n"}, "src/handler.py, which template auto reads for gpu.jsonc, was changed"),
    ({"custom_nodes/a/__init__.py": ""}, "custom_nodes, which template auto reads for gpu.jsonc, was added"),
])
def test_a_newer_commit_that_changed_a_file_template_auto_reads_is_named(fake, gh, tmp_path, head, said):
    files = {"gpu.jsonc": AUTO, "requirements.txt": "vllm\n", "Dockerfile": "FROM x\n", "src/handler.py": "x = 1\n"}
    root = checkout(tmp_path / "run", files)
    changed = {k: v for k, v in (files | head).items() if v is not None}
    fake.add_tree(HEAD, checkout(tmp_path / "head", changed))
    why, _ = ask(fake, gh, root)
    assert why == (f"{said} on main after this run's commit {RUN[:12]} (main is at {HEAD[:12]} now): "
                   "applying this run's plan of gpu.jsonc would put the account back to an older one")


def test_without_template_auto_the_files_beside_the_config_are_not_inputs(fake, gh, tmp_path):
    files = {"gpu.jsonc": AUTO, "requirements.txt": "vllm\n"}
    root = checkout(tmp_path / "run", files)
    fake.add_tree(HEAD, checkout(tmp_path / "head", files | {"requirements.txt": "faster-whisper\n", "Dockerfile": "FROM y\n"}))
    why, calls = ask(fake, gh, root, auto=False)
    assert why is None
    assert calls == ["/git/ref/heads/main", "/contents/"]


def test_the_config_of_a_project_in_a_subdirectory_and_a_policy_file_at_the_root(fake, gh, tmp_path):
    files = {"services/asr/gpu.jsonc": AUTO, "services/asr/requirements.txt": "faster-whisper\n", "platform.jsonc": "{}", "gpu.jsonc": AUTO}
    root = checkout(tmp_path / "run", files)
    fake.add_tree(HEAD, checkout(tmp_path / "head", files | {"gpu.jsonc": "{}", "services/other/gpu.jsonc": "{}"}))
    why, calls = ask(fake, gh, root, key="services/asr/gpu.jsonc", policy="platform.jsonc")
    assert why is None  # another project's gpu.jsonc changed, not this one's inputs
    assert sorted(calls) == ["/contents/", "/contents/services/asr", "/git/ref/heads/main"]

    fake.add_tree(HEAD, checkout(tmp_path / "head2", files | {"platform.jsonc": '{"forbid_delete": true}'}))
    why, _ = ask(fake, gh, root, key="services/asr/gpu.jsonc", policy="platform.jsonc")
    assert why is not None and why.startswith("platform.jsonc, the policy file services/asr/gpu.jsonc is planned with, was changed on main")

    fake.add_tree(HEAD, checkout(tmp_path / "head3", files | {"services/asr/gpu.jsonc": "{}", "services/asr/requirements.txt": "vllm\n"}))
    why, _ = ask(fake, gh, root, key="services/asr/gpu.jsonc", policy="platform.jsonc")
    assert why == (f"services/asr/gpu.jsonc was changed on main after this run's commit {RUN[:12]} (main is at {HEAD[:12]} now): "
                   "applying this run's services/asr/gpu.jsonc would put the account back to an older one")


def test_a_directory_github_lists_only_in_part_is_read_from_the_trees_api(fake, gh, tmp_path):
    """The contents API lists 1,000 entries of a directory at most: a workflow JSON added past
    them is found through the recursive trees API; a repository too large for that is an
    error, never taken for unchanged."""
    files = {"gpu.jsonc": AUTO} | {f"data/{i:04}.txt": "" for i in range(3)} | {f"{i:04}.txt": "" for i in range(1000)}
    root = checkout(tmp_path / "run", files)
    fake.add_tree(HEAD, checkout(tmp_path / "head", files | {"zz.json": '{"1": {"class_type": "KSampler"}}'}))
    why, calls = ask(fake, gh, root)
    assert why is not None and why.startswith("zz.json, which template auto reads for gpu.jsonc, was added on main")
    assert calls == ["/git/ref/heads/main", "/contents/", f"/git/trees/{HEAD}"]

    fake.tree_truncated = True
    with pytest.raises(GpuctlError) as raised:
        ask(fake, gh, root)
    assert "cannot tell whether a newer commit changed what gpu.jsonc's plan reads" in raised.value.summary


def test_every_file_template_auto_looks_at_is_one_the_check_compares(tmp_path, monkeypatch):
    """templates.reads is the list the apply compares: detect looks at nothing else (each look
    goes through templates._look, which raises for a path reads does not name)."""
    looked: list[str] = []
    real = templates._look
    monkeypatch.setattr(templates, "_look", lambda project, relative: looked.append(relative) or real(project, relative))
    project = checkout(tmp_path, {"gpu.jsonc": AUTO, "a.json": "{}", "workflows/b.json": "{}", "src/handler.py": "", "custom_nodes/x": ""})
    templates.detect(ServerlessBlock(name="api"), project)
    assert {"Dockerfile", "custom_nodes", "a.json", "workflows/b.json", "src/handler.py", "requirements.txt"} <= set(looked)
    assert all(templates.reads(path) for path in looked)
    with pytest.raises(AssertionError):
        real(project, "README.md")


def test_a_symlink_is_compared_as_the_link_git_keeps(fake, gh, tmp_path):
    """A requirements.txt that links to a shared file is, in git, the link itself (its target's
    path as a blob): the checkout's link compares equal to the branch's, not to its content."""
    import os

    root = checkout(tmp_path / "run", {"gpu.jsonc": AUTO, "shared/requirements.txt": "vllm\n"})
    os.symlink("shared/requirements.txt", root / "requirements.txt")
    fake.add_tree(HEAD, checkout(tmp_path / "head", {"gpu.jsonc": AUTO, "shared/requirements.txt": "vllm\n"}))
    fake.trees[HEAD]["requirements.txt"] = b"shared/requirements.txt"  # the blob git stores for the link
    assert ask(fake, gh, root)[0] is None
    fake.trees[HEAD]["requirements.txt"] = b"other/requirements.txt"
    assert "requirements.txt, which template auto reads for gpu.jsonc, was changed" in ask(fake, gh, root)[0]

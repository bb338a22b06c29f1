"""Every configuration on the seed page (../shared/seed/serverless-endpoints.txt), verbatim from
examples/seed/, planned against an empty account and deployed to the local provider by the real
CLI (issue 8, item 2). The directory name becomes the endpoint name, as for a user who saved
the snippet as gpu.jsonc in a project directory."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import pyjson5

from tests.e2e.conftest import ROOT
from tests.support.hub import TINY_FILES, serve_hub

SEED = ROOT / "examples" / "seed"
EMPTY = ROOT / "examples" / "empty-account.json"
RECIPES = sorted(p.name for p in SEED.iterdir() if (p / "gpu.jsonc").is_file())
FRAGMENTS = sorted(p.name for p in (SEED / "fragments").glob("*.jsonc"))
PLAN_FORMATS = ("text", "markdown", "json")


def copy(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(SEED / name, target)
    return target


def models_of(config: dict) -> set[str]:
    """The Hugging Face repos a recipe's pre-warm downloads (its MODEL_NAME), for the fake hub."""
    env = config["serverless"].get("runpod", {}).get("env", {})
    return {env["MODEL_NAME"]} if config["serverless"].get("prewarm", {}).get("enabled") and "MODEL_NAME" in env else set()


def test_every_seed_configuration_is_here():
    """The seed page has eight full configurations and two fragments (FlashBoot, cached models)."""
    assert len(RECIPES) == 8, RECIPES
    assert FRAGMENTS == ["cached-models.jsonc", "flashboot.jsonc"]


@pytest.mark.e2e
@pytest.mark.parametrize("name", RECIPES)
def test_recipe_plans_against_an_empty_account(account, tmp_path, name):
    proj = copy(name, tmp_path)
    result = account.gpu("serverless", "deploy", "--plan", "--observed", str(EMPTY), "--json", cwd=proj)
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["summary"]["create"] >= 1 and doc["has_changes"]
    assert [r["name"] for r in doc["resource_changes"] if r["kind"] == "endpoint"] == [name]


@pytest.mark.e2e
@pytest.mark.parametrize("name", RECIPES)
def test_recipe_deploys_to_the_local_provider_and_converges(account, tmp_path, name):
    proj = copy(name, tmp_path)
    config = pyjson5.decode((proj / "gpu.jsonc").read_text())
    with serve_hub({repo: TINY_FILES for repo in models_of(config)}) as hub:
        result = account.gpu("serverless", "deploy", "-y", "--provider", "local", "--json", cwd=proj, env={"HF_ENDPOINT": hub.url}, timeout=180)
    assert result.code == 0, result.err
    doc = result.json()
    assert doc["applied"] and [e["name"] for e in doc["endpoints"]] == [name]
    assert name in [e["name"] for e in account.endpoints()]
    if models_of(config):
        assert [w["mode"] for w in doc["prewarm"]] == ["cpu"], doc["prewarm"]
        assert any(r.startswith("/api/models/") for r in hub.requests), "the pre-warm never asked the hub"
    again = account.gpu("serverless", "deploy", "--plan", "--provider", "local", "--detailed-exitcode", cwd=proj)
    assert again.code == 0, again.out + again.err


@pytest.mark.e2e
@pytest.mark.parametrize("name", ["minimal-configuration", "gpu-fallback"])
@pytest.mark.parametrize("fmt", PLAN_FORMATS)
def test_vllm_without_a_model_is_accepted_with_a_warning_naming_the_default(account, tmp_path, name, fmt):
    proj = copy(name, tmp_path)
    result = account.gpu("serverless", "deploy", "--plan", "--observed", str(EMPTY), "--format", fmt, cwd=proj)
    assert result.code == 0, result.err
    if fmt == "json":
        warning = next(w for w in result.json()["warnings"] if w["code"] == "vllm-default-model")
        text = warning["message"]
    else:
        text = result.out
    assert "facebook/opt-125m" in text and "MODEL_NAME" in text


@pytest.mark.e2e
def test_the_gpu_priority_note_is_said_once_as_a_note(account, tmp_path):
    """Two endpoints with fallbacks: one note naming both, and no warning about it."""
    proj = copy("gpu-fallback", tmp_path)
    config = pyjson5.decode((proj / "gpu.jsonc").read_text())
    second = {**config["serverless"], "name": "second"}
    (proj / "gpu.jsonc").write_text(json.dumps({"serverless": [{**config["serverless"], "name": "first"}, second]}))
    doc = account.gpu("serverless", "deploy", "--plan", "--observed", str(EMPTY), "--json", cwd=proj).json()
    notes = [n for n in doc["notes"] if n["code"] == "gpu-priority"]
    assert len(notes) == 1 and "endpoint.first" in notes[0]["message"] and "endpoint.second" in notes[0]["message"]
    assert not [w for w in doc["warnings"] if w["code"] == "gpu-priority"]
    text = account.gpu("serverless", "deploy", "--plan", "--observed", str(EMPTY), cwd=proj).out
    assert text.count("cannot be enforced") == 1 and "Notes:" in text


@pytest.mark.e2e
@pytest.mark.parametrize("fragment", FRAGMENTS)
def test_fragments_work_merged_into_the_minimal_configuration(account, tmp_path, fragment):
    """FlashBoot and cached models are shown as fragments of a serverless block; merged into the
    Minimal Configuration they plan and deploy."""
    proj = copy("minimal-configuration", tmp_path)
    base = pyjson5.decode((proj / "gpu.jsonc").read_text())
    extra = pyjson5.decode((SEED / "fragments" / fragment).read_text())["serverless"]
    base["serverless"]["runpod"] = {**base["serverless"].get("runpod", {}), **extra["runpod"]}
    (proj / "gpu.jsonc").write_text(json.dumps(base))
    plan = account.gpu("serverless", "deploy", "--plan", "--observed", str(EMPTY), "--json", cwd=proj)
    assert plan.code == 0, plan.err
    desired = next(r for r in plan.json()["resource_changes"] if r["kind"] == "endpoint")["desired"]
    if "flashboot" in extra["runpod"]:
        assert desired["flashboot"] == "FLASHBOOT"
    if "cached_model" in extra["runpod"]:
        assert desired["env"]["MODEL_NAME"] == "meta-llama/Llama-3.1-8B-Instruct"
        assert not [w for w in plan.json()["warnings"] if w["code"] == "vllm-default-model"]
    result = account.gpu("serverless", "deploy", "-y", "--provider", "local", cwd=proj)
    assert result.code == 0, result.err


@pytest.mark.e2e
def test_deploy_from_flags_alone_names_the_endpoint_after_the_directory(account, tmp_path):
    """The seed: "Specify a template in your config or via the --template flag"."""
    proj = tmp_path / "transcriber"
    proj.mkdir()
    flags = ("--template", "whisper", "--gpu-type", "NVIDIA L4")
    plan = account.gpu("serverless", "deploy", "--plan", "--observed", str(EMPTY), "--json", *flags, cwd=proj)
    assert plan.code == 0, plan.err
    assert [r["name"] for r in plan.json()["resource_changes"]] == ["transcriber"]
    result = account.gpu("serverless", "deploy", "-y", "--provider", "local", *flags, cwd=proj)
    assert result.code == 0, result.err
    live = next(e for e in account.endpoints() if e["name"] == "transcriber")
    assert live["env"]["GPUCTL_PROJECT"] == "transcriber" and "whisper" in live["image"]
    assert not (proj / "gpu.jsonc").exists()


@pytest.mark.e2e
def test_flags_alone_without_a_gpu_type_says_which_flag_is_missing(account, tmp_path):
    proj = tmp_path / "transcriber"
    proj.mkdir()
    result = account.gpu("serverless", "deploy", "--plan", "--observed", str(EMPTY), "--template", "whisper", cwd=proj)
    assert result.code == 1
    assert "gpu_type" in result.err and "command line" in result.err and "Traceback" not in result.err
    assert "hint: pass --gpu-type" in result.err, result.err  # there is no gpu.jsonc to set gpu_type in


@pytest.mark.e2e
def test_without_gpu_jsonc_or_template_the_error_names_the_file(account, tmp_path):
    result = account.gpu("serverless", "deploy", "--plan", "--observed", str(EMPTY), cwd=tmp_path)
    assert result.code == 1 and "gpu.jsonc" in result.err and "does not exist" in result.err


def _serverless_commands():
    import click

    from gpuctl.cli import cli

    def walk(command, path):
        if isinstance(command, click.Group):
            ctx = click.Context(command, info_name=path[-1])
            for name in command.list_commands(ctx):
                yield from walk(command.get_command(ctx, name), [*path, name])
        else:
            yield path, command
    root = cli.get_command(click.Context(cli), "serverless")
    return list(walk(root, ["serverless"]))


@pytest.mark.parametrize("path, command", _serverless_commands(), ids=lambda v: " ".join(v) if isinstance(v, list) else "")
def test_every_serverless_command_takes_json(path, command):
    """The seed: "All serverless commands support --json for machine-readable output"."""
    assert any("--json" in p.opts for p in command.params), f"gpu {' '.join(path)} has no --json"


@pytest.mark.e2e
def test_snapshot_json_prints_the_snapshot_it_prints_anyway(account, tmp_path):
    plain = account.gpu("serverless", "snapshot", cwd=tmp_path)
    given = account.gpu("serverless", "snapshot", "--json", cwd=tmp_path)
    assert plain.code == given.code == 0, given.err
    strip = lambda doc: {k: v for k, v in doc.items() if k not in ("observed_at", "taken_at")}
    assert strip(given.json()) == strip(plain.json())


@pytest.mark.e2e
def test_flags_alone_are_told_to_create_gpu_jsonc_to_keep_the_project(account, tmp_path):
    """Review 3, L7: a deploy from flags alone was told to `add "project_id": "transcriber" to
    gpu.jsonc` in a directory that has none. It is told to create one, with what to put in it."""
    proj = tmp_path / "transcriber"
    proj.mkdir()
    plan = account.gpu("serverless", "deploy", "--plan", "--observed", str(EMPTY), "--template", "whisper", "--gpu-type", "NVIDIA L4", cwd=proj)
    assert plan.code == 0, plan.err
    assert "add \"project_id\"" not in plan.out, plan.out
    assert 'create gpu.jsonc with "project_id": "transcriber"' in plan.out, plan.out


@pytest.mark.e2e
def test_a_block_without_local_command_is_warned_about_on_the_local_provider_only(account, tmp_path):
    """The local provider runs a worker from `local.command`; a block without one (every seed
    recipe) deployed there got no word of it, and its first job failed at once. The plan now
    says so, for the local provider only (RunPod runs the image)."""
    from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

    proj = copy("comfyui-flux", tmp_path)
    local = account.gpu("serverless", "deploy", "--plan", "--provider", "local", "--format", "json", cwd=proj)
    assert local.code == 0, local.err
    (warning,) = [w for w in local.json()["warnings"] if w["code"] == "local-no-command"]
    assert warning["address"] == "endpoint.comfyui-flux"
    assert "local.command" in warning["message"] and "fail" in warning["message"]
    text = account.gpu("serverless", "deploy", "--plan", "--provider", "local", cwd=proj)
    assert warning["message"] in text.out
    remote = account.gpu("serverless", "deploy", "--plan", "--observed", str(EMPTY), "--provider", "runpod", "--format", "json", cwd=proj)
    assert remote.code == 0, remote.err
    assert "local-no-command" not in [w["code"] for w in remote.json()["warnings"]]
    echo = project(tmp_path / "echo", echo_config(), {"handler.py": ECHO_HANDLER})
    with_command = account.gpu("serverless", "deploy", "--plan", "--provider", "local", "--format", "json", cwd=echo)
    assert with_command.code == 0 and "local-no-command" not in [w["code"] for w in with_command.json()["warnings"]]

"""R10 for planning: secret env values (from ${VAR}, from RunPod secret references, and values
already live on the account) never appear in any rendering, also under --debug and on errors."""

from __future__ import annotations

import json
import re
import shutil

import pytest

from tests.conftest import FIXTURES

CANARY = re.compile(r"\w*canary\w*")
CASES = [p for p in sorted((FIXTURES / "plans").iterdir()) if CANARY.search((p / "observed.json").read_text() + (p / "case.json").read_text())]


def test_there_are_cases_with_canaries():
    assert len(CASES) >= 3


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
@pytest.mark.parametrize("fmt", ["text", "json", "markdown"])
def test_canaries_never_printed(cli, case, fmt):
    spec = json.loads((case / "case.json").read_text())
    planted = set(CANARY.findall((case / "observed.json").read_text() + json.dumps(spec["env"])))
    for extra in ([], ["--debug"]):
        result = cli(["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod", "--format", fmt, *extra, *spec["args"]], case, spec["env"])
        for canary in planted:
            assert canary not in result.out and canary not in result.err


def test_canary_not_in_error_paths(cli, tmp_path):
    """A failing plan (an endpoint owned by someone else) with a secret in the config and on
    the account: the error names the endpoint, never the values."""
    case = FIXTURES / "plans" / "drift-update"
    shutil.copy(case / "gpu.jsonc", tmp_path / "gpu.jsonc")
    observed = json.loads((case / "observed.json").read_text())
    observed["endpoints"][0]["env"]["GPUCTL_PROJECT"] = "someone-else"
    (tmp_path / "observed.json").write_text(json.dumps(observed))
    result = cli(["--debug", "serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod"], tmp_path, {"HF_TOKEN": "hf_error_path_canary_3e1"})
    assert result.code == 1 and "someone-else" in result.err
    for canary in ("hf_error_path_canary_3e1", "hf_old_canary_value_91c2"):
        assert canary not in result.out + result.err


def test_env_value_type_errors_do_not_echo_the_value(cli, tmp_path):
    (tmp_path / "gpu.jsonc").write_text('{"serverless": {"name": "x", "template": "whisper", "gpu_type": "NVIDIA L4", "runpod": {"env": {"TOKEN": ["sk_canary_in_a_list"]}}}}')
    result = cli(["config", "validate"], tmp_path)
    assert result.code == 1 and "env.TOKEN" in result.err and "sk_canary_in_a_list" not in result.err


@pytest.mark.parametrize("fmt", ["text", "markdown", "json"])
def test_a_value_read_from_a_variable_names_the_variable_and_never_the_value(cli, fmt):
    """A same-repository pull request's plan has the variables, so `${HF_TOKEN}` is resolved:
    the plan showed `(sensitive)` alone, and a reviewer could not tell which variable the value
    comes from (an unset one already said `(from $HF_TOKEN, unknown in this run)`)."""
    case = FIXTURES / "plans" / "drift-update"
    secret = "hf_named_variable_canary_7a1"
    result = cli(["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod", "--format", fmt], case, {"HF_TOKEN": secret})
    assert result.code == 0 and secret not in result.out + result.err
    if fmt == "json":
        (change,) = [c for r in json.loads(result.out)["resource_changes"] for c in r["changes"] if c["path"] == "env.HF_TOKEN"]
        assert (change["before"], change["after"]) == ({"sensitive": True}, {"sensitive": True, "from": ["HF_TOKEN"]}), change
        (desired,) = [r["desired"] for r in json.loads(result.out)["resource_changes"] if r["desired"]]
        assert desired["env"]["HF_TOKEN"] == {"sensitive": True, "from": ["HF_TOKEN"]}
    else:
        assert "env.HF_TOKEN = (sensitive) → (sensitive, from $HF_TOKEN)" in result.out, result.out


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_a_value_that_becomes_a_runpod_secret_reference_warns_the_secret_must_exist(cli, tmp_path, fmt):
    """Review 3, R2: a change from a working value to {"secret": NAME} (what `import` writes)
    planned silently, and `deploy -y` pointed production at a secret nobody had made. gpuctl
    cannot read RunPod's secrets, so the plan of such a change names the secret that must exist
    first; an unchanged reference (already live) is not warned about again."""
    case = FIXTURES / "plans" / "drift-update"
    shutil.copy(case / "observed.json", tmp_path / "observed.json")
    config = (case / "gpu.jsonc").read_text().replace('"HF_TOKEN": "${HF_TOKEN}"', '"HF_TOKEN": {"secret": "hf_tok"}')
    (tmp_path / "gpu.jsonc").write_text(config)
    result = cli(["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod", "--format", fmt], tmp_path)
    assert result.code == 0, result.err
    said = " ".join(json.loads(result.out)["warnings"][i]["message"] for i in range(len(json.loads(result.out)["warnings"]))) if fmt == "json" else result.out
    assert "env.HF_TOKEN becomes a reference to RunPod secret hf_tok, which must exist in the account before this deploy" in said, said
    assert "create it in the RunPod account (console, Secrets), named hf_tok" in said
    assert "hf_old_canary_value_91c2" not in result.out + result.err

    observed = json.loads((case / "observed.json").read_text())
    observed["endpoints"][0]["env"]["HF_TOKEN"] = "{{ RUNPOD_SECRET_hf_tok }}"
    (tmp_path / "observed.json").write_text(json.dumps(observed))
    again = cli(["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod", "--format", fmt], tmp_path)
    assert again.code == 0 and "RunPod secret hf_tok, which must exist" not in again.out + again.err

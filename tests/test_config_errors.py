"""R8: every malformed gpu.jsonc in fixtures/config-errors/ gets one clear, located error.

`expected.json` maps each corpus file to the `line:col` of the diagnostic, its key path (null
for errors about the file itself: encoding, syntax) and a substring of its message or hint.
The expectations were written by reading the files, not by copying the tool's output; the
few the tool does not meet yet are marked `xfail` there, with the reason.
"""

from __future__ import annotations

import json
import socket

import pytest

from tests.conftest import FIXTURES, ROOT, run_cli

CORPUS = FIXTURES / "config-errors"
EXPECTED: dict[str, dict] = json.loads((CORPUS / "expected.json").read_text())
OBSERVED = ROOT / "examples" / "empty-account.json"


@pytest.fixture(autouse=True)
def no_network(monkeypatch):
    """Reading and checking gpu.jsonc must never touch the network."""

    def refuse(self, *args, **kwargs):
        raise AssertionError(f"network call during config validation: connect{args}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def command(name: str, case: dict) -> list[str]:
    if case.get("command") == "deploy":  # ${VAR} values are required only to apply (a plan shows an unset one as unknown)
        return ["serverless", "deploy", "--config", name, "--provider", "runpod"]
    return ["config", "validate", "--config", name]


def diagnostics(stderr: str) -> list[str]:
    """Each `file:line:col: path: message` line together with its `  hint:` lines."""
    found: list[list[str]] = []
    for line in stderr.splitlines():
        if line.startswith("  hint:") and found:
            found[-1].append(line)
        else:
            found.append([line])
    return ["\n".join(block) for block in found]


def assert_clear_error(name: str, case: dict, code: int, out: str, err: str) -> None:
    assert code == 1, f"exit code {code}\n{out}{err}"
    assert out == "", f"stdout should be empty on error:\n{out}"
    assert err.startswith("error:"), err
    assert "Traceback" not in err and "internal error" not in err, err
    unfixed = [d for d in diagnostics(err)[1:] if "\n  hint: " not in d]
    assert not unfixed, f"every problem in a file the user wrote needs a hint saying how to fix it:\n{unfixed}"
    head = f"{name}:{case['where']}: " if case["where"] else f"{name}: "
    if case["path"]:
        head += f"{case['path']}: "
    matching = [d for d in diagnostics(err) if d.startswith(head)]
    assert matching, f"no diagnostic starts with {head!r}:\n{err}"
    assert any(case["contains"] in d for d in matching), f"{case['contains']!r} not in the diagnostic at {head!r}:\n{err}"


def corpus_params():
    for name, case in EXPECTED.items():
        marks = [pytest.mark.xfail(strict=True, reason=case["xfail"])] if case.get("xfail") else []
        yield pytest.param(name, case, id=name, marks=marks)


@pytest.mark.parametrize(("name", "case"), list(corpus_params()))
def test_corpus_file_gets_a_clear_located_error(name, case):
    result = run_cli(command(name, case), CORPUS)
    assert_clear_error(name, case, result.code, result.out, result.err)


def corpus_files() -> set[str]:
    """The config files of the corpus: top-level files and the gpu.jsonc of each project folder."""
    top = {p.name for p in CORPUS.iterdir() if p.is_file() and p.name != "expected.json"}
    nested = {str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/gpu.jsonc")}
    return top | nested


def test_corpus_is_large_and_fully_described():
    files = corpus_files()
    assert len(files) >= 100
    assert files == set(EXPECTED), f"without expectation: {sorted(files - set(EXPECTED))}; missing files: {sorted(set(EXPECTED) - files)}"
    for name, case in EXPECTED.items():
        assert case["contains"], name
        assert case["where"] is None or len(case["where"].split(":")) == 2, name


@pytest.mark.parametrize("name", [
    "001-empty.jsonc",
    "026-missing-comma.jsonc",
    "081-unknown-key-scaling.jsonc",
    "152-max-lt-min.jsonc",
    "170-gpu-short-name.jsonc",
    "187-duplicate-endpoint-names.jsonc",
])
def test_json_output_lists_located_errors(name):
    case = EXPECTED[name]
    result = run_cli(["config", "validate", "--json", "--config", name], CORPUS)
    assert result.code == 1 and "Traceback" not in result.err
    doc = json.loads(result.out)
    assert doc["valid"] is False and doc["errors"]
    for error in doc["errors"]:
        assert error["file"] == name
        assert isinstance(error["line"], int) and isinstance(error["column"], int)
        assert {"path", "message", "hint"} <= set(error)
    line, col = (int(part) for part in case["where"].split(":"))
    located = [e for e in doc["errors"] if (e["line"], e["column"]) == (line, col) and e["path"] == (case["path"] or "")]
    assert any(case["contains"] in f"{e['message']} {e['hint'] or ''}" for e in located), doc


def test_file_over_5_mib_is_refused_before_parsing(tmp_path):
    path = tmp_path / "gpu.jsonc"
    padding = "x" * (5 * 1024 * 1024)
    path.write_text('{"serverless": {"template": "comfyui", "gpu_type": "NVIDIA L4"}, "outputs": ["' + padding + '"]}\n')
    result = run_cli(["config", "validate", "--config", "gpu.jsonc"], tmp_path)
    case = {"where": None, "path": None, "contains": "limited to 5,242,880 bytes"}
    assert_clear_error("gpu.jsonc", case, result.code, result.out, result.err)


def test_large_file_under_the_limit_is_located_precisely(tmp_path):
    """4.5 MiB of pod-level data before a typo: still one error at the right line and column."""
    path = tmp_path / "gpu.jsonc"
    rows = ",\n".join(f'    "output-{i:06d}-{"y" * 40}"' for i in range(75_000))
    lines = rows.count("\n") + 1
    path.write_text('{\n  "outputs": [\n' + rows + '\n  ],\n  "serverless": {"template": "comfyui", "gpu_type": "NVIDIA L4", "scalng": {}},\n}\n')
    assert 4 * 1024 * 1024 < path.stat().st_size < 5 * 1024 * 1024
    result = run_cli(["config", "validate", "--config", "gpu.jsonc"], tmp_path)
    where = f"{lines + 4}:66"
    case = {"where": where, "path": "serverless.scalng", "contains": 'did you mean "scaling"'}
    assert_clear_error("gpu.jsonc", case, result.code, result.out, result.err)


@pytest.mark.parametrize(("args", "contains"), [
    (["config", "validate", "--config", "missing.jsonc"], "does not exist"),
    (["config", "validate", "--config", "."], "is a directory"),
])
def test_unreadable_paths_get_a_clear_error(tmp_path, args, contains):
    result = run_cli(args, tmp_path)
    assert result.code == 1 and result.out == ""
    assert result.err.startswith("error:") and contains in result.err and "Traceback" not in result.err


@pytest.mark.parametrize(("args", "hint"), [
    (["config", "validate"], "hint: create gpu.jsonc in the project directory, or pass --config PATH"),
    (["config", "validate", "--config", "examples/echo/gpu.jsonc"], "hint: check the path given to --config"),
    (["serverless", "deploy", "--plan", "--provider", "local", "--config", "nope.jsonc"], "hint: check the path given to --config"),
    # deploy may say what to deploy with flags alone (docs/deploy.md): its fix names that way too (review L9)
    (["serverless", "deploy", "--plan", "--provider", "local"],
     'hint: create gpu.jsonc in the project directory, or pass --config PATH, or deploy without one: --template NAME --gpu-type TYPE'),
    (["serverless", "drift", "--provider", "local"], "hint: create gpu.jsonc in the project directory, or pass --config PATH\n"),
])
def test_a_missing_config_hint_fits_whether_a_path_was_given(tmp_path, args, hint):
    """`--config nope.jsonc` used to be told to "pass --config PATH", the flag it had just used."""
    result = run_cli(args, tmp_path)
    assert result.code == 1 and "does not exist" in result.err and hint in result.err, result.err


def test_a_local_cwd_that_does_not_exist_is_a_warning_before_any_job_fails(tmp_path):
    """deploy said nothing and every job then failed with `GPUCTL_LOCAL_CWD '...' is not a
    directory`, a name gpu.jsonc never uses."""
    config = {"project_id": "p", "serverless": {"template": "custom-image", "gpu_type": "NVIDIA L4", "runpod": {"image_name": "a/b:1"},
                                                "local": {"command": ["python", "h.py"], "cwd": "worker"}}}
    (tmp_path / "gpu.jsonc").write_text(json.dumps(config))
    missing = run_cli(["config", "validate"], tmp_path)
    assert missing.code == 0 and f"local.cwd worker ({tmp_path / 'worker'}) is not a directory" in missing.out, missing.out
    (tmp_path / "worker").mkdir()
    (tmp_path / "worker" / "h.py").write_text("")
    assert "local.cwd" not in run_cli(["config", "validate"], tmp_path).out


def test_image_name_required_by_an_auto_chosen_custom_image_says_why_custom_image(tmp_path):
    """With no "template", a handler.py made template auto choose custom-image, and the error
    said "required for template custom-image", a template the user never wrote."""
    (tmp_path / "gpu.jsonc").write_text('{"project_id": "p", "serverless": {"gpu_type": "NVIDIA L4"}}')
    (tmp_path / "handler.py").write_text("import runpod\nrunpod.serverless.start({'handler': lambda job: job})\n")
    result = run_cli(["config", "validate"], tmp_path)
    assert result.code == 1 and "serverless.runpod.image_name" in result.err, result.err
    assert "template auto chose custom-image" in result.err and "handler.py" in result.err, result.err
    assert 'or set "template" to the one you mean' in result.err, result.err


def test_a_serverless_setting_left_at_the_top_level_is_a_warning_at_its_line(tmp_path):
    """The serverless block closed one brace too early leaves "scaling" at the top level, where
    it used to be ignored in silence: the endpoint deployed with 3 workers, not 5, and nothing
    said why. GPU CLI's own top-level keys stay silent."""
    (tmp_path / "gpu.jsonc").write_text(
        '{\n  "project_id": "app",\n  "serverless": {"template": "vllm", "gpu_type": "NVIDIA L4"},\n'
        '  "scaling": {"max_workers": 5},\n  "gpu_types": ["NVIDIA L4"],\n  "outputs": ["out/"],\n}\n')
    result = run_cli(["config", "validate"], tmp_path)
    assert result.code == 0, result.err
    warned = [line for line in result.out.splitlines() if "top-level" in line]
    assert len(warned) == 1, result.out
    assert '"scaling"' in warned[0] and "gpu.jsonc:4:3" in warned[0] and 'inside the "serverless" block' in warned[0], warned
    plan = run_cli(["serverless", "deploy", "--plan", "--observed", str(OBSERVED)], tmp_path)
    assert plan.code == 0 and 'top-level "scaling"' in plan.out, plan.out + plan.err


def test_a_gpu_jsonc_link_to_a_missing_file_is_named_as_a_broken_link(tmp_path):
    """A gpu.jsonc linked into a shared configs checkout that is not there was reported as
    "gpu.jsonc does not exist" while `ls` shows it: the link and its target are the place."""
    (tmp_path / "gpu.jsonc").symlink_to("../configs/app.jsonc")
    result = run_cli(["config", "validate"], tmp_path)
    case = {"where": None, "path": None, "contains": "is a symbolic link to ../configs/app.jsonc, which does not exist"}
    assert_clear_error("gpu.jsonc", case, result.code, result.out, result.err)
    assert "hint: point the link at the file" in result.err, result.err


def test_a_var_below_an_unknown_key_is_reported_once_as_the_unknown_key(tmp_path):
    """Review 4, R4-11: a newcomer guessing how to declare several endpoints wrote
    `"serverless": {"endpoints": {"alpha": {... "runpod": {"env": {"API_TOKEN": "${APITOK}"}}}}}`
    and got two problems: the unknown key, and `"${APITOK}" is not expanded here: gpuctl reads
    ${VAR} only in runpod.env values` for a value that is in runpod.env. Below a key already
    reported unknown, nothing more is said."""
    block = {"template": "custom-image", "gpu_type": "NVIDIA L4", "runpod": {"image_name": "a/b:1"},
             "endpoints": {"alpha": {"runpod": {"env": {"API_TOKEN": "${APITOK}"}}}}}
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "p", "serverless": block}, indent=2))
    result = run_cli(["config", "validate"], tmp_path)
    assert result.code == 1, result.out + result.err
    found = diagnostics(result.err)[1:]
    assert len(found) == 1 and "serverless.endpoints: unknown key" in found[0], result.err
    # a ${VAR} outside runpod.env under a known key is still caught
    block.pop("endpoints")
    block["runpod"]["image_name"] = "a/b:${TAG}"
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "p", "serverless": block}, indent=2))
    caught = run_cli(["config", "validate"], tmp_path)
    assert caught.code == 1 and "serverless.runpod.image_name: \"${TAG}\" is not expanded here" in caught.err, caught.err


def test_a_long_unquoted_word_is_not_quoted_back_whole(tmp_path):
    """Review R6-8: a gpu.jsonc that is a file read by mistake (a token, a file of the runner
    behind a link) had its first word quoted whole, twice, into the error (and in a GitHub run
    the pull request's comment). A word longer than 20 characters is quoted in part."""
    (tmp_path / "gpu.jsonc").write_text("ghp_CANARYTOKEN0123456789abcdef\n")
    result = run_cli(["config", "validate"], tmp_path)
    assert result.code == 1
    assert "gpu.jsonc:1:1: invalid JSONC: expected a value, found an unquoted word of 31 characters, ghp_CANARYTOKEN01234…" in result.err, result.err
    assert "hint: put strings in double quotes" in result.err
    assert "ghp_CANARYTOKEN012345" not in result.out + result.err


def test_a_short_unquoted_word_is_quoted_back_with_the_fix(tmp_path):
    (tmp_path / "gpu.jsonc").write_text('{"serverless": {"template": comfyui}}\n')
    result = run_cli(["config", "validate"], tmp_path)
    assert "gpu.jsonc:1:29: invalid JSONC: expected a value, found comfyui" in result.err, result.err
    assert 'hint: put strings in double quotes: "comfyui"' in result.err

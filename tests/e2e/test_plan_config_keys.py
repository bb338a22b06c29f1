"""A reviewer reads a plan by RunPod's field names (`workers.idleTimeout`, `gpu.pools`) but edits
gpu.jsonc keys (`scaling.idle_timeout`, `gpu_type`): every format of `deploy --plan` names the
key and the line behind each changed field, a per-run flag says it set the value, and a saved
plan is still applied when only the lines moved, or when an earlier gpuctl wrote it."""

from __future__ import annotations

import json

from tests.e2e.conftest import project

DEPLOYED = """{
  // echo, as first deployed
  "project_id": "e2e",
  "serverless": {
    "name": "echo",
    "template": "custom-image",
    "gpu_type": "NVIDIA GeForce RTX 4090",
    "scaling": {
      "min_workers": 0,
      "max_workers": 2,
      "idle_timeout": 5
    },
    "volume": {"name": "models", "size_gb": 20},
    "runpod": {
      "image_name": "ghcr.io/example/echo-worker:0.1.0",
      "data_center_ids": ["EU-RO-1"],
      "env": {
        "GREETING": "hello"
      }
    },
    "local": {"command": ["python", "handler.py"]}
  }
}
"""


def _edited(text: str, *edits: tuple[str, str]) -> str:
    for old, new in edits:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    return text


EDITED = _edited(DEPLOYED, ('"idle_timeout": 5', '"idle_timeout": 30'), ('"NVIDIA GeForce RTX 4090"', '"NVIDIA L4"'),
                 ('"size_gb": 20', '"size_gb": 40'), ('"GREETING": "hello"', '"GREETING": "hi",\n        "NEW": "x"'))


def line_of(text: str, needle: str) -> int:
    """The 1-based line of the one line of `text` holding `needle`."""
    (found,) = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    return found


def _deployed(account, tmp_path):
    proj = project(tmp_path / "p", {})
    (proj / "gpu.jsonc").write_text(DEPLOYED)
    done = account.gpu("serverless", "deploy", "-y", cwd=proj)
    assert done.code == 0, done.err
    return proj


def _keys(doc: dict) -> dict[str, list[dict]]:
    return {f"{r['kind']}:{c['path']}": c.get("config_keys") for r in doc["resource_changes"] for c in r["changes"]}


def test_every_format_names_the_key_and_line_of_each_changed_field(account, tmp_path):
    proj = _deployed(account, tmp_path)
    (proj / "gpu.jsonc").write_text(EDITED)
    at = {name: line_of(EDITED, f'"{name}"') for name in ("idle_timeout", "gpu_type", "size_gb", "GREETING", "NEW")}

    planned = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    assert planned.code == 0, planned.err
    keys = _keys(planned.json())
    assert keys["endpoint:workers.idleTimeout"] == [{"key": "serverless.scaling.idle_timeout", "file": "gpu.jsonc", "line": at["idle_timeout"]}]
    assert keys["endpoint:gpu.pools"] == keys["endpoint:gpu.excludedTypes"] == [{"key": "serverless.gpu_type", "file": "gpu.jsonc", "line": at["gpu_type"]}]
    assert keys["endpoint:env.GREETING"] == [{"key": "serverless.runpod.env.GREETING", "file": "gpu.jsonc", "line": at["GREETING"]}]
    assert keys["endpoint:env.NEW"] == [{"key": "serverless.runpod.env.NEW", "file": "gpu.jsonc", "line": at["NEW"]}]
    assert keys["network_volume:size"] == [{"key": "serverless.volume.size_gb", "file": "gpu.jsonc", "line": at["size_gb"]}]
    assert at["GREETING"] != at["NEW"] and len(set(at.values())) == len(at)  # a wrong line cannot pass for the right one

    text = account.gpu("serverless", "deploy", "--plan", cwd=proj)
    assert text.code == 0, text.err
    lines = text.out.splitlines()
    row = next(i for i, line in enumerate(lines) if "~ workers.idleTimeout" in line)
    assert lines[row + 1].strip() == f"in gpu.jsonc: serverless.scaling.idle_timeout (gpu.jsonc:{at['idle_timeout']})", text.out
    assert f"in gpu.jsonc: serverless.gpu_type (gpu.jsonc:{at['gpu_type']})" in text.out
    assert f"in gpu.jsonc: serverless.volume.size_gb (gpu.jsonc:{at['size_gb']})" in text.out

    markdown = account.gpu("serverless", "deploy", "--plan", "--format", "markdown", cwd=proj)
    assert markdown.code == 0, markdown.err
    assert f"| `workers.idleTimeout` | `serverless.scaling.idle_timeout` gpu.jsonc:{at['idle_timeout']} |" in markdown.out, markdown.out
    assert f"| `env.NEW` | `serverless.runpod.env.NEW` gpu.jsonc:{at['NEW']} |" in markdown.out
    assert "https://" not in markdown.out  # outside a pull request nothing to link to

    # The scaler: three RunPod fields, two gpu.jsonc keys; scaler_value is not written (a default).
    switched = _edited(EDITED, ('"data_center_ids": ["EU-RO-1"],', '"data_center_ids": ["EU-RO-1"],\n      "scaler_type": "request_count",'))
    (proj / "gpu.jsonc").write_text(switched)
    keys = _keys(account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj).json())
    assert keys["endpoint:scaling.type"] == [{"key": "serverless.runpod.scaler_type", "file": "gpu.jsonc", "line": line_of(switched, "scaler_type")}]
    assert keys["endpoint:scaling.requestCount"] == [{"key": "serverless.runpod.scaler_value", "file": "gpu.jsonc", "line": None}]


def test_a_value_a_flag_sets_names_the_flag_and_no_line(account, tmp_path):
    proj = _deployed(account, tmp_path)
    planned = account.gpu("serverless", "deploy", "--plan", "--json", "--idle-timeout", "99", cwd=proj)
    assert planned.code == 0, planned.err
    keys = _keys(planned.json())
    assert keys == {"endpoint:workers.idleTimeout": [{"key": "serverless.scaling.idle_timeout", "file": "gpu.jsonc", "line": None, "flag": "--idle-timeout"}]}
    text = account.gpu("serverless", "deploy", "--plan", "--idle-timeout", "99", cwd=proj)
    assert "in gpu.jsonc: serverless.scaling.idle_timeout (set by --idle-timeout for this run, not by gpu.jsonc)" in text.out, text.out
    assert f"gpu.jsonc:{line_of(DEPLOYED, 'idle_timeout')}" not in text.out  # not the line the flag overrode
    markdown = account.gpu("serverless", "deploy", "--plan", "--format", "markdown", "--idle-timeout", "99", cwd=proj)
    assert "| `workers.idleTimeout` | `serverless.scaling.idle_timeout` set by `--idle-timeout` for this run, not by gpu.jsonc |" in markdown.out, markdown.out


def test_a_value_a_flag_sets_is_labelled_the_flags_not_gpu_jsonc(account, tmp_path):
    """--idle-timeout 60 labelled the field "changed in gpu.jsonc", which still says 5. The
    label names the flag; the origin (the account against the last apply) still tells a
    console edit the flag's value overwrites from none."""
    proj = _deployed(account, tmp_path)
    for fmt in ("text", "markdown"):
        shown = account.gpu("serverless", "deploy", "--plan", "--format", fmt, "--idle-timeout", "60", cwd=proj)
        assert shown.code == 0, shown.err
        line = next(ln for ln in shown.out.splitlines() if "workers.idleTimeout" in ln and "→" in ln)
        assert "set by --idle-timeout for this run" in line.replace("`", "") and "changed in gpu.jsonc" not in line, line
        assert "the account changed it" not in line
    doc = account.gpu("serverless", "deploy", "--plan", "--json", "--idle-timeout", "60", cwd=proj).json()
    (change,) = [c for r in doc["resource_changes"] for c in r.get("changes", [])]
    assert (change["path"], change["before"], change["after"], change["origin"]) == ("workers.idleTimeout", 5, 60, "flag")

    (live,) = account.endpoints()
    account.server.http.patch(f"/v2/serverless/{live['id']}", json={"workers": {**live["workers"], "idleTimeout": 7}}).raise_for_status()
    text = account.gpu("serverless", "deploy", "--plan", "--idle-timeout", "60", cwd=proj).out
    line = next(ln for ln in text.splitlines() if "workers.idleTimeout" in ln and "→" in ln)
    assert "7 → 60" in line and "set by --idle-timeout for this run; the account changed it since the last apply" in line, line
    assert "gpu.jsonc says" not in line  # gpu.jsonc says 5, not the flag's 60
    doc = account.gpu("serverless", "deploy", "--plan", "--json", "--idle-timeout", "60", cwd=proj).json()
    (change,) = [c for r in doc["resource_changes"] for c in r.get("changes", [])]
    assert (change["before"], change["after"], change["origin"]) == (7, 60, "flag-and-account")  # it read "both": gpu.jsonc's value kept
    drift = account.gpu("serverless", "drift", "--json", cwd=proj).json()  # no flags: gpu.jsonc's 5 against the account's 7
    (item,) = drift["drift"]
    assert [(c["path"], c["account"], c["config"], c["origin"]) for c in item["changes"]] == [("workers.idleTimeout", 7, 5, "account")]


def test_a_saved_plan_applies_after_its_lines_moved_and_when_an_earlier_gpuctl_wrote_it(account, tmp_path):
    """The keys' lines are for people: a comment added above them after `--out` does not make
    the plan stale, and a plan saved by the gpuctl before keys were named (no `config_keys`)
    still loads and applies."""
    proj = _deployed(account, tmp_path)
    (proj / "gpu.jsonc").write_text(_edited(DEPLOYED, ('"max_workers": 2', '"max_workers": 3')))
    saved = account.gpu("serverless", "deploy", "--plan", "--out", "old.json", cwd=proj)
    assert saved.code == 0, saved.err
    doc = json.loads((proj / "old.json").read_text())
    assert _keys(doc)["endpoint:workers.max"][0]["key"] == "serverless.scaling.max_workers"
    for resource in doc["resource_changes"]:  # as the gpuctl before this one wrote it
        for change in resource["changes"]:
            del change["config_keys"]
    (proj / "old.json").write_text(json.dumps(doc, indent=2))
    applied = account.gpu("serverless", "deploy", "--from-plan", "old.json", cwd=proj)
    assert applied.code == 0, applied.err
    assert account.endpoints()[0]["workers"]["max"] == 3

    edited = _edited(DEPLOYED, ('"max_workers": 2', '"max_workers": 4'))
    (proj / "gpu.jsonc").write_text(edited)
    assert account.gpu("serverless", "deploy", "--plan", "--out", "new.json", cwd=proj).code == 0
    was = line_of(edited, "max_workers")
    assert _keys(json.loads((proj / "new.json").read_text()))["endpoint:workers.max"][0]["line"] == was
    (proj / "gpu.jsonc").write_text("// a comment added after the plan was saved\n// and another\n" + edited)
    applied = account.gpu("serverless", "deploy", "--from-plan", "new.json", cwd=proj)
    assert applied.code == 0, applied.err
    assert account.endpoints()[0]["workers"]["max"] == 4


def test_the_result_of_deploy_json_names_the_keys_of_the_plan_it_applied(account, tmp_path):
    """`deploy --json`'s `plan` is the plan applied as `--plan --json` prints it, keys included:
    the merge's apply comment links them (tests/github/test_apply_workflow.py)."""
    proj = _deployed(account, tmp_path)
    edited = _edited(DEPLOYED, ('"idle_timeout": 5', '"idle_timeout": 30'))
    (proj / "gpu.jsonc").write_text(edited)
    planned = account.gpu("serverless", "deploy", "--plan", "--json", cwd=proj)
    applied = account.gpu("serverless", "deploy", "--json", cwd=proj)
    assert applied.code == 0, applied.err
    keys = {"endpoint:workers.idleTimeout": [{"key": "serverless.scaling.idle_timeout", "file": "gpu.jsonc", "line": line_of(edited, "idle_timeout")}]}
    assert _keys(applied.json()["plan"]) == _keys(planned.json()) == keys


def test_a_plan_saved_with_a_flag_applies_with_that_flag(account, tmp_path):
    """The saved plan's origin of a flag's field is `flag` (it names the flag's keys); the plan
    made again at apply time is compared with it and must not call it stale for that."""
    proj = _deployed(account, tmp_path)
    saved = account.gpu("serverless", "deploy", "--plan", "--out", "flag.json", "--idle-timeout", "60", cwd=proj)
    assert saved.code == 0, saved.err
    (change,) = [c for r in json.loads((proj / "flag.json").read_text())["resource_changes"] for c in r.get("changes", [])]
    assert change["origin"] == "flag"
    applied = account.gpu("serverless", "deploy", "--from-plan", "flag.json", "--idle-timeout", "60", cwd=proj)
    assert applied.code == 0, applied.err
    assert account.endpoints()[0]["workers"]["idleTimeout"] == 60

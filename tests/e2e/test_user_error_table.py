"""Every way gpu reports a user error says the problem, the place and a fix (docs/errors.md).

A broad table of bad inputs, each run through the real CLI against the local provider: bad
gpu.jsonc values of every kind at a known line:col, unknown keys, bad flags and durations, unset
variables, endpoint names that do not exist, damaged files of ours and files given to flags.
Each must exit 1 with `error:` first, name its place (the `file:line:col: key.path`, the flag,
the variable, the endpoint, the file), carry a `hint:` line, and never a traceback or
`internal error`. The corpus of fixtures/config-errors/ holds the config errors to the same
rule one diagnostic at a time; this table is about the other roads errors take.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.e2e.conftest import Account, deployed_project, echo_config, project

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def deployed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Account, Path]]:
    """One account with the echo endpoint deployed, shared by every row (none of them writes)."""
    with deployed_project(tmp_path_factory.mktemp("user-errors"), echo_config()) as both:
        yield both


def config_with(change: Callable[[dict], None]) -> dict:
    config = echo_config()
    change(config["serverless"])
    return config


def text_config(body: str) -> Callable[[Path], None]:
    return lambda d: (d / "gpu.jsonc").write_text(body)


def json_config(config: dict) -> Callable[[Path], None]:
    return text_config(json.dumps(config, indent=2) + "\n")


@dataclass
class Row:
    args: tuple[str, ...]
    place: tuple[str, ...]  # every one of these appears in stderr
    setup: Callable[[Path], None] | None = None  # writes into the project dir; None: the deployed project
    env: dict[str, str] = field(default_factory=dict)


def _scaling(**values) -> Callable[[dict], None]:
    return lambda block: block["scaling"].update(values)


# json.dumps(echo_config(), indent=2): `name` on line 4, `gpu_type` 6, `scaling` 7 with its keys on 8-10 at column
# 7, the block's last line 23 (a key added to the block lands on 24)
ROWS: dict[str, Row] = {
    # gpu.jsonc: every kind of value problem, at its line:col and key path
    "config-range-low": Row(("serverless", "deploy", "--plan"), ("gpu.jsonc:9:7: serverless.scaling.max_workers: must be ≥ 0",),
                            json_config(config_with(_scaling(max_workers=-1)))),
    "config-range-high": Row(("serverless", "deploy", "--plan"), ("gpu.jsonc:10:7: serverless.scaling.idle_timeout: must be ≤ 3600",),
                             json_config(config_with(_scaling(idle_timeout=99999)))),
    "config-type": Row(("config", "validate"), ("gpu.jsonc:8:7: serverless.scaling.min_workers: expected an integer",),
                       json_config(config_with(_scaling(min_workers="many")))),
    "config-enum": Row(("config", "validate"), ("gpu.jsonc:5:5: serverless.template: must be one of",),
                       json_config(config_with(lambda b: b.update(template="custom")))),
    "config-unknown-key": Row(("serverless", "deploy", "--plan"), ("gpu.jsonc:24:5: serverless.scalling: unknown key",),
                              json_config(config_with(lambda b: b.update(scalling={})))),
    "config-missing-key": Row(("config", "validate"), ("gpu.jsonc:3:3: serverless.gpu_type: required key is missing",),
                              json_config(config_with(lambda b: b.pop("gpu_type")))),
    "config-empty": Row(("config", "validate"), ("gpu.jsonc:4:5: serverless.name: must not be empty",),
                        json_config(config_with(lambda b: b.update(name="")))),
    "config-unknown-gpu": Row(("config", "validate"), ('gpu.jsonc:6:5: serverless.gpu_type: unknown GPU type "Voodoo 5"',),
                              json_config(config_with(lambda b: b.update(gpu_type="Voodoo 5")))),
    "config-max-below-min": Row(("config", "validate"), ("gpu.jsonc:9:7: serverless.scaling.max_workers: must be ≥ min_workers",),
                                json_config(config_with(_scaling(min_workers=3, max_workers=1)))),
    "config-syntax": Row(("serverless", "deploy", "--plan"), ("gpu.jsonc:3:3: invalid JSONC",),
                         text_config('{\n  "project_id": "e2e"\n  "serverless": {}\n}\n')),
    "config-duplicate-key": Row(("config", "validate"), ("gpu.jsonc:3:3: project_id: key appears twice",),
                                text_config('{\n  "project_id": "a",\n  "project_id": "b",\n  "serverless": {"template": "vllm", "gpu_type": "NVIDIA L4"}\n}\n')),
    "config-top-level-typo": Row(("config", "validate"), ('gpu.jsonc:1:2: projct_id: unknown top-level key',),
                                 text_config('{"projct_id": "a", "serverless": {"template": "vllm", "gpu_type": "NVIDIA L4"}}\n')),
    "config-missing-file": Row(("serverless", "deploy", "--plan", "--config", "nope.jsonc"), ("nope.jsonc",), lambda d: None),
    # variables
    "env-var-unset": Row(("serverless", "deploy", "-y"), ("serverless.runpod.env.TOKEN", "E2E_TABLE_UNSET"),
                         json_config(echo_config(env={"TOKEN": "${E2E_TABLE_UNSET}"}))),
    "env-provider": Row(("serverless", "list"), ("GPU_PROVIDER",), env={"GPU_PROVIDER": "aws"}),
    # flags: overrides, durations, numbers, unknown options, JSON input
    "flag-override-range": Row(("serverless", "deploy", "--plan", "--max-workers", "-1"), ("--max-workers",)),
    "flag-override-below-min": Row(("serverless", "deploy", "--plan", "--min-workers", "3", "--max-workers", "1"),
                                   ("error: the per-run overrides make the configuration invalid\n--max-workers",)),
    "flag-duration": Row(("serverless", "deploy", "--plan", "--lock-timeout", "soon"), ("--lock-timeout",)),
    "flag-since": Row(("serverless", "logs", "echo", "--since", "yesterday"), ("--since",)),
    "flag-warm-timeout": Row(("serverless", "warm", "echo", "--timeout", "0"), ("--timeout",)),
    "flag-number": Row(("serverless", "invoke", "echo", "--timeout", "-5"), ("--timeout",)),
    "flag-unknown": Row(("serverless", "deploy", "--plann"), ("gpu serverless deploy",)),
    "flag-choice": Row(("serverless", "deploy", "--plan", "--format", "yaml"), ("--format",)),
    "flag-extra-argument": Row(("serverless", "list", "extra"), ("gpu serverless list",)),
    "command-unknown": Row(("serverless", "deplyo"), ("gpu serverless",)),
    "invoke-input-json": Row(("serverless", "invoke", "echo", "--input", '{"prompt": }'), ("--input:1:12",)),
    "invoke-input-file": Row(("serverless", "invoke", "echo", "--input", "@missing.json"), ("missing.json",)),
    # endpoint names that do not exist
    "endpoint-invoke": Row(("serverless", "invoke", "ecko", "--input", "{}"), ('"ecko"',)),
    "endpoint-status": Row(("serverless", "status", "ecko"), ('"ecko"',)),
    "endpoint-logs": Row(("serverless", "logs", "ecko"), ('"ecko"',)),
    "endpoint-history": Row(("serverless", "history", "ecko"), ('"ecko"',)),
    "endpoint-delete": Row(("serverless", "delete", "ecko", "--force"), ('"ecko"',)),
    "endpoint-warm": Row(("serverless", "warm", "ecko"), ('"ecko"',)),
    "endpoint-rollback": Row(("serverless", "rollback", "ecko", "--to", "1", "-y"), ('"ecko"',)),
    "endpoint-import": Row(("serverless", "import", "ecko"), ('"ecko"',)),
    "endpoint-job": Row(("serverless", "job", "status", "ecko", "job-1"), ('"ecko"',)),
    "history-version": Row(("serverless", "rollback", "echo", "--to", "99", "-y"), ("99",)),
    # damaged files of ours, and files given to flags
    "gpu-journal": Row(("serverless", "deploy", "-y"), (".gpu/journal.jsonl",),
                       lambda d: (json_config(echo_config())(d), (d / ".gpu").mkdir(), (d / ".gpu" / "journal.jsonl").write_bytes(b"\x00\xff garbage\n"))),
    "gpu-dir-is-file": Row(("serverless", "deploy", "-y"), (".gpu",),
                           lambda d: (json_config(echo_config())(d), (d / ".gpu").write_text("x"))),
    "gpu-lock-is-dir": Row(("serverless", "deploy", "-y"), (".gpu/deploy.lock",),
                           lambda d: (json_config(echo_config())(d), (d / ".gpu" / "deploy.lock").mkdir(parents=True))),
    "from-plan": Row(("serverless", "deploy", "-y", "--from-plan", "plan.json"), ("plan.json",),
                     lambda d: (json_config(echo_config())(d), (d / "plan.json").write_text("[1, 2]"))),
    "observed": Row(("serverless", "deploy", "--plan", "--observed", "snap.json"), ("snap.json",),
                    lambda d: (json_config(echo_config())(d), (d / "snap.json").write_text('{"endpoints": 3}'))),
    "observed-missing": Row(("serverless", "deploy", "--plan", "--observed", "snap.json"), ("snap.json",),
                            json_config(echo_config())),
    "policy-file": Row(("serverless", "deploy", "--plan", "--policy", "policy.jsonc"), ("policy.jsonc:1:2: max_max_workers",),
                       lambda d: (json_config(echo_config())(d), (d / "policy.jsonc").write_text('{"max_max_workers": -3}'))),
    "credentials": Row(("serverless", "list", "--provider", "runpod"), ("credentials.json",), env={"RUNPOD_API_KEY": ""},
                       setup=lambda d: (d / "xdg" / "gpuctl").mkdir(parents=True) or (d / "xdg" / "gpuctl" / "credentials.json").write_text("{not json")),
    "config-latin1": Row(("config", "validate"), ("gpu.jsonc:1:20: invalid UTF-8",), lambda d: (d / "gpu.jsonc").write_bytes(b'{"project_id": "caf\xe9"}')),
    "config-is-directory": Row(("config", "validate", "--config", "."), ("is a directory",)),
    "env-api-key": Row(("serverless", "list", "--provider", "runpod"), ("RUNPOD_API_KEY",), env={"RUNPOD_API_KEY": "abc def"}),
    "env-api-base-url": Row(("serverless", "list", "--provider", "runpod"), ("ftp://x",), env={"RUNPOD_API_KEY": "rpa_x", "RUNPOD_API_BASE_URL": "ftp://x"}),
    "env-http-timeout": Row(("serverless", "list"), ("GPU_HTTP_TIMEOUT", "more than 0"), env={"GPU_HTTP_TIMEOUT": "0"}),
    "env-visibility-grace": Row(("serverless", "deploy", "-y"), ("GPUCTL_VISIBILITY_GRACE",), env={"GPUCTL_VISIBILITY_GRACE": "soon"}),
    "env-visibility-grace-huge": Row(("serverless", "deploy", "-y"), ("GPUCTL_VISIBILITY_GRACE",), env={"GPUCTL_VISIBILITY_GRACE": "1e300"}),  # a sleep of it raised OverflowError
    "env-local-dir-is-file": Row(("serverless", "list"), ("GPUCTL_LOCAL_DIR", "is not a directory"),
                                 lambda d: (json_config(echo_config())(d), (d / "f").write_text("x")), env={"GPUCTL_LOCAL_DIR": "f"}),
    "local-up-data-dir-is-file": Row(("local", "up", "--data-dir", "f/sub"), ("--data-dir", "is not a directory"), lambda d: (d / "f").write_text("x")),
    "local-down-dir-is-file": Row(("local", "down"), ("GPUCTL_LOCAL_DIR",), lambda d: (d / "f").write_text("x"), env={"GPUCTL_LOCAL_DIR": "f"}),
    "flag-tail": Row(("serverless", "logs", "echo", "--tail", "-1"), ("--tail",)),
    "flag-interval": Row(("serverless", "status", "echo", "--interval", "0"), ("--interval",)),
    "flag-out-is-directory": Row(("serverless", "snapshot", "--out", "."), ("--out",)),
    "flag-from-plan-missing": Row(("serverless", "deploy", "-y", "--from-plan", "plan.json"), ("--from-plan",), json_config(echo_config())),
    "invoke-input-nan": Row(("serverless", "invoke", "echo", "--input", '{"x": NaN}'), ("--input",)),
    "job-unknown": Row(("serverless", "job", "status", "echo", "nope-job"), ("nope-job",)),
    "template-unknown": Row(("serverless", "template", "delete", "nope-template", "--force"), ('"nope-template"',)),
    "import-declared": Row(("serverless", "import", "echo"), ('"echo"',)),
    "pull-no-config": Row(("serverless", "pull"), ("gpu.jsonc",), setup=lambda d: None),
    "from-plan-format": Row(("serverless", "deploy", "-y", "--from-plan", "plan.json"), ('plan.json: format_version is the number 1, and must be the string "1"',),
                            lambda d: (json_config(echo_config())(d), (d / "plan.json").write_text('{"format_version": 1}'))),
    "observed-not-json": Row(("serverless", "drift", "--observed", "snap.json"), ("snap.json:2:3: it is not valid JSON",),
                             lambda d: (json_config(echo_config())(d), (d / "snap.json").write_text('{"endpoints": [],\n  oops}'))),
    "policy-missing": Row(("serverless", "deploy", "--plan", "--policy", "policy.jsonc"), ("policy.jsonc", "--policy"), json_config(echo_config())),
    "record-foreign-readme": Row(("serverless", "list", "--record", "rec"), ("rec/README.md",),
                                 lambda d: (json_config(echo_config())(d), (d / "rec").mkdir(), (d / "rec" / "README.md").write_text("mine"))),
}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_a_user_error_names_its_place_and_a_fix(deployed, tmp_path, name):
    account, proj = deployed
    row = ROWS[name]
    env = dict(row.env)
    if row.setup is not None:
        proj = tmp_path / "proj"
        proj.mkdir()
        row.setup(proj)
        if (proj / "xdg").exists():
            env["XDG_CONFIG_HOME"] = str(proj / "xdg")
    result = account.gpu(*row.args, cwd=proj, env=env)
    err = result.err
    assert result.code == 1, f"exit {result.code}\n{result.out}{err}"
    assert err.startswith("error: "), err
    assert "Traceback" not in err and "internal error" not in err, err
    for place in row.place:
        assert place in err, f"the place {place!r} is not named:\n{err}"
    assert "\nhint: " in err or "\n  hint: " in err, f"no hint saying how to fix it:\n{err}"



@pytest.mark.parametrize(("status", "op", "args", "fix"), [
    (400, "create", ("serverless", "deploy", "-y"), "the local provider refused the request as sent and changed nothing; if its reason names a value "
                                                    "from gpu.jsonc, change it there"),
    (500, "create", ("serverless", "deploy", "-y"), "deploy --plan` shows what the account has now"),
    (500, "list", ("serverless", "list"), "the local provider failed to answer, after retries; this request changed nothing"),
    (404, "list", ("serverless", "list"), "may not point at the local provider's API"),
])
def test_an_error_answer_from_the_account_names_the_call_and_a_fix(account, tmp_path, status, op, args, fix):
    """RunPod's 400, 404 and 500 answers were printed as `POST /v2/serverless: rejected (400)` and
    nothing more; each provider error class now carries the fix that fits it, naming the
    provider in use: on the local provider, a refusal said "RunPod refused the request"."""
    proj = project(tmp_path / "proj", echo_config())
    account.faults({"op": op, "kind": "endpoint", "action": "status", "status": status})
    result = account.gpu(*args, cwd=proj, env={"GPUCTL_VISIBILITY_GRACE": "0"})  # no wait for a create that is not there
    assert result.code == 1 and "/v2/serverless" in result.err and "Traceback" not in result.err, result.err
    assert "\nhint: " in result.err and fix in result.err, result.err
    assert "RunPod" not in result.err and "RUNPOD_" not in result.err, result.err

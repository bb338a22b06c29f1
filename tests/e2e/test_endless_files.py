"""Every file a user names is read through one bounded reader (gpuctl.files): /dev/zero given
where a file belongs is refused at once with the path and a fix, never read until memory runs
out (`deploy --from-plan /dev/zero` did). Each command runs with its address space capped, so
a reader that forgets the bound fails here with MemoryError instead of taking the machine."""

from __future__ import annotations

import resource
import subprocess
import sys

import pytest

from tests.e2e.conftest import ECHO_HANDLER, echo_config, project

pytestmark = pytest.mark.e2e

ZERO = "/dev/zero"
MEMORY = 1536 * 1024 * 1024  # far above what a command needs, far below an endless read


def capped() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


GITHUB = {"GITHUB_ACTIONS": "true", "GITHUB_REPOSITORY": "acme/app", "GITHUB_TOKEN": "ghs_fake", "GITHUB_API_URL": "http://127.0.0.1:9"}
FORK_RUN = b'{"workflow_run": {"head_sha": "0123456789abcdef0123456789abcdef01234567"}}'

# name: (arguments, extra environment, files to make (a path in the project, or under config/
# for the key file's directory: the bytes it holds, or None for a link to /dev/zero), stdin is
# /dev/zero, words the error holds)
CASES = {
    "deploy --config": (["serverless", "deploy", "--plan", "--config", ZERO], {}, {}, False, [ZERO, "character device", "--config"]),
    "config validate --config": (["config", "validate", "--config", ZERO], {}, {}, False, [ZERO, "character device", "--config"]),
    "deploy --policy": (["serverless", "deploy", "--plan", "--policy", ZERO], {}, {}, False, [ZERO, "character device", "--policy"]),
    "deploy --from-plan": (["serverless", "deploy", "--from-plan", ZERO], {}, {}, False, [ZERO, "character device", "--out plan.json"]),
    "deploy --observed": (["serverless", "deploy", "--plan", "--observed", ZERO], {}, {}, False, [ZERO, "character device", "--observed"]),
    "drift --observed": (["serverless", "drift", "--observed", ZERO], {}, {}, False, [ZERO, "character device", "--observed"]),
    "invoke --input @file": (["serverless", "invoke", "echo", "--input", f"@{ZERO}"], {}, {}, False, [ZERO, "character device", "@PATH"]),
    "invoke --input -": (["serverless", "invoke", "echo", "--input", "-"], {}, {}, True, ["the job input on stdin is larger than 64 MiB", "by reference"]),
    "deploy --smoke": (["serverless", "deploy", "-y", "--wait-healthy", "--smoke", ZERO], {}, {}, False, [ZERO, "character device", "--smoke"]),
    "the journal": (["serverless", "deploy", "-y"], {}, {".gpu/journal.jsonl": None}, False, ["journal.jsonl", "symbolic link", "always safe"]),
    "the key file": (["serverless", "list"], {"GPU_PROVIDER": ""}, {"config/credentials.json": None}, False,
                     ["credentials.json", "character device", "gpu auth login"]),
    "auth login from stdin": (["auth", "login"], {"GPU_PROVIDER": ""}, {}, True, ["the API key on stdin is larger than 65,536 bytes"]),
    "the GitHub event payload": (["github", "plan"], GITHUB | {"GITHUB_EVENT_PATH": ZERO, "GITHUB_EVENT_NAME": "pull_request"}, {}, False,
                                 [ZERO, "character device", "GITHUB_EVENT_PATH"]),
    "github plan --pr-file": (["github", "plan", "--pr-file", ZERO], GITHUB | {"GITHUB_EVENT_PATH": "event.json", "GITHUB_EVENT_NAME": "workflow_run"},
                              {"event.json": FORK_RUN}, False, [ZERO, "character device", "pull request number"]),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_dev_zero_where_a_file_belongs_is_refused_naming_it(account, tmp_path, case):
    args, extra, files, endless_stdin, words = CASES[case]
    proj = project(tmp_path / "proj", echo_config(), {"handler.py": ECHO_HANDLER})
    for name, content in files.items():
        path = (tmp_path if name.startswith("config/") else proj) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(ZERO) if content is None else path.write_bytes(content)
    extra = {"GPUCTL_CONFIG_DIR": str(tmp_path / "config")} | extra
    with open(ZERO if endless_stdin else "/dev/null", "rb") as stdin:
        done = subprocess.run([sys.executable, "-m", "gpuctl", *args], cwd=proj, env=account.env | extra, stdin=stdin,
                              capture_output=True, text=True, preexec_fn=capped)
    assert done.returncode in (1, 2), (done.returncode, done.stderr[-3000:])
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr and "MemoryError" not in done.stderr, done.stderr[-3000:]
    for word in words:
        assert word in done.stderr, done.stderr
    assert "hint:" in done.stderr or "fix" in done.stderr, done.stderr

"""docs/commands.md is the real --help output of every command."""

from tests.support.cli_reference import DOC, render


def test_command_reference_is_not_stale():
    assert DOC.read_text() == render(), "docs/commands.md is stale: python -m tests.support.cli_reference"


def test_reference_covers_every_documented_command():
    text = DOC.read_text()
    for command in ("deploy", "snapshot", "list", "status", "warm", "delete", "template delete", "logs", "invoke", "job status", "job cancel",
                    "drift", "pull", "import", "history", "rollback"):
        assert f"## `gpu serverless {command}`" in text
    for command in ("auth login", "auth status", "auth logout", "local up", "local env", "config validate", "config schema"):
        assert f"## `gpu {command}`" in text

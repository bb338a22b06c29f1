"""--lock-timeout and --break-lock say what they wait for and take over: the project's account
lease, which deploy, rollback and delete all take (docs/concurrency.md). Their help used to speak
of "another deploy" alone, written before rollback and delete shared the lease."""

from __future__ import annotations

import click

from gpuctl.cli import cli
from tests.support.cli_reference import _walk


def _lease_options():
    for path, command in _walk(cli, ["gpu"]):
        for param in command.params:
            if isinstance(param, click.Option) and param.opts[0] in ("--lock-timeout", "--break-lock"):
                yield " ".join(path), param.opts[0], param.help or ""


def test_every_lease_option_names_every_command_that_holds_the_lease():
    found = list(_lease_options())
    assert {(where, opt) for where, opt, _ in found} >= {
        ("gpu serverless deploy", "--lock-timeout"), ("gpu serverless deploy", "--break-lock"),
        ("gpu serverless delete", "--lock-timeout"), ("gpu serverless delete", "--break-lock"),
        ("gpu serverless rollback", "--lock-timeout"), ("gpu serverless rollback", "--break-lock"),
        ("gpu github apply", "--lock-timeout")}
    for where, opt, text in found:
        assert "account lease" in text and "deploy, rollback or delete" in text, (where, opt, text)

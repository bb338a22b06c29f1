"""--lock-timeout and --break-lock, one wording for every command that takes the account lease
(deploy, rollback, delete; docs/concurrency.md), so no command's help forgets who may hold it."""

from __future__ import annotations

from collections.abc import Callable

import click

from gpuctl.cli.durations import DURATION

HOLDERS = "a deploy, rollback or delete"


def lease_options(project: str, *, default: str = "0s", examples: str = "30s, 5m", break_lock: bool = True) -> Callable:
    """The two options, for `project` ("this project", "the endpoint's project")."""
    def decorate(f: Callable) -> Callable:
        if break_lock:
            f = click.option("--break-lock", is_flag=True,
                             help=f"Take over the account lease of {project} from {HOLDERS} holding it (after showing "
                                  "its holder); only when that command is surely gone.")(f)
        return click.option("--lock-timeout", type=DURATION, default=default, show_default=True,
                            help=f"How long to wait while {HOLDERS} of {project} holds its account lease ({examples}).")(f)
    return decorate

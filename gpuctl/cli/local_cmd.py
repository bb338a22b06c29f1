"""`gpu local up|down|status|reset|env`: the embedded RunPod-compatible provider."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from gpuctl.cli.paths import DATA_DIR
from gpuctl.errors import ExitCode
from gpuctl.words import counted

if TYPE_CHECKING:
    from gpuctl.cli.context import AppContext

DATA_DIR_HELP = "State directory (default: $GPUCTL_LOCAL_DIR, else $XDG_DATA_HOME/gpuctl/local, else ~/.local/share/gpuctl/local)."
data_dir_option = click.option("--data-dir", type=DATA_DIR, help=DATA_DIR_HELP)  # every `gpu local` command's


def _data_dir(app: AppContext, given: str | None):
    from pathlib import Path

    from gpuctl.cli.planning import user_path
    from gpuctl.local.client.lifecycle import default_data_dir, usable_data_dir

    return usable_data_dir(user_path(app, str(Path(given).expanduser()))[0], "--data-dir") if given else default_data_dir(app.environ)


def _local(*argv: str, given: str | None) -> str:
    """`gpu local *argv`, quoted (gpuctl.commands.suggest), with `--data-dir DIR` when the
    command was given one, so the command a hint names reaches the same provider."""
    from gpuctl.commands import suggest

    return suggest("local", *argv, *(["--data-dir", given] if given else []))


@click.group("local")
def local_group() -> None:
    """Run the local RunPod-compatible provider (no RunPod account needed)."""


@local_group.command("up")
@click.option("--port", type=click.IntRange(0, 65535), default=None,
              help="127.0.0.1 port; 0 picks a free one; a taken one is an error. Without it: 8787, else (taken) the port "
                   "the last such start moved to, else a free one, as a command that starts the provider on demand does.")
@data_dir_option
@click.pass_obj
def up(app: AppContext, port: int | None, data_dir: str | None) -> int:
    """Start the provider in the background and wait until it answers. Harmless when it runs,
    unless --port names another port than the one it runs on (an error saying how to move it)."""
    from gpuctl.local.client import lifecycle

    directory = _data_dir(app, data_dir)
    running = lifecycle.read_server_info(directory)
    if running is not None and port not in (None, 0, running["port"]):  # asked for a port it is not on: a script would talk to that one
        raise lifecycle.LocalProviderError(
            f"the local provider is already running at {running['url']} (pid {running['pid']}), not on port {port}",
            hint=f"use it there, or move it: `{_local('down', given=data_dir)}`, then `{_local('up', '--port', str(port), given=data_dir)}`")
    if running is not None:
        app.stdout.write(f"local provider already running at {running['url']} (pid {running['pid']})\n")
        return ExitCode.OK
    info = lifecycle.ensure_running(directory, environ=app.environ) if port is None else lifecycle.start(directory, port, app.environ)
    app.stdout.write(f"local provider running at {info['url']} (pid {info['pid']}, data in {directory})\n")
    app.note(f"point RunPod clients at it with: eval \"$({_local('env', given=data_dir)})\"")
    return ExitCode.OK


@local_group.command("down")
@data_dir_option
@click.pass_obj
def down(app: AppContext, data_dir: str | None) -> int:
    """Stop the provider and every worker process it started."""
    from gpuctl.local.client import lifecycle

    stopped = lifecycle.stop(_data_dir(app, data_dir))
    app.stdout.write("local provider stopped\n" if stopped else "local provider was not running\n")
    return ExitCode.OK


@local_group.command("status")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document on stdout.")
@click.pass_obj
def status(app: AppContext, data_dir: str | None, as_json: bool) -> int:
    """Whether the provider runs, where, and how many endpoints and workers it has."""
    from gpuctl.cli.output import print_json

    from gpuctl.local.client import lifecycle

    doc = lifecycle.status(_data_dir(app, data_dir))
    if as_json:
        print_json(app, doc)
    elif doc["running"]:
        app.stdout.write(f"running at {doc['url']} (pid {doc['pid']}): {counted(doc['endpoints'], 'endpoint')}, {counted(doc['workers'], 'worker')}\n"
                         f"data: {doc['data_dir']}\n")
    else:
        app.stdout.write(f"not running ({counted(doc['endpoints'], 'endpoint')} stored in {doc['data_dir']})\n")
    return ExitCode.OK


@local_group.command("reset")
@data_dir_option
@click.option("-y", "--yes", is_flag=True, help="Do not ask; needed where there is no terminal to ask on (a script, CI).")
@click.pass_obj
def reset(app: AppContext, data_dir: str | None, yes: bool) -> int:
    """Delete every endpoint, template, volume, job and log of the provider (the token and the
    secrets of `gpu local secret` stay).

    Asks first on a terminal; without one (a pipe, CI) it refuses unless given -y, as every
    destructive gpu command does."""
    from gpuctl.local.client import lifecycle

    directory = _data_dir(app, data_dir)
    if not yes:
        from gpuctl.cli.confirm import confirm_or_stop

        confirm_or_stop(app, f"Delete every endpoint, template, volume, job and log of the local provider in {directory}?",
                        what=f"resetting (it deletes everything the local provider in {directory} holds)", flag="-y (--yes)", then="reset", unchanged="deleted")
    kept = lifecycle.reset(directory)
    if kept is not None:
        app.note(f"the damaged state file was moved aside to {kept}")
    app.stdout.write(f"local provider state emptied ({directory})\n")
    return ExitCode.OK


@local_group.command("env")
@data_dir_option
@click.option("--unset", "unset", is_flag=True, help="Print the `unset` line that undoes the exports (needs no running provider).")
@click.pass_obj
def env(app: AppContext, data_dir: str | None, unset: bool) -> int:
    """Print shell exports that point RunPod's own clients (the runpod SDK) at the provider.

    `gpu` recognises the exported key and URLs as the local provider's, so later commands in
    that shell keep deploying here rather than switching to provider runpod, and refuses
    `--provider runpod` until `eval "$(gpu local env --unset)"` undoes them."""
    import shlex

    from gpuctl.local.client import lifecycle

    if unset:
        app.stdout.write(f"unset {' '.join(lifecycle.EXPORTED)}\n")
        return ExitCode.OK

    directory = _data_dir(app, data_dir)
    info = lifecycle.read_server_info(directory)
    if info is None:
        raise lifecycle.LocalProviderError("the local provider is not running", hint=f"start it with `{_local('up', given=data_dir)}`")
    for name, value in lifecycle.env_exports(directory, info, lifecycle.read_token(directory)).items():
        # unmasked: printing the key is this command's job. Through the masking stdout, a second
        # `eval "$(gpu local env)"` (the key now in gpu's environment, so protected) exported
        # RUNPOD_API_KEY=(redacted), and curl and the SDK got 401 (review 4, R4-2)
        app.verbatim.write(f"export {name}={shlex.quote(value)}\n")
    return ExitCode.OK


class SecretName(click.ParamType):
    """NAME of `gpu local secret set|delete`, checked by RunPod's rule before anything else
    happens: a name the provider would refuse is a usage error as click's own are (exit 1,
    `invalid value for NAME`), which never repeats what was typed (a value pasted where the
    name goes is exactly what must not reach a log), and `set` refuses it before it asks for,
    or reads, the value. It was refused after the value had been typed, quoting the name."""

    name = "name"

    def convert(self, value, param, ctx):
        from gpuctl.local.client.secrets import name_problem

        problem = name_problem(value)
        if problem is not None:
            self.fail(problem, param, ctx)  # usage.py shows it in gpuctl's own words, the typed name replaced
        return value


SECRET_NAME = SecretName()


@local_group.group("secret")
def secret_group() -> None:
    """The local provider's secrets: what a worker's `{{ RUNPOD_SECRET_<name> }}` env values
    (gpu.jsonc's {"secret": NAME}) resolve to, as RunPod's account secrets do. Kept in the
    data dir (0600); values are never printed."""


@secret_group.command("set")
@click.argument("name", type=SECRET_NAME)
@data_dir_option
@click.pass_obj
def secret_set(app: AppContext, name: str, data_dir: str | None) -> int:
    """Create or replace secret NAME with the value read from stdin (one trailing newline is
    dropped); at a terminal it asks, without echoing. Never an argument: a command line is
    seen by every process of the machine and kept in shell history."""
    from gpuctl.local.client import secrets

    directory = _data_dir(app, data_dir)
    if app.stdin_tty:
        from gpuctl.cli import confirm

        value = confirm.ask_hidden(f"value of secret {name}")
        if value is None:
            confirm.cancel(app, "stored")
    else:
        value = "".join(app.stdin_lines(f"the value of secret {name}", hint=f"send the value as UTF-8 text: {secrets.SET_HINT}",
                                        limit=secrets.MAX_VALUE_BYTES + 2, large_hint="a secret's value becomes one environment variable"))
        value = value[:-2] if value.endswith("\r\n") else value[:-1] if value.endswith("\n") else value
    app.protect(value)
    replaced = secrets.put(directory, name, value)
    app.stdout.write(f"secret {name} {'replaced' if replaced else 'created'} in {directory} (workers started from now on see it)\n")
    return ExitCode.OK


@secret_group.command("list")
@data_dir_option
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of names on stdout.")
@click.pass_obj
def secret_list(app: AppContext, data_dir: str | None, as_json: bool) -> int:
    """The names of the local secrets, one a line (never their values). A damaged one (its
    file edited by hand: not UTF-8, empty, too large, a link) is listed with a warning on
    stderr, the verdict a worker that refers to it fails with."""
    from gpuctl.cli.output import print_json
    from gpuctl.local.client import secrets

    directory = _data_dir(app, data_dir)
    names = secrets.names(directory)
    if as_json:
        print_json(app, names)
    elif names:
        app.stdout.write("".join(f"{n}\n" for n in names))
    else:
        app.note(f"no local secrets; create one with `{secrets.SET_HINT}`")
    for damaged in secrets.damaged(directory):
        app.note(f"warning: {damaged}")
    return ExitCode.OK


@secret_group.command("delete")
@click.argument("name", type=SECRET_NAME)
@data_dir_option
@click.pass_obj
def secret_delete(app: AppContext, name: str, data_dir: str | None) -> int:
    """Delete secret NAME; a worker started afterwards that refers to it does not start."""
    from gpuctl.local.client import secrets

    directory = _data_dir(app, data_dir)
    if not secrets.delete(directory, name):
        raise secrets.LocalProviderError(f"there is no local secret {name!r} in {directory}",
                                         hint=f"`{_local('secret', 'list', given=data_dir)}` names the secrets there are")
    app.stdout.write(f"secret {name} deleted\n")
    return ExitCode.OK

"""What the day-2 commands share: the optional project config, the provider, and turning a
NAME or ID given on the command line into one endpoint of the account."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import click

from gpuctl.cli.context import AppContext
from gpuctl.cli.paths import CONFIG_FILE, RECORD_DIR
from gpuctl.commands import NONE, Flags
from gpuctl.errors import GpuctlError, doc_ref
from gpuctl.words import counted

if TYPE_CHECKING:
    from gpuctl.provider.protocol import Provider


class NotFound(GpuctlError):
    """What the command line named is not in the account. Its own type, so that
    `--ignore-not-found` can forgive exactly this and nothing else."""


class EndpointNotFound(NotFound):
    pass


class Ambiguous(GpuctlError):
    """A name matches several things; gpuctl refuses to guess (never forgiven by
    `--ignore-not-found`: something is there)."""


@dataclass
class Target:
    """The provider to talk to and, when gpu.jsonc is there, the project it belongs to."""

    provider: Provider
    loaded: object | None  # gpuctl.config.LoadedConfig
    name: str  # "runpod" | "local"
    protect: Callable[[str | None], None] = lambda secret: None  # AppContext.protect
    note: Callable[[str], None] = lambda message: None  # AppContext.note
    salvaged_project: str | None = None  # the project_id of a gpu.jsonc that parses but is not valid (open_target reads_only)
    # What a worker is given from an env value's RunPod secret references, where the provider's
    # secrets can be read (the local provider's: gpuctl.local.client.secrets.protector); None on
    # RunPod, whose API never returns a secret's value.
    secret_values: Callable[[str], list[str]] | None = None
    flags: Flags = NONE  # the run's --config and --provider, which every command a message suggests repeats (gpuctl.commands)

    @property
    def project_id(self) -> str | None:
        return self.loaded.project_id if self.loaded else self.salvaged_project

    def protect_env(self, endpoint: dict) -> None:
        """Register the endpoint's env values as secrets, for the commands that print what its
        workers wrote (logs, a job's output or error): a handler or a library that prints or
        returns a token must not put it in a CI log through gpu. What is protected is what a
        worker is given (`env_secrets`): a RunPod secret's value where the provider lets it be
        read (the local provider), not the `{{ RUNPOD_SECRET_x }}` text the account holds."""
        from gpuctl.v2 import env_of

        name = endpoint.get("name")
        literals = self.literals(name)
        for key, value in env_of(endpoint).items():
            for secret in env_secrets(key, value, literals.get((name, key)), self.secret_values):
                self.protect(secret)

    def literals(self, name: str | None = None) -> dict[tuple[str, str], str]:
        """{(endpoint name, env key): value} of the env values gpu.jsonc holds as plain literals
        (planning.env_literals), of endpoint `name` only when given."""
        from gpuctl.cli.planning import env_literals

        return {k: v for k, v in env_literals(self.loaded).items() if name is None or k[0] == name}

    def indirect(self, name: str | None) -> dict[str, str]:
        """{env key: where gpu.jsonc reads it from} of endpoint `name`'s `${VAR}`s and RunPod
        secrets (planning.env_indirect)."""
        from gpuctl.cli.planning import env_indirect

        return {key: where for (block, key), where in env_indirect(self.loaded).items() if block == name}

    def close(self) -> None:
        self.provider.close()


def env_secrets(key: str, value: object, literal: str | None, given: Callable[[str], list[str]] | None = None) -> list[str]:
    """The strings to protect (AppContext.protect) for account env `key`'s `value`: the rule of
    every site that registers an account's env (logs, invoke and job status, for what workers
    wrote; pull and rollback, a last line of defence).

    A value is a secret until shown otherwise (redact.env_shown: gpuctl's own GPUCTL_* markers
    and the plain literal gpu.jsonc holds for this endpoint and key are not). A value that is
    only a RunPod secret reference, `{{ RUNPOD_SECRET_x }}` (gpu.jsonc's {"secret": NAME}), is
    a name, which plans and gpuctl's own errors print: what must not be printed is the secret's
    value, which a worker is given and may print or return. `given(value)` says what a worker
    is given from a value's references, where the provider's secrets can be read (the local
    provider's); RunPod's API never returns a secret's value, so there it is not known, and not
    masked (docs/calling-endpoints.md). A value mixing references with other text is protected
    as written too. What a reference gives is protected even in a value gpu.jsonc holds as a
    literal (`"postgres://app:{{ RUNPOD_SECRET_pw }}@db"` written by hand)."""
    from gpuctl.model import secret_name
    from gpuctl.redact import env_shown

    if not isinstance(value, str):
        return []
    written = [] if env_shown(key, value, literal) or secret_name(value) is not None else [value]
    return written + (given(value) if given is not None and "RUNPOD_SECRET_" in value else [])


def provider_options(func):
    """--provider and --config, shared by every command that talks to an account."""
    func = click.option("--config", "config", type=CONFIG_FILE, help="Path to gpu.jsonc (default: ./gpu.jsonc, if present).")(func)
    return click.option("--provider", type=click.Choice(["runpod", "local"]), help="Which account (default as for deploy).")(func)


def record_option(func):
    """--record DIR, shared by the read-only commands that can record what they exchange."""
    return click.option("--record", "record", metavar="DIR", type=RECORD_DIR, callback=_record_directory,
                        help=f"Also write the HTTP exchanges, secrets removed, as vcrpy cassettes in DIR ({doc_ref('conformance.md')}).")(func)


def _record_directory(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """An empty --record (an unset shell variable) would record into the working directory.
    A file given as DIR is refused by gpuctl.provider.recording.Recorder, which names it."""
    from gpuctl.errors import UsageError

    if value is not None and not value.strip():
        raise UsageError("--record was given an empty directory name (an unset shell variable?), and would record into the working directory",
                         hint="name a directory to record into, such as --record rec/ (it is created when missing), or --record . for this one")
    return value


def start_recording(app: AppContext, directory: str | None, command: str) -> None:
    """Record this command's exchanges into `directory` (relative to the working directory);
    nothing when it is None."""
    if directory is None:
        return
    from gpuctl.cli.planning import user_path
    from gpuctl.provider.recording import Recorder

    app.recorder = Recorder(user_path(app, directory)[0], command, app.secrets)


def open_target(app: AppContext, provider: str | None, config: str | None, start_local: bool = False, reads_only: bool = False,
                blocks_optional: bool = False) -> Target:
    """Connect as `deploy` would choose. A missing gpu.jsonc is fine unless --config named one.
    The local provider is only started on demand when `start_local` (commands that read an
    account never start one).

    `reads_only`: the command looks at the account (or calls an endpoint) and needs gpu.jsonc
    only to know which project a name means. Then a ./gpu.jsonc that is not valid (half edited
    on day 2, a newer gpuctl's key) is a note, not the end of the command: what still parses of
    it (project_id, provider) is used, or else nothing, as where there is no gpu.jsonc. A file
    named by --config is what the user asked for, and stays an error.

    `blocks_optional`: a gpu.jsonc that declares no serverless block (a GPU CLI user's pod
    config, `"serverless": []`) is loaded with no blocks, not refused: `import` adds the first."""
    from gpuctl.cli.connect import connect
    from gpuctl.cli.planning import choose_provider, user_path
    from gpuctl.config import load_config
    from gpuctl.errors import ConfigError

    path, display = user_path(app, config)
    loaded, salvaged = None, _Salvaged()
    try:
        loaded = load_config(path, display=display, blocks_optional=blocks_optional) if config or path.exists() else None
    except ConfigError as error:
        if config or not reads_only:
            raise
        app.protect_variables(error)
        salvaged = _salvage(path, display, error)
        app.note(salvaged.note)
    name, _ = choose_provider(app, provider, loaded.provider if loaded else salvaged.provider)
    flags = Flags.of_run(config, provider)
    return Target(connect(app, name, start_local=start_local, flags=flags), loaded, name, app.protect, app.note, salvaged_project=salvaged.project_id,
                  secret_values=_local_secrets(app) if name == "local" else None, flags=flags)


def _local_secrets(app: AppContext) -> Callable[[str], list[str]]:
    """What a local worker is given from an env value's secret references (from the data dir
    connect() talks to)."""
    from gpuctl.local.client import lifecycle, secrets

    return secrets.protector(lifecycle.default_data_dir(app.environ))


@dataclass
class _Salvaged:
    project_id: str | None = None
    provider: str | None = None
    note: str = ""


def _salvage(path, display: str | None, error: GpuctlError) -> _Salvaged:
    """What a read-only command can still take from a gpu.jsonc that is not valid: its
    `project_id` (else the directory's name, as the loader names the project) and `provider`
    when the file parses and they are well formed, and the note that says what was done."""
    from gpuctl.config.source import read_source
    from gpuctl.commands import suggest
    from gpuctl.errors import ConfigError

    validate = f"`{suggest('config', 'validate', flags=Flags.of_run(display))}` shows every problem"
    first = error.diagnostics[0].format().split("\n")[0] if getattr(error, "diagnostics", None) else error.summary
    try:
        data = read_source(path, display).data
    except ConfigError:
        data = None
    if not isinstance(data, dict):
        return _Salvaged(note=f"note: {error.summary} ({first}); names are looked up in the whole account, as without a gpu.jsonc; "
                              + validate)
    project_id = data.get("project_id")
    project_id = project_id if isinstance(project_id, str) and project_id.strip() else path.resolve().parent.name
    provider = data.get("provider") if data.get("provider") in ("runpod", "local") else None
    return _Salvaged(project_id, provider, f'note: {error.summary} ({first}); read as project "{project_id}" for the names given here; '
                                           + validate)


def find_endpoint(endpoints: list[dict], ref: str, project_id: str | None, flags: Flags = NONE) -> dict:
    """The endpoint with id `ref`, else the one named `ref` (this project's first). A `ref`
    that is one endpoint's id and another's name is refused, as any name several endpoints
    share is: `delete` took the id's endpoint, whichever was meant."""
    from gpuctl.commands import suggest
    from gpuctl.spelling import did_you_mean
    from gpuctl.v2 import owned_by, owner

    by_id = [e for e in endpoints if e.get("id") == ref]
    named = [e for e in endpoints if e.get("name") == ref]
    if by_id and [e for e in named if e.get("id") != ref]:
        from gpuctl.safetext import one_line

        other = next(e for e in named if e.get("id") != ref)
        raise Ambiguous(f'"{ref}" is the id of endpoint {one_line(str(by_id[0].get("name")), 200)} (project {one_line(owner(by_id[0]) or "none", 200)}) '
                        f'and the name of endpoint {one_line(str(other.get("id")), 100)} (project {one_line(owner(other) or "none", 200)})',
                        hint=f"name the one you mean another way: {one_line(str(other.get('id')), 100)} is the id of the endpoint named {one_line(ref, 100)}")
    if by_id:
        return by_id[0]
    ours = [e for e in named if owned_by(e, project_id)]
    if len(ours) == 1 or len(named) == 1:
        return (ours or named)[0]
    if len(named) > 1:
        from gpuctl.safetext import one_line

        listed = ", ".join(f"{one_line(e['id'], 100)} (project {one_line(owner(e) or 'none', 200)})" for e in named)
        raise Ambiguous(f'{counted(len(named), "endpoint")} are named "{ref}": {listed}', hint="name the one you mean by its id")
    hint = did_you_mean(ref, [e.get("name", "") for e in endpoints]) or f"list them with `{suggest('serverless', 'list', '--all', flags=flags)}`"
    raise EndpointNotFound(f'no endpoint named or with id "{ref}"', hint=hint)


def endpoint(target: Target, ref: str) -> dict:
    """The endpoint `ref` names (find_endpoint). When it is a name this project's gpu.jsonc
    declares, but the endpoint found is not this project's (its own was deleted, and another
    project's or an unmanaged one holds the name), a note says so: the command goes on with it,
    as it would by id, but nobody takes it for the project's."""
    from gpuctl.v2 import owned_by, owner

    found = find_endpoint(target.provider.list_endpoints(), ref, target.project_id, target.flags)
    loaded = target.loaded
    declared = {b.model.name or loaded.project_id for b in loaded.blocks} if loaded is not None else set()
    if found.get("id") != ref and ref in declared and not owned_by(found, target.project_id):
        whose = f'it belongs to project "{owner(found)}"' if owner(found) else "it is unmanaged"
        target.note(f'note: endpoint {ref} ({found.get("id")}) is not this project\'s: {whose}, and project "{target.project_id}" has no endpoint named {ref}')
    return found


class EndpointGone(GpuctlError):
    """The endpoint a command was working with was deleted under it."""


@contextmanager
def while_it_exists(target: Target, ref: str, endpoint_id: str, doing: str) -> Iterator[None]:
    """Run a block that keeps calling the API about one endpoint (a watch, a follow, a job's
    wait). A not-found answer because the endpoint was deleted meanwhile becomes one error that
    says so, instead of the raw 404 of whichever call noticed; any other not-found (a job that
    expired) stays what it is."""
    from gpuctl.commands import suggest
    from gpuctl.provider.errors import NotFound as Gone

    try:
        yield
    except Gone:
        if any(e.get("id") == endpoint_id for e in target.provider.list_endpoints()):
            raise
        raise EndpointGone(f"endpoint {ref} ({endpoint_id}) was deleted while {doing}",
                           hint=f"`{suggest('serverless', 'list', '--all', flags=target.flags)}` shows the endpoints there are; "
                                f"`{suggest('serverless', 'deploy', flags=target.flags)}` creates it again") from None

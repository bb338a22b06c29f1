"""`gpu auth login|status|logout`: the RunPod API key on this machine.

The key is read from a hidden prompt or from stdin, never from argv (shell history and `ps`
would keep it), checked against the API before it is stored, and never printed: every key a
command handles is registered with `app.protect`, and people see only a masked form
(`rpa_…XYZ9`) that tells keys apart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from gpuctl.commands import suggest
from gpuctl.errors import ExitCode

if TYPE_CHECKING:
    from gpuctl.cli.context import AppContext
    from gpuctl.provider.errors import ProviderError

KEYS_PAGE = "https://www.runpod.io/console/user/settings"
PIPE_HINT = "pipe it in (`printenv RUNPOD_API_KEY | gpu auth login`), or run `gpu auth login` in a terminal to be prompted"


@click.group("auth")
def auth_group() -> None:
    """Store, inspect and remove the RunPod API key (RUNPOD_API_KEY wins over the stored key)."""


@auth_group.command("login", context_settings={"allow_extra_args": True})
@click.option("--no-verify", is_flag=True, help="Store the key without checking it against the API (offline).")
@click.pass_context
def login(ctx: click.Context, no_verify: bool) -> int:
    """Store a RunPod API key, read from a hidden prompt or stdin.

    The key is never accepted as an argument. It is first checked against the API (a read of
    your endpoints); a refused key is not stored. It is saved with mode 0600 in a 0700
    directory ($GPUCTL_CONFIG_DIR, else $XDG_CONFIG_HOME/gpuctl, else ~/.config/gpuctl).
    """
    from gpuctl import credentials
    from gpuctl.errors import UsageError

    app: AppContext = ctx.obj
    if ctx.args:  # never echo them: one may be the key
        raise UsageError("`gpu auth login` takes no arguments: the API key is never accepted on the command line", hint=PIPE_HINT)
    key = credentials.check_shape(_read_key(app))
    app.protect(key)
    _refuse_local(app, key)
    checked = None if no_verify else _verified_or_refused(app, key)
    stored = credentials.store_key(app.environ, key)
    if stored.loose_dir_mode is not None:
        app.note(f"tightened {stored.path.parent} from mode {stored.loose_dir_mode:04o} to 0700")
    how = f"checked against {checked}" if checked else "not checked: --no-verify"
    app.stdout.write(f"API key {credentials.mask(key)} saved to {stored.path} ({how})\n")
    if app.environ.get(credentials.ENV_VAR):
        app.note(f"note: {credentials.ENV_VAR} is set in this environment and wins over the stored key")
    return ExitCode.OK


@auth_group.command("status")
@click.option("--check", is_flag=True, help="Also verify the key against the API.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON document on stdout.")
@click.pass_obj
def status(app: AppContext, check: bool, as_json: bool) -> int:
    """Where the API key comes from, and whether it works.

    RUNPOD_API_KEY wins over the stored key; the key itself is never printed. Exits 1 when no key is configured or the check fails, so scripts can test it; a key that cannot be used (a damaged key file) is an error on stderr.
    """
    from gpuctl.cli.output import print_json

    from gpuctl.errors import GpuctlError

    doc = _status(app, check)
    if as_json:
        print_json(app, doc)
    elif doc["problem"]:
        # a key that is there but cannot be used is an error, not a state: the same `error:` and
        # hint on stderr as any command that needs the key gives, never half of it on stdout (no
        # warning about the file's mode: the fix, `gpu auth login`, also makes it private)
        raise GpuctlError(doc["problem"]["summary"], hint=doc["problem"]["hint"])
    else:
        _print_status(app, doc)
        if doc["checked"] and doc["error"]:  # a failed check is an error like any other: `error:` and `hint:` on stderr
            raise _check_failed(doc)
    return ExitCode.OK if doc["configured"] and not doc["error"] and not doc["problem"] else 1


@auth_group.command("logout")
@click.pass_obj
def logout(app: AppContext) -> int:
    """Remove the stored API key.

    RUNPOD_API_KEY, if set, belongs to your shell and stays: the note says so."""
    from gpuctl import credentials

    path = credentials.key_file(app.environ)
    removed = credentials.remove_key(app.environ)
    app.stdout.write(f"removed the stored API key from {path}\n" if removed else f"no API key stored at {path}; nothing to remove\n")
    if app.environ.get(credentials.ENV_VAR):
        app.note(f"note: {credentials.ENV_VAR} is still set in this environment, so commands still use that key; unset it to log out completely")
    return ExitCode.OK


def _refuse_local(app: AppContext, key: str) -> None:
    """`auth login` stores a RunPod key: the local provider's token, or any key while a base URL
    is the local provider's (as `eval "$(gpu local env)"` leaves them), would be checked against
    the local provider and stored as the RunPod key, which `auth status --check` then sends to
    RunPod and which, from a new shell, makes commands quietly use the local provider."""
    from gpuctl.cli.planning import local_credentials
    from gpuctl.errors import UsageError
    from gpuctl.local.client.lifecycle import EXPORTED

    local = local_credentials(app, key)
    if local:
        raise UsageError(f"gpu auth login stores a RunPod API key, but {local}; nothing was stored",
                         hint=f"the local provider needs no login; to store your RunPod key, undo `{suggest('local', 'env')}` first with "
                              f"`eval \"$({suggest('local', 'env', '--unset')})\"` (it runs `unset {' '.join(EXPORTED)}`), then run `gpu auth login` again")


def _read_key(app: AppContext) -> str:
    """From a hidden prompt on a terminal, else the first non-empty line of stdin."""
    import sys

    from gpuctl.errors import UsageError

    if sys.stdin is not None and app.stdin_tty:
        app.note(f"Paste a RunPod API key (create one at {KEYS_PAGE}); the input is hidden.")
        from gpuctl.cli.confirm import ask_hidden, cancel

        key = ask_hidden("API key")
        if key is None:
            cancel(app, "stored")
        return key.strip()
    for line in app.stdin_lines("the API key", PIPE_HINT, limit=64 * 1024):
        if line.strip():
            return line.strip()
    raise UsageError("no API key on stdin", hint=PIPE_HINT)


def _check(app: AppContext, key: str) -> tuple[str, ProviderError | None]:
    """(API base URL, None when the key works, else the error): one cheap authenticated read."""
    from gpuctl.cli.connect import api_base, client
    from gpuctl.provider.errors import ProviderError
    from gpuctl.provider.http import RetryPolicy

    checker = client(app, api_base(app.environ), key, retry=RetryPolicy(attempts=3, budget=15.0))
    try:
        checker.request("GET", "/v2/serverless")
    except ProviderError as exc:
        return checker.base_url, exc
    finally:
        checker.close()
    return checker.base_url, None


def _verified_or_refused(app: AppContext, key: str) -> str:
    from gpuctl.errors import GpuctlError
    from gpuctl.provider.errors import AuthError

    base, error = _check(app, key)
    if isinstance(error, AuthError):
        raise GpuctlError(f"{base} refused this API key ({_refusal(error)}); nothing was stored", detail=error.detail,
                          hint=f"copy the key again from {KEYS_PAGE}; gpuctl needs read/write access to Serverless")
    if error is not None:
        raise GpuctlError(f"could not check the API key against {base}: {error.summary}; nothing was stored", detail=error.detail,
                          hint="try again, or store it unchecked with `gpu auth login --no-verify`")
    return base


def _refusal(error: ProviderError) -> str:
    return f"{error.status} {'unauthorized' if error.status == 401 else 'forbidden'}"


def _status(app: AppContext, check: bool) -> dict:
    """The status document `--json` prints and the text view renders."""
    from gpuctl import credentials
    from gpuctl.cli.connect import api_base
    from gpuctl.provider.errors import AuthError

    env_key, file_key = app.environ.get(credentials.ENV_VAR) or None, credentials.stored_key(app.environ)
    for key in (env_key, file_key):
        app.protect(key)
    active, path = env_key or file_key, credentials.key_file(app.environ)
    problem, file_problem = (_problem(read, app.environ) for read in (credentials.api_key, credentials.read_key_file))
    doc = {
        "configured": active is not None, "source": "environment" if env_key else "file" if file_key else None,
        "env_var": credentials.ENV_VAR, "env_var_set": env_key is not None, "masked": credentials.mask(active) if active else None,
        "key_file": str(path), "key_file_exists": path.exists(), "key_file_masked": credentials.mask(file_key) if file_key else None,
        "loose_permissions": [{"path": str(p), "mode": f"{m:04o}"} for p, m in credentials.loose_permissions(app.environ)],
        "api_base_url": api_base(app.environ), "checked": False, "works": None, "error": None,
        "problem": problem, "key_file_problem": file_problem,
    }
    if check and active and not (env_key and problem):
        doc["api_base_url"], error = _check(app, active)
        refused = isinstance(error, AuthError)
        doc |= {"checked": True, "works": True if error is None else False if refused else None,
                "error": error and (f"refused ({_refusal(error)})" if refused else error.summary)}
    return doc


def _check_failed(doc: dict):
    """The error `status --check` ends with when the key was refused or could not be checked."""
    from gpuctl.errors import GpuctlError

    base, where = doc["api_base_url"], f"set {doc['env_var']} to it" if doc["source"] == "environment" else "run `gpu auth login`"
    if doc["works"] is False:
        return GpuctlError(f"{base} refused the API key {doc['masked']} {doc['error'].removeprefix('refused ')}",
                           hint=f"the key was revoked or mistyped: copy a key from {KEYS_PAGE} and {where}; gpuctl needs read/write access to Serverless")
    return GpuctlError(f"could not check the API key {doc['masked']} against {base}: {doc['error']}",
                       hint="try again; if it persists, check the network, and RUNPOD_API_BASE_URL if it is set")


def _problem(read, environ) -> dict | None:
    """{"summary", "hint"} of the KeyProblem `read(environ)` raises, else None."""
    from gpuctl.credentials import KeyProblem

    try:
        read(environ)
    except KeyProblem as exc:
        return {"summary": exc.summary, "hint": exc.hint}
    return None


def _warn_loose(app: AppContext, doc: dict) -> None:
    for loose in doc["loose_permissions"]:
        app.note(f"warning: {loose['path']} has mode {loose['mode']}; others may read it (`gpu auth login` again makes it private)")


def _print_status(app: AppContext, doc: dict) -> None:
    out, var = app.stdout, doc["env_var"]
    if doc["source"] == "environment":
        out.write(f"using the key in the {var} environment variable ({doc['masked']})\n")
        if doc["key_file_masked"]:
            out.write(f"a key is also stored in {doc['key_file']} ({doc['key_file_masked']}); {var} wins over it\n")
    elif doc["source"] == "file":
        out.write(f"using the key stored in {doc['key_file']} ({doc['masked']})\n")
    else:
        out.write("no RunPod API key is configured\n")
        app.note(f"hint: run `gpu auth login`, or set {var}")
    if doc["key_file_problem"]:
        app.note(f"warning: {doc['key_file_problem']['summary']} ({var} wins over it)")
    _warn_loose(app, doc)
    if doc["checked"] and doc["works"]:
        out.write(f"the key works at {doc['api_base_url']}\n")
    elif doc["checked"]:  # the error on stderr says why (`_check_failed`)
        verdict = "the key does not work there" if doc["works"] is False else "could not tell whether the key works"
        out.write(f"checked against {doc['api_base_url']}: {verdict}\n")
    elif doc["configured"]:
        out.write(f"not checked; add --check to verify it against {doc['api_base_url']}\n")

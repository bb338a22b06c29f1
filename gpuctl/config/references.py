"""`${VAR}` in an env value of gpu.jsonc: the one definition of the pattern, used to check
references (`config validate`), to list them, and to read them from the environment."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

REFERENCE = re.compile(r"\$\{([^}]*)(\})?")  # group 2 is None for "${" without a closing "}"
NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def scan(value: object) -> Iterator[tuple[str, bool]]:
    """(name as written, closed) of every `${` in `value`; nothing for a non-string."""
    if isinstance(value, str):
        for ref in REFERENCE.finditer(value):
            yield ref.group(1), ref.group(2) is not None


def names(value: object) -> list[str]:
    """The variables `value` reads, in order, repeats kept."""
    return [name for name, closed in scan(value) if closed]


def substitute(value: str, environ: Mapping[str, str]) -> str:
    """`value` with every `${VAR}` replaced by its value in `environ` (all must be there)."""
    return REFERENCE.sub(lambda m: environ[m.group(1)] if m.group(2) else m.group(0), value)


# The variables of gpuctl's own process that are credentials of the run, not of a worker
# (docs/adr/0034-secrets-ci-credentials.md). A `${VAR}` reads any variable of that process, and in
# CI the action puts its own credentials there: a pull request's gpu.jsonc could route them into
# an endpoint whose image the same pull request chooses, and into the account's env, which anyone
# with console read access sees.
ACCOUNT_KEY = "RUNPOD_API_KEY"  # gpuctl.credentials.ENV_VAR: a worker may need a RunPod key; a warning names the endpoint
_RUNS_OWN = {"GITHUB_TOKEN": "GitHub's token for the workflow run", "GH_TOKEN": "the GitHub CLI's token"}
_RUNS_OWN_PREFIXES = (("ACTIONS_", "a variable of the GitHub Actions runner itself (ACTIONS_RUNTIME_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN, ...)"),
                      ("GPUCTL_", "one of gpuctl's own settings"))
RUNS_OWN_HINT = ('give the worker a credential of its own: {"secret": "name"} (a RunPod secret), or ${NAME} '
                 "read from a variable the workflow sets from a dedicated repository secret")


def runs_own(name: str) -> str | None:
    """What `name` is when it is the run's own (GitHub's token, the runner's variables, gpuctl's
    settings): never a worker's to read. None for any other variable, the RunPod key included."""
    if name in _RUNS_OWN:
        return _RUNS_OWN[name]
    return next((what for prefix, what in _RUNS_OWN_PREFIXES if name.startswith(prefix)), None)

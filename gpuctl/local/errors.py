"""What the local provider refuses, said in words for the caller and free of HTTP.

The control plane, the runtime and the admin rules raise these; only the api layer knows
which status each becomes (a `NotFound` is a 404 on every surface, a `Rejected` a 400, an
`Invalid` a 422), and GraphQL reports them as business errors inside its HTTP 200.
"""

from __future__ import annotations


class Refusal(Exception):
    """A request the local provider will not carry out; `str()` says why, for the caller."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class NotFound(Refusal):
    """The object the request names does not exist (or is not visible yet)."""


class Rejected(Refusal):
    """The request fits the schema but breaks one of RunPod's rules (both gpu and cpu, an
    unknown pool, a volume that would shrink, ...)."""


class Invalid(Refusal):
    """The request does not fit the schema. `errors` lists each failure as `$.path: message`."""

    def __init__(self, message: str, errors: list[str] | None = None):
        super().__init__(message)
        self.errors = errors

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

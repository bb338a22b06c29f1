"""JSON numbers as RFC 8259 has them, for every JSON text gpuctl writes or reads from outside:
no NaN, no Infinity. Python's json writes a non-finite float as the bare token `NaN` or
`Infinity` and reads those tokens (and `1e999`, as inf) back, which no other JSON reader does
(JavaScript's JSON.parse, Go's encoding/json, jq): a worker returning float("nan") made the
local provider's job answers, and `gpu serverless job status --json` after it, text that is
not JSON, and its webhook was never sent (review 9, R9-1).

- `dumps`: the one JSON writer of `--json` output (`gpuctl.cli.output.json_text`), of the plan
  document's encoder (`render.document`) and of the local provider's answers
  (`gpuctl.local.api.http.json_response`). A non-finite float is written `null`, as
  JavaScript's JSON.stringify writes it: the document stays JSON, and says the number is not
  there.
- `loads`: json.loads that refuses NaN, Infinity, -Infinity and a number too large for a
  64-bit float with `NonFinite` (a ValueError), for a reader that answers a sender (the local
  provider's request bodies answer 400, as RunPod's Go parser refuses them).

Standard library only: the local provider imports it too (.importlinter, local-alone).
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

OUT_OF_RANGE = "Out of range float values"  # the start of json's ValueError under allow_nan=False


class NonFinite(ValueError):
    """A JSON text holds a number JSON does not have: `token` as written (NaN, -Infinity, 1e999)."""

    def __init__(self, token: str):
        self.token = token
        super().__init__(f"it has the number {token[:40]}, which JSON does not have (JSON numbers are finite: no NaN or Infinity, "
                         "nothing beyond a 64-bit float)")


def finite(value: Any) -> Any:
    """`value` with every non-finite float in it (also inside lists, tuples and dict values) as None."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite(v) for v in value]
    return value


def dumps(value: Any, **options: Any) -> str:
    """`json.dumps(value, **options)` that always writes JSON: a non-finite float is `null`.
    The value is walked only when json met such a float, so finite documents cost nothing more."""
    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError as exc:
        if not str(exc).startswith(OUT_OF_RANGE):
            raise
    return json.dumps(finite(value), allow_nan=False, **options)


def strict(encode: Callable[[Any], str]) -> Callable[[Any], str]:
    """An encoder made with allow_nan=False (the plan document's C encoder) that writes a
    non-finite float as `dumps` does."""

    def run(value: Any) -> str:
        try:
            return encode(value)
        except ValueError as exc:
            if not str(exc).startswith(OUT_OF_RANGE):
                raise
        return encode(finite(value))

    return run


def _constant(name: str) -> Any:
    raise NonFinite(name)


def _float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise NonFinite(text)
    return number


def loads(text: str | bytes) -> Any:
    """json.loads, refusing NaN, Infinity, -Infinity and 1e999 with NonFinite."""
    return json.loads(text, parse_constant=_constant, parse_float=_float)

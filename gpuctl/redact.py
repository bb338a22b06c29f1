"""Env values from the account never reach an output.

RunPod returns endpoint env in clear, and release diffs repeat it (`diff[{field: "template.env",
old, new}]`). Any of those values may be a secret someone set in the console, so every command
that prints what the account says passes it through `hide_env` first: the keys stay (they
say what is configured), every value becomes `{"sensitive": true}`, as in the plan document.
"""

from __future__ import annotations

from typing import Any

HIDDEN = {"sensitive": True}


def hide_env(value: Any) -> Any:
    """A copy of `value` (any JSON) with every value under an `env` key hidden, including the
    `old`/`new` of a release diff entry whose field is an env field."""
    if isinstance(value, list):
        return [hide_env(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    env_diff = _is_env_field(value.get("field"))
    for key, item in value.items():
        if key == "env":
            out[key] = _hidden(item)
        elif env_diff and key in ("old", "new"):
            out[key] = _hidden(item) if isinstance(item, dict) else (None if item is None else HIDDEN)
        else:
            out[key] = hide_env(item)
    return out


def _is_env_field(field: Any) -> bool:
    """`template.env`, `env` or `env.NAME`: RunPod names a diff field top-level or
    template-scoped (openapi-v2 `ReleaseDiffEntry`)."""
    return isinstance(field, str) and "env" in field.split(".")


def _hidden(env: Any) -> Any:
    if isinstance(env, dict):
        return {k: HIDDEN for k in env}
    if isinstance(env, list):  # [{"key": ..., "value": ...}] as some APIs spell env
        return [{**e, "value": HIDDEN} if isinstance(e, dict) and "value" in e else HIDDEN for e in env]
    return None if env is None else HIDDEN

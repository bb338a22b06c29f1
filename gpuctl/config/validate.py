"""Structural validation of the parsed document against the pydantic models.

Every pydantic error becomes a located `Diagnostic` with our own wording: the key path, what
was expected and, for unknown keys, the closest valid key. Env values are never echoed.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from gpuctl.config.schema import TOP_LEVEL_KEYS, ServerlessBlock
from gpuctl.config.source import Source
from gpuctl.errors import ConfigError, Diagnostic
from gpuctl.spelling import did_you_mean

_JSON_TYPE = {dict: "an object", list: "a list", str: "a string", bool: "true/false", int: "a number", float: "a number", type(None): "null"}
_EXPECTED = {
    "int_type": "an integer", "int_from_float": "an integer", "bool_type": "true or false",
    "string_type": "a string", "list_type": "a list", "dict_type": "an object",
    "model_type": "an object", "model_attributes_type": "an object",
}


def _kind(value: Any) -> str:
    return _JSON_TYPE.get(type(value), type(value).__name__)


def _show(value: Any, secret: bool) -> str:
    if secret:
        return _kind(value)
    text = repr(value) if not isinstance(value, str) else f'"{value}"'
    return text if len(text) <= 60 else text[:57] + "..."


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The valid keys of the object at `loc` inside `model`, for did-you-mean."""
    current: Any = model
    skip = False
    for part in loc:
        if skip or isinstance(part, int):
            skip = False
            continue
        field = current.model_fields.get(part) if _is_model(current) else None
        if field is None:
            return []
        skip = "dict[" in str(field.annotation)  # the next part is a user-chosen key, e.g. an env name
        current = _model_in(field.annotation)
    return list(current.model_fields) if _is_model(current) else []


def _is_model(value: Any) -> bool:
    return isinstance(value, type) and issubclass(value, BaseModel)


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


_UNION_LABELS = {"str", "SecretRef", "constrained-str", "list[constrained-str]"}


def _clean_loc(loc: tuple) -> tuple:
    """Drop pydantic's union-branch labels (`str`, `SecretRef`, ...) after the union fields."""
    kept = []
    for i, part in enumerate(loc):
        after_union = i >= 1 and (loc[i - 1] == "command" or (i >= 2 and loc[i - 2] == "env"))
        if part == "[key]" or (after_union and part in _UNION_LABELS):
            continue
        kept.append(part)
    return tuple(kept)


def _describe(err: dict, secret: bool, valid_keys: list[str]) -> tuple[str, str | None]:
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if err.get("is_key"):
        return f'"{value}" is not a valid environment variable name', "use letters, digits and '_', not starting with a digit"
    if kind == "extra_forbidden":
        return "unknown key", did_you_mean(str(err["loc"][-1]), valid_keys) or f"valid keys: {', '.join(valid_keys)}"
    if kind == "missing":
        return "required key is missing", None
    if kind in _EXPECTED:
        hint = f'quote it: "{value}"' if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool) else None
        return f"expected {_EXPECTED[kind]}, got {_show(value, secret) if not isinstance(value, (dict, list)) else _kind(value)}", hint
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be ≥ {ctx.get('ge', ctx.get('gt'))}, got {_show(value, secret)}", None
    if kind in ("less_than_equal", "less_than"):
        return f"must be ≤ {ctx.get('le', ctx.get('lt'))}, got {_show(value, secret)}", None
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {_show(value, secret)}", None
    if kind == "string_pattern_mismatch":
        names = [p for p in err["loc"] if isinstance(p, str)]
        return f"{_show(value, secret)} is not in the expected form", _PATTERN_HINTS.get(names[-1] if names else "")
    if kind in ("string_too_short", "too_short"):
        return "must not be empty", None
    if kind in ("string_too_long", "too_long"):
        return f"is too long (at most {ctx.get('max_length')})", None
    return err["msg"], None


_PATTERN_HINTS = {
    "cached_model": 'use a Hugging Face repo id such as "meta-llama/Llama-3.1-8B-Instruct" or "org/model:revision"',
    "name": "names must not start or end with whitespace",
    "mount_path": "use an absolute path such as /runpod-volume",
    "secret": "secret names use letters, digits, '_', '.' and '-'",
    "ports": 'use PORT/http or PORT/tcp, e.g. "8000/http"',
}


def _union_noise(errors: list[dict]) -> list[dict]:
    """For `str | SecretRef` and `list | str` unions pydantic reports every branch; keep one."""
    kept, seen = [], set()
    for err in errors:
        loc = _clean_loc(err["loc"])
        is_env_object = len(loc) >= 3 and loc[-3:-1] == ("runpod", "env") and isinstance(err.get("input"), dict)
        if loc in seen or (is_env_object and err["type"] == "string_type"):
            continue
        seen.add(loc)
        kept.append({**err, "loc": loc, "is_key": "[key]" in err["loc"]})
    return kept


def _env_value_error(err: dict) -> tuple[str, str | None] | None:
    loc = err["loc"]
    if len(loc) >= 3 and loc[-3:-1] == ("runpod", "env") and err["type"] in ("string_type", "model_type", "dict_type"):
        value = err.get("input")
        hint = f'quote it: "{value}"' if isinstance(value, (int, float)) and not isinstance(value, bool) else 'use a string, "${VAR}" or {"secret": "name"}'
        return f"expected a string or a secret reference, got {_kind(value)}", hint
    return None


def validate_block(source: Source, raw: Any, prefix: tuple) -> tuple[ServerlessBlock | None, list[Diagnostic]]:
    try:
        return ServerlessBlock.model_validate(raw), []
    except ValidationError as exc:
        diagnostics = []
        for err in _union_noise(exc.errors(include_url=False)):
            loc = err["loc"]
            secret = "env" in loc
            described = _env_value_error(err) or _describe(err, secret, _fields_at(ServerlessBlock, loc[:-1]))
            message, hint = described
            diagnostics.append(source.diagnostic(prefix + loc, message, hint))
        return None, diagnostics


def _duplicate_keys(source: Source) -> list[Diagnostic]:
    out = []
    for path, line, col in source.sourcemap.duplicates:
        first = source.sourcemap.positions.get(path, (0, 0))
        from gpuctl.config.sourcemap import dotted

        out.append(Diagnostic(f"key appears twice (first at line {first[0]})", dotted(path), source.display, line, col, "remove one of them; JSON keeps only the last"))
    return out


def _top_level(source: Source) -> list[Diagnostic]:
    data = source.data
    if not isinstance(data, dict):
        return [source.diagnostic((), f"the file must hold an object, got {_kind(data)}", 'wrap the settings in { "serverless": { ... } }')]
    out = []
    if "serverless" not in data:
        guess = did_you_mean("serverless", [k for k in data if k not in TOP_LEVEL_KEYS])
        out.append(source.diagnostic((), "no serverless block", guess or 'add "serverless": {"template": ..., "gpu_type": ...}'))
    for key in ("project_id", "$schema"):
        if key in data and not (isinstance(data[key], str) and data[key].strip()):
            out.append(source.diagnostic((key,), f"expected a non-empty string, got {_kind(data[key])}"))
    if "provider" in data and data["provider"] not in ("runpod", "local"):
        out.append(source.diagnostic(("provider",), f"must be one of 'runpod', 'local', got {_show(data['provider'], False)}"))
    return out


def validate_document(source: Source) -> list[tuple[tuple, ServerlessBlock]]:
    """The validated serverless blocks with their key paths, or a ConfigError listing every problem."""
    diagnostics = _duplicate_keys(source) + _top_level(source)
    blocks: list[tuple[tuple, ServerlessBlock]] = []
    raw = source.data.get("serverless") if isinstance(source.data, dict) else None
    if isinstance(raw, dict):
        items = [(("serverless",), raw)]
    elif isinstance(raw, list):
        items = [(("serverless", i), item) for i, item in enumerate(raw)]
        if not raw:
            diagnostics.append(source.diagnostic(("serverless",), "the list of serverless blocks is empty", "add at least one block"))
    else:
        items = []
        if raw is not None or (isinstance(source.data, dict) and "serverless" in source.data):
            diagnostics.append(source.diagnostic(("serverless",), f"expected an object or a list of objects, got {_kind(raw)}"))
    for prefix, item in items:
        if not isinstance(item, dict):
            diagnostics.append(source.diagnostic(prefix, f"expected an object, got {_kind(item)}"))
            continue
        block, problems = validate_block(source, item, prefix)
        diagnostics.extend(problems)
        if block is not None:
            blocks.append((prefix, block))
    if diagnostics:
        raise ConfigError(f"{source.display} is not valid", sorted(diagnostics, key=lambda d: (d.line or 0, d.col or 0)))
    return blocks

"""Structural validation of the parsed document against the pydantic models.

Every pydantic error becomes a located `Diagnostic` with our own wording: the key path, what
was expected and, for unknown keys, the closest valid key. Env values are never echoed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from gpuctl.config.schema import PRINTABLE_NAME, TOP_LEVEL_KEYS, ServerlessBlock
from gpuctl.config.source import Source
from gpuctl.errors import ConfigError, Diagnostic
from gpuctl.spelling import closest, did_you_mean

_JSON_TYPE = {dict: "an object", list: "a list", str: "a string", bool: "true/false", int: "a number", float: "a number", type(None): "null"}
_EXPECTED = {
    "int_type": "an integer", "int_from_float": "an integer", "bool_type": "true or false",
    "string_type": "a string", "list_type": "a list", "dict_type": "an object",
    "model_type": "an object", "model_attributes_type": "an object", "false_type": "false",
}


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return _JSON_TYPE.get(type(value), type(value).__name__)


def _show(value: Any, secret: bool) -> str:
    """The value as it is spelled in the file (true, null, NaN), shortened; only its kind when secret."""
    if secret:
        return _kind(value)
    if isinstance(value, (dict, list)):
        return _kind(value)
    try:
        text = json.dumps(value, ensure_ascii=False)  # escapes control characters: never replay them to a terminal
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _model_at(model: type[BaseModel], loc: tuple) -> Any:
    """The model of the object at `loc` inside `model`, or None."""
    current: Any = model
    skip = False
    for part in loc:
        if skip or isinstance(part, int):
            skip = False
            continue
        field = current.model_fields.get(part) if _is_model(current) else None
        if field is None:
            return None
        skip = "dict[" in str(field.annotation)  # the next part is a user-chosen key, e.g. an env name
        current = _model_in(field.annotation)
    return current if _is_model(current) else None


def _fields_at(model: type[BaseModel], loc: tuple) -> list[str]:
    """The valid keys of the object at `loc` inside `model`, for did-you-mean."""
    found = _model_at(model, loc)
    return list(found.model_fields) if found else []


def _nested_home(loc: tuple) -> str | None:
    """For a key in the wrong section (`serverless.min_workers`, `scaling.container_disk_gb`),
    a hint naming the section it belongs in."""
    if len(loc) > 2:  # deeper than a section, e.g. inside an env secret reference
        return None
    key, section = loc[-1], (loc[0] if len(loc) == 2 else None)
    if section is not None and key in ServerlessBlock.model_fields:
        return f'"{key}" belongs directly in the serverless block, not inside "{section}"'
    for name, field in ServerlessBlock.model_fields.items():
        child = _model_in(field.annotation)
        if child is not None and name != section and key in child.model_fields:
            return f'did you mean "{name}.{key}"? it belongs inside "{name}"'
    return None


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


_UNION_LABELS = {"str", "SecretRef", "constrained-str", "list[constrained-str]", "Volume", "literal[False]"}


def _clean_loc(loc: tuple) -> tuple:
    """Drop pydantic's union-branch labels (`str`, `SecretRef`, ...) after the union fields."""
    kept = []
    for i, part in enumerate(loc):
        after_union = i >= 1 and (loc[i - 1] in ("command", "volume") or (i >= 2 and loc[i - 2] == "env"))
        if part == "[key]" or (after_union and part in _UNION_LABELS):
            continue
        kept.append(part)
    return tuple(kept)


def _type_hint(kind: str, value: Any) -> str | None:
    """How to fix a value of the wrong type: quote a number, unquote a quoted number or boolean."""
    if kind == "string_type" and isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'quote it: "{value}"'
    if kind in ("int_type", "int_from_float") and isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
        return f"remove the quotes: {value.strip()}"
    if kind in ("int_type", "int_from_float") and isinstance(value, float) and value.is_integer():
        return f"write it as a whole number: {int(value)}"
    if kind == "bool_type" and isinstance(value, str) and value.strip().lower() in ("true", "false"):
        return f"remove the quotes: {value.strip().lower()}"
    return None


def _describe(err: dict, secret: bool, valid_keys: list[str]) -> tuple[str, str | None]:
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if err.get("is_key"):
        return f"{_show(value, False)} is not a valid environment variable name", "use letters, digits and '_', not starting with a digit"
    if kind == "extra_forbidden":
        hint = did_you_mean(str(err["loc"][-1]), valid_keys) or _nested_home(err["loc"])
        return "unknown key", hint or f"valid keys: {', '.join(valid_keys)}"
    if kind == "missing":
        return "required key is missing", None
    if kind in _EXPECTED:
        expected = " or ".join(dict.fromkeys(_EXPECTED[k] for k in (kind, *err.get("also", ())) if k in _EXPECTED))
        return f"expected {expected}, got {_show(value, secret)}", _type_hint(kind, value)
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be ≥ {ctx.get('ge', ctx.get('gt'))}, got {_show(value, secret)}", None
    if kind in ("less_than_equal", "less_than"):
        return f"must be ≤ {ctx.get('le', ctx.get('lt'))}, got {_show(value, secret)}", None
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(value, choices) if isinstance(value, str) and not secret else None
        return f"must be one of {ctx.get('expected')}, got {_show(value, secret)}", hint
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
    "name": "names must be printable: no control characters (such as ESC or NUL), and no whitespace at either end",
    "image_name": "an image reference has no control characters, e.g. \"ghcr.io/me/worker:1.0\"",
    "mount_path": "use an absolute path with no control characters, such as /runpod-volume",
    "secret": "secret names use letters, digits, '_', '.' and '-'",
    "ports": 'use PORT/http or PORT/tcp, e.g. "8000/http"',
}


def _union_noise(errors: list[dict]) -> list[dict]:
    """For `str | SecretRef` and `list | str` unions pydantic reports every branch; keep one,
    remembering the other branches' expected types (`expected a list or a string`)."""
    kept: dict[tuple, dict] = {}
    for err in errors:
        loc = _clean_loc(err["loc"])
        is_env_object = len(loc) >= 3 and loc[-3:-1] == ("runpod", "env") and isinstance(err.get("input"), dict)
        if is_env_object and err["type"] == "string_type":
            continue
        if loc == ("volume",) and err["type"] == "literal_error":
            err = {**err, "type": "false_type"}  # the `false` branch of `Volume | false`
        if loc in kept:
            kept[loc]["also"] = (*kept[loc].get("also", ()), err["type"])
            continue
        kept[loc] = {**err, "loc": loc, "is_key": "[key]" in err["loc"]}
    # a branch that got as far as the items (`command[1]`) explains the problem better than the
    # other branch's "expected a string, got a list" at the parent
    deeper = {loc[:i] for loc in kept for i in range(1, len(loc))}
    return [e for loc, e in kept.items() if not (loc in deeper and e["type"] in _EXPECTED)]


def _env_value_error(err: dict) -> tuple[str, str | None] | None:
    loc = err["loc"]
    if len(loc) >= 3 and loc[-3:-1] == ("runpod", "env") and err["type"] in ("string_type", "model_type", "dict_type"):
        value = err.get("input")
        scalar = isinstance(value, (int, float, bool)) and value == value and abs(value) != float("inf")
        hint = f'quote it: "{_show(value, False)}"' if scalar else 'use a string, "${VAR}" or {"secret": "name"}'
        return f"expected a string or a secret reference, got {_kind(value)}", hint
    return None


_REFERENCE = re.compile(r"\$\{([^}]*)(\})?")
_VAR_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _references(source: Source, block: ServerlessBlock, prefix: tuple) -> list[Diagnostic]:
    """`${VAR}` references that could never be read: a bad name, or no closing brace. Caught here
    so `config validate` reports them, not only deploy."""
    out = []
    for key, value in block.runpod.env.items():
        for ref in _REFERENCE.finditer(value if isinstance(value, str) else ""):
            name, closed = ref.group(1), ref.group(2)
            if not closed:
                out.append(source.diagnostic(prefix + ("runpod", "env", key), 'malformed reference: "${" without a closing "}"', "write ${NAME}; the value is read from the deploying environment"))
            elif not _VAR_NAME.fullmatch(name):
                shown = name if len(name) <= 40 else name[:37] + "..."
                out.append(source.diagnostic(prefix + ("runpod", "env", key), f'malformed reference "${{{shown}}}"', "write ${NAME} with letters, digits and '_'"))
    return out


def validate_block(source: Source, raw: Any, prefix: tuple) -> tuple[ServerlessBlock | None, list[Diagnostic]]:
    try:
        block = ServerlessBlock.model_validate(raw)
    except ValidationError as exc:
        diagnostics = []
        for err in _union_noise(exc.errors(include_url=False)):
            loc = err["loc"]
            secret = "env" in loc and loc[loc.index("env") + 2:] != ("secret",)  # a secret's name is not secret
            described = _env_value_error(err) or _describe(err, secret, _fields_at(ServerlessBlock, loc[:-1]))
            message, hint = described
            diagnostics.append(source.diagnostic(prefix + loc, message, hint))
        return None, diagnostics
    problems = _references(source, block, prefix)
    return (None, problems) if problems else (block, [])


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
        typo = closest("serverless", [k for k in data if k not in TOP_LEVEL_KEYS])
        if typo:  # point at the misspelled key itself
            out.append(source.diagnostic((typo,), "no serverless block", 'did you mean "serverless"?'))
        else:
            out.append(source.diagnostic(("serverless",), "no serverless block", 'add "serverless": {"template": ..., "gpu_type": ...}'))
    for key in ("project_id", "$schema"):
        if key in data and not (isinstance(data[key], str) and data[key].strip()):
            out.append(source.diagnostic((key,), f"expected a non-empty string, got {_show(data[key], False)}", _type_hint("string_type", data[key])))
    project_id = data.get("project_id")
    if isinstance(project_id, str) and (len(project_id) > 191 or not re.fullmatch(PRINTABLE_NAME, project_id)):
        out.append(source.diagnostic(("project_id",), "must be at most 191 printable characters (no control characters) with no surrounding whitespace", "it becomes the GPUCTL_PROJECT marker (and the default endpoint name)"))
    if "provider" in data and data["provider"] not in ("runpod", "local"):
        hint = did_you_mean(data["provider"], ["runpod", "local"]) if isinstance(data["provider"], str) else None
        out.append(source.diagnostic(("provider",), f"must be one of 'runpod', 'local', got {_show(data['provider'], False)}", hint))
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

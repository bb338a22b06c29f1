"""pydantic's verdict on an invalid `serverless` block, in gpuctl's words.

Only a block the quick checks of `gpuctl.config.shape` could not vouch for comes here, so
pydantic is imported when something is wrong (or unusual), not on every start. Every pydantic
error becomes a located `Diagnostic` with our own wording: the key path, what was expected and,
for unknown keys, the closest valid key. Env values are never echoed.
"""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import BaseModel, ValidationError

from gpuctl.commands import suggest
from gpuctl.config import shape
from gpuctl.config.schema import ServerlessBlock
from gpuctl.config.source import Source
from gpuctl.config.validate import kind, show, type_hint
from gpuctl.errors import Diagnostic
from gpuctl.spelling import did_you_mean

_EXPECTED = {
    "int_type": "an integer", "int_from_float": "an integer", "bool_type": "true or false",
    "string_type": "a string", "list_type": "a list", "dict_type": "an object",
    "model_type": "an object", "model_attributes_type": "an object", "false_type": "false",
    "float_type": "a number",
}


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


# RunPod's API names (REST v2, GraphQL) of what gpu.jsonc names otherwise. Someone who knows the
# API writes them, and spelling alone points elsewhere: "imageName" is close to "name", and
# "workersMax" to "min_workers".
_API_NAMES = {
    "image": "runpod.image_name", "imageName": "runpod.image_name", "dockerImage": "runpod.image_name",
    "workersMin": "scaling.min_workers", "workersMax": "scaling.max_workers", "idleTimeout": "scaling.idle_timeout",
    "workers": "scaling", "gpuTypeIds": "gpu_type", "gpuIds": "gpu_type",
    "networkVolumeId": "volume", "networkVolumeIds": "volume", "containerDiskInGb": "runpod.container_disk_gb",
    "executionTimeoutMs": "runpod.execution_timeout_ms", "scalerType": "runpod.scaler_type", "scalerValue": "runpod.scaler_value",
    "dataCenterIds": "runpod.data_center_ids", "flashBoot": "runpod.flashboot",
    "registry": "runpod.registry_auth", "containerRegistryAuthId": "runpod.registry_auth", "registry_auth_id": "runpod.registry_auth",
}


def _api_name(loc: tuple) -> str | None:
    """For RunPod's API name of a key, the key gpu.jsonc has (relative to the section the
    error is in when it belongs there)."""
    key, section = str(loc[-1]), (loc[-2] if len(loc) >= 2 else None)
    home = _API_NAMES.get(key)
    if home is None:
        return None
    if section is not None and home.startswith(f"{section}."):
        home = home.removeprefix(f"{section}.")
    if home == "gpu_type":  # a list of types: the first is the primary, the others the fallbacks
        return f'did you mean "gpu_type" (the first type) and "gpu_types" (the fallbacks)? "{key}" is RunPod\'s API name for them'
    return f'did you mean "{home}"? "{key}" is RunPod\'s API name for it'


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


_UNION_LABELS = {"str", "SecretRef", "constrained-str", "list[constrained-str]", "Volume", "literal[False]", "bool", "SharedVolumesRule"}


def _clean_loc(loc: tuple) -> tuple:
    """Drop pydantic's union-branch labels (`str`, `SecretRef`, ...) after the union fields."""
    kept = []
    for i, part in enumerate(loc):
        after_union = i >= 1 and (loc[i - 1] in ("command", "volume", "forbid_shared_volumes") or (i >= 2 and loc[i - 2] == "env"))
        if part == "[key]" or (after_union and part in _UNION_LABELS):
            continue
        kept.append(part)
    return tuple(kept)


def _field_at(model: type[BaseModel], loc: tuple) -> Any:
    """The pydantic field the last key of `loc` names (list items: the list's field), or None."""
    keys = list(loc)
    while keys and isinstance(keys[-1], int):
        keys.pop()
    parent = _model_at(model, tuple(keys[:-1])) if keys else None
    return parent.model_fields.get(keys[-1]) if parent is not None else None


def _bounds(field: Any) -> tuple[Any, Any]:
    low = high = None
    for rule in getattr(field, "metadata", ()):
        low = getattr(rule, "ge", getattr(rule, "gt", low))
        high = getattr(rule, "le", getattr(rule, "lt", high))
    return low, high


def _number(field: Any) -> str:
    """`write a whole number from 0 to 1000`, from the field's type and bounds."""
    low, high = _bounds(field)
    what = "a number" if "float" in str(getattr(field, "annotation", "")) else "a whole number"
    if low is not None and high is not None:
        return f"write {what} from {low} to {high}"
    if low is not None:
        return f"write {what} of at least {low}"
    return f"write {what}"


def _about(field: Any) -> str:
    """The field's description as the end of a hint (` (seconds an idle worker waits ...)`), or ""."""
    text = (getattr(field, "description", None) or "").strip().rstrip(".")
    return f" ({text[0].lower() + text[1:]})" if text else ""


def _object_hint(model: type[BaseModel] | None, value: Any, secret: bool) -> str:
    """How to write the object `model` describes; a lone string becomes its one required key
    (`"volume": "models"` -> `{"name": "models"}`)."""
    if model is None:
        return 'write an object: {"KEY": "value"}'
    required = [name for name, f in model.model_fields.items() if f.is_required()]
    if isinstance(value, str) and len(required) == 1 and not secret:
        return f'write it as an object: {{"{required[0]}": {show(value, False)}}}'
    keys = required or list(model.model_fields)
    return "write an object with " + ("the keys " if len(keys) > 1 else "the key ") + ", ".join(f'"{k}"' for k in keys)


def _schema_hint(err: dict, model: type[BaseModel], secret: bool) -> str:
    """A fix derived from the schema for an error that has no more particular one: the range of a
    number, the shape of an object or list, how to fill a missing or empty value."""
    kind, value, loc = err["type"], err.get("input"), err["loc"]
    field = _field_at(model, loc)
    kinds = (kind, *err.get("also", ()))
    if "false_type" in kinds and any(k in ("model_type", "dict_type", "model_attributes_type") for k in kinds):
        return _object_hint(_model_at(model, loc), value, secret) + ", or false"
    if kind in ("int_type", "int_from_float", "float_type", "greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        return _number(field) + (", without quotes" if isinstance(value, str) else "")
    if kind == "bool_type":
        return "write true or false" + (", without quotes" if isinstance(value, str) else "")
    if kind in ("model_type", "dict_type", "model_attributes_type"):
        if field is not None and "dict[" in str(field.annotation):  # keys the user chooses, e.g. env names
            return 'write an object: {"NAME": "value"}'
        return _object_hint(_model_at(model, loc), value, secret)
    if kind == "list_type":
        if "string_type" in kinds:
            return 'write a list of strings, such as ["python", "handler.py"], or one string'
        return f"put it in a list: [{show(value, secret)}]" if isinstance(value, str | int | float) and not secret else "write a list: [...]"
    if kind == "string_type":
        return "write a string in double quotes" + _about(field)
    if kind == "missing":
        return f'add "{loc[-1]}"{_about(field)}' if field is not None else f'add "{loc[-1]}"'
    if kind in ("string_too_short", "too_short"):
        if isinstance(loc[-1], int):
            return "remove the empty item, or fill it in"
        return ("give at least one item" if isinstance(value, list) else "give it a value") + _about(field)
    if kind in ("string_too_long", "too_long"):
        return f"shorten it to at most {(err.get('ctx') or {}).get('max_length')} characters"
    return "fix the value" + _about(field) + f"; `{suggest('config', 'schema')}` prints every key and what it takes"


def _describe(err: dict, secret: bool, valid_keys: list[str], model: type[BaseModel] = ServerlessBlock) -> tuple[str, str]:
    message, hint = _message(err, secret, valid_keys)
    if hint and not _in_bounds(err.get("input"), _field_at(model, err["loc"])):
        hint = None  # `write it as 1000000000` would only lead to the next error: the range is the fix
    return message, hint or _schema_hint(err, model, secret)


def _in_bounds(value: Any, field: Any) -> bool:
    """Whether a number is within the field's bounds (anything else is not judged here)."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return True
    low, high = _bounds(field)
    return (low is None or value >= low) and (high is None or value <= high)


UNKNOWN_KEY = "unknown key"


def _message(err: dict, secret: bool, valid_keys: list[str]) -> tuple[str, str | None]:
    kind, ctx, value = err["type"], err.get("ctx", {}), err.get("input")
    if err.get("is_key"):
        return f"{show(value, False)} is not a valid environment variable name", "use letters, digits and '_', not starting with a digit"
    if kind == "extra_forbidden":
        hint = _api_name(err["loc"]) or did_you_mean(str(err["loc"][-1]), valid_keys) or _nested_home(err["loc"])
        return UNKNOWN_KEY, hint or f"valid keys: {', '.join(valid_keys)}"
    if kind == "missing":
        return "required key is missing", None
    if kind in _EXPECTED:
        expected = " or ".join(dict.fromkeys(_EXPECTED[k] for k in (kind, *err.get("also", ())) if k in _EXPECTED))
        return f"expected {expected}, got {show(value, secret)}", type_hint(kind, value)
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be ≥ {ctx.get('ge', ctx.get('gt'))}, got {show(value, secret)}", None
    if kind in ("less_than_equal", "less_than"):
        return f"must be ≤ {ctx.get('le', ctx.get('lt'))}, got {show(value, secret)}", None
    if kind == "literal_error":
        choices = re.findall(r"'([^']*)'", str(ctx.get("expected", "")))
        hint = did_you_mean(value, choices) if isinstance(value, str) and not secret else None
        return f"must be one of {ctx.get('expected')}, got {show(value, secret)}", hint or "write one of " + ", ".join(json.dumps(c) for c in choices)
    if kind == "string_pattern_mismatch":
        names = [p for p in err["loc"] if isinstance(p, str)]
        return f"{show(value, secret)} is not in the expected form", _PATTERN_HINTS.get(names[-1] if names else "")
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
    "registry_auth": "the credential's name as RunPod's console shows it (Settings > Container Registry Auth), or its id: printable, no whitespace at either end",
    "renamed_from": "names must be printable: no control characters (such as ESC or NUL), and no whitespace at either end",
    "adopt": f"an endpoint id has letters, digits, '_' and '-' only, as `{suggest('serverless', 'list')}` shows it",
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
        hint = f'quote it: "{show(value, False)}"' if scalar else 'use a string, "${VAR}" or {"secret": "name"}'
        return f"expected a string or a secret reference, got {kind(value)}", hint
    return None


def validate_block(source: Source, raw: Any, prefix: tuple) -> tuple[shape.ServerlessBlock | None, list[Diagnostic]]:
    """pydantic's validation of `raw`: the block, or the diagnostics that say what is wrong."""
    try:
        return shape.from_model(ServerlessBlock.model_validate(raw)), []
    except ValidationError as exc:
        diagnostics = []
        for err in _union_noise(exc.errors(include_url=False)):
            loc = err["loc"]
            secret = "env" in loc and loc[loc.index("env") + 2:] != ("secret",)  # a secret's name is not secret
            message, hint = _env_value_error(err) or _describe(err, secret, _fields_at(ServerlessBlock, loc[:-1]))
            diagnostics.append(source.diagnostic(prefix + loc, message, hint))
        return None, diagnostics

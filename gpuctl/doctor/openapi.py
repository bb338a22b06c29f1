"""RunPod's answers held to RunPod's own OpenAPI document (`state/runpod/openapi-v2.json`).

Each problem is named by its JSON path in the answer, list items as `[]`:
- `missing`: the document requires the field and the answer lacks it;
- `invalid`: the value breaks the document (a wrong type, a value outside its enum, a field
  where the schema allows no other);
- `unknown`: the answer has a field the document does not describe at all. JSON Schema lets
  these pass (most response schemas leave `additionalProperties` open), so they are found by
  walking the answer beside its schema: a field RunPod started sending is news for the
  document, the catalog and the local provider alike.

jsonschema is imported here only, so only `gpu doctor` pays for it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cache
from typing import Any

from gpuctl.catalog import state_dir
from gpuctl.redact import clip


@dataclass(frozen=True, order=True)
class ShapeProblem:
    path: str
    kind: str  # "missing" | "invalid" | "unknown"
    message: str


@cache
def spec() -> dict[str, Any]:
    return json.loads((state_dir() / "runpod" / "openapi-v2.json").read_text())


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while isinstance(node, dict) and "$ref" in node:
        section, name = node["$ref"].split("/")[-2:]
        node = spec()["components"][section][name]
    return node


def operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    """The document's template and operation for a concrete path, literal templates first."""
    templates = sorted(spec()["paths"], key=lambda t: t.count("{"))
    for template in templates:
        if re.fullmatch(re.sub(r"\{[^}]+\}", "[^/]+", template), path) and method.lower() in spec()["paths"][template]:
            return template, spec()["paths"][template][method.lower()]
    return None


def response_schema(method: str, path: str, status: int) -> dict[str, Any] | None:
    found = operation(method, path)
    if found is None:
        return None
    responses = found[1]["responses"]
    response = _resolve(responses.get(str(status)) or responses.get("default") or {})
    content = response.get("content", {}).get("application/json")
    return content["schema"] if content else None


def _validator(schema: dict[str, Any]):
    import jsonschema

    return jsonschema.Draft202012Validator({**schema, "components": spec()["components"]})


def _dotted(parts) -> str:
    out = ""
    for part in parts:
        out += "[]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(the answer)"


def problems(method: str, path: str, status: int, body: Any) -> list[ShapeProblem]:
    """Every way `body` differs from what the document says `method path` answers with
    `status`; a path the document does not know is one problem."""
    schema = response_schema(method, path, status)
    if schema is None:
        return [ShapeProblem("(the answer)", "invalid", f"RunPod's document has no JSON answer for {method} {path} {status}")]
    found = set(_schema_errors(_validator(schema), body))
    found |= {ShapeProblem(p, "unknown", "not in RunPod's OpenAPI document") for p in unknown_fields(schema, body)}
    return sorted(found)


def _schema_errors(validator, body: Any):
    for error in validator.iter_errors(body):
        yield from _explain(error)


def _explain(error):
    """`required` errors become one `missing` problem per absent field; an error of a union
    (anyOf/oneOf) is explained by its best-matching branch."""
    if error.validator == "required" and isinstance(error.instance, dict):
        for name in error.validator_value:
            if name not in error.instance:
                yield ShapeProblem(_dotted([*error.absolute_path, name]), "missing", "required by RunPod's OpenAPI document")
        return
    if error.context:
        from jsonschema.exceptions import best_match

        yield from _explain(best_match(error.context))
        return
    yield ShapeProblem(_dotted(error.absolute_path), "invalid", clip(error.message if "env" not in error.absolute_path else _valueless(error), 200))


def _valueless(error) -> str:
    """jsonschema's message repeats the value, and an env's values may be secrets (a token in
    an env answered as a list): say what is wrong without it."""
    kind = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a number", float: "a number", type(None): "null"}.get(type(error.instance), "a value")
    if error.validator == "type":
        return f"{kind} (not shown: env values may be secrets) is not of type {json.dumps(error.validator_value)}"
    return f"{kind} (not shown: env values may be secrets) fails the document's {error.validator!r} rule"


def unknown_fields(schema: dict[str, Any], value: Any, prefix: tuple = ()) -> set[str]:
    """Paths of fields in `value` that `schema` describes nowhere."""
    schema = _resolve(schema)
    if isinstance(value, list):
        items = [_resolve(s.get("items", {})) for s in _branches(schema, value) if "items" in s] or [{}]
        return {p for item in value for s in items for p in unknown_fields(s, item, (*prefix, 0))}
    if not isinstance(value, dict):
        return set()
    declared: dict[str, list[dict]] = {}
    open_values: list[dict] = []
    described = False
    for branch in _branches(schema, value):
        for name, sub in branch.get("properties", {}).items():
            declared.setdefault(name, []).append(sub)
            described = True
        extra = branch.get("additionalProperties")
        if isinstance(extra, dict) and extra:
            open_values.append(extra)
            described = True
    if not described:  # a schema that says nothing of its fields ("any JSON"): nothing is unknown
        return set()
    found = set()
    for name, item in value.items():
        subs = declared.get(name) or open_values
        if not subs:
            found.add(_dotted([*prefix, name]))
        else:
            found |= set.intersection(*(unknown_fields(s, item, (*prefix, name)) for s in subs))
    return found


def _branches(schema: dict[str, Any], value: Any) -> list[dict[str, Any]]:
    """The schema and every allOf part; of an anyOf/oneOf, the branches `value` matches (all
    of them when none does)."""
    schema = _resolve(schema)
    out = [schema]
    for part in schema.get("allOf", []):
        out += _branches(part, value)
    for key in ("anyOf", "oneOf"):
        options = schema.get(key, [])
        matching = [o for o in options if _validator(o).is_valid(value)]
        for option in matching or options:
            out += _branches(option, value)
    return out


@cache
def create_defaults(schema_name: str = "CreateEndpointRequest") -> dict[str, Any]:
    """`{dotted field: default}` of a create request: what RunPod fills in for a field the
    request leaves out (`workers.idleTimeout`: 10, `flashboot`: "OFF", ...)."""
    found: dict[str, Any] = {}

    def walk(node: dict[str, Any], prefix: str, seen: frozenset[str]) -> None:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[1]
            if name not in seen:
                walk(_resolve(node), prefix, seen | {name})
            return
        if "default" in node and prefix:
            found.setdefault(prefix, node["default"])
        for key in ("allOf", "anyOf", "oneOf"):
            for part in node.get(key, []):
                walk(part, prefix, seen)
        for name, sub in node.get("properties", {}).items():
            walk(sub, f"{prefix}.{name}" if prefix else name, seen)

    walk(spec()["components"]["schemas"][schema_name], "", frozenset({schema_name}))
    return found

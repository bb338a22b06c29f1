"""REST v2 request bodies, checked against RunPod's own OpenAPI document
(`state/runpod/openapi-v2.json`) with jsonschema, so the rules are RunPod's and are written
down once, there.

RunPod's request schemas are closed (`unevaluatedProperties: false`): an unknown field is a
422 whose `errors` list says where, as `$.workers: additional properties 'x' not allowed`.
Each failure becomes one such `$.path: message` line. Two things the document states that a
plain JSON Schema validator does not do are done here: `scaling` is a union discriminated by
its `type` (a tag that names no variant is one error on the tag, a known tag reports only its
own variant's errors), and an integer is a number written without a fraction or exponent:
JSON Schema calls 2.0 and 1e2 integers, but Go's encoding/json, RunPod's parser, refuses them
for an int field, and stored they came back as 2.0 and 100.0, which `gpu serverless list`
could not count (review 9, R9-2). (NaN and Infinity never get here: the request reader
refuses them.) The document and jsonschema load on the first body checked, not at start.
"""

from __future__ import annotations

import json
import math
from functools import cached_property
from pathlib import Path
from typing import Any

from gpuctl.local.errors import Invalid

REF = "#/components/schemas/"


class RequestRules:
    """The request schemas of one OpenAPI document, compiled on first use."""

    def __init__(self, document: Path):
        self.document = document
        self.compiled: dict[str, Any] = {}

    @cached_property
    def spec(self) -> dict[str, Any]:
        return json.loads(self.document.read_text())

    def check(self, component: str, body: Any) -> None:
        """Raise Invalid (a 422) listing every way `body` breaks the component's schema."""
        found = self.errors(component, body)
        if found:
            raise Invalid("Request validation failed.", errors=found)

    def errors(self, component: str, body: Any) -> list[str]:
        lines = [line for error in self._validator(component).iter_errors(body) for line in self._describe(error)]
        return list(dict.fromkeys(lines))

    def bounds(self, component: str, prop: str) -> tuple[int, int]:
        """The documented minimum and maximum of one integer property of a component."""
        schema = self.spec["components"]["schemas"][component]["properties"][prop]
        return schema["minimum"], schema["maximum"]

    def _validator(self, component: str) -> Any:
        if component not in self.compiled:
            self.compiled[component] = _validator_class()({"$ref": REF + component, "components": self.spec["components"]})
        return self.compiled[component]

    def _describe(self, error: Any) -> list[str]:
        """The `$.path: message` lines of one jsonschema error."""
        path, instance, schema = _path(error.absolute_path), error.instance, error.schema
        if error.validator == "oneOf" and isinstance(schema, dict) and "discriminator" in schema:
            return self._tagged(error, path)
        if error.validator in ("additionalProperties", "unevaluatedProperties"):
            extra = [k for k in instance if k not in self._declared(schema)]
            return [f"{path}: additional properties " + ", ".join(f"'{k}'" for k in extra) + " not allowed"] if extra else []
        return [f"{path}: {_message(error.validator, error.validator_value, instance, error.message)}"]

    def _tagged(self, error: Any, path: str) -> list[str]:
        """A discriminated union: the tag picks the variant; a tag that is not a string (`[]`,
        `{}`, a number) names none, an error of the same kind as an unknown name."""
        tag, mapping = error.schema["discriminator"]["propertyName"], error.schema["discriminator"]["mapping"]
        if not isinstance(error.instance, dict):
            return [f"{path}: got {_type_name(error.instance)}, want object"]
        value = error.instance.get(tag)
        if not isinstance(value, str) or value not in mapping:
            return [f"{path}.{tag}: value must be one of " + ", ".join(f"'{v}'" for v in mapping)]
        index = [v.get("$ref") for v in error.schema["oneOf"]].index(mapping[value])
        return [line for sub in error.context if sub.relative_schema_path[0] == index for line in self._describe(sub)]

    def _declared(self, schema: Any) -> set[str]:
        """Every property a closed object schema declares, through allOf, if/then/else and
        references: what `unevaluatedProperties: false` lets through. (jsonschema counts a
        property as evaluated only when its whole subschema passed, so it would call every
        field of a body with one bad value unexpected.)"""
        if not isinstance(schema, dict):
            return set()
        if "$ref" in schema:
            return self._declared(self.spec["components"]["schemas"][schema["$ref"].removeprefix(REF)])
        names = set(schema.get("properties", {}))
        for key in ("allOf", "anyOf", "oneOf"):
            names.update(*(self._declared(s) for s in schema.get(key, [])))
        return names | self._declared(schema.get("then")) | self._declared(schema.get("else"))


def _validator_class() -> Any:
    """Draft 2020-12 whose numbers are finite, as JSON's are."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine_many({"number": lambda _, value: _number(value), "integer": lambda _, value: _integer(value)})
    return jsonschema.validators.extend(base, type_checker=checker)


def _number(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _integer(value: Any) -> bool:
    """An int as Python's json reads `2`, never the float it reads `2.0` or `1e2` as."""
    return isinstance(value, int) and not isinstance(value, bool)


def _path(parts: Any) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, float) and _number(value):
        return f"number {json.dumps(value)}"  # the value says why it is no integer: 2.0 has a fraction part
    if isinstance(value, (int, float)):
        return "number" if _number(value) else "non-finite number"
    return {str: "string", list: "array", dict: "object"}.get(type(value), type(value).__name__)


def _quoted(values: Any) -> str:
    return ", ".join(f"'{v}'" for v in values)


def _message(keyword: str, expected: Any, instance: Any, fallback: str) -> str:
    """One failure in the words the local provider has always used."""
    match keyword:
        case "type":
            return f"got {_type_name(instance)}, want " + " or ".join([expected] if isinstance(expected, str) else expected)
        case "enum":
            return "value must be one of " + _quoted(expected)
        case "const":
            return f"value must be '{expected}'"
        case "required":
            return "missing properties " + _quoted(r for r in expected if r not in instance)
        case "dependentRequired":
            return "; ".join(f"'{k}' needs " + _quoted(d for d in needs if d not in instance) for k, needs in expected.items()
                             if k in instance and any(d not in instance for d in needs))
        case "minLength" | "minItems" | "maxItems" | "minProperties":
            return f"{keyword}: got {len(instance)}, want {expected}"
        case "minimum" | "maximum":
            return f"{keyword}: got {instance}, want {expected}"
        case "uniqueItems":
            return "items are not unique"
        case "pattern":
            return f"'{instance}' does not match pattern '{expected}'"
    return fallback

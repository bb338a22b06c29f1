"""A small validator for request bodies, written from RunPod's OpenAPI document by hand.

RunPod's v2 request schemas are closed (`unevaluatedProperties: false`): an unknown field is
a 422 whose `errors` list says where, in the style `$.workers: additional properties 'x' not
allowed`. This module covers exactly the JSON Schema features those request bodies use. The
server does not read the OpenAPI document at run time; the tests check that the two agree.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Protocol


class Rule(Protocol):
    def check(self, value: Any, path: str) -> list[str]: ...


def _type_name(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _wrong(path: str, value: Any, want: str) -> list[str]:
    return [f"{path}: got {_type_name(value)}, want {want}"]


@dataclass(frozen=True)
class Str:
    min_len: int = 0
    pattern: str | None = None
    enum: tuple[str, ...] = ()
    nullable: bool = False

    def check(self, value: Any, path: str) -> list[str]:
        if value is None and self.nullable:
            return []
        if not isinstance(value, str):
            return _wrong(path, value, "string" + (" or null" if self.nullable else ""))
        if self.enum and value not in self.enum:
            return [f"{path}: value must be one of " + ", ".join(f"'{e}'" for e in self.enum)]
        if len(value) < self.min_len:
            return [f"{path}: minLength: got {len(value)}, want {self.min_len}"]
        if self.pattern and not re.search(self.pattern, value):
            return [f"{path}: '{value}' does not match pattern '{self.pattern}'"]
        return []


@dataclass(frozen=True)
class Int:
    minimum: int | None = None
    maximum: int | None = None

    def check(self, value: Any, path: str) -> list[str]:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return _wrong(path, value, "integer")
        if isinstance(value, float) and not (math.isfinite(value) and value.is_integer()):
            return [f"{path}: got number, want integer"]
        return _bounds(value, path, self.minimum, self.maximum)


@dataclass(frozen=True)
class Num:
    minimum: float | None = None

    def check(self, value: Any, path: str) -> list[str]:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            return _wrong(path, value, "number")
        return _bounds(value, path, self.minimum, None)


def _bounds(value: float, path: str, low: float | None, high: float | None) -> list[str]:
    if low is not None and value < low:
        return [f"{path}: minimum: got {value}, want {low}"]
    if high is not None and value > high:
        return [f"{path}: maximum: got {value}, want {high}"]
    return []


@dataclass(frozen=True)
class Bool:
    def check(self, value: Any, path: str) -> list[str]:
        return [] if isinstance(value, bool) else _wrong(path, value, "boolean")


@dataclass(frozen=True)
class Arr:
    items: Rule
    min_items: int = 0
    max_items: int | None = None
    unique: bool = False

    def check(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, list):
            return _wrong(path, value, "array")
        if len(value) < self.min_items:
            return [f"{path}: minItems: got {len(value)}, want {self.min_items}"]
        if self.max_items is not None and len(value) > self.max_items:
            return [f"{path}: maxItems: got {len(value)}, want {self.max_items}"]
        errors = [e for i, item in enumerate(value) for e in self.items.check(item, f"{path}[{i}]")]
        if self.unique and not errors and len({repr(v) for v in value}) != len(value):
            errors.append(f"{path}: items are not unique")
        return errors


@dataclass(frozen=True)
class Map:
    """An object whose keys are free and whose values all follow one rule (env maps)."""

    values: Rule

    def check(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, dict):
            return _wrong(path, value, "object")
        return [e for k, v in value.items() for e in self.values.check(v, f"{path}.{k}")]


@dataclass(frozen=True)
class Obj:
    """A closed object. `unless` maps a property to one whose presence waives its requirement
    (image is required unless templateId is given); `needs` maps a property to one it requires."""

    fields: dict[str, Rule]
    required: tuple[str, ...] = ()
    min_props: int = 0
    unless: dict[str, str] = field(default_factory=dict)
    needs: dict[str, str] = field(default_factory=dict)

    def check(self, value: Any, path: str) -> list[str]:
        if not isinstance(value, dict):
            return _wrong(path, value, "object")
        extra = [k for k in value if k not in self.fields]
        if extra:
            return [f"{path}: additional properties " + ", ".join(f"'{k}'" for k in extra) + " not allowed"]
        missing = [r for r in self.required if r not in value]
        missing += [k for k, waiver in self.unless.items() if k not in value and waiver not in value]
        missing += [dep for k, dep in self.needs.items() if k in value and dep not in value]
        if missing:
            return [f"{path}: missing properties " + ", ".join(f"'{m}'" for m in missing)]
        if len(value) < self.min_props:
            return [f"{path}: minProperties: got {len(value)}, want {self.min_props}"]
        return [e for k, v in value.items() for e in self.fields[k].check(v, f"{path}.{k}")]


@dataclass(frozen=True)
class Tagged:
    """A union discriminated by one property (RunPod's `scaling`)."""

    tag: str
    variants: dict[str, Rule]

    def check(self, value: Any, path: str) -> list[str]:
        """The tag picks the variant; a tag that is not a string (`[]`, `{}`, a number) can
        name none, so it is an error of the same kind as an unknown name, never a lookup."""
        if not isinstance(value, dict):
            return _wrong(path, value, "object")
        tag = value.get(self.tag)
        variant = self.variants.get(tag) if isinstance(tag, str) else None
        if variant is None:
            return [f"{path}.{self.tag}: value must be one of " + ", ".join(f"'{v}'" for v in self.variants)]
        return variant.check(value, path)


def validate(rule: Rule, value: Any) -> list[str]:
    """Every way `value` breaks `rule`, as `$.path: message` strings; empty when valid."""
    return rule.check(value, "$")

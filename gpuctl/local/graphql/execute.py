"""Validate a parsed operation against `schema`, then run its root fields and project the
results onto the selections.

Two kinds of failure, as RunPod separates them (api-notes §2.1): a document that does not fit
the schema is a `ValidationError` (HTTP 400, nothing runs); a resolver's business error is a
`ResolverError` or a control-plane refusal (`gpuctl.local.errors`), reported in `errors` of an
HTTP 200 with that field's data null.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gpuctl.local.errors import Refusal
from gpuctl.local.graphql.parse import Enum, Field, Operation, Var
from gpuctl.local.graphql.schema import ARGS, ENUMS, INPUTS, TYPES

INT_MIN, INT_MAX = -(2**31), 2**31 - 1  # GraphQL's Int: a signed 32-bit integer; a literal or variable beyond is a request error


class ValidationError(Exception):
    def __init__(self, message: str, line: int | None = None, column: int | None = None):
        super().__init__(message)
        self.line = line
        self.column = column

    def error(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"message": str(self)}
        if self.line is not None:
            doc["locations"] = [{"line": self.line, "column": self.column}]
        return doc


class ResolverError(Exception):
    """A business error (not found, name taken, ...) reported inside an HTTP 200."""


Resolver = Callable[[dict[str, Any]], Any]


def check_selections(type_name: str, fields: list[Field]) -> None:
    known = TYPES[type_name]
    for f in fields:
        if f.name == "__typename":
            continue
        if f.name not in known:
            raise ValidationError(f'Cannot query field "{f.name}" on type "{type_name}".', f.line, f.column)
        child = known[f.name]
        if child is not None and not f.selections:
            raise ValidationError(f'Field "{f.name}" of type "{child}" must have a selection of subfields.', f.line, f.column)
        if child is None and f.selections:
            raise ValidationError(f'Field "{f.name}" must not have a selection since it has no subfields.', f.line, f.column)
        allowed = ARGS.get((type_name, f.name), {})
        for arg in f.args:
            if arg not in allowed:
                raise ValidationError(f'Unknown argument "{arg}" on field "{type_name}.{f.name}".', f.line, f.column)
        if child is not None:
            check_selections(child, f.selections or [])


def substitute(value: Any, variables: dict[str, Any]) -> Any:
    """Replace variables by their values. Enum literals stay `Enum`, so `coerce` can tell
    `QUEUE_DELAY` (an enum value) from `"QUEUE_DELAY"` (a string); `plain` then unwraps them."""
    if isinstance(value, Var):
        return variables.get(value.name)
    if isinstance(value, list):
        return [substitute(v, variables) for v in value]
    if isinstance(value, dict):
        return {k: substitute(v, variables) for k, v in value.items()}
    return value


def plain(value: Any) -> Any:
    """A checked value as resolvers take it: enum literals become their names."""
    if isinstance(value, Enum):
        return value.name
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    return value


def coerce(type_ref: str, value: Any, where: str) -> None:
    """Check a value against an input type reference such as `[EnvironmentVariableInput]!`."""
    if value is None:
        if type_ref.endswith("!"):
            raise ValidationError(f'{where}: expected non-null value of type "{type_ref}", found null.')
        return
    base = type_ref.rstrip("!")
    if base.startswith("["):
        items = value if isinstance(value, list) else [value]
        for item in items:
            coerce(base[1:-1], item, where)
        return
    simple = {"String": str, "Int": int, "Float": (int, float), "Boolean": bool}
    if isinstance(value, Enum) and base not in ENUMS:
        raise ValidationError(f'{where}: expected value of type "{base}", found the enum value {value.name}; '
                              f'quote it ("{value.name}") to send a string.')
    if base in simple:
        if not isinstance(value, simple[base]) or (base in ("Int", "Float") and isinstance(value, bool)):
            raise ValidationError(f'{where}: expected value of type "{base}", found {value!r}.')
        if base == "Int" and not INT_MIN <= value <= INT_MAX:  # GraphQL's Int is 32 bits (spec §3.5.1), as graphql-js words it
            raise ValidationError(f"{where}: Int cannot represent non 32-bit signed integer value: {value}")
    elif base in ENUMS:
        if plain(value) not in ENUMS[base]:
            raise ValidationError(f'{where}: value {value!r} does not exist in "{base}" enum.')
    else:
        check_input(base, value, where)


def check_input(type_name: str, value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise ValidationError(f'{where}: expected an input object of type "{type_name}", found {value!r}.')
    fields = INPUTS[type_name]
    for key in value:
        if key not in fields:
            raise ValidationError(f'Field "{key}" is not defined by type "{type_name}".')
    for key, ref in fields.items():
        if ref.endswith("!") and value.get(key) is None:
            raise ValidationError(f'Field "{type_name}.{key}" of required type "{ref}" was not provided.')
        if key in value:
            coerce(ref, value[key], f"{type_name}.{key}")


def arguments(type_name: str, f: Field, variables: dict[str, Any]) -> dict[str, Any]:
    args = substitute(f.args, variables)
    for name, ref in ARGS.get((type_name, f.name), {}).items():
        if ref.endswith("!") and args.get(name) is None:
            raise ValidationError(f'Field "{f.name}" argument "{name}" of type "{ref}" is required, but it was not provided.', f.line, f.column)
        if name in args:
            coerce(ref, args[name], f'argument "{name}" of "{type_name}.{f.name}"')
    return plain(args)


def bind_variables(operation: Operation, given: Any) -> dict[str, Any]:
    given = given if isinstance(given, dict) else {}
    bound = {}
    for name, (type_ref, default) in operation.variables.items():
        value = given.get(name, plain(default))
        if value is None and type_ref.endswith("!"):
            raise ValidationError(f'Variable "${name}" of required type "{type_ref}" was not provided.')
        bound[name] = value
    return bound


def project(value: Any, fields: list[Field] | None, type_name: str | None, variables: dict[str, Any]) -> Any:
    if value is None or type_name is None or fields is None:
        return value
    if isinstance(value, list):
        return [project(v, fields, type_name, variables) for v in value]
    out = {}
    for f in fields:
        if f.name == "__typename":
            out[f.alias] = type_name
            continue
        raw = value.get(f.name)
        if callable(raw):
            raw = raw(arguments(type_name, f, variables))
        out[f.alias] = project(raw, f.selections, TYPES[type_name][f.name], variables)
    return out


def execute(operation: Operation, given_variables: Any, roots: dict[str, Resolver]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Run every root field; returns (data, errors). Raises ValidationError before running."""
    root_type = "Mutation" if operation.kind == "mutation" else "Query"
    check_selections(root_type, operation.selections)
    variables = bind_variables(operation, given_variables)
    planned = [(f, arguments(root_type, f, variables)) for f in operation.selections]
    data: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for f, args in planned:
        try:
            value = roots[f.name](args) if f.name != "__typename" else root_type
            data[f.alias] = value if f.name == "__typename" else project(value, f.selections, TYPES[root_type][f.name], variables)
        except (ResolverError, Refusal) as exc:
            data[f.alias] = None
            errors.append({"message": str(exc), "locations": [{"line": f.line, "column": f.column}], "path": [f.alias]})
    return data, errors

"""GitHub Actions expressions (`${{ ... }}`), as far as the workflows and action.yml here use
them: literals, context properties, `!`, `==`, `!=`, `<`, `>`, `&&`, `||` (returning an
operand, as GitHub does), parentheses, and a few functions. Anything else raises, so a workflow
that starts using more fails its test instead of being run wrongly."""

from __future__ import annotations

import json
import math
import re
from typing import Any

_TOKEN = re.compile(r"\s*(?:(?P<num>-?\d+(?:\.\d+)?)|(?P<str>'(?:[^']|'')*')|(?P<op>==|!=|<=|>=|&&|\|\||[!<>()\[\].,])|(?P<id>[A-Za-z_][A-Za-z0-9_-]*))")
STATUS = ("success", "always", "failure", "cancelled")


def _tokens(text: str) -> list[tuple[str, str]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        found = _TOKEN.match(text, pos)
        if not found or found.end() == pos:
            raise ValueError(f"cannot read expression {text!r} at {pos}")
        kind = found.lastgroup
        out.append((kind, found.group(kind)))
        pos = found.end()
    return out


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip() or 0)
        except ValueError:
            return math.nan
    return math.nan


def truthy(value: Any) -> bool:
    return not (value is None or value is False or value == "" or (isinstance(value, (int, float)) and (value == 0 or math.isnan(value))))


def equal(a: Any, b: Any) -> bool:
    if isinstance(a, str) and isinstance(b, str):
        return a.lower() == b.lower()
    if type(a) is type(b):
        return a == b
    return _number(a) == _number(b)


def text(value: Any) -> str:
    """How GitHub turns a value into a string: null is '', booleans lower case, objects JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (dict, list)):
        return json.dumps(value, indent=2)
    return str(value)


class _Parser:
    def __init__(self, source: str, contexts: dict, status: str):
        self.tokens, self.i, self.contexts, self.status = _tokens(source), 0, contexts, status

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise ValueError(f"expected {value!r}, found {token}")
        self.i += 1
        return token

    def parse(self) -> Any:
        value = self.or_()
        if self.peek() is not None:
            raise ValueError(f"unexpected {self.peek()}")
        return value

    def or_(self) -> Any:
        value = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            right = self.and_()
            value = value if truthy(value) else right
        return value

    def and_(self) -> Any:
        value = self.compare()
        while self.peek() == ("op", "&&"):
            self.take()
            right = self.compare()
            value = right if truthy(value) else value
        return value

    def compare(self) -> Any:
        left = self.unary()
        token = self.peek()
        if token and token[1] in ("==", "!=", "<", ">", "<=", ">="):
            self.take()
            right = self.unary()
            if token[1] in ("==", "!="):
                return equal(left, right) == (token[1] == "==")
            a, b = _number(left), _number(right)
            return {"<": a < b, ">": a > b, "<=": a <= b, ">=": a >= b}[token[1]]
        return left

    def unary(self) -> Any:
        if self.peek() == ("op", "!"):
            self.take()
            return not truthy(self.unary())
        return self.postfix(self.primary())

    def postfix(self, value: Any) -> Any:
        while self.peek() in (("op", "."), ("op", "[")):
            if self.take()[1] == ".":
                value = _property(value, self.take()[1])
            else:
                value = _property(value, self.or_())
                self.take("]")
        return value

    def primary(self) -> Any:
        kind, value = self.take()
        if kind == "num":
            return float(value) if "." in value else int(value)
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if value == "(":
            inner = self.or_()
            self.take(")")
            return inner
        if kind != "id":
            raise ValueError(f"unexpected {value!r}")
        if value in ("true", "false", "null"):
            return {"true": True, "false": False, "null": None}[value]
        if self.peek() == ("op", "("):
            return self.call(value)
        return _property(self.contexts, value)

    def call(self, name: str) -> Any:
        self.take("(")
        args = []
        while self.peek() != ("op", ")"):
            args.append(self.or_())
            if self.peek() == ("op", ","):
                self.take()
        self.take(")")
        return _function(name, args, self.status)


def _property(value: Any, name: Any) -> Any:
    if isinstance(value, dict):
        key = next((k for k in value if isinstance(k, str) and isinstance(name, str) and k.lower() == name.lower()), name)
        return value.get(key)
    if isinstance(value, list) and isinstance(name, (int, float)):
        return value[int(name)] if 0 <= int(name) < len(value) else None
    return None


def _function(name: str, args: list, status: str) -> Any:
    lower = name.lower()
    if lower in STATUS:
        return {"success": status == "success", "always": True, "failure": status == "failure", "cancelled": False}[lower]
    if lower == "contains":
        haystack, needle = args
        return any(equal(x, needle) for x in haystack) if isinstance(haystack, list) else text(needle).lower() in text(haystack).lower()
    if lower in ("startswith", "endswith"):
        a, b = text(args[0]).lower(), text(args[1]).lower()
        return a.startswith(b) if lower == "startswith" else a.endswith(b)
    if lower == "format":
        return re.sub(r"\{(\d+)\}", lambda m: text(args[1 + int(m.group(1))]), text(args[0]))
    if lower == "tojson":
        return json.dumps(args[0], indent=2)
    if lower == "fromjson":
        return json.loads(args[0])
    raise ValueError(f"the test runner does not know the function {name}()")


def evaluate(source: str, contexts: dict, status: str = "success") -> Any:
    return _Parser(source, contexts, status).parse()


def interpolate(value: Any, contexts: dict, status: str = "success") -> Any:
    """A `with:`/`env:`/`run:` value with every `${{ }}` replaced; a value that is a single
    expression keeps its type (as `with:` inputs do before they become strings)."""
    if not isinstance(value, str):
        return value
    whole = re.fullmatch(r"\s*\$\{\{(.*?)\}\}\s*", value, re.S)
    if whole:
        return evaluate(whole.group(1), contexts, status)
    return re.sub(r"\$\{\{(.*?)\}\}", lambda m: text(evaluate(m.group(1), contexts, status)), value, flags=re.S)


def condition(source: Any, contexts: dict, status: str) -> bool:
    """A step's or job's `if:`; without a status function it means `success() && (...)`."""
    if source is None:
        return status == "success"
    if isinstance(source, bool):
        return source and status == "success"
    inner = re.fullmatch(r"\s*\$\{\{(.*)\}\}\s*", source, re.S)
    expression = inner.group(1) if inner else source
    if not any(re.search(rf"\b{s}\s*\(", expression) for s in STATUS):
        expression = f"success() && ({expression})"
    return truthy(evaluate(expression, contexts, status))

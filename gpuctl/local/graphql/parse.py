"""A parser for the GraphQL documents RunPod's clients send: one or more operations with
variables, fields, aliases and arguments whose values are literals, lists, input objects,
enums or variables. Fragments and directives are refused with a clear error; none of
RunPod's own clients uses them.

runpod-python writes its inputs as inline literals (`containerRegistryAuthId : ""`, enum
`flashBootType: FLASHBOOT`); runpodctl and flash use `$input` variables. Both parse here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

TOKEN = re.compile(r'''
    (?P<ignored>[\s,\ufeff]+|\#[^\n]*)
  | (?P<block>"""(?:\\"""|[^"]|"(?!""))*""")
  | (?P<string>"(?:\\.|[^"\\\n])*")
  | (?P<number>-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?)
  | (?P<name>[_A-Za-z][_0-9A-Za-z]*)
  | (?P<punct>\.\.\.|[!$&()\[\]{}:=@|])
''', re.VERBOSE)


class GraphQLSyntaxError(Exception):
    def __init__(self, message: str, line: int, column: int):
        super().__init__(message)
        self.line = line
        self.column = column


@dataclass(frozen=True)
class Var:
    name: str


@dataclass(frozen=True)
class Enum:
    name: str


@dataclass
class Field:
    name: str
    alias: str
    args: dict[str, Any]
    selections: list[Field] | None
    line: int
    column: int


@dataclass
class Operation:
    kind: str
    name: str | None
    variables: dict[str, tuple[str, Any]] = field(default_factory=dict)
    selections: list[Field] = field(default_factory=list)


@dataclass
class Token:
    kind: str
    text: str
    line: int
    column: int


MAX_TOKENS = 100_000  # names, punctuation and values in one document (whitespace and commas aside)


def tokenize(source: str) -> list[Token]:
    """The document's tokens, at most MAX_TOKENS of them: a 4 MB list literal (2 million
    tokens) held the server's event loop 19 s and took 356 MB, and the body may be 64 MiB."""
    tokens: list[Token] = []
    pos, line, line_start = 0, 1, 0
    while pos < len(source):
        match = TOKEN.match(source, pos)
        if match is None:
            raise GraphQLSyntaxError(f"Syntax Error: Unexpected character {source[pos]!r}.", line, pos - line_start + 1)
        kind, text = match.lastgroup or "", match.group()
        if kind != "ignored":
            if len(tokens) == MAX_TOKENS:
                raise GraphQLSyntaxError(f"the document is longer than {MAX_TOKENS:,} tokens, the most the local provider reads; "
                                         "send large values as $variables (JSON), or split it into several requests", line, pos - line_start + 1)
            tokens.append(Token(kind, text, line, pos - line_start + 1))
        newlines = text.count("\n")
        if newlines:
            line += newlines
            line_start = pos + text.rfind("\n") + 1
        pos = match.end()
    tokens.append(Token("eof", "", line, pos - line_start + 1))
    return tokens


MAX_FIELDS = 1_000  # field selections in one document, aliases and nested fields included


class Parser:
    def __init__(self, source: str):
        self.tokens = tokenize(source)
        self.i = 0
        self.fields = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, message: str) -> GraphQLSyntaxError:
        shown = self.tok.text or "<EOF>"
        return GraphQLSyntaxError(f"Syntax Error: {message}, found {shown!r}.", self.tok.line, self.tok.column)

    def take(self, text: str | None = None, kind: str | None = None) -> Token:
        tok = self.tok
        if (text is not None and tok.text != text) or (kind is not None and tok.kind != kind):
            raise self.fail(f"Expected {text or kind}")
        self.i += 1
        return tok

    def peek(self, text: str) -> bool:
        return self.tok.text == text and self.tok.kind in ("punct", "name")

    def document(self) -> list[Operation]:
        operations = []
        while self.tok.kind != "eof":
            operations.append(self.operation())
        if not operations:
            raise self.fail("Unexpected empty document")
        return operations

    def operation(self) -> Operation:
        if self.peek("{"):
            return Operation("query", None, {}, self.selection_set())
        kind = self.take(kind="name").text
        if kind == "fragment":
            raise self.fail("Fragments are not supported by the local provider")
        if kind not in ("query", "mutation"):
            raise GraphQLSyntaxError(f"Syntax Error: Unexpected Name {kind!r}.", self.tokens[self.i - 1].line, self.tokens[self.i - 1].column)
        name = self.take(kind="name").text if self.tok.kind == "name" else None
        variables = self.variable_definitions() if self.peek("(") else {}
        self.no_directives()
        return Operation(kind, name, variables, self.selection_set())

    def variable_definitions(self) -> dict[str, tuple[str, Any]]:
        self.take("(")
        found = {}
        while not self.peek(")"):
            self.take("$")
            name = self.take(kind="name").text
            self.take(":")
            type_name = self.type_ref()
            default = self.value(const=True) if self.peek("=") and self.take("=") else None
            found[name] = (type_name, default)
        self.take(")")
        return found

    def type_ref(self) -> str:
        if self.peek("["):
            self.take("[")
            inner = self.type_ref()
            self.take("]")
            text = f"[{inner}]"
        else:
            text = self.take(kind="name").text
        return text + ("!" if self.peek("!") and self.take("!") else "")

    def no_directives(self) -> None:
        if self.peek("@"):
            raise self.fail("Directives are not supported by the local provider")

    def selection_set(self) -> list[Field]:
        self.take("{")
        fields = []
        while not self.peek("}"):
            if self.peek("..."):
                raise self.fail("Fragments are not supported by the local provider")
            fields.append(self.field())
        self.take("}")
        return fields

    def field(self) -> Field:
        """One field selection. Aliases let a small document ask for one answer thousands of
        times (50,000 `gpuTypes` aliases, 1.2 MB sent without a key, held the server 9 s and
        answered tens of MB), so a document selects at most MAX_FIELDS fields."""
        first = self.take(kind="name")
        self.fields += 1
        if self.fields > MAX_FIELDS:
            raise GraphQLSyntaxError(f"the document selects more than {MAX_FIELDS:,} fields (aliases and nested fields included), "
                                     "the most the local provider answers in one request; split it into several requests", first.line, first.column)
        alias, name = first.text, first.text
        if self.peek(":"):
            self.take(":")
            name = self.take(kind="name").text
        args = self.arguments() if self.peek("(") else {}
        self.no_directives()
        selections = self.selection_set() if self.peek("{") else None
        return Field(name, alias, args, selections, first.line, first.column)

    def string(self, tok: Token) -> str:
        """A string literal's value. GraphQL's escapes are JSON's; a tab may appear raw. An
        unknown escape or a lone surrogate (`\\ud800`, no Unicode character) is a syntax error."""
        try:
            value = json.loads(tok.text, strict=False)
            value.encode("utf-8")
        except (ValueError, UnicodeEncodeError):
            raise GraphQLSyntaxError("Syntax Error: Invalid character escape sequence in a string.", tok.line, tok.column) from None
        return value

    def arguments(self) -> dict[str, Any]:
        self.take("(")
        args = {}
        while not self.peek(")"):
            name = self.take(kind="name").text
            self.take(":")
            args[name] = self.value()
        self.take(")")
        return args

    def value(self, const: bool = False) -> Any:
        tok = self.tok
        if tok.text == "$" and tok.kind == "punct" and not const:
            self.take("$")
            return Var(self.take(kind="name").text)
        if tok.kind == "number":
            self.i += 1
            return float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
        if tok.kind == "string":
            self.i += 1
            return self.string(tok)
        if tok.kind == "block":
            self.i += 1
            return tok.text[3:-3].replace('\\"""', '"""').strip("\n")
        if tok.kind == "name":
            self.i += 1
            literals = {"true": True, "false": False, "null": None}
            return literals[tok.text] if tok.text in literals else Enum(tok.text)
        if tok.text == "[":
            self.take("[")
            items = []
            while not self.peek("]"):
                items.append(self.value(const))
            self.take("]")
            return items
        if tok.text == "{":
            self.take("{")
            obj = {}
            while not self.peek("}"):
                key = self.take(kind="name").text
                self.take(":")
                obj[key] = self.value(const)
            self.take("}")
            return obj
        raise self.fail("Unexpected token")


def parse(source: str) -> list[Operation]:
    try:
        return Parser(source).document()
    except RecursionError:
        raise GraphQLSyntaxError("Syntax Error: the document nests selections or values too deeply.", 1, 1) from None

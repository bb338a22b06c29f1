"""The job input of `gpu serverless invoke`: read from --input, @file or stdin, parsed as the
plain JSON RunPod accepts, and wrapped as `{"input": ...}`; every problem points at the place."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from gpuctl.cli.context import AppContext
from gpuctl.words import counted

JSON_RULES = "a job input is standard JSON (double-quoted keys and strings, no comments, no trailing commas)"
INPUT_LIMIT = 64 * 1024 * 1024  # read of a job input (a file or stdin): RunPod takes at most 20 MB (gpuctl.jobs.BODY_LIMITS), which jobs.py explains
SHELL_HINT = "JSON needs double-quoted keys and strings; quote the whole value for the shell: --input '{\"prompt\": \"hi\"}'"


@dataclass(frozen=True)
class InputOption:
    """The option a JSON input came from, so each of its errors speaks of that option: what the
    input is called, what its file is called, and how the option names a file ({cwd} filled in)."""

    what: str
    file: str
    usage: str


INPUT = InputOption("the job input", "the input file", "@PATH names a JSON file, relative to {cwd}; a literal needs no @, and - reads stdin")
SMOKE = InputOption("the smoke input", "the --smoke file", "--smoke FILE names a JSON file of the job the health gate sends, relative to {cwd}")


def read_input(app: AppContext, value: str | None) -> tuple[Any, str]:
    """(the input, where it came from) for --input: a literal, @path (relative to the working
    directory), or - for stdin; parsed as `parse_input` parses it."""
    from gpuctl.jobs import BY_REFERENCE

    if value is None:
        return {}, "--input"
    if value == "-":
        if app.stdin_tty:
            app.note("reading the input from the terminal; end it with Ctrl-D")
        text = "".join(app.stdin_lines("the job input", "a job input is JSON text: send it as UTF-8", limit=INPUT_LIMIT, large_hint=BY_REFERENCE))
        return parse_input(text, "<stdin>"), "<stdin>"
    if value.startswith("@"):
        return load_input_file(app, value[1:], INPUT), value[1:]
    return parse_input(value, "--input"), "--input"


def load_input_file(app: AppContext, name: str, option: InputOption) -> Any:
    """The JSON value of the file `name` (relative to the working directory) given to `option`,
    read by `files.read_json` and parsed by `parse_input`."""
    from gpuctl.errors import UsageError
    from gpuctl.files import FileUnreadable, read_json
    from gpuctl.jobs import BY_REFERENCE

    try:
        return read_json(app.cwd / name, limit=INPUT_LIMIT, loads=lambda text: parse_input(text, name, option), shown=name)
    except FileUnreadable as exc:
        if exc.too_large:
            raise UsageError(f"cannot read {option.file} {name}: {exc.problem}", hint=BY_REFERENCE) from None
        if not exc.json:
            raise UsageError(f"cannot read {option.file} {name}: {exc.problem}", hint=option.usage.format(cwd=app.cwd)) from None
        fix = f"{option.what} is JSON text: save the file as UTF-8" if isinstance(exc.cause, UnicodeDecodeError) else JSON_RULES
        raise UsageError(f"cannot read {option.file} {exc.place}: {exc.problem}", hint=fix) from None


def parse_input(text: str, where: str, option: InputOption = INPUT) -> Any:
    """The input as JSON, or an error that points at the line and column that broke it."""
    import json

    from gpuctl.errors import UsageError

    _refuse_empty(text, where, option)
    numbers = _StrictNumbers(option.what, where)
    try:
        value = json.loads(text, parse_constant=numbers.no_constants, parse_float=numbers.finite, parse_int=numbers.integer)
    except RecursionError:
        raise UsageError(f"{option.what} is nested too deeply", detail=f"in {where}", hint="flatten the input; a job input is plain JSON a few levels deep (RunPod limits /run to 10 MB)") from None
    except json.JSONDecodeError as exc:
        raise _not_json(exc, text, where, option.what) from None
    _refuse_unsendable(value, where, option.what)
    return value


def _refuse_empty(text: str, where: str, option: InputOption) -> None:
    """No text at all: json would say "Expecting value" at 1:1, pointing at nothing."""
    from gpuctl.errors import UsageError

    if text.strip():
        return
    what = option.what
    source = {"--input": "--input was given no text", "<stdin>": "stdin gave no text"}.get(where, f"{where} holds no text")
    raise UsageError(f"{what} is empty: {source}",
                     hint="give it a JSON value, such as '{\"prompt\": \"hi\"}' (an unset shell variable gives none), or leave out --input to send {}"
                     if option is INPUT else f"write {what} as a JSON value into the file")


@dataclass(frozen=True)
class _StrictNumbers:
    """json.loads' hooks for the numbers RunPod would not take as sent: NaN and Infinity, a
    float beyond 64 bits, an integer of more digits than Python reads."""

    what: str
    where: str

    def no_constants(self, name: str) -> Any:
        from gpuctl.errors import UsageError

        raise UsageError(f"{self.what} contains {name}, which JSON does not allow", detail=f"in {self.where}",
                         hint="RunPod accepts standard JSON only: write the number as a string, or null")

    def finite(self, number: str) -> float:
        from gpuctl.errors import UsageError

        value = float(number)
        if not math.isfinite(value):  # 1e400: Python reads it as inf, which no JSON encoder (httpx's included) writes
            raise UsageError(f"{self.what} contains the number {number[:40]}, too large for a JSON number (a 64-bit float)", detail=f"in {self.where}",
                             hint="write the number as a string, or scale it down")
        return value

    def integer(self, number: str) -> int:
        from gpuctl.errors import UsageError

        if len(number.lstrip("-")) > 4300:  # Python's int() refuses more digits (sys.get_int_max_str_digits)
            raise UsageError(f"{self.what} contains a number of {counted(len(number.lstrip('-')), 'digit')}, more than gpuctl reads (4300)", detail=f"in {self.where}",
                             hint="write the number as a string")
        return int(number)


def _not_json(exc: Any, text: str, where: str, what: str) -> Exception:
    """The error for a JSON syntax error (`exc`, a json.JSONDecodeError) at its line and
    column, with the fix for a gpu.jsonc habit (a comment, a trailing comma) when it is one."""
    from gpuctl.errors import Diagnostic, UsageError

    known = _jsonc_habit(text, exc.pos)
    if known:
        pos, message, fix = known
        line, col = text.count("\n", 0, pos) + 1, pos - text.rfind("\n", 0, pos)
        located = Diagnostic(message, file=where, line=line, col=col).format()
        return UsageError(f"{what} is not valid JSON", detail=f"{located}\n{excerpt(text, line, col)}",
                          hint=f"{fix}: {what} is standard JSON, with no comments and no trailing commas (unlike gpu.jsonc)")
    located = Diagnostic(exc.msg, file=where, line=exc.lineno, col=exc.colno).format()
    hint = SHELL_HINT if where == "--input" else f"fix the JSON at {where}:{exc.lineno}:{exc.colno}; {JSON_RULES}"
    return UsageError(f"{what} is not valid JSON", detail=f"{located}\n{excerpt(text, exc.lineno, exc.colno)}", hint=hint)


def _refuse_unsendable(value: Any, where: str, what: str) -> None:
    """"\\ud800" is valid JSON syntax, but half of a UTF-16 pair is not text and cannot be sent
    (as httpx sends it: UTF-8)."""
    import json

    from gpuctl.errors import UsageError

    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise UsageError(f"{what} contains \\u{ord(exc.object[exc.start]):04x}, half of a UTF-16 surrogate pair, which is not text",
                         detail=f"in {where}", hint="write the character itself, or both halves of the pair (such as \\ud83d\\ude80)") from None


def _jsonc_habit(text: str, pos: int) -> tuple[int, str, str] | None:
    """(where, what, fix) when the JSON broke at one of gpu.jsonc's liberties, which people
    carry over into a job input: a trailing comma (json says "Expecting property name enclosed
    in double quotes" at the brace, which sent them quoting what was quoted) or a comment."""
    if text.startswith(("//", "/*"), pos):
        return pos, "a comment", "remove the comment"
    before = text[:pos].rstrip()
    if text[pos:pos + 1] in ("}", "]") and before.endswith(","):
        return len(before) - 1, f"a trailing comma before '{text[pos]}'", "remove the comma"
    return None


def excerpt(text: str, line: int, col: int, width: int = 72) -> str:
    """The offending line (clipped around the column) with a caret under the column."""
    lines = text.split("\n")
    source = lines[min(line, len(lines)) - 1]
    start = max(0, min(col - 1 - width // 2, len(source) - width))
    return f"  {source[start:start + width]}\n  {' ' * (col - 1 - start)}^"


def job_payload(value: Any) -> dict:
    """What /run and /runsync take: {"input": ...}, kept as is when the value already has one
    (so "webhook" and "policy" can ride along)."""
    return value if isinstance(value, dict) and "input" in value else {"input": value}


# -- running a job ----------------------------------------------------------------------------

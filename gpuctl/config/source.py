"""Read `gpu.jsonc` (or another JSONC file gpuctl reads, such as a policy file) from disk: size
and encoding checks, JSONC parsing, key positions. Every message names the file being read and
speaks of what it is (its `FileKind`), never of gpu.jsonc when it is another file."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from gpuctl.config.sourcemap import SourceMap, scan
from gpuctl.errors import ConfigError, Diagnostic
from gpuctl.files import FileRefused, read_bytes
from gpuctl.redact import clip
from gpuctl.words import counted

MAX_BYTES = 5 * 1024 * 1024  # a config or policy file: far below gpuctl.files.MAX_BYTES, which is for plans and snapshots
MAX_DEPTH = 32
_NEAR = re.compile(r"near (\d+)")


@dataclass(frozen=True)
class FileKind:
    """What a JSONC file is, for the hints of its errors: how to call it, what an empty one may
    start from, and the flag that names it."""

    name: str
    starter: str
    flag: str
    missing: str  # the fix when the file is not there
    default: str | None = None  # the name read when the flag is not given, whose absence `missing` is about

    def missing_fix(self, shown: str, path: Path) -> str:
        """A file named otherwise than the default was named with the flag: check that path.
        The default one may be near under another name or in a parent directory: say where."""
        if shown != self.default:
            return f"check the path given to {self.flag}"
        return nearby_config(path.parent) or self.missing


CONFIG = FileKind("gpu.jsonc", '{"serverless": {"template": "vllm", "gpu_type": "NVIDIA L4"}}', "--config",
                  "create gpu.jsonc in the project directory, or pass --config PATH", default="gpu.jsonc")
# `deploy` (with no --config) may say what to deploy with flags alone, as GPU CLI's page allows
# (docs/deploy.md): its fix for a missing gpu.jsonc names that way too (review L9).
DEPLOY_CONFIG = FileKind(CONFIG.name, CONFIG.starter, CONFIG.flag,
                         'create gpu.jsonc in the project directory, or pass --config PATH, or deploy without one: '
                         '--template NAME --gpu-type TYPE (such as --template whisper --gpu-type "NVIDIA L4")', default=CONFIG.default)
POLICY = FileKind("a policy file", '{"allowed_gpu_types": ["NVIDIA L4"], "max_max_workers": 10}', "--policy", "check the path given to --policy")


# What a gpu.jsonc is saved as by mistake: JSON's own extension, JSON5's, an editor's .txt.
_MISNAMED = ("gpu.json", "gpu.json5", "gpu.jsonc.json", "gpu.jsonc.txt", "gpu.jsonc.jsonc")


def nearby_config(directory: Path) -> str | None:
    """Where the gpu.jsonc missing from `directory` probably is, as the fix for "no gpu.jsonc
    here": a file beside it saved under another name (gpu.json, GPU.jsonc), else the gpu.jsonc
    of a parent directory (gpu run from a subdirectory of the project). gpuctl never reads
    either by itself: the directory a command runs in is the project's identity (its default
    name), so it says how, and the user chooses."""
    try:
        names = sorted(p.name for p in directory.iterdir() if p.is_file() and (p.name.lower() in _MISNAMED or p.name.lower() == "gpu.jsonc"))
    except OSError:
        names = []
    if names:
        name = names[0]
        return f"{name} is here, but gpuctl reads gpu.jsonc: rename it (`mv {name} gpu.jsonc`), or pass --config {name}"
    for parent in directory.resolve().parents:
        found = parent / "gpu.jsonc"
        if found.is_file():
            relative = os.path.relpath(found, directory)
            return f"{found} is in a parent directory: run gpu there (`cd {os.path.dirname(relative)}`), or pass --config {relative}"
    return None


@dataclass(frozen=True)
class Source:
    """A parsed config file: the data, its text, and the name to print. Where each key is
    (`sourcemap`) is worked out the first time a diagnostic or an edit asks: a valid file
    never needs it, and scanning a large one costs more than parsing it."""

    path: Path
    display: str
    data: Any
    text: str = ""  # "" when the configuration comes from the command line alone
    start: tuple[int, int] = (1, 1)  # where the top-level value begins, after comments

    @cached_property
    def may_reference(self) -> bool:
        """False when no value of the file can hold a `${VAR}`: its text has no `${` and no `\\u`
        escape that could spell one (worked out once; the check of every value is then skipped)."""
        return not self.text or "${" in self.text or "\\u" in self.text

    @cached_property
    def sourcemap(self) -> SourceMap:
        return scan(self.text) if self.text else SourceMap({}, [])

    @property
    def repeated_keys(self) -> list[tuple[tuple, int, int]]:
        """Keys written twice in one object (path, line, col), which pyjson5 lets the last of
        win silently. Plain JSON, as generated configs are, is checked by the json module's C
        parser; comments, trailing commas or a repeat send the text through the scanner."""
        if not self.text or _plain_json_without_repeats(self.text):
            return []
        return self.sourcemap.duplicates

    def repeat_diagnostics(self) -> list[Diagnostic]:
        """A diagnostic for each key written twice: every reader of a JSONC file (gpu.jsonc, a
        policy file) reports them, or the last value would win unseen."""
        from gpuctl.config.sourcemap import dotted

        return [Diagnostic(f"key appears twice (first at line {self.sourcemap.positions.get(path, (0, 0))[0]})", dotted(path), self.display,
                           line, col, "remove one of them; JSON keeps only the last")
                for path, line, col in self.repeated_keys]

    def diagnostic(self, path: tuple, message: str, hint: str) -> Diagnostic:
        """At `path`, else at its nearest ancestor in the file, else at the top-level value. `hint`
        is how to fix it: every problem in a file the user wrote comes with one (docs/errors.md)."""
        if not self.path.exists() and not self.sourcemap.positions:
            return Diagnostic(message, _dotted(path), self.display, None, None, hint)  # from flags alone: no file to point into
        positions = self.sourcemap.positions
        found = next((positions[p] for p in (tuple(path[:end]) for end in range(len(path), 0, -1)) if p in positions), self.start)
        return Diagnostic(message, _dotted(path), self.display, found[0], found[1], hint)


class _Repeated(Exception):
    pass


def _unique_pairs(pairs: list[tuple[str, Any]]) -> None:
    if len(pairs) > 1 and len({key for key, _ in pairs}) != len(pairs):
        raise _Repeated


def _plain_json_without_repeats(text: str) -> bool:
    """True when `text` is JSON (no JSONC extras) in which no object repeats a key."""
    try:
        json.loads(text, object_pairs_hook=_unique_pairs)
    except (ValueError, RecursionError, _Repeated):
        return False
    return True


def _dotted(path: tuple) -> str:
    """Like sourcemap.dotted, but an empty key, one with a dot or one with control characters is
    quoted (JSON-escaped), so the path stays readable and nothing is replayed to a terminal."""
    from gpuctl.config.sourcemap import dotted

    odd = lambda p: isinstance(p, str) and (not p or "." in p or not p.isprintable())  # noqa: E731
    return dotted(tuple(json.dumps(p, ensure_ascii=False) if odd(p) else p for p in path))


def _fail(display: str, message: str, hint: str | None = None, line: int | None = None, col: int | None = None):
    raise ConfigError(f"{display} could not be read", [Diagnostic(message, "", display, line, col, hint)])


def _looks_utf16(raw: bytes) -> bool:
    """A BOM, or ASCII text with every other byte NUL (UTF-16 saved without a BOM)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    return len(raw) >= 4 and (raw[0] == raw[2] == 0) != (raw[1] == raw[3] == 0)


def _decode(raw: bytes, display: str) -> str:
    if _looks_utf16(raw):
        _fail(display, "the file is UTF-16 encoded", "save it as UTF-8", 1, 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        before = raw[raw.rfind(b"\n", 0, exc.start) + 1 : exc.start].decode("utf-8", errors="replace")
        _fail(display, f"invalid UTF-8 byte 0x{raw[exc.start]:02x}", "save the file as UTF-8", line, len(before) + 1)
    return text.removeprefix("\ufeff")


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


_TOKEN_NAMES = {
    "comma": "','", "colon": "':'", "JSON5Value": "a value", "IdentifierStart": "a key",
    "hexadecimal character": "a hexadecimal digit", "object": "object", "array": "list",
    "string": "string", "comment": "comment", "NumericLiteral": "number", "slash": "'/'", "asterisk": "'*'",
}
_BLANK = re.compile(r"(?:\s|//[^\n]*|/\*.*?\*/)*", re.S)
_WORD = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*")
QUOTED_WORD = 20  # at most this much of an unquoted word is quoted back in an error (_bare_word)


def _quoted(char: str) -> str:
    return f"'{char}'" if char.isprintable() and not char.isspace() else f"U+{ord(char):04X}"


_CURLY_QUOTES = "\u201c\u201d\u2018\u2019\u201e\u201f\u00ab\u00bb\u2032\u2033"  # “ ” ‘ ’ „ ‟ « » ′ ″
_NUMBER = re.compile(r"[-+]?[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?")


def _syntax_error(exc: Exception, text: str, kind: FileKind) -> tuple[int, str, str]:
    """(offset, message, hint) for a pyjson5 error. pyjson5 reports `near N` one past the
    offending character, and for extra data the end of the value before it."""
    import pyjson5

    raw, near, words = _pyjson5_words(exc, text)
    if isinstance(exc, pyjson5.Json5ExtraData):
        offset = _BLANK.match(text, near).end()
        extra = _quoted(text[offset]) if offset < len(text) else "text"
        return offset, f"unexpected {extra} after the end of the document", "the file holds one object; remove what follows its closing brace"
    if raw.startswith("No JSON data"):
        return 0, "the file has only comments, no settings", f"start from: {kind.starter}"
    offset = max(near - 1, 0)
    unclosed = re.match(r"Unclosed (\w+)", words)
    if unclosed and unclosed.group(1) == "literal":  # the file ends inside `tru`, `nul`, ...
        words = "Expected a value"
    elif unclosed:
        return _unclosed(unclosed.group(1), text, offset, near)
    if re.match(r"Expected ('[A-Za-z]'|a value)", words):
        offset = _word_start(text, offset)
        if bare := _bare_word(text, offset):
            return bare
    message = words[0].lower() + words[1:] if words else "syntax error"
    return _with_hint(message, text, offset, kind)


def _pyjson5_words(exc: Exception, text: str) -> tuple[str, int, str]:
    """(pyjson5's message, the offset it says `near`, its message in words: token bytes named,
    code points quoted, without the `near`)."""
    raw = str(exc.args[0]) if exc.args else str(exc)
    found = _NEAR.search(raw)
    near = min(int(found.group(1)), len(text)) if found else len(text)
    words = re.sub(r"b'([^']*)'", lambda m: _TOKEN_NAMES.get(m.group(1), m.group(1)), _NEAR.sub("", raw))
    words = re.sub(r"U\+([0-9A-Fa-f]{4,6})", lambda m: _quoted(chr(int(m.group(1), 16))), words).replace(" ,", ",").strip()
    return raw, near, words


def _unclosed(what: str, text: str, offset: int, near: int) -> tuple[int, str, str]:
    """The file ends inside `what` (an object, list, string, comment or number)."""
    if what == "comment":
        offset = max(text.rfind("/*", 0, near), 0)
    if what == "number":
        whole = _NUMBER.match(text, offset)
        if whole and whole.end() - offset > 1 and not re.match(r"[0-9A-Za-z.+\-]", text[whole.end():whole.end() + 1]):
            # a complete number pyjson5 will not hold: beyond a 64-bit float (1e400) or of more than 4300 digits
            return offset, "number out of range", "write a number of at most 4300 digits, within ±1.7e308"
        return offset, "incomplete number", "write digits after the sign or exponent"
    opener, closer = {"object": ("{", "}"), "list": ("[", "]"), "string": ('"', '"'), "comment": ("/*", "*/")}.get(what, ("", ""))
    return offset, f"unclosed {what}: the {opener} here is never closed", f"add the matching {closer}"


def _word_start(text: str, offset: int) -> int:
    """Where the word pyjson5 stopped inside starts."""
    while offset > 0 and re.match(r"[A-Za-z0-9_$]", text[offset - 1]):
        offset -= 1
    return offset


def _bare_word(text: str, offset: int) -> tuple[int, str, str] | None:
    """A bare word at `offset` where a value belongs (`comfyui`, `True`), or a misspelled
    literal pyjson5 stopped inside (`None`, `tru`); None when there is no word there."""
    word = _WORD.match(text, offset)
    if not word:
        return None
    spelled = word.group()
    if len(spelled) > QUOTED_WORD:  # a file read by mistake (a token, a link to a file of the runner, ADR 50): never quoted whole
        return offset, f"expected a value, found an unquoted word of {counted(len(spelled), 'character')}, {clip(spelled, QUOTED_WORD)}", "put strings in double quotes"
    hint = "JSON spells them true, false and null" if spelled in ("True", "False", "None") else f'put strings in double quotes: "{spelled}"'
    return offset, f"expected a value, found {spelled}", hint


def _with_hint(message: str, text: str, offset: int, kind: FileKind) -> tuple[int, str, str]:
    """Any other syntax error, with the fix for the mistake it most likely is."""
    if offset < len(text) and text[offset] in _CURLY_QUOTES:  # pasted from a word processor or a chat app
        return offset, message, 'replace the curly quotes with straight double quotes ("); word processors and chat apps curl them'
    if "found '#'" in message:
        return offset, message, "comments start with // or /* */"
    if message.startswith("expected ','") and re.match(r"[^0-9.]0[0-9]", text[max(offset - 2, 0):offset + 1]):
        digits = re.match(r"[0-9]+", text[offset - 1:]).group()
        return offset - 1, "numbers must not start with 0", f"write {digits.lstrip('0')}, or quote it if the zero matters"
    if message.startswith("expected ','"):
        return offset, message, "is a comma missing at the end of the previous value?"
    if message.startswith("expected ':'"):
        return offset, message, 'write "key": value; quote keys that contain "-", "." or spaces'
    if "hexadecimal" in message:
        return offset, message, "a \\u escape needs four hexadecimal digits, e.g. \\u00e9"
    if message.startswith("stray ','"):
        return offset, "unexpected comma", "remove the extra comma"
    if message.startswith("stray"):
        return offset, message.replace("stray", "unexpected", 1), "comments start with // or /* */"
    return offset, message, f"{kind.name} is JSON with // comments and trailing commas"


def parse_text(text: str, display: str, kind: FileKind) -> tuple[Any, tuple[int, int]]:
    """The data and where the top-level value starts; errors name `display` and speak of `kind`."""
    import pyjson5

    if not text.strip():
        _fail(display, "the file is empty", f"start from: {kind.starter}", 1, 1)
    try:
        data = pyjson5.decode(text, maxdepth=MAX_DEPTH)
    except pyjson5.Json5NestingTooDeep as exc:
        offset, _, _ = _syntax_error(exc, text, kind)
        line, col = _position(text, offset)
        _fail(display, f"nesting deeper than {MAX_DEPTH} levels", f"{kind.name} never needs that depth; check for a runaway bracket", line, col)
    except pyjson5.Json5Exception as exc:
        offset, message, hint = _syntax_error(exc, text, kind)
        line, col = _position(text, offset)
        _fail(display, f"invalid JSONC: {message}", hint, line, col)
    return data, _position(text, _BLANK.match(text).end())


def flags_only(path: Path) -> Source:
    """The source when there is no gpu.jsonc and the command line says what to deploy (the
    seed: "specify a template in your config or via the --template flag"): an empty
    `serverless` block that the per-run overrides fill in; the endpoint is named after the
    directory, as a gpu.jsonc without project_id or name would be."""
    return Source(path, f"the command line (no {path.name} in {path.resolve().parent})", {"serverless": {}})


def text_source(path: Path, text: str, display: str | None = None) -> Source:
    """The source `path` would be with `text` in it: pull and import check an edit this way
    before they write it."""
    shown = display or path.name
    text = text.removeprefix("\ufeff")
    data, start = parse_text(text, shown, CONFIG)
    return Source(path, shown, data, text, start)


def read_source(path: Path, display: str | None = None, kind: FileKind = CONFIG) -> Source:
    """The file of `kind` at `path` (gpu.jsonc by default), read and parsed; any problem is a
    located ConfigError whose fix speaks of that kind of file and of the flag that names it."""
    shown = display or path.name
    try:
        if path.is_dir():
            _fail(shown, f"{path} is a directory", f"pass the file itself with {kind.flag}")
        raw = read_bytes(path, MAX_BYTES)
    except FileRefused as refused:
        if refused.too_large:
            _fail(shown, f"the file is larger than {MAX_BYTES:,} bytes; {kind.name} is limited to {MAX_BYTES:,} bytes ({MAX_BYTES // 1024 // 1024} MiB)",
                  f"keep large data out of {kind.name}")
        _fail(shown, refused.problem, f"pass {kind.name} itself with {kind.flag}")
    except FileNotFoundError:
        if path.is_symlink():  # `ls` shows it: say that the link is what leads nowhere
            import os

            _fail(shown, f"{path} is a symbolic link to {os.readlink(path)}, which does not exist",
                  f"point the link at the file (`ln -sfn TARGET {path.name}`), or put {kind.name} itself in its place")
        _fail(shown, f"{path} does not exist", kind.missing_fix(shown, path))
    except PermissionError:
        _fail(shown, f"permission denied reading {path}", "check the file's permissions")
    text = _decode(raw, shown)
    data, start = parse_text(text, shown, kind)
    return Source(path, shown, data, text, start)

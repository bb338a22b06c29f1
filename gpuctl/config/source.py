"""Read `gpu.jsonc` from disk: size and encoding checks, JSONC parsing, key positions."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gpuctl.config.sourcemap import SourceMap, scan
from gpuctl.errors import ConfigError, Diagnostic

MAX_BYTES = 5 * 1024 * 1024
MAX_DEPTH = 32
_NEAR = re.compile(r"near (\d+)")


@dataclass(frozen=True)
class Source:
    """A parsed config file: the data, where each key is, and the name to print."""

    path: Path
    display: str
    data: Any
    sourcemap: SourceMap

    def diagnostic(self, path: tuple, message: str, hint: str | None = None) -> Diagnostic:
        from gpuctl.config.sourcemap import dotted

        line, col = self.sourcemap.locate(path)
        return Diagnostic(message, dotted(path), self.display, line, col, hint)


def _fail(display: str, message: str, hint: str | None = None, line: int | None = None, col: int | None = None):
    raise ConfigError("gpu.jsonc could not be read", [Diagnostic(message, "", display, line, col, hint)])


def _decode(raw: bytes, display: str) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        _fail(display, "the file is UTF-16 encoded", "save it as UTF-8", 1, 1)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        col = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        _fail(display, f"invalid UTF-8 byte 0x{raw[exc.start]:02x}", "save the file as UTF-8", line, col)
    return text.removeprefix("\ufeff")


def _position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _syntax_message(exc: Exception) -> str:
    message = str(exc.args[0]) if exc.args else str(exc)
    message = _NEAR.sub("", message).strip()
    message = message.replace("b'comma'", "comma").replace("Stray", "unexpected")
    return message[0].lower() + message[1:] if message else "syntax error"


def parse_text(text: str, display: str) -> tuple[Any, SourceMap]:
    import pyjson5

    if not text.strip():
        _fail(display, "the file is empty", 'start from: {"serverless": {"template": "vllm", "gpu_type": "NVIDIA L4"}}', 1, 1)
    try:
        data = pyjson5.decode(text, maxdepth=MAX_DEPTH)
    except pyjson5.Json5NestingTooDeep as exc:
        line, col = _position(text, _offset(exc, text))
        _fail(display, f"nesting deeper than {MAX_DEPTH} levels", "gpu.jsonc never needs that depth; check for a runaway bracket", line, col)
    except pyjson5.Json5Exception as exc:
        line, col = _position(text, _offset(exc, text))
        _fail(display, f"invalid JSONC: {_syntax_message(exc)}", "gpu.jsonc is JSON with // comments and trailing commas", line, col)
    return data, scan(text)


def _offset(exc: Exception, text: str) -> int:
    found = _NEAR.search(str(exc.args[0]) if exc.args else "")
    return min(int(found.group(1)), len(text)) if found else len(text)


def read_source(path: Path, display: str | None = None) -> Source:
    shown = display or path.name
    try:
        if path.is_dir():
            _fail(shown, f"{path} is a directory", "pass the gpu.jsonc file itself with --config")
        size = path.stat().st_size
        if size > MAX_BYTES:
            _fail(shown, f"the file is {size / 1024 / 1024:.1f} MiB; gpu.jsonc is limited to {MAX_BYTES // 1024 // 1024} MiB", "keep large data out of gpu.jsonc")
        raw = path.read_bytes()
    except FileNotFoundError:
        _fail(shown, f"{path} does not exist", "create gpu.jsonc in the project directory, or pass --config PATH")
    except PermissionError:
        _fail(shown, f"permission denied reading {path}", "check the file's permissions")
    text = _decode(raw, shown)
    data, sourcemap = parse_text(text, shown)
    return Source(path, shown, data, sourcemap)

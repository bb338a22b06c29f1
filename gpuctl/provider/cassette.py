"""The text of a recording (`--record DIR`): the cassette as YAML that vcrpy reads, and the
README.md of its directory. What goes into them is decided in gpuctl.provider.recording."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gpuctl import __version__
from gpuctl.errors import doc_ref
from gpuctl.files import read_piece

SIMPLE_KEY_LIMIT = 1000  # a plain `key: value` key must be under 1024 characters (PyYAML, the YAML spec)
YAML_WORDS = frozenset({"y", "n", "yes", "no", "on", "off", "true", "false", "null", "~"})  # YAML 1.1 reads these as booleans or null


def yaml_lines(value: Any, indent: int = 0) -> list[str]:
    """Block-style YAML of a cassette (mappings, lists, strings, numbers, null), as PyYAML and
    so vcrpy read it; every string double-quoted with everything outside printable ASCII
    escaped, so no value can be read back as anything else. gpuctl has no YAML library at
    run time: this is all a cassette needs."""
    pad = " " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines = []
        for key in sorted(value):
            item, written = value[key], _key(key)
            if len(written) > SIMPLE_KEY_LIMIT:  # YAML's explicit key: `? key` then `: value`
                block = isinstance(item, (dict, list)) and item
                lines += [f"{pad}? {written}", *([f"{pad}:", *yaml_lines(item, indent + 2)] if block else [f"{pad}: {_scalar(item)}"])]
            elif isinstance(item, (dict, list)) and item:
                lines += [f"{pad}{written}:", *yaml_lines(item, indent + 2 if isinstance(item, dict) else indent)]
            else:
                lines.append(f"{pad}{written}: {_scalar(item)}")
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            nested = yaml_lines(item, indent + 2)
            lines += [f"{pad}- {nested[0].lstrip()}", *nested[1:]]
        return lines
    return [pad + _scalar(value)]


def _key(key: str) -> str:
    plain = re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", key) and key.lower() not in YAML_WORDS
    return key if plain else _quoted(key)


def _scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _quoted(str(value))


def _quoted(text: str) -> str:
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif 0x20 <= code < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


HEADER = re.compile(r"# (gpu [a-z0-9 -]+) \| provider ([a-z0-9-]+) \| ([0-9]+) exchanges \| gpuctl ([0-9A-Za-z.+-]+) \| ([0-9]{4}-[0-9]{2}-[0-9]{2})")
HEADER_LIMIT = 4096  # bytes read of a file's first line: a cassette's header is far shorter
README_MARK = "<!-- gpuctl --record README"  # how gpuctl knows a README.md it wrote (its first line)
README_MARKER = (README_MARK + ": gpuctl rewrites this file after each recording into this directory,"
                 " and never touches a README.md without this first line -->")


def header(command: str, provider: str, exchanges: int, version: str, day: str) -> str:
    """The first line of a cassette, a YAML comment by which gpuctl knows its own recordings."""
    return f"# {command} | provider {provider} | {exchanges} exchanges | gpuctl {version} | {day}"


def _first_line(path: Path) -> str | None:
    """The first line of a regular file, if it is ASCII (as everything gpuctl writes first);
    None for anything else, unreadable, a directory or a pipe included: never an error."""
    try:
        return read_piece(path, 0, HEADER_LIMIT).split(b"\n", 1)[0].decode("ascii")
    except (OSError, UnicodeDecodeError):
        return None


def read_header(path: Path) -> tuple[str, ...] | None:
    """(command, provider, exchanges, gpuctl version, day) of a cassette gpuctl wrote, from its
    first line; None for any other file (another tool's YAML, a file that is not UTF-8)."""
    match = HEADER.fullmatch(_first_line(path) or "")
    return match.groups() if match else None


def is_own_readme(path: Path) -> bool:
    """Whether `path` is a README.md that gpuctl wrote, and so may rewrite: a regular file whose
    first line is README_MARKER, or (before the marker) gpuctl's title and its "Written by
    gpuctl ... with `--record`" line."""
    first = _first_line(path)
    if first is None or path.is_symlink():
        return False
    if first.startswith(README_MARK):
        return True
    if first != "# gpuctl recordings":
        return False
    try:
        lines = read_piece(path, 0, HEADER_LIMIT).decode("utf-8", "replace").splitlines()
    except OSError:
        return False
    return len(lines) > 2 and lines[2].startswith("Written by gpuctl ") and "with `--record`" in lines[2]


def readme(directory: Path, kept_env: Iterable[str]) -> str:
    """What DIR holds and how to share it: one row per cassette gpuctl wrote, from its first
    line. Any other file (`docker-compose.yaml`, a file that is not UTF-8) is left out."""
    rows = []
    for path in sorted(directory.glob("*.yaml")):
        fields = read_header(path)
        if fields is not None:
            command, *values = fields
            rows.append(f"| `{path.name}` | `{command}` | " + " | ".join(values) + " |")
    return README.format(marker=README_MARKER, version=__version__, rows="\n".join(rows), kept=", ".join(sorted(kept_env)), conformance=doc_ref("conformance.md"))


README = """{marker}
# gpuctl recordings

Written by gpuctl {version} with `--record`. Each `.yaml` file listed below is a [vcrpy](https://vcrpy.readthedocs.io)
cassette of the HTTP exchanges one read-only command had with the account; tests replay it with
vcrpy, without a network. Other files in this directory are not gpuctl's and are not listed.

| file | command | provider | exchanges | gpuctl | recorded |
|---|---|---|---|---|---|
{rows}

## What was left out

- Request headers, but for Content-Type and Accept: the Authorization header with the API key
  is never written. Response headers, but for Content-Type, RateLimit, RateLimit-Policy,
  Retry-After and Allow.
- Every env value: endpoint and template env, GraphQL env, the old and new values of a release
  diff on env. They read `(redacted by gpuctl)`; only gpuctl's own bookkeeping keys are kept
  ({kept}, GPUCTL_PREWARM_*), and in GPUCTL_APPLIED every digest of an env value reads "set"
  (a digest would let a guess of the value be confirmed).
- The value of any key that looks like a credential (key, token, secret, password, auth, cookie,
  session, signature, webhook, private): its strings, and numbers (as 0, so the types stay), and
  query parameters with such names.
- Any string holding the API key or a `${{VAR}}` value of the run, shaped like a RunPod, Hugging
  Face, GitHub, OpenAI, Slack or AWS key, or a URL with a user, password or credential in it.
- Bodies that are not JSON (event streams, logs): only their size is noted.
- User ids and e-mail addresses: replaced by stable placeholders (`person-1`).

Kept: ids of endpoints, volumes, templates and workers (so the exchanges fit together), names,
images, GPU pools, data centers, sizes and settings. Hosts are written as RunPod's public API
hosts, whatever base URL was used.

## Before you share

Read the files: endpoint and template names, images and settings are in them. Then attach them
to an issue, or add them to `fixtures/cassettes/contributed/` in a pull request: the parity tests
replay every cassette there against gpuctl's client and its local provider, so a difference
between RunPod and the local provider becomes a failing test. See {conformance}.
"""

"""How gpu's stdout is set up (gpuctl.cli.context): every protected value masked by default,
gpuctl's own documents written as made (ADR 38), and a character the stream's encoding cannot
hold written as an escape rather than ending the command (review 4, R4-5 and R4-10)."""

from __future__ import annotations

import io
import json

from gpuctl.cli.context import AppContext
from gpuctl.cli.output import print_document, print_json

IMAGE = "ghcr.io/x/y:1"


def _app(stdout, environ: dict | None = None) -> AppContext:
    return AppContext(environ=environ or {}, stdout=stdout, stderr=io.StringIO())


def test_a_document_is_written_as_made_and_everything_else_is_masked():
    out = io.StringIO()
    app = _app(out, {"MY_TOKEN": IMAGE})  # a credential-named variable: protected from the start
    doc = {"image": IMAGE, "env": {"MY_TOKEN": {"sensitive": True}}}
    print_document(app, doc)
    document = out.getvalue()
    assert json.loads(document) == doc
    print_json(app, {"output": IMAGE})  # a document quoting text from outside (a worker's answer)
    app.stdout.write(f"image {IMAGE}\n")
    assert out.getvalue()[len(document):] == '{\n  "output": "(redacted)"\n}\nimage (redacted)\n'


def _stream(encoding: str) -> tuple[io.TextIOWrapper, io.BytesIO]:
    raw = io.BytesIO()
    return io.TextIOWrapper(raw, encoding=encoding, write_through=True), raw


def test_a_character_the_encoding_cannot_hold_is_written_as_its_json_escape():
    stream, raw = _stream("ascii")
    app = _app(stream)
    app.stdout.write("2 → 3 × naïve 😀\n")
    assert raw.getvalue() == b"2 \\u2192 3 \\u00d7 na\\u00efve \\ud83d\\ude00\n"


def test_json_through_any_encoding_is_the_same_json():
    doc = {"cost": "2 × $0.10/h", "name": "naïve—😀", "lone": "\udc80", "quote": 'a"\\→'}
    for encoding in ("ascii", "latin-1", "cp1252", "utf-8"):
        stream, raw = _stream(encoding)
        print_document(_app(stream), doc)
        assert json.loads(raw.getvalue().decode(encoding)) == doc, encoding


def test_a_text_stream_handed_in_is_left_as_it_is():
    out = io.StringIO()
    _app(out).stdout.write("→\n")
    assert out.getvalue() == "→\n"


class _Writes(io.StringIO):
    """A stream that keeps each write apart: a signal handled between two writes of one line
    (SIGTERM as a KeyboardInterrupt) leaves that line open, and the `error:` line after it
    begins mid-line (CI, 12e642d)."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[str] = []

    def write(self, text: str) -> int:
        self.writes.append(text)
        return super().write(text)


def test_the_plain_warm_view_writes_each_line_whole():
    from gpuctl.render.warm import PlainView

    stream = _Writes()
    with PlainView(stream) as view:
        view.status("creating pod gpuctl-warm-x")
        view.output("downloading model.bin")
    assert [w for w in stream.writes if w] == ["creating pod gpuctl-warm-x\n", "  pod | downloading model.bin\n"], stream.writes


def test_a_usage_error_is_one_write_with_its_newline():
    import click

    from gpuctl.cli import usage

    stream = _Writes()
    usage.show(click.UsageError("no such option: --colour"), click.Command("gpu"), ["--colour"], stream)
    assert len([w for w in stream.writes if w]) == 1 and stream.writes[0].endswith("\n"), stream.writes


def test_no_client_module_writes_a_line_in_two_pieces():
    """`print(..., file=stream)` writes the text, then the newline: every line gpu writes on a
    stream is one write (AppContext.note, the CLI's closing lines, the views). The downloader
    runs in the pod, and the local provider is a program of its own."""
    from pathlib import Path

    import gpuctl

    root = Path(gpuctl.__file__).parent
    found = [f"{path.relative_to(root)}:{n}" for path in sorted(root.rglob("*.py")) if "local" not in path.relative_to(root).parts[:1]
             and path.name != "download.py" for n, line in enumerate(path.read_text().splitlines(), 1) if "print(" in line and "file=" in line]
    assert not found, found

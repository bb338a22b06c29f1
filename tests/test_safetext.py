"""`safetext.printable(keep_colours=True)`: the allow-list keeps SGR colour codes and nothing
that moves the cursor, erases, sets a title, links or reaches the clipboard."""

from __future__ import annotations

import pytest

from gpuctl.safetext import printable


@pytest.mark.parametrize("sequence", [
    "\x1b[1;1H", "\x1b[2J", "\x1b[31;2J", "\x1b[K", "\x1b[?25l", "\x1b[6n", "\x1b[38:2:1:2:3m",  # CSI that is no SGR (the last: colon sub-parameters)
    "\x1b]0;title\x07", "\x1b]8;;https://example.com\x1b\\", "\x1b]52;c;cHduZWQ=\x07",  # OSC: title, link, clipboard
    "\x9b2J", "\x1bc", "\x1b7", "\x1bP1$r\x1b\\",  # 8-bit CSI, reset, save cursor, DCS
])
def test_only_colour_codes_are_kept(sequence):
    shown = printable(f"\x1b[31mred{sequence}after", keep_colours=True)
    assert shown.startswith("\x1b[31mred") and shown.endswith("after\x1b[0m")
    assert "\x1b" not in shown.removeprefix("\x1b[31m").removesuffix("\x1b[0m")
    assert "\x9b" not in shown and "\x07" not in shown


def test_a_text_without_colours_is_as_before():
    assert printable("plain \x1b[2J", keep_colours=True) == printable("plain \x1b[2J") == "plain \\x1b[2J"
    assert printable("\x1b[31mred") == "\\x1b[31mred"


def test_every_character_that_shows_nothing_or_reorders_text_is_escaped():
    """The list in safetext against this Python's Unicode database: every format character
    (bidi controls, zero-width ones, tags), separator and space but the ASCII one."""
    import sys
    import unicodedata

    unseen = [chr(n) for n in range(sys.maxunicode + 1)
              if unicodedata.category(chr(n)) in ("Cf", "Zl", "Zp") or (unicodedata.category(chr(n)) == "Zs" and n != 0x20)]
    assert len(unseen) > 150
    left = [hex(ord(c)) for c in unseen if printable(f"a{c}b") == f"a{c}b"]
    assert left == []
    assert printable("api\u200b \u202eevil\u2066") == "api\\u200b \\u202eevil\\u2066"
    assert printable("tag\U000e0041") == "tag\\U000e0041"
    assert printable("café 👍 日本 tab\tand\nline") == "café 👍 日本 tab\tand\nline"  # letters, emoji, tab and newline as they are


def test_one_line_clips_and_escapes_newlines_and_controls():
    from gpuctl.safetext import one_line

    assert one_line("pid 1 on x\nerror: forged\x1b[2J\u202e" + "A" * 10_000, 40) == "pid 1 on x\\nerror: forged\\x1b[2J\\u202eAAAAAAAAAAA…"
    assert one_line(None, 10) == "None" and one_line(42, 10) == "42"
    assert one_line("short", 10) == "short"


def test_json_safe_is_the_same_value_with_nothing_a_terminal_obeys():
    import json

    from gpuctl.safetext import _CONTROL, json_safe

    every = "".join(chr(n) for n in range(0x110000) if not 0xD800 <= n < 0xE000 and _CONTROL.match(chr(n)))
    text = json.dumps({"k" + every: ["é ✓ " + every]}, ensure_ascii=False)
    safe = json_safe(text)
    assert json.loads(safe) == json.loads(text)
    assert not _CONTROL.search(safe) and "é ✓" in safe


def test_json_safe_hands_back_ascii_json_without_a_regex_scan_and_still_escapes_del(monkeypatch):
    """The plan document of thousands of endpoints is ASCII: json_safe must not scan it with the
    regex (that cost a 1,000-endpoint plan a quarter of the import floor; bench/ measures it, so
    here the regex is replaced by one that fails if used), yet DEL, the one ASCII character
    json.dumps leaves and `printable` escapes, is still written as an escape."""
    import json

    from gpuctl import safetext

    class Unused:
        def sub(self, *args):
            raise AssertionError("ASCII JSON was scanned with the regex")

    plain = json.dumps({"endpoints": [{"name": f"e{i}", "env": {"A": "b"}} for i in range(100)]})
    with monkeypatch.context() as patched:
        patched.setattr(safetext, "_CONTROL", Unused())
        assert safetext.json_safe(plain) is plain
    json_safe = safetext.json_safe
    assert json_safe(json.dumps({"name": "a\x7fb"}, ensure_ascii=False)) == '{"name": "a\\u007fb"}'


def test_a_bad_id_is_shown_by_the_one_line_rule():
    """provider.http.shown escaped ids by a rule of its own (`unicode_escape`), beside
    safetext.one_line: one rule now, quoted, its quote and backslash escaped, cut as `clip` cuts."""
    from hypothesis import given
    from hypothesis import strategies as st

    from gpuctl.provider.http import shown
    from gpuctl.redact import CUT
    from gpuctl.safetext import _CONTROL, one_line

    assert shown('a"b\\c') == '"a\\"b\\\\c"' and shown("ab\x1b[2J\u202e") == '"ab\\x1b[2J\\u202e"' and shown(7) == "of type int"
    assert shown("x" * 5000) == '"' + "x" * 40 + CUT + '" (5000 characters)'

    @given(st.text())
    def one_rule(value):
        text = shown(value)
        assert text.startswith(one_line(value, 40, quoted=True)) and not _CONTROL.search(text)
        inner = one_line(value, 40, quoted=True)[1:-1]
        assert '"' not in inner.replace('\\\\', "").replace('\\"', "")  # every quote inside is escaped: the string ends where it seems to

    one_rule()

"""Secrets never reach an output.

Env values from the account: RunPod returns endpoint env in clear, and release diffs repeat it
(`diff[{field: "template.env", old, new}]`). Any of those values may be a secret someone set in
the console, so every command that prints what the account says passes it through `hide_env`
first: the keys stay (they say what is configured), every value becomes `{"sensitive": true}`,
as in the plan document.

Secrets gpuctl knows (the RunPod key, the GitHub token, `${VAR}` values): `AppContext.protect`
registers every form of one (`output_forms`), and `Redacting` (on stdout and stderr) and
`redact` (for GitHub comments and recordings) replace them with "(redacted)". gpuctl's own
documents are not masked again, on stdout (`AppContext.verbatim`, `output.print_document`) or
with `--out` (a plan, a snapshot): they hold no env value (the plan document shows env as
sensitive; a snapshot shows only values gpu.jsonc holds as literals, `env_shown`), and a
`${VAR}` is read only in env, so masking text in them only rewrote a plain field that equals a
protected value (ADR 38).

Masking whole forms works only on text that still holds the whole secret. Two things cut text
before it reaches a stream, and each is handled where it cuts:

- rich lays text out for a width (a terminal's, or COLUMNS=40 in CI): it folds a long word
  over several lines and crops or ellipsizes a table cell, so a secret would reach the stream
  in pieces. gpuctl's console (`AppContext.console`) masks every text with `redact_text` as it
  is handed to rich's layout, before any wrapping, whatever the renderable (a line, a table
  cell, a panel, a progress bar, a live display).
- gpuctl shortens long text from outside (an error body, a worker's answer) with `clip`, which
  marks the cut with "…"; `redact` (and `redact_text`, before rich could fold it away from
  the mark) masks the start of a secret (MIN_CUT characters or more) that ends at such a mark, so a
  cut through a secret shows none of it. rich's own ellipsis is the same mark, so what rich
  crops is masked by the stream too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any, TextIO

from gpuctl.model import written_env
from gpuctl.model import REDACTED as ENV_REDACTED
from gpuctl.safetext import Wrapping

HIDDEN = {"sensitive": True}
APPLIED_ENV = "GPUCTL_APPLIED"  # the last-applied record's `{path: digest}` (gpuctl.plan.drift, ADR 10)
DECLARED = "set"  # a record's digest of a sensitive field: it was declared, and nothing more is kept


# What names a credential, in any case: a word anywhere in the name, or the name's last word
# (a whole word: MAX_TOKENS, TOKENIZER, KEY_PREFIX, COMPAT and BYPASS_CACHE are settings).
_CREDENTIAL_NAME = re.compile(
    r"SECRET|PASSWORD|PASSWD|PASSPHRASE|PRIVATE_?KEY|ACCESS_?KEY|CREDENTIAL"
    r"|(?:^|_)(?:TOKEN|KEY|API_?KEYS?|APIKEY|PAT|PWD|PASS|AUTH|AUTHORIZATION|COOKIE)$"
)
NOT_CREDENTIALS = ("PWD",)  # the shell's working directory: masked, it would hide every path in every output

# A password in a URL's userinfo (`scheme://user:password@host`), whatever the key holding it:
# DATABASE_URL, REDIS_URL, a DSN. The authority ends at the first '/', '?' or '#'.
_URL_PASSWORD = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/?#@\s:]*:([^/?#@\s]+)@")


def credential_key(name: str) -> bool:
    """An env variable whose value the CLI masks from the start, and that the policy rule
    `require_secret_env` wants from a secret: `*SECRET*`, `*PASSWORD*`, `*PASSWD*`,
    `*PASSPHRASE*`, `*PRIVATE_KEY*`, `*ACCESS_KEY*`, `*CREDENTIAL*`, or a name whose last word is
    TOKEN, KEY, API_KEY(S), APIKEY, PAT, PWD, PASS, AUTH, AUTHORIZATION or COOKIE, in any case
    (HF_TOKEN, DB_PASSWORD, OPENAI_APIKEY, GH_PAT). Not the shell's PWD."""
    upper = name.upper()
    return upper not in NOT_CREDENTIALS and _CREDENTIAL_NAME.search(upper) is not None


def url_passwords(value: str) -> list[str]:
    """The passwords of the URLs in `value` (`postgres://app:hunter2@db/app` holds "hunter2"): a
    credential whatever the key that holds it."""
    return _URL_PASSWORD.findall(value) if isinstance(value, str) and "://" in value else []


def env_shown(key: str, value: Any, literal: str | None) -> bool:
    """May an account env value be shown: the one rule for every output (snapshot, pull, logs,
    a job's output, the rollback plan; ADR 6). Yes for the GPUCTL_* markers and records gpuctl
    writes (model.written_env; not any other key of the namespace, which someone else set), and for a
    value equal to `literal`, the plain literal gpu.jsonc holds for this endpoint and this key
    (the user wrote and committed it). Any other value (set in the console, a `${VAR}`'s, a
    RunPod secret, an old value gpu.jsonc no longer holds, a literal of another key or endpoint)
    may be a secret. A site that protects rather than hides registers every value this refuses
    (AppContext.protect / Target.protect)."""
    return isinstance(value, str) and (written_env(key) or (literal is not None and value == literal))


def shared_digests(text: Any, shown: Callable[[str, str], bool] | None = None, *, own: bool = True) -> Any:
    """A last-applied record's `GPUCTL_APPLIED` as a file meant to be shared may hold it (a
    `--record` cassette, a snapshot): every env digest becomes DECLARED ("set"), but those of
    the GPUCTL_* markers gpuctl writes (model.written_env; unless `own` is False: a file that redacts some of them, as a
    cassette redacts GPUCTL_LOCAL_CWD, a path) and those `shown(path, digest)` says are the
    digest of the value the file shows for that key (a snapshot shows the literals gpu.jsonc holds). A digest
    is unsalted over the endpoint id (which the same file holds), the path and the value, so from
    it a literal the file redacts could be confirmed, or guessed, offline. "set" says only that
    gpu.jsonc declared the key, as for a secret; a plan against the file calls who moved such a
    key unknown. A value that is not a record's JSON object of strings (edited in the account) is
    not a record to the planner either, and becomes REDACTED."""
    try:
        digests = json.loads(text) if isinstance(text, str) else None
    except (ValueError, RecursionError):
        digests = None
    if not isinstance(digests, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in digests.items()):
        return ENV_REDACTED
    kept = shown or (lambda path, digest: False)
    shared = {k: (DECLARED if k.startswith("env.") and not (own and written_env(k[len("env."):])) and not kept(k, v) else v) for k, v in digests.items()}
    return json.dumps(shared, sort_keys=True, separators=(",", ":"))


def hide_env(value: Any) -> Any:
    """A copy of `value` (any JSON) with every value under an `env` key hidden, including the
    `old`/`new` of a release diff entry whose field is an env field."""
    if isinstance(value, list):
        return [hide_env(v) for v in value]
    if not isinstance(value, dict):
        return value
    out = {}
    env_diff = _is_env_field(value.get("field"))
    for key, item in value.items():
        if key == "env":
            out[key] = _hidden(item)
        elif env_diff and key in ("old", "new"):
            out[key] = _hidden(item) if isinstance(item, dict) else (None if item is None else HIDDEN)
        else:
            out[key] = hide_env(item)
    return out


def _is_env_field(field: Any) -> bool:
    """`template.env`, `env` or `env.NAME`: RunPod names a diff field top-level or
    template-scoped (openapi-v2 `ReleaseDiffEntry`)."""
    return isinstance(field, str) and "env" in field.split(".")


def _hidden(env: Any) -> Any:
    if isinstance(env, dict):
        return {k: HIDDEN for k in env}
    if isinstance(env, list):  # [{"key": ..., "value": ...}] as some APIs spell env
        return [{**e, "value": HIDDEN} if isinstance(e, dict) and "value" in e else HIDDEN for e in env]
    return None if env is None else HIDDEN


MIN_SECRET = 6  # shorter values are too likely to occur by chance to be replaced


REDACTED = "(redacted)"
CUT = "…"  # what ends text `clip` (or rich) shortened
_CUT_FORMS = (CUT, json.dumps(CUT)[1:-1])  # as written, and as `--json` (ensure_ascii) writes it
MIN_CUT = MIN_SECRET  # a shorter start of a secret at a cut is left alone: it tells nothing (a key's public "rpa_" prefix, as `credentials.mask` shows it), and would mask by chance


def clip(text: str, limit: int) -> str:
    """`text` shortened to `limit` characters, the cut marked with CUT: the one way gpuctl
    shortens text from outside for a message, so `redact` can mask a secret the cut went
    through (whose start alone no longer matches any registered form)."""
    return text if len(text) <= limit else text[:limit] + CUT


def redact(text: str, secrets: set[str], order: list[str] | None = None) -> str:
    """`text` with every registered secret replaced by "(redacted)", the longest first (a
    secret that contains another is masked whole, not left with its tail showing), and the
    start of one cut off by a CUT mark too. `order` is `secrets` so sorted, when the caller
    keeps it."""
    order = order if order is not None else sorted(secrets, key=len, reverse=True)
    for secret in order:
        if secret in text:
            text = text.replace(secret, REDACTED)
    if any(mark in text for mark in _CUT_FORMS):
        text = _redact_cut_starts(text, order)
    return text


def redact_value(value: Any, secrets: set[str], order: list[str] | None = None) -> Any:
    """`value` (JSON data: a string, or dicts and lists of them) with every string in it masked
    as `redact` masks text; keys, numbers, booleans and None as they are. For the fields of a
    document gpuctl writes as made (ADR 38) that quote text from outside gpuctl: an error body,
    a worker's answer. Masked as values, before they are encoded, so each form the encoding
    gives a secret is masked too."""
    order = order if order is not None else sorted(secrets, key=len, reverse=True)
    if isinstance(value, str):
        return redact(value, secrets, order)
    if isinstance(value, dict):
        return {k: redact_value(v, secrets, order) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact_value(v, secrets, order) for v in value]
    return value


def _redact_cut_starts(text: str, order: list[str]) -> str:
    """`text` with the longest start of a secret that runs up to a CUT mark masked."""
    for mark in _CUT_FORMS:
        if mark not in text:
            continue
        pieces = text.split(mark)
        for i, before in enumerate(pieces[:-1]):
            longest = max((_start_at_end(before, secret) for secret in order), default=0)
            if longest:
                pieces[i] = before[:-longest] + REDACTED
        text = mark.join(pieces)
    return text


def _start_at_end(text: str, secret: str) -> int:
    """How many characters of the start of `secret` (MIN_CUT or more, not all of it) `text`
    ends with; 0 if none."""
    tail = text[-(len(secret) - 1):] if len(secret) > 1 else ""
    head = secret[:MIN_CUT]
    at = tail.find(head)
    while at != -1:  # the first match is the longest start
        if secret.startswith(tail[at:]):
            return len(tail) - at
        at = tail.find(head, at + 1)
    return 0


def redact_text(text: Any, order: list[str]) -> Any:
    """A rich `Text` masked as `redact` masks a string (each secret of `order`, longest first,
    then the start of one cut off by a CUT mark), styles kept around what is replaced: what
    gpuctl's console renders, before rich wraps or crops it."""
    for secret in order:
        plain = text.plain
        if secret not in plain:
            continue
        spans, at = [], plain.find(secret)
        while at != -1:
            spans.append((at, at + len(secret)))
            at = plain.find(secret, at + len(secret))
        text = _replaced(text, spans)
    plain, spans, reach = text.plain, [], len(order[0]) if order else 0
    for mark in _CUT_FORMS:
        at = plain.find(mark)
        while at != -1:
            longest = max((_start_at_end(plain[max(0, at - reach):at], secret) for secret in order), default=0)
            if longest and (not spans or spans[-1][1] <= at - longest):
                spans.append((at - longest, at))
            at = plain.find(mark, at + len(mark))
    return _replaced(text, sorted(spans)) if spans else text


def _replaced(text: Any, spans: list[tuple[int, int]]) -> Any:
    """`text` (a rich Text) with each of the ordered, disjoint `spans` replaced by "(redacted)"."""
    masked = text.blank_copy()  # its style, justification, wrapping and end
    for n, piece in enumerate(text.divide([at for span in spans for at in span])):  # before, secret, between, ..., after
        masked.append_text(piece.blank_copy(REDACTED) if n % 2 else piece)
    return masked


def output_forms(secret: str) -> set[str]:
    """Every form in which `secret` may reach an output of gpu. A value is written escaped as
    often as not: by a worker or its SDK (Python's repr in the RunPod SDK's "run_job return:
    {...}", a JSON log line, or both nested), then by gpuctl (`--json`, with or without
    ensure_ascii; `safetext.printable`'s \\xNN and \\n; Markdown and HTML for comments and
    summaries). Each escaping is character by character, so the escaped value is a substring of
    the escaped text around it, and masking that form masks it. Each line of a multi-line
    secret (a PEM key) is a form too, without its indentation: what a worker prints reaches gpu
    one line at a time. A line of punctuation alone (the "    }," of a JSON secret) is not,
    or masking it would break gpu's own JSON."""
    import html

    from gpuctl.render import md
    from gpuctl.safetext import printable

    def same(s: str) -> str:
        return s

    encodings = (  # what code, gpuctl's or a worker's, writes a string value as inside other text
        same,
        lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
        lambda s: json.dumps(s, ensure_ascii=True)[1:-1],
        lambda s: repr('"' + s)[2:-1],  # repr in single quotes: ' escaped
        lambda s: repr("'" + s)[2:-1] if '"' not in s else s,  # repr in double quotes (text with a ' and no ")
    )
    displays = (  # and how gpuctl shows that text
        same,
        lambda s: json.dumps(s, ensure_ascii=False)[1:-1],
        lambda s: json.dumps(s, ensure_ascii=True)[1:-1],
        printable,
        lambda s: printable(s, keep_newlines=False),
        lambda s: printable(s).replace("\n", "\\n"),  # `logs`: tabs kept, line breaks escaped
        md.text,
        md.html_text,
        lambda s: md.code_html(s)[len("<code>"):-len("</code>")],
        html.escape,
        lambda s: html.escape(s, quote=False),
    )
    lines = {line.strip() for line in (*secret.splitlines(), *secret.split("\n"))}
    bases = {secret} | {line for line in lines if len(line) >= MIN_SECRET and any(c.isalnum() for c in line)}  # not "    }," of a JSON secret
    encoded = {inner(outer(base)) for base in bases for outer in encodings for inner in encodings}
    return {display(form) for form in encoded for display in displays}


class Redacting(Wrapping):
    """A text stream that replaces registered secrets with "(redacted)" before writing: the
    last line of defence if a value ever reaches an output by mistake."""

    def __init__(self, inner: TextIO, secrets: set[str]):
        super().__init__(inner)
        self.order = Order(secrets)

    def write(self, text: str) -> int:
        return self.inner.write(redact(text, self.order.secrets, self.order()))


class Order:
    """A registered set of secrets, longest first, sorted again only when the set has grown
    (it only grows: AppContext.protect)."""

    def __init__(self, secrets: set[str]):
        self.secrets = secrets
        self._sorted: list[str] = []

    def __call__(self) -> list[str]:
        if len(self._sorted) != len(self.secrets):
            self._sorted = sorted(self.secrets, key=len, reverse=True)
        return self._sorted

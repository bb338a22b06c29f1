"""The last line of defence, `AppContext.protect` and the streams it guards: a registered
secret is masked in every form gpuctl or a worker writes it in, not only as it is."""

from __future__ import annotations

import html
import io
import json

from gpuctl.cli.context import AppContext
from gpuctl.render import md
from gpuctl.safetext import printable

ODD = 'tok"en\\with\'quote\t\x01\u00fc|`<&>-canary'


def _app() -> tuple[AppContext, io.StringIO]:
    out = io.StringIO()
    return AppContext(environ={}, stdout=out, stderr=io.StringIO()), out


def test_a_secret_is_masked_in_each_escaped_form_output_writes_it_in():
    app, out = _app()
    app.protect(ODD)
    shown = [
        ODD, json.dumps({"v": ODD}), json.dumps({"v": ODD}, ensure_ascii=False), printable(ODD), printable(ODD, keep_newlines=False),
        f"error: {ODD!r} is not valid", f"{[ODD, 'x']!r}", json.dumps({"message": f"run_job return: {({'k': ODD})!r}"}),
        md.text(ODD), md.code(ODD), html.escape(ODD),
    ]
    for text in shown:
        app.stdout.write(f"[w] {text} end\n")
    assert "canary" not in out.getvalue(), out.getvalue()
    assert out.getvalue().count("(redacted)") == len(shown)


def test_each_line_of_a_multi_line_secret_is_masked_where_it_appears_alone():
    app, out = _app()
    app.protect("-----BEGIN KEY-----\nMIIBcanaryAAA\nMIIBcanaryBBB\n-----END KEY-----")
    app.stdout.write("[w] MIIBcanaryAAA\n[w] MIIBcanaryBBB\n")
    assert "canary" not in out.getvalue()


def test_a_secret_that_contains_another_is_masked_whole():
    """Replaced shortest first, `abcdef` would leave `(redacted)123...` of `abcdef123...`;
    several pairs, so that no order of the set passes by chance."""
    app, out = _app()
    for i in range(8):
        app.protect(f"short{i}x")
        app.protect(f"short{i}x-tail-canary")
    app.stdout.write(" ".join(f"short{i}x-tail-canary short{i}x" for i in range(8)))
    assert out.getvalue() == " ".join(["(redacted)"] * 16)


def test_short_values_are_not_secrets_in_any_form():
    app, _ = _app()
    app.protect('a"b')  # escaped it is 4 characters long; it is still too likely to occur by chance
    assert app.secrets == set()


def test_a_line_of_punctuation_in_a_multi_line_secret_does_not_break_gpus_own_json():
    app, out = _app()
    app.protect('{\n  "type": "service_account",\n  "nested": {\n    "key": "canary-value"\n    },\n  "x": 1\n}')
    document = json.dumps({"a": {"b": {"c": 1}, "d": 2}, "text": '"key": "canary-value"'}, indent=4)
    app.stdout.write(document)
    assert json.loads(out.getvalue()) == {"a": {"b": {"c": 1}, "d": 2}, "text": "(redacted)"}


def test_what_goes_to_github_is_masked_in_its_markdown_and_html_forms():
    """Comments, job summaries and step outputs go through `Job.clean`, which shares the
    registered forms: a secret that a Markdown or HTML escaping rewrote is masked there too."""
    from gpuctl.github.env import Actions
    from gpuctl.github.job import Job

    app, _ = _app()
    app.protect(ODD)
    body = f"| {md.code(ODD)} | {md.text(ODD)} |\n\n```json\n{json.dumps({'v': ODD})}\n```\n"
    assert "canary" not in Job(app, actions=Actions()).clean(body)


# -- text cut before it reaches the stream ---------------------------------------------------

LONG = "sk_" + "".join(f"canary{i:02d}" for i in range(15))  # 123 characters, longer than any console line here


def _pieces(text: str, secret: str = LONG, size: int = 5) -> list[str]:
    """Each run of `size` characters of `secret` that `text` shows, line breaks taken out."""
    flat = text.replace("\n", "")
    return sorted({secret[i:i + size] for i in range(len(secret) - size + 1) if secret[i:i + size] in flat})


def _narrow_app(width: int) -> tuple[AppContext, io.StringIO]:
    out = io.StringIO()
    return AppContext(environ={"COLUMNS": str(width)}, stdout=out, stderr=io.StringIO()), out


def test_rich_never_folds_or_crops_a_secret_into_pieces_at_any_width():
    """rich folds a word longer than the line and crops a cell: at 40 or 12 columns the secret
    reached the stream in pieces that no registered form matches. gpuctl's console masks each
    text before rich lays it out, in a line, a table cell (folded or ellipsized), a panel and
    a progress line alike; a secret registered after the console was made is masked too."""
    from rich.panel import Panel
    from rich.progress import Progress, TextColumn
    from rich.table import Table
    from rich.text import Text

    for width in (40, 12):
        app, out = _narrow_app(width)
        console = app.console()
        app.protect(LONG)
        console.print(Text.assemble(("error: ", "bold red"), f"the token {LONG} was refused"))
        console.print(f"plain {LONG!r} string")
        for overflow in ("fold", "ellipsis", "crop"):
            table = Table()
            table.add_column("NAME", overflow=overflow)
            table.add_column("VALUE", overflow=overflow)
            table.add_row("echo", LONG)
            console.print(table)
        console.print(Panel(Text(f"url {LONG}"), title="status"))
        progress = Progress(TextColumn("{task.description}"), console=console)
        progress.add_task(f"waiting · job {LONG}")
        console.print(progress.make_tasks_table(progress.tasks))
        shown = out.getvalue()
        assert _pieces(shown) == [], shown
        assert width < 40 or shown.count("(redacted)") == 7, shown  # at 12 columns "(redacted)" is folded itself


def test_the_start_of_a_secret_a_cut_leaves_is_masked_in_the_forms_outputs_write_it_in():
    """`clip` marks every cut gpuctl makes with "…"; the start of a secret that runs up to it
    is masked, written as it is, in a repr, or in `--json` (where the mark is `\\u2026`)."""
    from gpuctl.redact import clip, redact

    app, out = _app()
    app.protect(LONG)
    answer = {"answer": "x" * 150 + LONG}
    message = f"the answer has no choices: {clip(str(answer), 200)}"
    for text in (message, json.dumps({"error": message}), json.dumps({"error": message}, ensure_ascii=False), repr(message)):
        app.stdout.write(text + "\n")
    assert _pieces(out.getvalue()) == [], out.getvalue()
    assert out.getvalue().count("x(redacted)…") == 3 and "x(redacted)\\u2026" in out.getvalue()
    folded, out = _narrow_app(40)
    folded.protect(LONG)
    folded.console().print(message)  # rich would fold the cut start over lines, away from the mark
    assert _pieces(out.getvalue()) == [] and "(redacted)…" in out.getvalue().replace("\n", ""), out.getvalue()
    assert redact(clip(LONG, 3), set(), [LONG]) == "sk_…"  # three characters tell nothing: left as they are
    assert redact("endpoint.echo: creating…", set(), [LONG]) == "endpoint.echo: creating…"


def test_a_long_id_an_error_repeats_shows_none_of_a_secret_it_is():
    """A bad id is repeated cut to 40 characters: a key pasted where an id belongs (or a worker
    id from a careless answer) left its first 40 characters in the error."""
    from gpuctl.provider.http import check_id
    from gpuctl.provider.errors import InvalidId

    app, _ = _app()
    app.protect(LONG)
    try:
        check_id("job", LONG + ".")
    except InvalidId as error:
        app.stderr.write(error.format())
    assert _pieces(app.stderr.inner.getvalue()) == [] and "(redacted)…" in app.stderr.inner.getvalue()


def test_what_rich_itself_ellipsizes_is_masked_by_the_stream_too():
    """The stream is the last line of defence: a console that is not gpuctl's (no masking
    before layout) cuts a cell to its start and "…", and the masker still hides that start."""
    from rich.console import Console
    from rich.table import Table

    app, out = _app()
    app.protect(LONG)
    table = Table()
    table.add_column("VALUE", overflow="ellipsis", no_wrap=True)
    table.add_row(LONG)
    Console(file=app.stdout, width=30, color_system=None).print(table)
    assert _pieces(out.getvalue()) == [], out.getvalue()


def _marked_cuts(tree) -> list[int]:
    """Lines where a start of text (`x[:N]`) is followed by a written mark ("..." or "…"),
    in `x[:N] + "..."`, `x[:N] + ("..." if ... else "")` or an f-string `{x[:N]}...`."""
    import ast

    def head(node) -> bool:
        return isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Slice) and node.slice.lower is None and node.slice.upper is not None

    def mark(node) -> bool:
        return any(isinstance(n, ast.Constant) and isinstance(n.value, str) and ("..." in n.value or "…" in n.value) for n in ast.walk(node))

    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add) and head(node.left) and mark(node.right):
            found.append(node.lineno)
        if isinstance(node, ast.JoinedStr):
            for before, after in zip(node.values, node.values[1:]):
                if isinstance(before, ast.FormattedValue) and head(before.value) and mark(after):
                    found.append(node.lineno)
    return found


def test_every_cut_of_text_is_made_by_clip():
    """A cut written by hand (`text[:77] + "..."`) is not one `redact` knows to look behind:
    the start of a secret it leaves is shown. Every marked cut in gpuctl goes through
    `gpuctl.redact.clip` (one in the lease's damaged-expiry note and one in the reviewed plan's
    differences were written by hand)."""
    import ast

    from tests.conftest import ROOT

    by_hand = [f"{path.relative_to(ROOT)}:{line}" for path in sorted((ROOT / "gpuctl").rglob("*.py"))
               for line in _marked_cuts(ast.parse(path.read_text(), str(path)))]
    assert not by_hand, "cut text with gpuctl.redact.clip(text, limit), which marks the cut so redact masks a secret it went through:\n" + "\n".join(by_hand)
    assert _marked_cuts(ast.parse('a = b[:9] + "..."\nc = f"{d[:3]}… more"\ne = f[:2] + ("..." if g else "")')) == [1, 2, 3]


def test_a_saved_plan_s_long_format_version_is_shown_cut_with_the_mark(tmp_path):
    """The refusal repeated the first 20 characters of a saved plan's format_version with no
    mark, so a cut value read as the whole of it (and a secret cut there was not masked)."""
    import pytest

    from gpuctl.errors import GpuctlError
    from gpuctl.render.document import read_saved

    (tmp_path / "plan.json").write_text(json.dumps({"format_version": "2" * 40}))
    with pytest.raises(GpuctlError) as refused:
        read_saved(tmp_path / "plan.json")
    assert f'is plan format "{"2" * 19}…; this gpuctl reads format "1" only' in str(refused.value), str(refused.value)


def test_an_account_env_value_is_shown_only_as_the_literal_of_its_own_endpoint_and_key(tmp_path):
    """One rule (redact.env_shown, ADR 6) for every output that meets an account env value. The
    commands that print what workers wrote (logs, a job's output) used a looser one: any literal
    of gpu.jsonc, under any key of any endpoint, was let through. So a console-set TOKEN whose
    value was also another key's literal was printed in clear by `logs`, where `snapshot`
    redacted it."""
    from gpuctl.cli.resolve import Target
    from gpuctl.config import load_config
    from gpuctl.redact import env_shown
    from tests.e2e.conftest import echo_config

    assert env_shown("GPUCTL_PROJECT", "p", None) and env_shown("GREETING", "hello", "hello")
    assert not env_shown("GREETING", "hello", None) and not env_shown("GREETING", "bonjour", "hello")
    assert not env_shown("GREETING", None, None)

    config = echo_config()
    config["serverless"]["runpod"]["env"] = {"GREETING": "shared-value-123"}
    (tmp_path / "gpu.jsonc").write_text(json.dumps(config))
    protected: list[str] = []
    target = Target(provider=None, loaded=load_config(tmp_path / "gpu.jsonc"), name="local", protect=protected.append)
    target.protect_env({"name": "echo", "env": {"GREETING": "shared-value-123", "GPUCTL_PROJECT": "e2e-project"}})
    assert protected == []  # its own literal, and gpuctl's marker
    target.protect_env({"name": "echo", "env": {"TOKEN": "shared-value-123"}})
    target.protect_env({"name": "other", "env": {"GREETING": "shared-value-123"}})
    assert protected == ["shared-value-123", "shared-value-123"]


def test_an_env_key_every_output_shows_as_gpuctls_own_is_one_gpu_jsonc_may_not_declare(tmp_path):
    """Review 9, R9-5: env_shown let every GPUCTL_* key through as gpuctl's marker, while
    gpu.jsonc was refused only GPUCTL_PROJECT, GPUCTL_LOCAL_COMMAND and GPUCTL_LOCAL_CWD, so
    `"GPUCTL_MY_TOKEN": "${PROBE_TOK}"` deployed and invoke, job status and logs printed the
    token. The namespace shown in clear and the one refused are one rule (model.own_env)."""
    from gpuctl.config import load_config
    from gpuctl.errors import GpuctlError
    from gpuctl.redact import env_shown
    from tests.e2e.conftest import echo_config

    for key in ("GPUCTL_MY_TOKEN", "GPUCTL_APPLIED", "GPUCTL_PREWARM_CPU", "GPUCTL_PROJECT", "MY_TOKEN", "gpuctl_token", "X_GPUCTL_TOKEN"):
        config = echo_config(env={key: "${PROBE_TOK}"})
        (tmp_path / "gpu.jsonc").write_text(json.dumps(config))
        try:
            load_config(tmp_path / "gpu.jsonc")
            refused = ""
        except GpuctlError as error:
            refused = str(error) + "".join(str(d) for d in getattr(error, "diagnostics", ()))
        assert key.startswith("GPUCTL_") == (key in refused and "is reserved" in refused), (key, refused)
        assert not env_shown(key, "IndirectTok-555444", None) or "is reserved" in refused, (key, refused)  # every key shown in clear is refused


def test_only_the_keys_gpuctl_writes_are_shown_in_clear_any_other_gpuctl_key_is_a_secret():
    """Review 11, R11-3: every GPUCTL_* account value was shown as gpuctl's own, so a value set
    under such a key in the console (or deployed from a gpu.jsonc before such keys were
    refused: `"GPUCTL_DB_PASSWORD": "${DB_PASSWORD}"`) was written in clear by `gpu serverless
    snapshot`, while the plan called it sensitive. Only the keys gpuctl writes (model.written_env)
    are shown; every clear-text exemption asks that one test."""
    from gpuctl.engine import lease
    from gpuctl.model import Observed, written_env
    from gpuctl.plan import drift
    from gpuctl.prewarm import record_key
    from gpuctl.provider.recording import KEEP_ENV, Redactor
    from gpuctl.redact import APPLIED_ENV, env_shown, shared_digests
    from gpuctl.snapshot import snapshot_document

    written = {"GPUCTL_PROJECT", "GPUCTL_LOCAL_COMMAND", "GPUCTL_LOCAL_CWD", APPLIED_ENV, drift.APPLIED_AT_ENV, drift.NAME_ENV, drift.APPLIES_ENV,
               drift.APPLIED_FROM_ENV, drift.ROLLED_BACK_ENV, drift.CONFIG_ENV, drift.REPOSITORY_ENV, record_key("cpu"), record_key("gpu"),
               lease.HOLDER, lease.EXPIRES, lease.TOKEN, lease.HOST, lease.PID, lease.PID_SPACE}
    assert all(written_env(key) and env_shown(key, "v", None) for key in written | KEEP_ENV)
    assert not Redactor.kept("GPUCTL_PREWARM_X") and Redactor.kept(record_key("gpu"))  # a cassette keeps a subset of them
    for key in ("GPUCTL_DB_PASSWORD", "GPUCTL_", "GPUCTL_PREWARM_X", "GPUCTL_APPLIED_TOKEN"):
        assert not written_env(key) and not env_shown(key, "s3cr3tvalue", None), key
    endpoint = {"id": "ep1", "name": "demo", "env": {"GPUCTL_PROJECT": "p", "GPUCTL_DB_PASSWORD": "s3cr3tvalue"}}
    template = {"id": "t1", "name": "gpuctl-applied-ep1", "env": {"GPUCTL_PROJECT": "p", "GPUCTL_DB_PASSWORD": "s3cr3tvalue",
                                                                 APPLIED_ENV: json.dumps({"env.GPUCTL_DB_PASSWORD": "d1", "env.GPUCTL_PROJECT": "d2"})}}

    def shown(e, key):
        return env_shown(key, e["env"].get(key), None)

    text = json.dumps(snapshot_document(Observed((endpoint,), (), (template,)), shown))
    assert "s3cr3tvalue" not in text and '"GPUCTL_PROJECT": "p"' in text, text
    assert json.loads(shared_digests(template["env"][APPLIED_ENV])) == {"env.GPUCTL_DB_PASSWORD": "set", "env.GPUCTL_PROJECT": "d2"}
    rolled = json.loads(drift.rolled_back_env("ep1", 1, 0, {"env": {"GPUCTL_DB_PASSWORD": "new"}}, {"env": {"GPUCTL_DB_PASSWORD": "old"}}))
    assert rolled["digests"]["env.GPUCTL_DB_PASSWORD"] == drift.SET, rolled


def test_a_secret_reference_is_a_name_and_what_a_worker_is_given_from_it_is_protected(tmp_path):
    """Review 4, R4-1: protect_env registered the account's env as held, so a RunPod secret's
    reference text was masked (garbling gpuctl's own "RunPod resolves (redacted)") and the
    value a worker got from it was printed in clear. The reference is a name; the value, where
    the provider lets it be read (the local one), is what is protected; a value mixing text
    and references is protected as written and as given."""
    from gpuctl.cli.resolve import Target, env_secrets
    from gpuctl.local.client import secrets

    ref = "{{ RUNPOD_SECRET_api_tok }}"
    assert env_secrets("API_TOKEN", ref, None) == []  # on RunPod: a name, and the value cannot be known
    assert env_secrets("URL", f"postgres://app:{ref}@db/x", None) == [f"postgres://app:{ref}@db/x"]
    secrets.put(tmp_path, "api_tok", "s3cr3t-value-1")
    given = secrets.protector(tmp_path)
    assert env_secrets("API_TOKEN", ref, None, given) == ["s3cr3t-value-1"]
    assert env_secrets("URL", f"postgres://app:{ref}@db/x", None, given) == [f"postgres://app:{ref}@db/x", "s3cr3t-value-1", "postgres://app:s3cr3t-value-1@db/x"]
    assert env_secrets("API_TOKEN", "{{ RUNPOD_SECRET_nobody_made }}", None, given) == []
    assert env_secrets("GPUCTL_PROJECT", "p", None, given) == [] and env_secrets("X", None, None, given) == []
    literal = f"postgres://app:{ref}@db/x"  # written so in gpu.jsonc: shown, but not what the worker gets from it
    assert env_secrets("URL", literal, literal, given) == ["s3cr3t-value-1", "postgres://app:s3cr3t-value-1@db/x"]

    protected: list[str] = []
    target = Target(provider=None, loaded=None, name="local", protect=protected.append, secret_values=given)
    target.protect_env({"name": "echo", "env": {"API_TOKEN": ref, "OTHER": "console-set-value"}})
    assert protected == ["s3cr3t-value-1", "console-set-value"]


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_is_one_rule_no_color_and_term_dumb_both_turn_it_off(monkeypatch):
    """`logs` left colour off under TERM=dumb, but every rich console (plans, status, deploy
    progress) read only NO_COLOR and coloured a dumb terminal. AppContext.colour is the rule
    for both."""
    from gpuctl.cli.logs_cmd import Printer

    monkeypatch.setenv("TERM", "xterm-256color")  # what rich itself would read: colours, unless gpuctl says not
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    for environ, coloured in (({"TERM": "xterm-256color"}, True), ({"TERM": "dumb"}, False), ({"NO_COLOR": "1"}, False),
                              ({"NO_COLOR": ""}, True)):
        app = AppContext(environ=environ, stdout=_Terminal(), stderr=_Terminal())
        assert (app.console().color_system is not None) is coloured, environ
        assert (app.console(stderr=True).color_system is not None) is coloured, environ
        assert Printer(app, as_json=False, prefix=False).colours is coloured, environ
    piped = AppContext(environ={"TERM": "xterm-256color"}, stdout=io.StringIO())
    assert piped.console().color_system is None and not Printer(piped, as_json=False, prefix=False).colours

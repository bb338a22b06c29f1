"""What a command writes for its reader: a JSON document on stdout (`print_json`), and files
where the user said (`deploy --out`, `snapshot --out`): never over a file the same run reads,
and a path that cannot be written is a user error with the fix, not an internal one."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from gpuctl.cli.context import AppContext
from gpuctl.cli.planning import user_path
from gpuctl.errors import UsageError
from gpuctl.files import replace_text


def json_text(doc: Any, indent: int | None = 2) -> str:
    """`doc` as gpuctl writes every JSON document (`indent=None`: on one line, as a stream of
    documents has it, `logs --json`): non-ASCII text as it is, and every
    character a terminal would obey or that reorders a line (ESC, a C1 CSI such as \\x9b, the
    bidi override U+202E) written as a `\\u` escape (safetext.json_safe). Any JSON reader reads
    the same value; a person who prints it sees the escape, not its effect. One policy for every
    `--json`: two (ensure_ascii here, ensure_ascii=False without json_safe there) let account
    names with U+202E reach the terminal through `pull --json` and `import --json`. Numbers are
    RFC 8259's (gpuctl.jsontext.dumps): a non-finite float in what a provider answered (a
    worker's NaN metric) is null, never the bare NaN that no JSON reader but Python's reads."""
    from gpuctl.jsontext import dumps
    from gpuctl.safetext import json_safe

    return json_safe(dumps(doc, indent=indent, ensure_ascii=False))


def print_json(app: AppContext, doc: Any) -> None:
    """Write `doc` to stdout as `json_text` spells it, and a newline, every protected value
    masked: for a document that quotes text from outside gpuctl (a worker's answer, an error
    body, a config error quoting gpu.jsonc). gpuctl's own documents use `print_document`."""
    app.stdout.write(json_text(doc) + "\n")


class ResultDocument:
    """The one JSON document a `--json` command that writes (deploy, rollback, delete) prints on
    stdout, however it ends once its flags are accepted: its result (`print`), or, when it ends
    before it printed one (a refusal, a lease another run holds, a no at the question, an
    interrupt before or after its write), the document saying what was done by then and why it
    ended (`ended_by`), which `ended(reason)` builds: the command keeps what it has done where
    that reads it. A CI step piping stdout to jq gets the reason exactly when it needs it
    (review F18); a rollback interrupted after its write printed nothing, so a script could not
    tell whether it had landed. `guard()` is how a command runs under it.

    `as_made`: the command builds its documents with their secret fields hidden, and they are
    written as made (`print_document`, ADR 38): deploy's (`render.result`), rollback's (env values
    as `render.history.shown_env` shows them), delete's and template delete's (ids and flags). Of
    theirs only `error` quotes text from outside gpuctl (an account's error body, a config error
    quoting gpu.jsonc), and `ended` masks it (`AppContext.mask`). Otherwise the document is
    masked as a whole (`print_json`), and a plain field equal to a protected value reads
    "(redacted)"."""

    def __init__(self, app: AppContext, ended: Callable[[str], dict] | None = None, *, as_made: bool = False):
        self.app = app
        self._ended = ended
        self.as_made = as_made
        self.printed = False

    def print(self, doc: dict) -> None:
        (print_document if self.as_made else print_json)(self.app, doc)
        self.printed = True

    def ended(self, reason: str) -> dict:
        """The document of a run that ended with `reason` (the `error:` line's words), masked
        when the document is written as made: it quotes text from outside."""
        assert self._ended is not None, "a ResultDocument without `ended` overrides it"
        return self._ended(self.app.mask(reason) if self.as_made else reason)

    def ended_by(self, error: BaseException) -> None:
        """Print the document of a run that ends with `error`, unless one was printed. Signals
        are held meanwhile: the document is printed whole, and `error` stays the command's end."""
        if self.printed:
            return
        from gpuctl.cli.confirm import Cancelled
        from gpuctl.errors import GpuctlError
        from gpuctl.interrupts import held

        self.app.protect_variables(error)  # a config error names variables whose values must not show
        reason = error.summary if isinstance(error, GpuctlError) else error.said if isinstance(error, Cancelled) else "interrupted"
        with held(interrupt_after=False):
            self.print(self.ended(reason))

    @contextmanager
    def guard(self) -> Iterator[ResultDocument]:
        """Run the command's body: whatever error, no or interrupt ends it first prints the
        document, then ends the command as it would have."""
        from gpuctl.cli.confirm import Cancelled
        from gpuctl.errors import GpuctlError

        try:
            yield self
        except (GpuctlError, Cancelled, KeyboardInterrupt) as error:
            self.ended_by(error)
            raise


@contextmanager
def result_document(app: AppContext, as_json: bool, ended: Callable[[str], dict]) -> Iterator[ResultDocument | None]:
    """Under --json, the command's ResultDocument, its body guarded (`ResultDocument.guard`);
    else None, and nothing is printed on stdout. `ended` builds a document whose only field
    from outside is `error` (rollback's, delete's): it is written as made, `error` masked."""
    if not as_json:
        yield None
        return
    with ResultDocument(app, ended, as_made=True).guard() as doc:
        yield doc


def print_document(app: AppContext, doc: Any) -> None:
    """`print_json`, written as made (`AppContext.verbatim`, ADR 38): for gpuctl's own documents,
    which a program reads back (`snapshot`, `list`, `status` and `drift --json`; the plan
    document's `write_document`), and whose secret fields were hidden when they were built
    (`redact.hide_env`, `env_shown`, `shared_digests`). Masking text in them again only ever
    rewrote a plain field that happened to equal a protected value: an image equal to a
    `${VAR}`'s value became "(redacted)", and a plan against the snapshot invented an update."""
    write_document_text(app, json_text(doc) + "\n")


def write_document_text(app: AppContext, text: str) -> None:
    """One of gpuctl's own documents, already spelled, to stdout as made (`print_document`)."""
    app.verbatim.write(text)


def write_output(app: AppContext, given: str, text: str, *, flag: str, inputs: Iterable[str | None] = ()) -> Path:
    """Write `text` to the file `flag` names. `inputs` are the files this run reads (gpu.jsonc,
    the policy file, the snapshot, None for one it does not): writing over one is refused, so
    `deploy --plan --out gpu.jsonc` cannot replace the config with a plan."""
    path, display = user_path(app, given)
    for name in inputs:
        read, shown = user_path(app, name)
        if read.exists() and path.exists() and path.resolve() == read.resolve():
            raise UsageError(f"{flag} {display} would write over {shown}, which this run reads",
                             hint=f"give {flag} a file of its own, such as {flag} plan.json")
    try:
        replace_text(path, text)  # whole or not at all: an interrupt never leaves half a plan for --from-plan
    except OSError as exc:
        missing = isinstance(exc, FileNotFoundError)
        hint = f"create {Path(display).parent} first, or give {flag} a file in a directory that exists" if missing else f"give {flag} a regular file you can write"
        raise UsageError(f"cannot write {flag} {display}: {exc.strerror or exc}", hint=hint) from None
    return path

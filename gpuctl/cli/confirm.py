"""The one way gpu asks a person before it changes something (deploy, rollback, delete,
template delete, local reset), has them pick what to act on, or asks for a secret (auth
login). No other module calls click.prompt or click.confirm. One rule for all of them:

- gpu asks only where someone can answer: stdin, where the answer is read, and stderr, where
  the question is written, are both terminals. Anywhere else it refuses with a usage error
  naming the flag that skips the question (a prompt written into a redirected stderr waited for
  an answer nobody was shown; a deploy piped into `tee` refused where delete asked).
- `y` or `yes` is a yes. Anything else is a no: `n`, an empty answer (Enter) and the end of
  input (Ctrl-D). A no ends the command with exit 1 and `cancelled: nothing was ...`.
- Ctrl-C is an interrupt, never a no: KeyboardInterrupt, exit 130 (docs/errors.md), at once,
  whenever it comes (`_read_line`, `_read_hidden`: CPython's input() and getpass lost a Ctrl-C
  that came just before their read began, until the next key).

Either way the question's line is ended first, so what follows is not read as its answer."""

from __future__ import annotations

import os
import select
import sys
from collections.abc import Callable
from contextlib import contextmanager
from collections.abc import Iterator
from typing import NoReturn, TypeVar

import click
import click.termui

from gpuctl.cli.context import AppContext
from gpuctl.errors import ExitCode, UsageError

T = TypeVar("T")


def interactive(app: AppContext) -> bool:
    """Whether a person can be asked: the question goes to stderr, the answer comes from stdin."""
    return app.stdin_tty and app.stderr_tty


def refuse_unattended(app: AppContext, what: str, flag: str, then: str, review: str = "") -> None:
    """The usage error for `what` needing an answer where nobody can give one, naming `flag`."""
    if not interactive(app):
        raise UsageError(f"{what} needs confirmation but there is no terminal to ask on", hint=f"{review}pass {flag} to {then} without asking")


def confirm(app: AppContext, question: str, *, what: str, flag: str, then: str, review: str = "") -> bool:
    """Ask `question` (y/N); True only for a yes. Refuses where nobody can answer (the usage
    error says `what` needs confirmation; its hint: `{review}pass {flag} to {then} without
    asking`)."""
    refuse_unattended(app, what, flag, then, review)
    return _answer(lambda: click.confirm(question, default=False, err=True), False)


def confirm_or_stop(app: AppContext, question: str, *, what: str, flag: str, then: str, unchanged: str = "changed", review: str = "") -> None:
    """`confirm`, for a command that has nothing more to do after a no: it ends with exit 1 and
    `cancelled: nothing was {unchanged}`. Ctrl-C at the question ends it with exit 130 and
    `interrupted at the question: nothing was {unchanged}` (a bare `interrupted` left the
    operator to wonder whether the delete had gone out)."""
    from gpuctl.interrupts import Interrupted

    try:
        yes = confirm(app, question, what=what, flag=flag, then=then, review=review)
    except KeyboardInterrupt:
        raise Interrupted(f"interrupted at the question: nothing was {unchanged}") from None
    if not yes:
        cancel(app, unchanged)


def choose(question: str, kind: click.ParamType) -> object | None:
    """Ask `question` for a value of `kind` (a picker's number); None at the end of input."""
    return _answer(lambda: click.prompt(question, type=kind, err=True), None)


def ask_hidden(question: str) -> str | None:
    """Ask `question` for a secret, typed with the echo off (`auth login`'s key); None at the
    end of input (Ctrl-D), which the caller ends with `cancel`: click said a bare `aborted`."""
    return _answer(lambda: click.prompt(question, hide_input=True, err=True), None, ended=True)


class Cancelled(click.exceptions.Exit):
    """A no, which ends the command with exit 1; `said` is what it said (a JSON result
    document gives it as its `error`, cli.output.ResultDocument)."""

    def __init__(self, said: str):
        super().__init__(ExitCode.ERROR)
        self.said = said


def cancel(app: AppContext, unchanged: str = "changed") -> NoReturn:
    """A no: `cancelled: nothing was {unchanged}` and exit 1."""
    said = f"cancelled: nothing was {unchanged}"
    app.note(said)
    raise Cancelled(said)


def _read_line(prompt: str) -> str:
    """input(prompt), for click's visible prompts, but one that a Ctrl-C always ends at once.
    input() blocks in one read of stdin, and a signal whose handler had not run yet when that
    read began (Ctrl-C pressed as the question appeared) was only acted on after the next key:
    gpu looked as if it ignored Ctrl-C, and the answer typed next was read first. Here the wait
    for the answer is a tick at a time (`interrupts.TICK_S`), so the handler runs between ticks,
    and a read only ever takes a line that is there. A terminal (canonical mode) hands over one
    line per read; the end of input (Ctrl-D) is EOFError, as input() says it."""
    from gpuctl.interrupts import TICK_S

    sys.stdout.write(prompt)  # click sends stdout to stderr for a question asked there (err=True)
    sys.stdout.flush()
    fd, got = sys.stdin.fileno(), b""
    while not got.endswith(b"\n"):
        while not select.select([fd], [], [], TICK_S)[0]:
            pass
        piece = os.read(fd, 4096)
        if not piece:
            if got:
                break
            raise EOFError
        got += piece
    return got.decode(sys.stdin.encoding or "utf-8", errors="replace").removesuffix("\n").removesuffix("\r")


def _read_hidden(prompt: str) -> str:
    """getpass(prompt), for click's hidden prompts, but read by `_read_line`, so a Ctrl-C always
    ends it at once: getpass blocks in one read of the terminal too, and a Ctrl-C pressed as
    the prompt appeared, on a loaded machine, was acted on only after the next key (CI: the
    test that presses it 20 times waited 90 s for an end). The echo is off while the answer is
    typed, as getpass has it (typed-ahead input is discarded with it), and the line is ended
    after it, as the echo of the Enter would have."""
    import termios

    fd = sys.stdin.fileno()
    try:
        before = termios.tcgetattr(fd)
    except termios.error:  # not a terminal: nothing to hide the answer from
        return _read_line(prompt)
    hidden = before[:]
    hidden[3] &= ~termios.ECHO  # the local flags
    termios.tcsetattr(fd, termios.TCSAFLUSH, hidden)
    try:
        answer = _read_line(prompt)
    finally:
        termios.tcsetattr(fd, termios.TCSAFLUSH, before)
    sys.stdout.write("\n")
    sys.stdout.flush()
    return answer


@contextmanager
def _interruptible() -> Iterator[None]:
    """click's prompts read their answer with `_read_line` (hidden: `_read_hidden`) while a
    question is asked."""
    before = click.termui.visible_prompt_func, click.termui.hidden_prompt_func
    click.termui.visible_prompt_func, click.termui.hidden_prompt_func = _read_line, _read_hidden
    try:
        yield
    finally:
        click.termui.visible_prompt_func, click.termui.hidden_prompt_func = before


def _answer(ask: Callable[[], T], at_end: T, ended: bool = False) -> T:
    """click turns Ctrl-C and Ctrl-D at a prompt alike into Abort, with the question's line
    left open (`ended`: but for a hidden prompt, whose line click ends itself; ending it again
    left a blank line): Ctrl-C becomes the KeyboardInterrupt it was, Ctrl-D `at_end`."""
    try:
        with _interruptible():
            return ask()
    except click.exceptions.Abort as abort:
        if not ended:
            click.echo(err=True)  # end the question's line, on the stream click wrote it to
        if isinstance(abort.__context__, KeyboardInterrupt):
            raise KeyboardInterrupt from None
        return at_end

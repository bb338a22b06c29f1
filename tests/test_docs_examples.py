"""What the docs tell a reader to type must work as written, on every page at once.

- Every `gpu ...` command line, in a shell block or an inline code span of README.md and
  docs/*.md, parses with the real click command tree: its command exists, its options exist
  and take the values shown, and a shell block gives every required argument. Synopsis
  notation in prose (`[--write]`, `NAME|ID`, `gpu github ...`) is read as what it stands for.
- Every gpu.jsonc example (a ```jsonc block with a "serverless" key) passes `gpu config
  validate`, and every policy file example loads as `--policy FILE`.
- Every block that shows a `$ gpu config validate --config FILE` run over the malformed-config
  corpus (fixtures/config-errors/) shows what that run prints.

Pages owned elsewhere are held to the same rules: a wrong command there is as wrong as here.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pyjson5
import pytest

from gpuctl.cli import cli
from tests.conftest import ROOT, run_cli

PAGES = [ROOT / "README.md"] + sorted(p for p in (ROOT / "docs").glob("*.md") if p.name != "commands.md")
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
SHELL = {"sh", "bash", "shell", "console"}
SEPARATORS = set(";&|<>()")
EMPTY_ACCOUNT = ROOT / "examples" / "empty-account.json"
CORPUS = ROOT / "fixtures" / "config-errors"


@dataclass(frozen=True)
class Block:
    page: Path
    line: int  # of the first line inside the fence
    lang: str
    text: str

    @property
    def where(self) -> str:
        return f"{self.page.relative_to(ROOT)}:{self.line}"


def blocks(page: Path) -> Iterator[Block]:
    lines = page.read_text().splitlines()
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        indent, j = len(m.group(1)), i + 1
        while j < len(lines) and not FENCE.match(lines[j]):
            j += 1
        body = "\n".join(line[indent:] if line[:indent].isspace() else line for line in lines[i + 1:j])
        yield Block(page, i + 2, m.group(2), body)
        i = j + 1


def _segments(line: str) -> list[list[str]]:
    """The simple commands of one shell line: split at ; && || | < > ( ), comments dropped,
    leading VAR=value assignments dropped; `$(...)` inside words is a command of its own."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars="".join(SEPARATORS))
    lexer.whitespace_split = True
    lexer.commenters = "#"
    found, current = [], []
    for token in lexer:
        if set(token) <= SEPARATORS:
            found.append(current)
            current = []
        else:
            current.append(token)
    found.append(current)
    for inner in re.findall(r"\$\((gpu [^)]*)\)", line):
        found += _segments(inner)
    out = []
    for words in found:
        while words and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*=.*", words[0]):
            words = words[1:]
        out.append(words)
    return out


@dataclass(frozen=True)
class Command:
    where: str
    words: tuple[str, ...]  # after `gpu`
    exact: bool  # from a shell block: runnable as written


def shell_lines(block: Block) -> Iterator[str]:
    text = block.text.replace("\\\n", " ")
    for line in text.splitlines():
        if block.lang == "yaml":  # a CI step: `- run: gpu ...`
            m = re.match(r"\s*(?:- )?run: (.*)", line)
            if not m:
                continue
            line = m.group(1)
        if block.lang == "console":
            if not line.startswith("$ "):
                continue
            line = line[2:]
        yield line


def _synopsis(words: list[str]) -> list[list[str]] | None:
    """Prose writes a command's shape: `[--write]`, `NAME|ID`, `up|down|status`, `...`. The
    command lines it stands for (one per alternative), or None when the words stop being
    specific (`gpu github ...`, `gpu github <command>`)."""
    lines: list[list[str]] = [[]]
    for word in words:
        if word in ("...", "…") or word.startswith("<"):
            return lines if len(lines[0]) else None
        word = word.strip("[]")
        if not word:
            continue
        if "|" in word and not word.startswith("-"):
            alternatives = word.split("|")
            lines = [line + [alt] for line in lines for alt in alternatives]
        else:
            lines = [line + [word] for line in lines]
    return lines


def commands() -> list[Command]:
    found = []
    for page in PAGES:
        for block in blocks(page):
            if block.lang not in SHELL | {"yaml"}:
                continue
            for line in shell_lines(block):
                for words in _segments(line):
                    if words and words[0] == "gpu":
                        found.append(Command(block.where, tuple(words[1:]), exact=True))
        text = page.read_text()
        prose = re.sub(r"^\s*```.*?^\s*```", lambda m: "\n" * m.group().count("\n"), text, flags=re.S | re.M)
        for m in re.finditer(r"`(gpu(?: [^`]*)?)`", prose):
            where = f"{page.relative_to(ROOT)}:{prose.count(chr(10), 0, m.start()) + 1}"
            span = m.group(1).replace("\\|", "|")  # a pipe escaped in a table cell
            pipeline = bool(re.search(r" (\||&&|;) |\$\(", span))  # a whole shell line, to run as it is
            try:
                segments = _segments(span) if pipeline else [shlex.split(span)]
            except ValueError:
                segments = [span.split()]
            for words in segments:
                if words and words[0] == "gpu" and tuple(words[1:]) not in NOT_COMMANDS:
                    for line in _synopsis(words[1:]) or []:
                        found.append(Command(where, tuple(line), exact=pipeline))
    return found


# Named in the docs as what gpu does not have (errors.md: `gpu init` is told that gpu.jsonc is
# written by hand).
NOT_COMMANDS = {("init",)}
PLACEHOLDER = re.compile(r"[A-Z][A-Z_]*")  # N, VERSION, FILE: the reader fills it in


def parse_error(command: Command) -> str | None:
    """Why `gpu WORDS` does not parse, or None. Runs click's own parsing of every group and of
    the command, never the command itself."""
    args = [w for w in command.words if w != "--debug"]  # gpuctl.cli.main takes --debug anywhere
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
            ctx = cli.make_context("gpu", list(args))
            while isinstance(ctx.command, click.Group):
                rest = [*ctx._protected_args, *ctx.args]
                if not rest:
                    return None
                sub = ctx.command.get_command(ctx, rest[0])
                if sub is None:
                    return f"gpu has no command {rest[0]!r} there"
                ctx = sub.make_context(rest[0], rest[1:], parent=ctx)
    except (click.exceptions.Exit, click.exceptions.NoArgsIsHelpError):
        return None  # --help, --version, a group named alone (`gpu serverless`)
    except click.MissingParameter as exc:
        if command.exact and isinstance(exc.param, click.Argument):
            return exc.format_message()
        return None  # prose naming a command (`gpu serverless status`) need not give its arguments
    except click.BadParameter as exc:
        quoted = re.findall(r"'([^']*)'", exc.format_message())
        if "does not exist" in exc.format_message() or any(PLACEHOLDER.fullmatch(q) for q in quoted):
            return None  # `--from-plan plan.json` names a file the reader has; `--port N` a number to pick
        return exc.format_message()
    except click.UsageError as exc:
        return exc.format_message()
    return None


def test_the_scan_finds_the_commands_it_should():
    """A broken scan must not pass by finding nothing."""
    found = commands()
    exact = [c for c in found if c.exact]
    assert len(exact) > 60 and len(found) - len(exact) > 150, (len(exact), len(found))
    assert Command("docs/deploy.md:4", ("serverless", "deploy", "-y"), True) in found
    assert any(c.words == ("local", "env") for c in exact), "$(gpu local env) inside eval was not read"
    assert any(c.where.startswith("docs/auth.md") and c.words == ("serverless", "deploy", "--yes") for c in exact), "a yaml run: step was not read"
    assert any(c.words[:3] == ("serverless", "pull", "NAME") and "--write" in c.words for c in found)


@pytest.mark.parametrize("words, exact", [
    (("serverless", "deploy", "--plann"), True),               # an unknown option
    (("serverless", "depoly"), False),                         # an unknown command
    (("serverless", "deploy", "--format", "html"), False),     # a value a choice rejects
    (("serverless", "list", "extra"), True),                   # an extra argument
    (("serverless", "status", "--watch"), True),               # a block that leaves out NAME
    (("serverless", "invoke", "x", "--timeout"), False),       # an option without its value
])
def test_a_wrong_command_is_caught(words, exact):
    assert parse_error(Command("here", words, exact)) is not None


@pytest.mark.parametrize("words", [
    ("serverless", "status"),                                  # prose naming a command
    ("serverless", "deploy", "--from-plan", "plan.json"),      # a file the reader made
    ("local", "up", "--port", "N"),                            # a placeholder
    ("serverless", "rollback", "NAME", "--to", "VERSION"),
])
def test_prose_shapes_are_not_mistakes(words):
    assert parse_error(Command("here", words, exact=False)) is None


def test_every_gpu_command_in_the_docs_parses():
    wrong = [f"{c.where}: gpu {' '.join(c.words)}\n    {parse_error(c)}" for c in commands() if parse_error(c)]
    assert not wrong, "the docs show gpu command lines that gpu does not accept:\n" + "\n".join(wrong)


def _jsonc_examples() -> Iterator[tuple[Block, object]]:
    for page in PAGES:
        for block in blocks(page):
            if block.lang not in ("jsonc", "json"):
                continue
            try:
                yield block, pyjson5.decode(block.text)
            except Exception:
                continue  # a fragment (`"local": {...}`) or an excerpt with `…`


def config_examples() -> list[Block]:
    return [b for b, doc in _jsonc_examples() if isinstance(doc, dict) and "serverless" in doc and "endpoints" not in doc]


def policy_examples() -> list[Block]:
    return [b for b, doc in _jsonc_examples() if isinstance(doc, dict) and any(k.startswith(("max_", "allowed_", "forbid_")) for k in doc)]


def test_the_config_examples_are_found():
    assert len(config_examples()) >= 5 and policy_examples()


@pytest.mark.parametrize("block", config_examples(), ids=lambda b: b.where)
def test_every_config_example_validates(tmp_path, block):
    (tmp_path / "gpu.jsonc").write_text(block.text)
    result = run_cli(["config", "validate"], tmp_path)
    assert result.code == 0, f"{block.where}: the example gpu.jsonc is not valid:\n{result.err}"


@pytest.mark.parametrize("block", policy_examples(), ids=lambda b: b.where)
def test_every_policy_file_example_loads(tmp_path, block):
    (tmp_path / "policy.jsonc").write_text(block.text)
    (tmp_path / "gpu.jsonc").write_text('{"project_id": "p", "serverless": {"template": "whisper", "gpu_type": "NVIDIA L4"}}')
    result = run_cli(["serverless", "deploy", "--plan", "--observed", str(EMPTY_ACCOUNT), "--policy", "policy.jsonc"], tmp_path)
    assert result.code in (0, 4) and "is not valid" not in result.err, f"{block.where}:\n{result.err}"


def corpus_runs() -> list[tuple[Block, str, str]]:
    """(block, command line, what the block shows it printing) for each `$ gpu config validate
    --config FILE` of the corpus shown in the docs."""
    runs = []
    for page in PAGES:
        for block in blocks(page):
            for m in re.finditer(r"^\$ (gpu config validate .*--config (\S+))\n((?:(?!\$ ).*\n?)*)", block.text, re.M):
                if (CORPUS / m.group(2)).is_file():
                    runs.append((block, m.group(1), m.group(3).rstrip("\n")))
    return runs


def test_the_corpus_runs_are_found():
    assert len(corpus_runs()) >= 4


@pytest.mark.parametrize("block, line, shown", corpus_runs(), ids=lambda v: v.where if isinstance(v, Block) else "")
def test_every_shown_validate_run_prints_what_is_shown(block, line, shown):
    result = run_cli(shlex.split(line)[1:], CORPUS)
    assert (result.out + result.err).rstrip("\n") == shown, f"{block.where}: `{line}` prints:\n{result.out + result.err}"


def test_the_exit_code_table_is_the_codes_gpu_uses():
    """docs/errors.md's table lists exactly gpuctl.errors.ExitCode, and every exit code another
    page cites (`exits 3`, `exit code 4`, "exit **5**") is one of them."""
    from gpuctl.errors import ExitCode

    errors_md = (ROOT / "docs" / "errors.md").read_text()
    table = errors_md.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    listed = {int(code) for code in re.findall(r"^\| (\d+) \|", table, re.M)}
    assert listed == {int(c) for c in ExitCode}, f"docs/errors.md lists {sorted(listed)}; gpu uses {sorted(int(c) for c in ExitCode)}"
    cited = [(page.relative_to(ROOT), int(m.group(1))) for page in PAGES
             for m in re.finditer(r"\bexit(?:s|ing|ed)?(?: code)? \**`?(\d+)", page.read_text())]
    assert len(cited) > 40, "the scan found too few exit codes to be reading the pages"
    wrong = [f"{page}: exit {code}" for page, code in cited if code not in listed]
    assert not wrong, "the docs cite exit codes gpu never uses:\n" + "\n".join(wrong)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, code and punctuation dropped, spaces to -."""
    text = re.sub(r"[`*_]|\[([^\]]*)\]\([^)]*\)", lambda m: m.group(1) or "", heading.strip()).lower()
    return re.sub(r"[^\w\- ]", "", text).replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    text = re.sub(r"^\s*```.*?^\s*```", "", page.read_text(), flags=re.S | re.M)
    found, seen = set(), {}
    for heading in re.findall(r"^#{1,6} (.+)$", text, re.M):
        slug = _slug(heading)
        found.add(slug if slug not in seen else f"{slug}-{seen[slug]}")
        seen[slug] = seen.get(slug, 0) + 1
    return found


REPO_PATH = re.compile(r"`((?:gpuctl|tests|state|schema|fixtures|examples|bench|docs)/[\w./<>*-]*)`")


def test_every_link_and_repository_path_in_the_docs_leads_somewhere():
    """A relative link goes to a file of the repository, and its #anchor to a heading there;
    a path in code (`gpuctl/files.py`, `state/templates.json`) names a file or folder that exists."""
    pages = PAGES + sorted((ROOT / "docs" / "adr").glob("*.md"))
    wrong, checked = [], 0
    for page in pages:
        text = re.sub(r"^\s*```.*?^\s*```", "", page.read_text(), flags=re.S | re.M)
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            if re.match(r"[a-z]+:", target):
                continue
            path, _, anchor = target.partition("#")
            file = (page.parent / path).resolve() if path else page
            checked += 1
            if not file.exists():
                wrong.append(f"{page.relative_to(ROOT)}: ({target}): no such file")
            elif anchor and file.suffix == ".md" and anchor not in _anchors(file):
                wrong.append(f"{page.relative_to(ROOT)}: ({target}): no heading #{anchor} in {file.name}")
        for path in REPO_PATH.findall(text):
            if "<" in path or "*" in path or "..." in path:
                continue
            checked += 1
            if not (ROOT / path).exists():
                wrong.append(f"{page.relative_to(ROOT)}: `{path}`: no such file in the repository")
    assert checked > 150, checked
    assert not wrong, "the docs point at what is not there:\n" + "\n".join(wrong)


# Flags of other programs the docs name in code: the test helper, systemctl, pytest, the runpod SDK.
OTHER_PROGRAMS_FLAGS = {"--contribute-local", "--now", "--pdb", "--rp_serve_api"}


def _all_options() -> set[str]:
    found = {"--debug"}  # taken by gpuctl.cli.main before click parses

    def walk(command: click.Command, ctx: click.Context) -> None:
        for param in command.params:
            found.update(o for o in param.opts + param.secondary_opts if o.startswith("--"))
        found.update(ctx.help_option_names)
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                walk(sub, click.Context(sub, parent=ctx, help_option_names=ctx.help_option_names))

    walk(cli, click.Context(cli, help_option_names=["-h", "--help"]))
    return found


def test_every_long_option_a_page_names_is_one_gpu_has():
    """Prose names options on their own (`--lock-timeout 5m`, `deploy --plan --out FILE`); each
    must be an option of some gpu command."""
    options = _all_options()
    assert {"--plan", "--lock-timeout", "--wait-healthy", "--data-dir", "--help"} <= options
    named = [(page.relative_to(ROOT), flag) for page in PAGES for span in re.findall(r"`([^`\n]+)`", page.read_text())
             for flag in re.findall(r"(?<![\w-])(--[a-z][\w-]*)", span)]
    assert len(named) > 300, len(named)
    wrong = sorted({f"{page}: {flag}" for page, flag in named if flag not in options | OTHER_PROGRAMS_FLAGS})
    assert not wrong, "the docs name options no gpu command has:\n" + "\n".join(wrong)

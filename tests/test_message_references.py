"""What gpuctl prints may point somewhere else (a doc page, another command); the pointer must
lead somewhere for someone who installed the wheel.

The docs are not in the wheel and not hosted, so a doc page is named only through
`gpuctl.errors.doc_ref` ("docs/PAGE in the gpuctl repository", ADR 28), and only to pages that exist.
A `gpu ...` command a message tells you to run must be one gpu has. Both are read from every
string literal of the package (docstrings and comments aside), so a new message is held to them
without a test of its own.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

import click
import pytest

from gpuctl.cli import cli
from gpuctl.errors import doc_ref
from tests.conftest import ROOT, run_cli

PACKAGE = ROOT / "gpuctl"
DOC_PATH = re.compile(r"docs/[\w./-]+\.md")
DOC_CALL = re.compile(r"""\bdoc_ref\(["']([\w./#-]+)["']\)""")
GROUPS = "|".join(name for name, c in cli.commands.items() if isinstance(c, click.Group)) + "|auth|github"
COMMAND = re.compile(rf"`gpu ([a-z][a-z -]*)|\bgpu ((?:{GROUPS}) [a-z][a-z-]*)")


def _docstrings(tree: ast.AST) -> set[int]:
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                found.add(id(first.value))
    return found


def literals() -> Iterator[tuple[str, int, str]]:
    """(file, line, text) of every string literal in gpuctl/ but docstrings."""
    for path in sorted(PACKAGE.rglob("*.py")):
        tree = ast.parse(path.read_text(), str(path))
        skip = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip:
                yield str(path.relative_to(ROOT)), node.lineno, node.value


def test_doc_pages_are_named_only_through_the_one_helper():
    bare = [f"{file}:{line}: {DOC_PATH.search(text).group()}" for file, line, text in literals()
            if DOC_PATH.search(text) and not text.startswith("docs/{")]
    assert not bare, ("a doc path in output means nothing to a wheel user; write it as "
                      "gpuctl.errors.doc_ref(PAGE) and say the fix in the message itself:\n" + "\n".join(bare))


def test_every_page_the_helper_names_exists():
    pages = {m.group(1) for path in PACKAGE.rglob("*.py") for m in DOC_CALL.finditer(path.read_text())}
    assert pages, "the scan found no doc_ref(...) call"
    missing = sorted(p for p in pages if not (ROOT / "docs" / p.split("#")[0]).is_file())
    assert not missing, missing
    assert doc_ref("catalog.md") == "docs/catalog.md in the gpuctl repository"


def _exists(words: list[str]) -> bool:
    """Whether `gpu WORDS...` names a command, as far as the words go."""
    command: click.Command = cli
    ctx = click.Context(cli)
    for word in words:
        if not isinstance(command, click.Group):
            return True  # the rest are arguments
        found = command.get_command(ctx, word)
        if found is None:
            return False
        command = found
    return True


def test_every_command_a_message_names_exists():
    named = []
    for file, line, text in literals():
        for match in COMMAND.finditer(text):
            words = [w for w in (match.group(1) or match.group(2)).split() if not w.startswith("-")]
            named.append((file, line, words))
    assert len(named) > 10, "the scan found too few commands to be looking at the right thing"
    wrong = [f"{file}:{line}: gpu {' '.join(words)}" for file, line, words in named if not _exists(words)]
    assert not wrong, "messages tell users to run commands gpu does not have:\n" + "\n".join(wrong)


@pytest.mark.parametrize("gpu", ["zzzzqqq", "NVIDIA Foo 9000 Ultra"])
def test_an_unknown_gpu_in_a_policy_gets_a_fix_that_works(tmp_path, gpu):
    """The hint used to say `list GPU type ids: gpu serverless list-gpus`, a command gpu lacks."""
    (tmp_path / "gpu.jsonc").write_text('{"project_id": "p", "serverless": {"template": "comfyui", "gpu_type": "NVIDIA L4"},\n'
                                        f' "policy": {{"allowed_gpu_types": ["{gpu}"]}}}}\n')
    result = run_cli(["config", "validate"], tmp_path)
    assert result.code == 1 and "list-gpus" not in result.err, result.err
    assert f'gpu.jsonc:2:35: policy.allowed_gpu_types[0]: unknown GPU type "{gpu}"\n  hint: ' in result.err, result.err
    assert "docs/catalog.md in the gpuctl repository" in result.err or "did you mean" in result.err


def test_catalog_hints_say_the_fix_without_the_docs(tmp_path):
    """A GPU type with no serverless pool, an unknown GPU and data center: each hint names a
    value to use, and the catalog page only as where to read more."""
    (tmp_path / "gpu.jsonc").write_text('{"project_id": "p", "serverless": {"template": "comfyui", "gpu_type": "Tesla V100-PCIE-16GB",\n'
                                        ' "gpu_types": ["qqqqzzzz"], "runpod": {"data_center_ids": ["ZZ-QQ-9"]}}}\n')
    result = run_cli(["config", "validate"], tmp_path)
    hints = [line for line in result.err.splitlines() if line.startswith("  hint: ")]
    assert len(hints) == 3, result.err
    for hint in hints:
        assert re.search(r'e\.g\. "[^"]+"', hint) and hint.endswith("docs/catalog.md in the gpuctl repository)"), hint


def test_a_note_that_names_a_page_says_where_that_page_is():
    """A render function whose plan-document argument is called `doc` once shadowed the helper,
    so the history footer would have ended in `TypeError: 'dict' object is not callable`."""
    from gpuctl.render.history import history_footer

    [line] = history_footer({"last_applied_at": None})
    assert line.endswith("(docs/history.md in the gpuctl repository)"), line


def _bare_doc_paths(text: str) -> list[str]:
    """The doc paths in `text` (white space folded, as help wraps it) not written as doc_ref writes them."""
    text = " ".join(text.split())
    return [m.group() for m in DOC_PATH.finditer(text) if not text[m.start():].startswith(doc_ref(m.group()[len("docs/"):]))]


def test_help_and_the_config_schema_name_doc_pages_through_the_helper():
    """The literal scan passes docstrings over, but click makes a command's docstring its
    --help and pydantic makes a model's docstring its description in `gpu config schema`
    (which editors show on hover): `gpu doctor --help`, `gpu github --help` and the schema's
    policy block said a bare docs/conformance.md, docs/github.md and docs/policy.md."""
    import json

    from gpuctl.config.jsonschema import config_schema
    from tests.support.cli_reference import render

    assert _bare_doc_paths("see docs/x.md, and docs/y.md in the gpuctl repository") == ["docs/x.md"]
    bare = _bare_doc_paths(render()) + _bare_doc_paths(json.dumps(config_schema()).replace("\\n", " "))
    assert not bare, "write these through gpuctl.errors.doc_ref (a click command's help=, a model's json_schema_extra):\n" + "\n".join(bare)

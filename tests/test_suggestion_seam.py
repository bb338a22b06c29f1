"""Every command gpuctl suggests is written by `gpuctl.commands.suggest` (review 5, R5-3 and
R5-6): a hand-written `gpu serverless deploy --plan` in a hint, run as printed by someone whose
run said `--config services/asr/gpu.jsonc`, plans ./gpu.jsonc, another project; a name pasted
into it unquoted is a shell command. So no string literal of the client side spells one.

The rule, read from the source (ast, no imports): a string literal (each constant part of an
f-string, its values standing as `{}`) in gpuctl/ may not hold `gpu` followed by one of gpu's
commands that act on a project, an account or the local provider (`serverless`, `local`,
`github`, `doctor`, `config`; not `auth`, whose commands take no argument and neither option)
and a space, a backtick, a parenthesis or the end, except
- in gpuctl/commands.py, the one writer;
- in docs-only text: a docstring (the first statement of a module, class or function, which
  `--help` and the reader see, never a person's terminal as advice), the `help=` of a click
  option or argument, the `description=` of a gpu.jsonc schema field, and a comment (not a
  literal);
- in gpuctl/local/, the second program, which shares no code with the client side (ADR 14)
  and whose hints name `gpu local` commands, which take neither --config nor --provider;
- in a label that names the command running, not one to run: the LABELS below, each with why.
"""

from __future__ import annotations

import ast
import functools
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "gpuctl"
COMMANDS = ("serverless", "local", "github", "doctor", "config")  # gpu's commands but auth: test_the_rule_knows_every_command_of_gpu
COMMAND = re.compile(rf"(?<![\w./-])gpu ({'|'.join(COMMANDS)})(?= |$|`|\))")
EXEMPT_DIRS = ("local",)

# (file, the literal as the rule reads it) -> why it names the running command rather than suggesting one
LABELS = {
    ("engine/flow.py", "gpu serverless deploy"): "DeployRequest.command: how the account lease names its holder",
    ("cli/history_cmd.py", "gpu serverless rollback"): "the lease holder's command (account_lease)",
    ("cli/deleting.py", "gpu serverless delete"): "the lease holder's command (account_lease)",
    ("cli/pull_cmd.py", "gpu serverless pull"): "`by=`: who rewrote gpu.jsonc, in save's message",
    ("cli/import_cmd.py", "gpu serverless import"): "`by=`: who rewrote gpu.jsonc, in save's message",
    ("cli/inspect_cmd.py", "gpu serverless list"): "the recording's label (start_recording)",
    ("cli/inspect_cmd.py", "gpu serverless status"): "the recording's label (start_recording)",
    ("cli/serverless.py", "gpu serverless deploy --plan"): "the recording's label (start_recording)",
    ("cli/serverless.py", "gpu serverless snapshot"): "the recording's label (start_recording)",
    ("cli/doctor_cmd.py", "gpu doctor"): "the recording's label (start_recording)",
    ("cli/doctor_cmd.py", "gpu doctor: provider {}"): "the report's heading",
    ("cli/usage.py", "gpu serverless"): "a command path in the table of mistyped commands",
    ("render/drift.py", "rolled back by gpuctl (`gpu serverless rollback` to the configuration of version {}{}), not changed by someone "
                        "in the account: {}, or {}"): "says what made the change (a rollback already done)",
    ("render/drift.py", "rolled back by gpuctl (`gpu serverless rollback` to the configuration of version {}{}), or changed in the account since "
                        "(the last-applied record keeps no digest of a value that may be a secret): keep it by declaring it in runpod.env "
                        "(as `{\"secret\": NAME}`, `${VAR}`, or a literal if it is no secret), or apply gpu.jsonc's value with {}"):
        "says what may have made the change (a rollback already done)",
    ("cli/planning.py", "remove the `provider` key from gpu.jsonc, so the job uses RunPod with the workflow's api-key; if the job is really meant to "
                        "use the local provider, set the workflow's `provider` input to `local` (`gpu github ... --provider local`, or GPU_PROVIDER=local)"):
        "names the workflow's jobs (`gpu github ...`), which a workflow runs, not a person",
    ("cli/planning.py", 'is "local", and in a `gpu github` job the workflow chooses the account, not gpu.jsonc: a pull request could add this key, and '
                        "its plan and its apply on merge would go to an empty local provider, every check green, while RunPod is left untouched"):
        "names the workflow's jobs",
}


def _docs_only(tree: ast.AST) -> set[int]:
    """The ids of the docstrings and `help=` values under `tree`."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
                out.add(id(first.value))
        if isinstance(node, ast.keyword) and node.arg in ("help", "description"):  # click's help, a JSON schema's description
            out |= {id(n) for n in ast.walk(node.value)}
    return out


def _literals(tree: ast.AST):
    """(line, text) of every string literal under `tree` but docs-only text; an f-string as
    one text, its values as `{}`."""
    skip = _docs_only(tree)
    inner = {id(v) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr) for v in ast.walk(node) if v is not node}
    for node in ast.walk(tree):
        if id(node) in skip or id(node) in inner:
            continue
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.lineno, node.value
        elif isinstance(node, ast.JoinedStr):
            yield node.lineno, "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)


@functools.cache
def _trees() -> dict[str, ast.Module]:
    return {path.relative_to(PACKAGE).as_posix(): ast.parse(path.read_text(), str(path)) for path in sorted(PACKAGE.rglob("*.py"))}


def offences() -> list[str]:
    found = []
    for rel, tree in _trees().items():
        if rel == "commands.py" or rel.split("/")[0] in EXEMPT_DIRS:
            continue
        for line, text in _literals(tree):
            if COMMAND.search(text) and (rel, text) not in LABELS:
                found.append(f"gpuctl/{rel}:{line}: {text[:120]!r}")
    return found


def test_no_literal_of_the_client_side_spells_a_command_to_run():
    found = offences()
    assert not found, ("write each suggested command with gpuctl.commands.suggest and the run's Flags, "
                       "or, for the name of the command running, add a LABELS entry saying why:\n" + "\n".join(found))


def test_every_label_is_still_there():
    """A label whose literal is gone is a stale exemption that could hide a new hint."""
    seen = {(rel, text) for rel, tree in _trees().items() for _, text in _literals(tree)}
    assert not set(LABELS) - seen, set(LABELS) - seen


def test_the_rule_knows_every_command_of_gpu():
    import click

    from gpuctl.cli import cli

    names = set(cli.list_commands(click.Context(cli)))
    assert names - {"auth"} == set(COMMANDS), sorted(names)


def test_the_rule_finds_a_hint_and_spares_docs_and_labels():
    source = '''"""`gpu serverless deploy` in a docstring."""
import click
HINT = "run `gpu serverless deploy --plan`"
F = f"check it with: gpu serverless job status {ref} {job}"
@click.option("--x", help="as `gpu serverless drift` says")
def f():
    """`gpu local up`"""
    return "gpu.jsonc and gpu serverless."
'''
    said = [text for _, text in _literals(ast.parse(source)) if COMMAND.search(text)]
    assert said == ["run `gpu serverless deploy --plan`", "check it with: gpu serverless job status {} {}"]


# A suggestion of a command that takes --config and --provider (`gpuctl.commands`) is made with
# the run's Flags (`flags=`), which each layer is given: the deploy flow's DeployRequest.flags
# (Engine, HealthGate, plan()), a day-2 command's resolve.Target.flags, the provider client's
# Who.flags, doctor's Probe.flags and PlanInput.flags, a warm-up's WarmIO.flags. Where none
# reaches yet, the call is listed here: (file, the suggestion's leading words) -> why.
NO_RUN_YET = {
    ("provider/http.py", "serverless list"): "an id's shape is checked (check_id) before a request, where no run reaches: it says where ids are shown",
    ("provider/http.py", "serverless invoke"): "as above: names the command whose output held the id",
    ("provider/http.py", "serverless status NAME"): "as above",
    ("provider/http.py", "serverless snapshot"): "as above",
    ("cli/drift_cmd.py", "serverless snapshot --out FILE"): "--observed's file type is made when the command is defined, before any option is read",
    ("cli/serverless.py", "serverless snapshot --out FILE"): "as above",
    ("config/explain.py", "serverless list"): "the table of what a gpu.jsonc key takes, made once: says where an endpoint id is shown",
    ("cli/usage.py", "config validate"): "a mistyped command's advice (`gpu init`): no command ran, and the gpu.jsonc to write is ./gpu.jsonc",
}
TAKES_RUN = ("serverless", "github", "doctor", "config validate")  # the commands (leading words) that take --config or --provider


def _unflagged() -> set[tuple[str, str, int]]:
    """(file, leading words, line) of every suggest() call of a command that takes the run's
    options, made without `flags=`."""
    found = set()
    for rel, tree in _trees().items():
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and getattr(node.func, "id", None) == "suggest" and node.args):
                continue
            words = []
            for arg in node.args:
                if not (isinstance(arg, ast.Constant) and isinstance(arg.value, str)):
                    break
                words.append(arg.value)
            if any(" ".join(words).startswith(c) for c in TAKES_RUN) and not any(k.arg == "flags" for k in node.keywords):
                found.add((rel, " ".join(words), node.lineno))
    return found


def test_a_suggestion_of_a_command_that_takes_the_run_s_options_is_given_them():
    left = sorted(f"gpuctl/{rel}:{line}: suggest({words!r}, ...)" for rel, words, line in _unflagged() if (rel, words) not in NO_RUN_YET)
    assert not left, "pass the run's Flags (flags=...) or list the call in NO_RUN_YET saying why:\n" + "\n".join(left)


def test_every_exemption_is_still_needed():
    assert not set(NO_RUN_YET) - {(rel, words) for rel, words, _ in _unflagged()}

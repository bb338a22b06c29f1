"""A command of gpuctl/cli/ that changes the account with a request of its own (not through the
engine's apply) sends it through `gpuctl.interrupts.writing`: inside a `with write.step():`
block, where an interrupt waits for the request in flight and the command says what came of
it (deleted, not deleted, unknown and how to find out). `template delete` sent its DELETE
outside it and ended a Ctrl-C with a bare `interrupted` while the template was deleted anyway
(tests/e2e/test_interrupt_template_delete.py).

The rule, read from the source (ast, no imports): in gpuctl/cli/, a call of a provider method
that changes the account (CHANGING) is inside a `with ....step():` block, or in a function of
the same module that is only ever called (directly or through such functions) from inside
one; and no provider method is looked up by name (getattr), which the rule could not read.
The exceptions below say why each is one."""

from __future__ import annotations

import ast
from pathlib import Path

CLI = Path(__file__).resolve().parents[1] / "gpuctl" / "cli"
CHANGING = {"create_endpoint", "update_endpoint", "delete_endpoint", "set_model_references", "create_volume", "update_volume",
            "create_template", "update_template", "delete_template", "create_pod", "delete_pod", "run", "runsync", "cancel", "retry", "openai"}

# (file, function, method) -> why it is not one write whose outcome a command reports
EXCEPTIONS = {
    ("invoke_cmd.py", "run", "runsync"): "invoke submits a job, not a change of the account's configuration; an interrupt says the job's id to cancel",
}
# (file, function) -> why a provider method is looked up by name there
BY_NAME: dict[tuple[str, str], str] = {}


def _in_step(node: ast.AST, parents: dict) -> bool:
    while node in parents:
        node = parents[node]
        if isinstance(node, ast.With) and any(isinstance(i.context_expr, ast.Call) and isinstance(i.context_expr.func, ast.Attribute)
                                              and i.context_expr.func.attr == "step" for i in node.items):
            return True
    return False


def _function(node: ast.AST, parents: dict) -> str | None:
    """The name of the module-level function `node` is in."""
    name = None
    while node in parents:
        node = parents[node]
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            name = node.name
    return name


def _guarded(tree: ast.Module, parents: dict, call: ast.AST, seen: frozenset = frozenset()) -> bool:
    if _in_step(call, parents):
        return True
    name = _function(call, parents)
    if name is None or name in seen:
        return False
    callers = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id == name]
    return bool(callers) and all(_guarded(tree, parents, c, seen | {name}) for c in callers)


def _findings(source: str, file: str) -> tuple[list[tuple], list[tuple]]:
    tree = ast.parse(source)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    bare, by_name = [], []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in CHANGING and "provider" in ast.unparse(func.value) \
                and not _guarded(tree, parents, node):
            bare.append((file, _function(node, parents), func.attr, node.lineno))
        if isinstance(func, ast.Name) and func.id == "getattr" and node.args and "provider" in ast.unparse(node.args[0]):
            by_name.append((file, _function(node, parents), node.lineno))
    return bare, by_name


def test_every_write_of_a_cli_command_goes_through_writing():
    bare, by_name = [], []
    for path in sorted(CLI.glob("*.py")):
        found = _findings(path.read_text(encoding="utf-8"), path.name)
        bare += [f for f in found[0] if f[:3] not in EXCEPTIONS]
        by_name += [f for f in found[1] if f[:2] not in BY_NAME]
    assert bare == [], f"provider writes outside `with write.step():` (gpuctl.interrupts.writing): {bare}"
    assert by_name == [], f"provider methods looked up by name, which this rule cannot read: {by_name}"


def test_the_rule_sees_a_bare_write_and_one_reached_only_from_a_step():
    source = '''
def bare(target):
    target.provider.delete_template("t")

def helper(target):
    return target.provider.delete_endpoint("e")

def good(target, write):
    with write.step():
        write.send(lambda: helper(target))
        target.provider.delete_template("r")

def leaky(target):
    helper(target)
    getattr(target.provider, "cancel")("e", "j")
'''
    bare, by_name = _findings(source, "x.py")
    assert [(f, m) for _, f, m, _ in bare] == [("bare", "delete_template"), ("helper", "delete_endpoint")], bare  # helper: leaky calls it bare
    assert [f for _, f, _ in by_name] == ["leaky"], by_name


def test_every_exception_is_still_there():
    found = {f[:3] for path in CLI.glob("*.py") for f in _findings(path.read_text(encoding="utf-8"), path.name)[0]}
    named = {f[:2] for path in CLI.glob("*.py") for f in _findings(path.read_text(encoding="utf-8"), path.name)[1]}
    assert set(EXCEPTIONS) <= found and set(BY_NAME) <= named, (found, named)

"""The quick read of a `serverless` block (`gpuctl.config.shape`) agrees with the pydantic models
it stands in for (`gpuctl.config.schema`, docs/adr/0012-config-quick-path.md).

The rule: whatever the quick checks accept, pydantic accepts, and both give equal values; what
they decline goes to pydantic. The bounds, lengths, patterns and choices are read from the
models' JSON Schema, so a bound changed in one place and not the other fails here, and every
value on and around each bound is tried at every key path of a block.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from gpuctl.config.schema import ServerlessBlock
from gpuctl.config.shape import from_model, read_block
from tests.conftest import FIXTURES, ROOT, run_cli
from tests.support.strategies import blocks, names

SCHEMA = ServerlessBlock.model_json_schema()
BASE = {"template": "comfyui", "gpu_type": "NVIDIA L4", "volume": {"name": "models"}, "local": {"command": ["python", "h.py"]},
        "runpod": {"env": {"A": "b", "S": {"secret": "s"}}}}
ODD = [None, True, False, 0, -1, 1, 2.0, 2.5, "", "x", " x", "x ", "x\n", "a\u00a0", "\x1b[31m", "é", "\ud800", "\x85", "\u2028",
       [], ["x"], [""], [1], {}, {"secret": "s"}, {"name": "v"}, {"command": "run"}, {"x": 1}]


def _resolve(schema: dict) -> dict:
    ref = schema.get("$ref")
    return {**SCHEMA["$defs"][ref.split("/")[-1]], **{k: v for k, v in schema.items() if k != "$ref"}} if ref else schema


def _branches(schema: dict) -> list[dict]:
    schema = _resolve(schema)
    return [_resolve(b) for b in schema.get("anyOf", [schema])]


def _leaves(schema: dict, path: tuple = ()):
    """(key path, schema) for every key a block may hold, objects included."""
    for name, prop in _resolve(schema).get("properties", {}).items():
        yield path + (name,), prop
        for branch in _branches(prop):
            if "properties" in branch:
                yield from _leaves(branch, path + (name,))


def _near(branch: dict) -> list[Any]:
    """Values on and just past each bound the schema states."""
    out: list[Any] = []
    for low, high in (("minimum", "maximum"), ("minLength", "maxLength"), ("minItems", "maxItems")):
        for key, step in ((low, -1), (low, 0), (high, 0), (high, 1)):
            if key in branch:
                n = branch[key] + step
                out += [n, float(n)] if key in ("minimum", "maximum") else [["x"] * n if "Items" in key else "a" * max(n, 0), "é" * max(n, 0)]
    out += list(branch.get("enum", [])) + [str(v).upper() for v in branch.get("enum", []) if isinstance(v, str)]
    if "const" in branch:
        out += [branch["const"], not branch["const"], 0]
    if "pattern" in branch:
        out += ["org/model", "org/model:rev", "8000/http", "99999/tcp", "/runpod-volume", "/x\n", "a-b_c.d", "A_1", "1A"]
    return out


def _set(block: dict, path: tuple, value: Any) -> dict:
    out = copy.deepcopy(block)
    node = out
    for key in path[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {"name": "v"} if key == "volume" else {"command": ["run"]} if key == "local" else {}
        node = node[key]
    node[path[-1]] = value
    return out


def _pydantic(raw: Any):
    try:
        return from_model(ServerlessBlock.model_validate(raw))
    except ValidationError:
        return None


def _agree(raw: Any) -> bool:
    """Checks the rule for `raw`; True when the quick read accepted it."""
    quick, judged = read_block(raw), _pydantic(raw)
    assert quick is None or quick == judged, f"the quick read accepts what pydantic {'refuses' if judged is None else 'reads differently'}: {raw!r}"
    return quick is not None


def _cases() -> list[tuple[tuple, Any]]:
    cases = []
    for path, prop in _leaves(SCHEMA):
        values = ODD + [v for b in _branches(prop) for v in _near(b)]
        cases += [(path, v) for v in values]
        if path[-1] == "env":
            cases += [(path, {k: "v"}) for k in ("A", "_a1", "1A", "A-B", "a b", "É", "")] + [(path, {"K": v}) for v in ODD]
    return cases


def _left_to_pydantic(path: tuple, value: Any) -> bool:
    """What the quick read declines although pydantic takes it, on purpose: a lone surrogate
    (rare, and pydantic-core's regex engine sees such strings its own way), and `"volume": 0`,
    which pydantic's `Literal[False]` lets through as if it were false."""
    text = json.dumps(value)
    return "\\ud8" in text or (path == ("volume",) and value == 0 and value is not False)


def test_every_bound_and_type_agrees_with_pydantic():
    declined = []
    for path, value in _cases():
        raw = _set(BASE, path, value)
        if not _agree(raw) and _pydantic(raw) is not None:
            declined.append((path, value))
    assert [d for d in declined if not _left_to_pydantic(*d)] == []  # every other valid value takes the quick read


@pytest.mark.parametrize("path", sorted(FIXTURES.glob("plans/*/gpu.jsonc")) + [ROOT / "examples" / "comfyui-flux" / "gpu.jsonc"], ids=lambda p: p.parent.name)
def test_every_example_block_takes_the_quick_read(path):
    import pyjson5

    doc = pyjson5.decode(path.read_text())
    for block in doc["serverless"] if isinstance(doc["serverless"], list) else [doc["serverless"]]:
        assert _agree(block), block


def test_defaults_are_pydantics():
    assert read_block({}) == _pydantic({})
    assert read_block({"scaling": {}, "runpod": {}, "prewarm": {}}) == _pydantic({"scaling": {}, "runpod": {}, "prewarm": {}})


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names.flatmap(blocks))
def test_generated_valid_blocks_take_the_quick_read(block):
    assert _agree(block)


json_values = st.recursive(st.none() | st.booleans() | st.integers(-10, 5000) | st.floats() | st.text(max_size=8),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=6)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names.flatmap(blocks), st.data())
def test_a_random_value_anywhere_never_slips_through(block, data):
    paths = [p for p, _ in _leaves(SCHEMA)]
    path = data.draw(st.sampled_from(paths))
    _agree(_set(block, path, data.draw(json_values)))


def test_a_valid_plan_never_imports_pydantic_rich_or_httpx(tmp_path):
    """What keeps `deploy --plan --json` against a snapshot near the import floor (issue 11):
    a valid gpu.jsonc and snapshot are read without pydantic, and JSON output needs no rich."""
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "p", "serverless": [BASE, {**BASE, "name": "two"}]}))
    snapshot = FIXTURES / "plans" / "product-full-nochange" / "observed.json"
    code = ("import sys; from gpuctl.cli import main; from gpuctl.cli.context import AppContext; import io\n"
            f"main(['serverless', 'deploy', '--plan', '--json', '--observed', {str(snapshot)!r}, '--provider', 'runpod'], AppContext(stdout=io.StringIO()))\n"
            "print(sorted(m for m in ('pydantic', 'rich', 'httpx') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_an_invalid_block_is_still_explained_by_pydantic(tmp_path):
    (tmp_path / "gpu.jsonc").write_text('{"serverless": {"template": "comfyui", "gpu_type": "NVIDIA L4", "scaling": {"max_workers": "3"}}}')
    result = run_cli(["config", "validate"], tmp_path)
    assert result.code == 1
    assert "serverless.scaling.max_workers: expected an integer, got \"3\"" in result.err and "remove the quotes: 3" in result.err


@pytest.mark.parametrize("written, says", [("1e9", "write a whole number from 0 to 1000"), ("3.0", "write it as a whole number: 3")])
def test_a_whole_number_written_as_a_float_gets_a_hint_that_leads_to_a_valid_file(tmp_path, written, says):
    """Review 3, L1: `"max_workers": 1e9` was told `write it as a whole number: 1000000000`,
    and following the hint gave the next error, `must be ≤ 1000`. The rewrite is offered only
    when the whole number is in range; else the range is the hint."""
    (tmp_path / "gpu.jsonc").write_text('{"serverless": {"template": "comfyui", "gpu_type": "NVIDIA L4", "scaling": {"max_workers": %s}}}' % written)
    result = run_cli(["config", "validate"], tmp_path)
    assert result.code == 1 and f"hint: {says}" in result.err, result.err

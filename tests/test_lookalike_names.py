"""A pull request can add an endpoint or volume whose name looks like another's: `аpi` with a
Cyrillic `а` beside the account's `api`. The plan warns of a name that mixes scripts, or that
looks like another name in the plan or the account, in the text, Markdown and JSON plans."""

from __future__ import annotations

import json


PLAN = ["serverless", "deploy", "--plan", "--observed", "observed.json", "--provider", "runpod"]
CYRILLIC_API = "\u0430pi"  # а (U+0430) p i


def _block(name: str, **more) -> dict:
    return {"name": name, "template": "whisper", "gpu_type": "NVIDIA L4", **more}


def _plan(cli, tmp_path, blocks: list[dict], observed: dict | None = None) -> tuple[dict, str, str]:
    (tmp_path / "gpu.jsonc").write_text(json.dumps({"project_id": "p", "serverless": blocks}))
    (tmp_path / "observed.json").write_text(json.dumps({"provider": "runpod", **(observed or {})}))
    runs = [cli([*PLAN, "--format", fmt], tmp_path) for fmt in ("json", "text", "markdown")]
    assert all(r.code == 0 for r in runs), [r.err for r in runs]
    return json.loads(runs[0].out), runs[1].out, runs[2].out


def _warned(doc: dict, code: str) -> list[dict]:
    return [w for w in doc["warnings"] if w["code"] == code]


def test_a_name_that_looks_like_an_account_endpoint_s_is_warned_of_in_every_format(cli, tmp_path):
    observed = {"endpoints": [{"id": "ep1", "name": "api", "env": {}, "gpu": {"pools": ["ADA_24"]}, "workers": {"min": 0, "max": 1}}]}
    doc, text, markdown = _plan(cli, tmp_path, [_block(CYRILLIC_API)], observed)
    (mixed,) = _warned(doc, "mixed-script-name")
    (confusable,) = _warned(doc, "confusable-name")
    assert mixed["address"] == confusable["address"] == f"endpoint.{CYRILLIC_API}"
    assert "Cyrillic" in mixed["message"] and "Latin" in mixed["message"] and "U+0430" in mixed["message"]
    assert 'endpoint "api" in the account' in confusable["message"], confusable["message"]
    for view in (text, markdown):
        assert "U+0430" in view and "looks like" in view and "mixes scripts" in view, view


def test_two_blocks_whose_names_look_alike_are_both_warned_of(cli, tmp_path):
    doc, _, _ = _plan(cli, tmp_path, [_block("api"), _block(CYRILLIC_API), _block("m\u043edels", volume={"name": "models"})])
    assert {w["address"] for w in _warned(doc, "confusable-name")} == {"endpoint.api", f"endpoint.{CYRILLIC_API}"}
    assert {w["address"] for w in _warned(doc, "mixed-script-name")} == {f"endpoint.{CYRILLIC_API}", "endpoint.m\u043edels"}


def test_names_in_one_script_or_differing_in_case_are_not_warned_of(cli, tmp_path):
    doc, _, _ = _plan(cli, tmp_path, [_block("api"), _block("API"), _block("\u043f\u0440\u043e\u043a\u0441\u0438"), _block("\u97f3\u58f0-\u30c6\u30b9\u30c8-2")])
    assert not _warned(doc, "mixed-script-name") and not _warned(doc, "confusable-name"), doc["warnings"]

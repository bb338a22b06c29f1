"""Every JSON text gpuctl writes has RFC 8259's numbers (gpuctl.jsontext, review 9 R9-1): a
non-finite float is null in `--json` output and in the plan document; and the views count a
whole float (2.0) as the planner compares it, as 2 (R9-2)."""

from __future__ import annotations

import json

import pytest

from gpuctl import v2
from gpuctl.cli.output import json_text
from gpuctl.files import read_json
from gpuctl.jsontext import NonFinite, dumps, loads
from gpuctl.render.document import dumps as document_dumps

NAN, INF = float("nan"), float("inf")


def test_json_text_writes_a_non_finite_number_as_null() -> None:
    assert json.loads(json_text({"output": {"loss": NAN, "top": [INF, -INF, 1.5]}}, indent=None)) == {"output": {"loss": None, "top": [None, None, 1.5]}}
    assert "NaN" not in json_text([NAN]) and "Infinity" not in json_text((INF,))


def test_the_plan_documents_encoder_writes_a_non_finite_number_as_null() -> None:
    text = document_dumps({"format_version": "1", "resources": [{"address": "a", "after": {"x": NAN, "y": [INF]}}]})
    assert "NaN" not in text and "Infinity" not in text
    assert json.loads(text)["resources"][0]["after"] == {"x": None, "y": [None]}


def test_dumps_leaves_other_errors_alone() -> None:
    loop: list = []
    loop.append(loop)
    with pytest.raises(ValueError, match="Circular"):
        dumps(loop)


@pytest.mark.parametrize("text", ["NaN", "[Infinity]", '{"a": -Infinity}', "1e999", "-1e400"])
def test_loads_refuses_what_json_has_no_number_for(text: str) -> None:
    with pytest.raises(NonFinite, match="which JSON does not have"):
        loads(text)


def test_the_views_count_a_whole_float_as_the_planner_compares_it() -> None:
    assert v2.worker_bounds({"min": 0.0, "max": 2.0}) == (0, 2)
    assert v2.worker_bounds({"min": 0, "max": 2.5}) == (0, None)
    assert v2.worker_bounds({"min": True, "max": "2"}) == (None, None)
    assert v2.gpu_count({"gpu": {"count": 2.0}}) == 2


def test_every_json_file_reader_reads_past_a_utf8_bom(tmp_path) -> None:
    (tmp_path / "x.json").write_bytes(b'\xef\xbb\xbf{"a": 1}')
    assert read_json(tmp_path / "x.json") == {"a": 1}

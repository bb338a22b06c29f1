"""Key positions are worked out only when something needs them, and the scanner that finds them
reads every token once (issue 11: loading a 1,000-block gpu.jsonc stays cheap)."""

from __future__ import annotations

import json

from gpuctl.catalog import load_catalog
from gpuctl.config import load_config
from gpuctl.config.sourcemap import scan
from tests.conftest import run_cli

BLOCK = {"template": "comfyui", "gpu_type": "NVIDIA L4"}


def test_a_repeated_key_in_plain_json_is_reported(tmp_path):
    """Plain JSON is checked for repeated keys by json's parser, not the scanner; the repeat is
    still reported where it is."""
    (tmp_path / "gpu.jsonc").write_text('{"serverless": {"template": "comfyui",\n "gpu_type": "NVIDIA L4",\n "gpu_type": "NVIDIA L4"}}')
    result = run_cli(["config", "validate"], tmp_path)
    assert result.code == 1
    assert "gpu.jsonc:3:2: serverless.gpu_type: key appears twice (first at line 2)" in result.err


def test_a_repeated_key_escaped_differently_is_a_repeat(tmp_path):
    (tmp_path / "gpu.jsonc").write_text('{"serverless": {"template": "comfyui", "gpu_type": "NVIDIA L4",\n "gpu_\\u0074ype": "NVIDIA L4"}}')
    result = run_cli(["config", "validate"], tmp_path)
    assert result.code == 1 and "serverless.gpu_type: key appears twice" in result.err


def test_a_valid_plain_json_config_is_never_scanned(tmp_path):
    """Its positions are never asked for; JSONC is scanned, for repeated keys only."""
    scanned = {}
    for name, text in (("plain", json.dumps({"project_id": "p", "serverless": [BLOCK]})), ("jsonc", '// c\n{"serverless": {"template": "comfyui", "gpu_type": "NVIDIA L4",},}')):
        (tmp_path / "gpu.jsonc").write_text(text)
        scanned[name] = "sourcemap" in vars(load_config(tmp_path / "gpu.jsonc", catalog=load_catalog()).source)
    assert scanned == {"plain": False, "jsonc": True}


def test_comments_after_the_last_value_are_not_tokens():
    """The scanner reads a comment as a whole even where no token follows it."""
    text = '{"a": 1}/* x */ // y\n  '
    found = scan(text)
    assert found.positions == {("a",): (1, 2)} and found.duplicates == []
    assert (found.spans[()].start, found.spans[()].end) == (0, 8)


def test_positions_of_a_large_file(tmp_path):
    blocks = [{**BLOCK, "name": f"ep-{i}"} for i in range(300)]
    text = json.dumps({"serverless": blocks}, indent=1)
    found = scan(text)
    lines = text.split("\n")
    for i in (0, 150, 299):
        line, col = found.positions[("serverless", i, "name")]
        assert lines[line - 1][col - 1:].startswith('"name"')

"""The gpu.jsonc key (and line) of a planner field, as the drift report names it."""

from __future__ import annotations

from pathlib import Path

from gpuctl.config.loader import load_config
from gpuctl.config.locate import ConfigLocator

TEXT = """{
  // two blocks: keys are found under their list index
  "project_id": "demo",
  "serverless": [
    {"name": "a", "template": "custom-image", "gpu_type": "NVIDIA GeForce RTX 4090",
     "runpod": {"image_name": "ghcr.io/x/a:1"}},
    {
      "name": "b", "template": "custom-image",
      "gpu_type": "NVIDIA GeForce RTX 4090",
      "gpu_types": ["NVIDIA L4"],
      "volume": {"name": "models", "size_gb": 20},
      "runpod": {"image_name": "ghcr.io/x/b:1", "data_center_ids": ["EU-RO-1"], "env": {"MODEL": "m"}}
    }
  ]
}
"""


def locator(tmp_path: Path) -> ConfigLocator:
    path = tmp_path / "gpu.jsonc"
    path.write_text(TEXT)
    return ConfigLocator(load_config(path, display="gpu.jsonc"))


def test_each_field_names_the_key_the_user_edits_and_its_line(tmp_path):
    at = locator(tmp_path)
    assert at("endpoint", "b", "gpu.pools") == [{"key": "serverless[1].gpu_type", "file": "gpu.jsonc", "line": 9},
                                                {"key": "serverless[1].gpu_types", "file": "gpu.jsonc", "line": 10}]
    assert at("endpoint", "b", "env.MODEL") == [{"key": "serverless[1].runpod.env.MODEL", "file": "gpu.jsonc", "line": 12}]
    assert at("endpoint", "a", "image") == [{"key": "serverless[0].runpod.image_name", "file": "gpu.jsonc", "line": 6},
                                            {"key": "serverless[0].template", "file": "gpu.jsonc", "line": 5}]
    assert at("network_volume", "models", "size") == [{"key": "serverless[1].volume.size_gb", "file": "gpu.jsonc", "line": 11}]
    assert at("endpoint", "a", "env.GPUCTL_PROJECT") == [{"key": "project_id", "file": "gpu.jsonc", "line": 3}]


def test_a_default_names_the_key_without_a_line_and_an_unsayable_field_none(tmp_path):
    at = locator(tmp_path)
    assert at("endpoint", "a", "workers.idleTimeout") == [{"key": "serverless[0].scaling.idle_timeout", "file": "gpu.jsonc", "line": None}]
    assert at("endpoint", "a", "type") == []
    assert at("endpoint", "no-such-block", "workers.min") == []


def test_a_key_a_per_run_flag_sets_names_the_flag_and_no_line(tmp_path):
    """`--gpu-type` sets every block's gpu_type for this run: the line gpu.jsonc has for it is
    not where the value comes from. The other candidate keys keep their lines."""
    from gpuctl.model import Override

    path = tmp_path / "gpu.jsonc"
    path.write_text(TEXT)
    at = ConfigLocator(load_config(path, [Override("--gpu-type", "gpu_type", "NVIDIA A40"), Override("--idle-timeout", "scaling.idle_timeout", 9)],
                                   display="gpu.jsonc"))
    assert at("endpoint", "b", "gpu.pools") == [{"key": "serverless[1].gpu_type", "file": "gpu.jsonc", "line": None, "flag": "--gpu-type"},
                                                {"key": "serverless[1].gpu_types", "file": "gpu.jsonc", "line": 10}]
    assert at("endpoint", "a", "workers.idleTimeout") == [{"key": "serverless[0].scaling.idle_timeout", "file": "gpu.jsonc", "line": None,
                                                           "flag": "--idle-timeout"}]
    assert at("network_volume", "models", "size") == [{"key": "serverless[1].volume.size_gb", "file": "gpu.jsonc", "line": 11}]


def test_a_locator_reads_nothing_until_it_is_asked(tmp_path):
    """Building one is free: no block is indexed and gpu.jsonc is not scanned for positions
    until a field is located (a plan in sync never asks)."""
    path = tmp_path / "gpu.jsonc"
    path.write_text('{"project_id": "demo", "serverless": {"template": "custom-image", "gpu_type": "NVIDIA L4", "runpod": {"image_name": "x/y:1"}}}')
    loaded = load_config(path, display="gpu.jsonc")
    at = ConfigLocator(loaded)
    assert not {"endpoints", "volumes", "flags"} & vars(at).keys() and "sourcemap" not in vars(loaded.source)
    assert at("endpoint", "demo", "gpu.pools") == [{"key": "serverless.gpu_type", "file": "gpu.jsonc", "line": 1}]
    assert "sourcemap" in vars(loaded.source)

"""docs/catalog.md and docs/configuration.md must keep up with `state/` and the config models:
a GPU type, data center, pool, template image or config key that the pages do not mention
fails the build."""

from __future__ import annotations

import json
import re
import typing

import pytest
from pydantic import BaseModel

from gpuctl.config.schema import ServerlessBlock
from gpuctl.config.shape import TOP_LEVEL_KEYS
from tests.conftest import ROOT

CATALOG_MD = (ROOT / "docs" / "catalog.md").read_text()
CONFIGURATION_MD = (ROOT / "docs" / "configuration.md").read_text()
GPUS = json.loads((ROOT / "state" / "catalog" / "gpus.json").read_text())
DATA_CENTERS = json.loads((ROOT / "state" / "catalog" / "datacenters.json").read_text())
TEMPLATES = json.loads((ROOT / "state" / "templates.json").read_text())

CODE_SPANS = re.findall(r"`([^`\n]+)`", CONFIGURATION_MD)


def _table_rows(text: str, first_cell: str) -> list[str]:
    """The Markdown table rows whose first cell is `first_cell` (in backticks)."""
    rows = [line for line in text.splitlines() if line.startswith(f"| `{first_cell}` |")]
    assert rows, f"no table row for `{first_cell}`"
    return rows


def _table_row(text: str, first_cell: str) -> str:
    return _table_rows(text, first_cell)[0]


def _models_in(annotation) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation):
        found += _models_in(arg)
    return found


def _is_container(annotation) -> bool:
    """True when a model inside this annotation sits in a list or dict, not directly in a field."""
    origin = typing.get_origin(annotation)
    if origin in (list, dict):
        return True
    return any(_is_container(arg) for arg in typing.get_args(annotation))


def config_keys(model: type[BaseModel] = ServerlessBlock, prefix: str = "", contained: bool = False):
    """(key, dotted path, inside-a-container) for every field of the block and its nested models."""
    for name, field in model.model_fields.items():
        path = f"{prefix}{name}"
        yield name, path, contained
        for inner in _models_in(field.annotation):
            yield from config_keys(inner, f"{path}.", contained or _is_container(field.annotation))


def test_the_walk_reaches_every_nested_model():
    paths = {path for _, path, _ in config_keys()}
    assert {"scaling.idle_timeout", "volume.size_gb", "prewarm.models", "runpod.cached_model", "local.cwd", "runpod.env.secret"} <= paths


@pytest.mark.parametrize("key,path,contained", list(config_keys()), ids=[path for _, path, _ in config_keys()])
def test_every_config_key_is_documented(key, path, contained):
    if contained:
        # A model inside a list or dict (the {"secret": ...} env value) is written as JSON.
        assert any(f'"{key}":' in span for span in CODE_SPANS), f'docs/configuration.md never shows {{"{key}": ...}} ({path})'
    else:
        assert path in CODE_SPANS, f"docs/configuration.md does not document `{path}`"


@pytest.mark.parametrize("key", TOP_LEVEL_KEYS)
def test_every_top_level_key_is_documented(key):
    assert _table_row(CONFIGURATION_MD, key)


@pytest.mark.parametrize("name", sorted(TEMPLATES["templates"]))
def test_every_template_and_pinned_image_is_documented(name):
    image = TEMPLATES["templates"][name]["image"]
    rows = _table_rows(CONFIGURATION_MD, name)
    if image:
        assert any(f"`{image}`" in row for row in rows), f"docs/configuration.md pins another image for {name}; state/templates.json has {image}"


@pytest.mark.parametrize("gpu", GPUS["gpus"], ids=lambda g: g["id"])
def test_every_gpu_type_is_in_the_catalog_page(gpu):
    row = _table_row(CATALOG_MD, gpu["id"])
    pool = f"`{gpu['pool']}`" if gpu["pool"] else "none"
    assert f"| {pool} |" in row, f"docs/catalog.md gives {gpu['id']} another pool than {gpu['pool']}"


@pytest.mark.parametrize("pool", sorted(GPUS["pools"]))
def test_every_pool_is_in_the_catalog_page_with_its_hourly_prices(pool):
    row = _table_row(CATALOG_MD, pool)
    rates = GPUS["pools"][pool]
    for key in ("flexUsdPerSecond", "activeUsdPerSecond"):
        shown = "not published" if rates[key] is None else f"{rates[key] * 3600:.3f}"
        assert f"| {shown} |" in row, f"docs/catalog.md shows a stale {key} for {pool} (expected {shown} $/h)"
    for gpu in GPUS["gpus"]:
        if gpu["pool"] == pool:
            assert gpu["displayName"] in row, f"docs/catalog.md does not list {gpu['displayName']} in {pool}"


@pytest.mark.parametrize("dc", DATA_CENTERS["dataCenters"], ids=lambda d: d["id"])
def test_every_data_center_is_in_the_catalog_page(dc):
    row = _table_row(CATALOG_MD, dc["id"])
    documented = bool(dc["networkVolumeTypes"])
    assert ("documented" in row) == documented, f"docs/catalog.md is wrong about network volumes in {dc['id']}"


def test_the_default_volume_data_center_is_named():
    default = DATA_CENTERS["default_volume_data_center"]
    assert "the default" in _table_row(CATALOG_MD, default)
    assert f"`{default}`" in CONFIGURATION_MD


def _vllm_recipe() -> str:
    """The vLLM recipe of docs/configuration.md, the one the catalog's examples are about."""
    recipes = CONFIGURATION_MD.split("## Recipes", 1)[1]
    return re.search(r"```jsonc\n(.*?)```", recipes, re.S).group(1)


def test_the_catalog_quotes_what_the_vllm_recipe_plans(tmp_path):
    """The catalog quoted a priority warning that had become a note of other words; its cost
    example must be the recipe's plan too. Both are checked against a real plan of the recipe."""
    from tests.conftest import run_cli

    proj = tmp_path / "llm"
    proj.mkdir()
    (proj / "gpu.jsonc").write_text(_vllm_recipe())
    result = run_cli(["serverless", "deploy", "--plan", "--observed", str(ROOT / "examples" / "empty-account.json")], proj)
    assert result.code == 0, result.err
    section = CATALOG_MD.split("## GPU priority order", 1)[1].split("\n## ", 1)[0]
    quoted = re.search(r"```\n(.*?)```", section, re.S).group(1)
    assert quoted.strip() and quoted in result.out, f"docs/catalog.md quotes:\n{quoted}\nthe plan prints:\n{result.out}"
    for line in re.findall(r"`((?:always-on|worst case) \$[^`]+)`", CATALOG_MD.split("## Cost estimate", 1)[1]):
        assert line in " ".join(result.out.split()), f"docs/catalog.md: `{line}` is not what the recipe's plan estimates:\n{result.out}"


def test_every_key_the_configuration_tables_document_exists():
    """The other direction: a key row of the block's tables is a key gpu.jsonc accepts (a key
    documented but rejected is as wrong as one accepted but undocumented)."""
    paths = {path for _, path, _ in config_keys()}
    section = CONFIGURATION_MD.split("## Keys of a `serverless` block", 1)[1].split("## Environment values", 1)[0]
    rows = [key for key in re.findall(r"^\| `([^`]+)` \|", section, re.M) if not key.startswith("NVIDIA ")]
    assert len(rows) > 20, rows
    assert not [key for key in rows if key not in paths], [key for key in rows if key not in paths]
    top = CONFIGURATION_MD.split("### Top-level keys", 1)[1].split("\n### ", 1)[0]
    assert set(re.findall(r"^\| `([^`]+)` \|", top, re.M)) == set(TOP_LEVEL_KEYS)


def test_the_mount_path_warning_says_what_the_configuration_page_says(tmp_path):
    """The warning said "mount_path /data applies to the local provider only", but neither
    provider gets it: the local provider hands workers the volume's directory in
    RUNPOD_VOLUME_PATH, as docs/configuration.md says."""
    from tests.conftest import run_cli

    assert "gpuctl does not currently pass `mount_path` to either provider" in " ".join(CONFIGURATION_MD.split())
    (tmp_path / "gpu.jsonc").write_text('{"project_id": "p", "serverless": {"template": "whisper", "gpu_type": "NVIDIA L4",\n'
                                        ' "volume": {"name": "v", "mount_path": "/data"}}}\n')
    result = run_cli(["config", "validate"], tmp_path)
    assert result.code == 0, result.err
    [warning] = [line for line in result.out.splitlines() if "mount_path" in line]
    assert "local provider only" not in warning and "no effect" in warning and "/runpod-volume" in warning, warning

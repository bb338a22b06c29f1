"""The checked-in JSON Schemas are true: generated ones are fresh, documents validate."""

from __future__ import annotations

import json

import jsonschema
import pyjson5
import pytest

from gpuctl.config.jsonschema import config_schema
from tests.conftest import FIXTURES, ROOT

PLAN_SCHEMA = json.loads((ROOT / "schema" / "plan.schema.json").read_text())
CONFIG_SCHEMA = json.loads((ROOT / "schema" / "gpu.schema.json").read_text())
OPENAPI = json.loads((FIXTURES / "runpod" / "openapi-v2.json").read_text())


def test_config_schema_is_not_stale():
    assert config_schema() == CONFIG_SCHEMA, "schema/gpu.schema.json is stale: run `gpu config schema > schema/gpu.schema.json`"


def test_schemas_are_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(PLAN_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(CONFIG_SCHEMA)


@pytest.mark.parametrize("path", sorted((FIXTURES / "plans").glob("*/expected.json")), ids=lambda p: p.parent.name)
def test_golden_plans_match_plan_schema(path):
    jsonschema.validate(json.loads(path.read_text()), PLAN_SCHEMA)


@pytest.mark.parametrize("path", sorted((FIXTURES / "plans").glob("*/gpu.jsonc")) + [ROOT / "examples" / "comfyui-flux" / "gpu.jsonc"], ids=lambda p: p.parent.name)
def test_valid_configs_match_config_schema(path):
    jsonschema.validate(pyjson5.decode(path.read_text()), CONFIG_SCHEMA)


def test_config_schema_rejects_unknown_serverless_key():
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"serverless": {"gpu_typ": "NVIDIA L4"}}, CONFIG_SCHEMA)


@pytest.mark.parametrize("path", sorted((FIXTURES / "plans").glob("*/observed.json")), ids=lambda p: p.parent.name)
def test_snapshots_are_runpod_v2_objects(path):
    """Snapshot items are exactly what RunPod's v2 list calls return."""
    doc = json.loads(path.read_text())
    for key, schema in (("endpoints", "ListEndpointsResponse"), ("networkVolumes", "ListNetworkVolumesResponse"), ("templates", "ListTemplatesResponse")):
        wrapper = {"$ref": f"#/components/schemas/{schema}", "components": OPENAPI["components"]}
        jsonschema.validate({key: doc[key]}, wrapper)

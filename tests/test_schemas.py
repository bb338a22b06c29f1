"""The checked-in JSON Schemas are true: generated ones are fresh, documents validate."""

from __future__ import annotations

import json

import jsonschema
import pyjson5
import pytest

from gpuctl.catalog import load_catalog
from gpuctl.config.jsonschema import config_schema
from gpuctl.render.drift import build as drift_document
from tests.conftest import FIXTURES, ROOT
from tests.test_drift_document import PLANS as DRIFT_PLANS

PLAN_SCHEMA = json.loads((ROOT / "schema" / "plan.schema.json").read_text())
DRIFT_SCHEMA = json.loads((ROOT / "schema" / "drift.schema.json").read_text())
CONFIG_SCHEMA = json.loads((ROOT / "schema" / "gpu.schema.json").read_text())
OPENAPI = json.loads((FIXTURES.parent / "state" / "runpod" / "openapi-v2.json").read_text())


def test_config_schema_is_not_stale():
    assert config_schema() == CONFIG_SCHEMA, "schema/gpu.schema.json is stale: run `gpu config schema > schema/gpu.schema.json`"


def test_schemas_are_valid_json_schema():
    jsonschema.Draft202012Validator.check_schema(PLAN_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(CONFIG_SCHEMA)
    jsonschema.Draft202012Validator.check_schema(DRIFT_SCHEMA)


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


@pytest.mark.parametrize("name", sorted(DRIFT_PLANS))
def test_drift_documents_match_drift_schema(name):
    """Every drift document the builder makes (one per label and origin) is what the schema says;
    the e2e tests validate the real command's output too (tests/e2e/test_drift_cmd.py)."""
    live = {"ep9": {"id": "ep9", "gpu": {"pools": ["ADA_24"]}, "workers": {"min": 1, "max": 2}}}
    jsonschema.validate(drift_document(DRIFT_PLANS[name], load_catalog(), live), DRIFT_SCHEMA)


def test_a_drift_document_made_before_a_label_was_added_is_still_valid():
    """A new label is a new optional count, never a required one: last night's document, made
    by an older gpuctl, still validates against this schema."""
    doc = drift_document(DRIFT_PLANS["unmanaged"], load_catalog())
    for label in ADDED_IN_VERSION_1:
        del doc["summary"]["labels"][label]
    jsonschema.validate(doc, DRIFT_SCHEMA)


def test_drift_schema_rejects_an_unknown_label():
    doc = drift_document(DRIFT_PLANS["unmanaged"], load_catalog())
    doc["drift"][0]["drift"] = "moved"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, DRIFT_SCHEMA)


# Labels added within format_version 1: the summary always counts them, but a document made
# before one existed has no count of it, and must still be valid (new fields are optional).
ADDED_IN_VERSION_1 = {"duplicate", "renamed-in-account"}


def test_drift_schema_requires_every_label_count_the_summary_always_has():
    """The summary counts every label (render.drift.LABELS), zero or not: a consumer may read
    `summary.labels["larger-in-account"]` without a default. The schema listed it as optional.
    A label added since (ADDED_IN_VERSION_1) is optional, so that older reports stay valid."""
    from gpuctl.render.drift import LABELS

    labels = DRIFT_SCHEMA["properties"]["summary"]["properties"]["labels"]
    assert sorted(labels["required"]) == sorted(set(LABELS) - ADDED_IN_VERSION_1) and sorted(LABELS) == sorted(labels["properties"])
    doc = drift_document(DRIFT_PLANS["unmanaged"], load_catalog())
    assert sorted(doc["summary"]["labels"]) == sorted(LABELS)


def test_the_fields_a_missing_one_of_which_is_not_drift_are_those_runpod_s_openapi_requires():
    """`fields.ALWAYS_SENT`: a field of these absent from an answer is "not reported" (the read
    is not trusted), never drift. One the OpenAPI document leaves optional (image, disk) may be
    left out by a real answer, and listing it would fail every deploy's read-back check."""
    from gpuctl.plan.fields import ALWAYS_SENT

    schemas = OPENAPI["components"]["schemas"]
    endpoint = next(part for part in schemas["Endpoint"]["allOf"] if "required" in part)
    required = set(endpoint["required"])
    required |= {f"workers.{k}" for k in endpoint["properties"]["workers"]["required"]}
    gpu = next(part for part in schemas["EndpointGpuConfig"]["allOf"] if "required" in part)
    required |= {f"gpu.{k}" for k in gpu["required"]}
    required.add(f'scaling.{schemas["EndpointScaling"]["discriminator"]["propertyName"]}')
    assert set(ALWAYS_SENT) <= required, set(ALWAYS_SENT) - required

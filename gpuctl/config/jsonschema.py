"""The JSON Schema of gpu.jsonc, generated from the pydantic models."""

from __future__ import annotations

from gpuctl.config.schema import GpuConfigFile

SCHEMA_ID = "https://gpuctl.dev/schema/v1/gpu.schema.json"


def config_schema() -> dict:
    schema = GpuConfigFile.model_json_schema(by_alias=True)
    schema["title"] = "gpu.jsonc"
    schema["description"] = (
        "gpuctl / GPU CLI project configuration. Keys other than $schema, project_id, provider, "
        "serverless and policy belong to pod workflows and are ignored by gpuctl."
    )
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}

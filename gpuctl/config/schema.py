"""The `gpu.jsonc` models: the `serverless` block, validated strictly.

Structure, types and single-field bounds live here, so `schema/gpu.schema.json` is generated
from exactly what is enforced, and every invalid block is explained from these models
(`gpuctl.config.explain`). A valid block is read without them by `gpuctl.config.shape`, whose
quick checks tests/test_config_shape.py holds to these bounds. Rules that need two fields or
the catalog live in `gpuctl.config.checks`, where they can point at the right key.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from gpuctl.config.shape import ENDPOINT_ID, ENV_NAME, MOUNT_PATH, PORT, PRINTABLE, PRINTABLE_NAME, REPO_ID, SECRET_NAME
from gpuctl.errors import doc_ref

TemplateName = Literal["auto", "comfyui", "vllm", "whisper", "custom-image"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Scaling(_Strict):
    min_workers: Annotated[int, Field(ge=0, le=1000, description="Always-on workers; 0 scales to zero.")] = 0
    max_workers: Annotated[int, Field(ge=0, le=1000, description="Most concurrent workers; ≥ min_workers.")] = 3
    idle_timeout: Annotated[int, Field(ge=1, le=3600, description="Seconds an idle worker waits before stopping.")] = 5


class Volume(_Strict):
    name: Annotated[str, Field(min_length=1, max_length=191, pattern=PRINTABLE_NAME, description="Network volume name; reused by name and data center.")]
    size_gb: Annotated[int | None, Field(ge=10, le=4096, description="Size in GB (RunPod: 10..4096, can only grow). Omit to accept an existing volume's size; new volumes get 50.")] = None
    mount_path: Annotated[str, Field(pattern=MOUNT_PATH, description="Where workers see the volume. RunPod Serverless always uses /runpod-volume.")] = "/runpod-volume"


class Prewarm(_Strict):
    enabled: bool = False
    mode: Literal["cpu", "gpu"] = "cpu"
    models: Annotated[list[Annotated[str, Field(min_length=1)]], Field(description="Hugging Face repo ids to download into the volume.")] = []


class SecretRef(_Strict):
    secret: Annotated[str, Field(pattern=SECRET_NAME, description="Name of a RunPod secret.")]


EnvValue = Annotated[
    str | SecretRef,
    Field(description='A literal, "${VAR}" read from the deploying environment (sensitive), or {"secret": "name"}.'),
]


class RunpodSettings(_Strict):
    flashboot: bool = True
    scaler_type: Literal["queue_delay", "request_count"] = "queue_delay"
    scaler_value: Annotated[int, Field(ge=1, le=3600)] = 4
    execution_timeout_ms: Annotated[int, Field(ge=5_000, le=604_800_000, description="Per-request limit (5 s to 7 days).")] = 600_000
    container_disk_gb: Annotated[int | None, Field(ge=1, le=4096, description="Container disk in GB; default per template.")] = None
    data_center_ids: Annotated[list[Annotated[str, Field(min_length=1)]], Field(description="Allowed data centers; empty means any.")] = []
    data_centers_required: Annotated[bool | None, Field(description="RunPod always restricts placement to data_center_ids; false cannot be expressed.")] = None
    env: Annotated[dict[Annotated[str, Field(pattern=ENV_NAME)], EnvValue], Field(description="Environment variables of the worker.")] = {}
    cached_model: Annotated[str | None, Field(pattern=REPO_ID, description="Hugging Face repo id, optionally :revision.")] = None
    image_name: Annotated[str | None, Field(min_length=1, pattern=PRINTABLE, description="Worker image; required for custom-image.")] = None
    ports: Annotated[list[Annotated[str, Field(pattern=PORT)]] | None, Field(description='Exposed ports, e.g. ["8000/http"].')] = None
    registry_auth: Annotated[str | None, Field(min_length=1, max_length=191, pattern=PRINTABLE_NAME, description="Container registry credential that pulls a private image: its name as RunPod's console shows it (Settings > Container Registry Auth), or its id.")] = None


class LocalSettings(_Strict):
    command: Annotated[
        Annotated[list[Annotated[str, Field(min_length=1)]], Field(min_length=1)] | Annotated[str, Field(min_length=1)],
        Field(description="argv (or a shell-style string) that starts this endpoint's worker under the local provider."),
    ]
    cwd: Annotated[str | None, Field(description="Directory to run the command in, relative to gpu.jsonc.")] = None


class ServerlessBlock(_Strict):
    template: TemplateName = "auto"
    name: Annotated[str | None, Field(min_length=1, max_length=191, pattern=PRINTABLE_NAME, description="Endpoint name; default project_id, else the directory name.")] = None
    gpu_type: Annotated[str | None, Field(min_length=1, description='A RunPod GPU type id, e.g. "NVIDIA GeForce RTX 4090".')] = None
    gpu_types: Annotated[list[Annotated[str, Field(min_length=1)]], Field(description="Fallback GPU type ids, in priority order.")] = []
    scaling: Scaling = Scaling()
    volume: Annotated[Volume | Literal[False] | None, Field(description="A network volume for model storage; false says the endpoint needs none (no volume is created either way unless declared).")] = None
    prewarm: Prewarm = Prewarm()
    runpod: RunpodSettings = RunpodSettings()
    local: LocalSettings | None = None
    adopt: Annotated[str | None, Field(min_length=1, max_length=64, pattern=ENDPOINT_ID, description="Id of an existing endpoint the next deploy adopts (writes this project's marker on it); `gpu serverless import` writes it. Inert once the endpoint is owned.")] = None
    renamed_from: Annotated[str | None, Field(min_length=1, max_length=191, pattern=PRINTABLE_NAME, description="The endpoint's previous name: while this project owns an endpoint of that name and none of this block's name, deploy renames it in place (same id and URL). Inert afterwards.")] = None


POLICY_ABOUT = (f"Rules every plan of this project must keep ({doc_ref('policy.md')}); a rule applies only when its key is given. "
                "The same object, at the top level of its own file, is what `deploy --policy FILE` reads; when both are given each rule "
                "takes the stricter of the two.")


class SharedVolumesRule(_Strict):
    """`forbid_shared_volumes` with exceptions: the shared volumes a plan may still use."""

    except_: Annotated[list[Annotated[str, Field(min_length=1)]], Field(alias="except", description="Names of network volumes (volume.name) that may be shared: an intended one, as a model cache two projects read.")]


class PolicyBlock(_Strict):
    """Rules every plan of this project must keep; the schema's description (POLICY_ABOUT) says so
    to users, naming the doc page through doc_ref."""

    model_config = ConfigDict(json_schema_extra={"description": POLICY_ABOUT})

    schema_: Annotated[str | None, Field(alias="$schema", description="Editor schema hint; ignored.")] = None
    allowed_gpu_types: Annotated[list[Annotated[str, Field(min_length=1)]] | None, Field(description="The only GPU type ids gpu_type and gpu_types may name.")] = None
    allowed_env_vars: Annotated[list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]] | None,
                                Field(description="The only variables a ${VAR} in runpod.env may read (exact names).")] = None
    max_min_workers: Annotated[int | None, Field(ge=0, le=1000, description="Most always-on workers (scaling.min_workers) an endpoint may have.")] = None
    max_max_workers: Annotated[int | None, Field(ge=0, le=1000, description="Most workers (scaling.max_workers) an endpoint may scale to.")] = None
    max_always_on_per_hour: Annotated[float | None, Field(ge=0, description="Most USD per hour the plan's always-on cost estimate may reach.")] = None
    max_worst_case_per_hour: Annotated[float | None, Field(ge=0, description="Most USD per hour the plan's worst-case cost estimate may reach.")] = None
    max_volume_size_gb: Annotated[int | None, Field(ge=0, description="Most GB a plan may create or grow a network volume to (a volume never shrinks).")] = None
    forbid_delete: Annotated[bool, Field(description="No plan may delete an endpoint.")] = False
    forbid_replace: Annotated[bool, Field(description="No plan may replace (delete and re-create) an endpoint.")] = False
    forbid_shared_volumes: Annotated[bool | SharedVolumesRule, Field(description='No plan may use a network volume that endpoints of another project, or unmanaged ones, attach, or pods mount; {"except": [names]} allows those volumes.')] = False
    require_secret_env: Annotated[bool, Field(description='Env keys that look like credentials (*_TOKEN, *_KEY, *PASSWORD*, *SECRET*, ...) and URLs with a password must be {"secret": ...} or "${VAR}".')] = False
    warn_high_entropy_env: Annotated[bool, Field(description="Warn (never fail) on literal env values that look like generated secrets.")] = False


class GpuConfigFile(BaseModel):
    """The whole file. Only used to generate the JSON Schema: keys other than these five belong
    to GPU CLI pod workflows and are accepted and ignored."""

    model_config = ConfigDict(extra="allow", title="gpu.jsonc", populate_by_name=True)

    schema_: Annotated[str | None, Field(alias="$schema")] = None
    project_id: Annotated[str | None, Field(min_length=1, max_length=191, pattern=PRINTABLE_NAME)] = None
    provider: Literal["runpod", "local"] | None = None
    serverless: ServerlessBlock | Annotated[list[ServerlessBlock], Field(min_length=1)]
    policy: PolicyBlock | None = None


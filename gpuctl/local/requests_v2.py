"""RunPod REST v2 request bodies (openapi-v2.json components), as validator rules.

Names follow the OpenAPI components they transcribe, so a reader can check one against the
other: `CREATE_ENDPOINT` is `CreateEndpointRequest`, and so on.
"""

from __future__ import annotations

from gpuctl.local.schema import Arr, Bool, Int, Map, Num, Obj, Str, Tagged

CUDA = Str(pattern=r"^\d+\.\d+$")
ENDPOINT_TYPES = ("QUEUE", "LOAD_BALANCER")
FLASHBOOT = ("OFF", "FLASHBOOT", "PRIORITY_FLASHBOOT")
CATEGORIES = ("CPU", "NVIDIA", "AMD")
VOLUME_TYPES = ("STANDARD", "HIGH_PERFORMANCE")

CONTAINER = {
    "args": Str(),
    "disk": Int(minimum=1),
    "env": Map(Str()),
    "image": Str(),
    "ports": Arr(Str()),
    "registry": Str(nullable=True),
}

WORKERS = Obj({"min": Int(minimum=0), "max": Int(minimum=0), "idleTimeout": Int(minimum=1, maximum=3600)})

SCALING = Tagged("type", {
    "QUEUE_DELAY": Obj({"type": Str(), "queueDelay": Num(minimum=0.5)}, required=("type", "queueDelay")),
    "REQUEST_COUNT": Obj({"type": Str(), "requestCount": Int(minimum=1)}, required=("type", "requestCount")),
})

GPU_BASE = {
    "pools": Arr(Str(), min_items=1),
    "excludedTypes": Arr(Str(pattern=r"^\s*[^-\s]"), unique=True),
    "count": Int(minimum=1),
}

CREATE_GPU = Obj({**GPU_BASE, "allowedCudaVersions": Arr(CUDA), "minCudaVersion": CUDA}, required=("pools",))
UPDATE_GPU = Obj(
    {**GPU_BASE, "allowedCudaVersions": Arr(CUDA), "minCudaVersion": Str(pattern=r"^$|^\d+\.\d+$")},
    needs={"excludedTypes": "pools"},
)
CPU_CONFIG = Obj({"id": Str(min_len=1), "vcpuCount": Int(minimum=2)}, required=("id", "vcpuCount"))

ENDPOINT_FIELDS = {
    **CONTAINER,
    "name": Str(min_len=1),
    "scaling": SCALING,
    "cpu": Arr(CPU_CONFIG, min_items=1, unique=True),
    "dataCenterIds": Arr(Str()),
    "flashboot": Str(enum=FLASHBOOT),
    "networkVolumes": Arr(Str()),
    "timeout": Int(),
    "workers": WORKERS,
}

CREATE_ENDPOINT = Obj(
    {**ENDPOINT_FIELDS, "gpu": CREATE_GPU, "type": Str(enum=ENDPOINT_TYPES), "templateId": Str(min_len=1)},
    required=("name", "type", "scaling"),
    unless={"image": "templateId"},
)
UPDATE_ENDPOINT = Obj({**ENDPOINT_FIELDS, "gpu": UPDATE_GPU, "templateId": Str()})

PERSISTENT_MOUNT = Obj({"size": Int(minimum=10), "path": Str()}, required=("size", "path"))
TEMPLATE_MOUNTS = Obj({"persistent": PERSISTENT_MOUNT})
TEMPLATE_FIELDS = {
    **CONTAINER,
    "name": Str(min_len=1),
    "allowedCudaVersions": Arr(CUDA),
    "category": Str(enum=CATEGORIES),
    "mounts": TEMPLATE_MOUNTS,
    "public": Bool(),
    "serverless": Bool(),
    "startJupyter": Bool(),
    "startSsh": Bool(),
}
CREATE_TEMPLATE = Obj(TEMPLATE_FIELDS, required=("name", "image"))
UPDATE_TEMPLATE = Obj(TEMPLATE_FIELDS)

CREATE_VOLUME = Obj(
    {"dataCenter": Str(min_len=1), "name": Str(min_len=1), "size": Int(minimum=10, maximum=4096), "type": Str(enum=VOLUME_TYPES)},
    required=("name", "size", "dataCenter"),
)
UPDATE_VOLUME = Obj({"name": Str(min_len=1), "size": Int(minimum=10, maximum=4096)}, min_props=1)

NETWORK_MOUNT = Obj({"volumeId": Str(), "path": Str()}, required=("volumeId", "path"))
POD_MOUNTS = Obj({"persistent": PERSISTENT_MOUNT, "network": Arr(NETWORK_MOUNT, max_items=1)})
POD_GPU = Obj({"id": Str(), "count": Int(minimum=1), "allowedCudaVersions": Arr(CUDA), "minCudaVersion": CUDA}, required=("id",))
CREATE_POD = Obj(
    {
        **CONTAINER,
        "name": Str(min_len=1),
        "cloud": Str(enum=("SECURE", "COMMUNITY")),
        "cpu": CPU_CONFIG,
        "dataCenterIds": Arr(Str()),
        "globalNetworking": Bool(),
        "gpu": POD_GPU,
        "mounts": POD_MOUNTS,
        "startJupyter": Bool(),
        "startSsh": Bool(),
        "templateId": Str(min_len=1),
    },
    required=("name",),
    unless={"image": "templateId"},
)

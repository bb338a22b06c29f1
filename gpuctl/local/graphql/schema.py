"""The slice of RunPod's GraphQL schema the local provider serves: the output types with the
fields RunPod's own clients select (api-notes §2.2), the root fields' arguments, and the
input types of the mutations (§2.3). A field or input key outside this slice is a
validation error (HTTP 400), as RunPod answers an unknown one."""

from __future__ import annotations

S = None  # a scalar (or list of scalars) field

ENDPOINT_SCALARS = (
    "id name gpuIds gpuCount idleTimeout locations networkVolumeId scalerType scalerValue templateId type userId "
    "version workersMin workersMax workersStandby workersPFBTarget flashBootType allowedCudaVersions minCudaVersion "
    "executionTimeoutMs instanceIds computeType modelReferences compliance aiKey createdAt activeBuildid idePodId "
    "flashEnvironmentId hubRelease repo"
).split()
TEMPLATE_SCALARS = (
    "id name imageName dockerArgs ports volumeMountPath volumeInGb containerDiskInGb containerRegistryAuthId "
    "startJupyter startSsh startScript isServerless isPublic isRunpod readme advancedStart category boundEndpointId"
).split()
GPU_SCALARS = (
    "id displayName memoryInGb manufacturer maxGpuCount cudaCores secureCloud communityCloud securePrice communityPrice "
    "oneMonthPrice threeMonthPrice oneWeekPrice communitySpotPrice secureSpotPrice"
).split()

TYPES: dict[str, dict[str, str | None]] = {
    "Query": {"myself": "User", "gpuTypes": "GpuType", "podTemplate": "PodTemplate", "podTemplates": "PodTemplate",
              "serverlessGpuPools": "GpuPool", "dataCenters": "DataCenter"},
    "Mutation": {"saveEndpoint": "Endpoint", "deleteEndpoint": S, "saveTemplate": "PodTemplate", "deleteTemplate": S,
                 "updateEndpointTemplate": "Endpoint", "createNetworkVolume": "NetworkVolume",
                 "updateNetworkVolume": "NetworkVolume", "deleteNetworkVolume": S},
    "User": {"id": S, "email": S, "endpoints": "Endpoint", "endpoint": "Endpoint", "podTemplates": "PodTemplate",
             "networkVolumes": "NetworkVolume", "pods": "Pod"},
    "Endpoint": {**dict.fromkeys(ENDPOINT_SCALARS), "env": "EnvironmentVariable", "networkVolume": "NetworkVolumeRef",
                 "networkVolumeIds": "NetworkVolumeIdRef", "pods": "EndpointPod", "template": "PodTemplate"},
    "EnvironmentVariable": {"key": S, "value": S},
    "NetworkVolumeRef": {"id": S, "dataCenterId": S},
    "NetworkVolumeIdRef": {"networkVolumeId": S, "dataCenterId": S},
    "EndpointPod": {"id": S, "desiredStatus": S},
    "Pod": {"id": S, "name": S, "desiredStatus": S},
    "PodTemplate": {**dict.fromkeys(TEMPLATE_SCALARS), "env": "EnvironmentVariable", "portsConfig": "PortConfig"},
    "PortConfig": {"port": S, "name": S},
    "NetworkVolume": {"id": S, "name": S, "size": S, "dataCenterId": S, "dataCenter": "DataCenter"},
    "GpuType": {**dict.fromkeys(GPU_SCALARS), "lowestPrice": "LowestPrice"},
    "LowestPrice": {"minimumBidPrice": S, "uninterruptablePrice": S, "stockStatus": S},
    "GpuPool": {"id": S, "gpuTypeIds": S},
    "DataCenter": {"id": S, "name": S, "location": S, "storageSupport": S, "gpuAvailability": "GpuAvailability"},
    "GpuAvailability": {"gpuTypeId": S, "displayName": S, "stockStatus": S},
}

ARGS: dict[tuple[str, str], dict[str, str]] = {
    ("Mutation", "saveEndpoint"): {"input": "EndpointInput!"},
    ("Mutation", "deleteEndpoint"): {"id": "String!"},
    ("Mutation", "saveTemplate"): {"input": "SaveTemplateInput!"},
    ("Mutation", "deleteTemplate"): {"templateName": "String!"},
    ("Mutation", "updateEndpointTemplate"): {"input": "UpdateEndpointTemplateInput!"},
    ("Mutation", "createNetworkVolume"): {"input": "CreateNetworkVolumeInput!"},
    ("Mutation", "updateNetworkVolume"): {"input": "UpdateNetworkVolumeInput!"},
    ("Mutation", "deleteNetworkVolume"): {"input": "DeleteNetworkVolumeInput!"},
    ("Query", "gpuTypes"): {"input": "GpuTypeFilter"},
    ("Query", "podTemplate"): {"id": "String!"},
    ("Query", "podTemplates"): {"input": "PodTemplateInput"},
    ("User", "endpoint"): {"id": "String!"},
    ("GpuType", "lowestPrice"): {"input": "GpuLowestPriceInput"},
}

ENV_INPUT = "[EnvironmentVariableInput]"
INPUTS: dict[str, dict[str, str]] = {
    "EndpointInput": {
        "id": "String", "name": "String", "templateId": "String", "template": "EndpointTemplateInput", "gpuIds": "String",
        "gpuCount": "Int", "instanceIds": "[String]", "workersMin": "Int", "workersMax": "Int", "idleTimeout": "Int",
        "scalerType": "String", "scalerValue": "Int", "locations": "String", "networkVolumeId": "String",
        "networkVolumeIds": "[NetworkVolumeIdsInput]", "flashBootType": "FlashBootType", "executionTimeoutMs": "Int",
        "allowedCudaVersions": "String", "minCudaVersion": "String", "modelReferences": "[String]", "type": "String",
        "compliance": "[Compliance]", "hubReleaseId": "String", "flashEnvironmentId": "String", "workersPFBTarget": "Int",
    },
    "NetworkVolumeIdsInput": {"networkVolumeId": "String"},
    "EnvironmentVariableInput": {"key": "String!", "value": "String!"},
    "EndpointTemplateInput": {
        "name": "String", "imageName": "String", "containerDiskInGb": "Int", "dockerArgs": "String", "env": ENV_INPUT,
        "ports": "String", "containerRegistryAuthId": "String", "volumeInGb": "Int", "volumeMountPath": "String",
        "startSsh": "Boolean", "isServerless": "Boolean",
    },
    "SaveTemplateInput": {
        "id": "String", "name": "String", "imageName": "String", "containerDiskInGb": "Int", "volumeInGb": "Int",
        "dockerArgs": "String", "env": ENV_INPUT, "isServerless": "Boolean", "ports": "String", "volumeMountPath": "String",
        "containerRegistryAuthId": "String", "readme": "String", "isPublic": "Boolean", "startSsh": "Boolean",
        "startJupyter": "Boolean", "startScript": "String", "advancedStart": "Boolean", "category": "String",
    },
    "UpdateEndpointTemplateInput": {"endpointId": "String!", "templateId": "String!"},
    "CreateNetworkVolumeInput": {"name": "String", "size": "Int", "dataCenterId": "String", "type": "String"},
    "UpdateNetworkVolumeInput": {"id": "String!", "name": "String", "size": "Int"},
    "DeleteNetworkVolumeInput": {"id": "String!"},
    "GpuTypeFilter": {"id": "String", "ids": "[String]"},
    "PodTemplateInput": {"isRunpod": "Boolean", "isPublic": "Boolean"},
    "GpuLowestPriceInput": {"gpuCount": "Int", "dataCenterId": "String", "secureCloud": "Boolean", "includeAiApi": "Boolean",
                            "allowedCudaVersions": "[String]", "compliance": "[Compliance]"},
}
ENUMS = {"FlashBootType": ("OFF", "FLASHBOOT", "PRIORITY_FLASHBOOT"),
         "Compliance": ("GDPR", "ISO_IEC_27001", "ISO_14001", "PCI_DSS", "HITRUST", "SOC_1_TYPE_2", "SOC_2_TYPE_2",
                        "SOC_3_TYPE_2", "ITAR", "FISMA_HIGH", "HIPAA", "RENEWABLE")}

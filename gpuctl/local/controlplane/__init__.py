"""The control plane: endpoints, templates, network volumes, pods and the catalog as RunPod's
REST v2 and GraphQL both see them, and request bodies checked against RunPod's OpenAPI
document. No HTTP: refusals are `gpuctl.local.errors`, which the api layer turns into statuses.
It may use the store; it tells the runtime about changes only through the protocols its
services are given (`Scaler`, `PodRunner`)."""

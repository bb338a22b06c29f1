"""Policy checked at plan time (docs/policy.md, docs/adr/0022-policy.md): the rules a platform
team or the project sets, evaluated on gpu.jsonc and on the plan, reported in the plan
document, and enforced by the deploy flow before anything is written."""

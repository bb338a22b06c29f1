"""gpuctl inside GitHub Actions: the REST client, the sticky pull-request comment, the drift
issue, the job summary and step outputs, and the one module (`runner`) that reaches into the
deploy flow. `gpu github ...` (gpuctl/cli/github_cmd.py) and `action.yml` drive it."""

"""The serverless runtime: the scheduler that ties jobs to workers (scale loop, job
transitions, crashes), the scaler's arithmetic, the supervisor of worker and pod processes,
their environment, logs and webhooks, and the job API's rules. No HTTP: refusals are
`gpuctl.local.errors`. It may use the store, never the control plane."""

"""The embedded local provider: a RunPod-compatible server on 127.0.0.1 that keeps its state
in SQLite and runs real, unmodified RunPod workers as local processes that scale to zero.

The client side imports `client` (start, find, stop, reset a server) and nothing else; the
server process (`python -m gpuctl.local`) is built in layers, each importing only those below:

    server        the process, the app, the auth gate, fault rules
    api           thin route handlers of every surface
    graphql       RunPod's GraphQL subset, over the control plane
    controlplane  endpoints, templates, volumes, pods, catalog, request rules   | runtime: scheduler, workers, job rules
    store         every SQL statement, ids, reference data
    datadir, errors

This package shares no code with the client side (config, plan, provider), so a misreading
of RunPod's API cannot hide in both. `.importlinter` at the repository root holds these rules.
"""

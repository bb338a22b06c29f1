"""The HTTP routes, thin: each handler reads the request, calls the control plane, the runtime
or the GraphQL executor, and writes the answer in its surface's shape. Handlers are methods of
classes given their services; each class lists its own routes. The fault rules reach the
control-plane routes through `control`."""

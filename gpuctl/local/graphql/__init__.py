"""RunPod's GraphQL control plane, the subset its own clients use: a parser, the schema slice,
an executor, and resolvers over the control plane's services. Plain Python, no HTTP: the api
layer serves it at `POST /graphql`."""

"""What the CLI imports of the local provider: start, find, stop, reset and recognise a server
of a data dir (`lifecycle`). Standard library only (and gpuctl.errors, so the CLI's error
boundary reports its failures); it never loads the server."""

"""The data dir: what the client side (`gpu local ...`) and the server process agree on.

Its file names, the exit codes by which the server says why it did not start, the private
modes of everything in it, and how the processes a server started are found through /proc.
Standard library only: the CLI imports it.
"""

"""A worker that dies before it ever asks for a job (a broken image, say)."""

import sys

print("crash_worker: failing at import time", flush=True)
sys.exit(7)

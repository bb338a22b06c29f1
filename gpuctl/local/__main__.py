"""`python -m gpuctl.local --data-dir DIR [--port N]`: run the local provider in the
foreground. `gpu local up` starts this detached; see `gpuctl.local.server.process`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gpuctl.local", description="RunPod-compatible local provider")
    parser.add_argument("--data-dir", required=True, type=Path, help="state, token and logs live here")
    parser.add_argument("--port", type=int, default=8787, help="127.0.0.1 port; 0 picks a free one")
    args = parser.parse_args(argv)
    from gpuctl.local.server.process import serve

    return serve(args.data_dir, args.port)


if __name__ == "__main__":
    sys.exit(main())

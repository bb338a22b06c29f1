"""A warm-up pod's job: write a file into the mounted network volume, then exit."""

import os
import pathlib

target = pathlib.Path(os.environ["RUNPOD_VOLUME_PATH"]) / "warm.txt"
target.write_text(f"warmed for {os.environ['GPUCTL_LOCAL_MOUNT_PATH']}")
print("warm-up done", flush=True)

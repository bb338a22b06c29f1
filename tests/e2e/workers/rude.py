"""A RunPod worker that writes terminal escape sequences: in its log (set the window title,
clear the screen, a line break that forges another worker's prefix) and in its error (OSC 52,
which asks the terminal to put text on the clipboard). Any input fails, the warm-up too."""

import runpod

ESCAPES = "\x1b]0;pwned\x07\x1b[2J"


def handler(job):
    print(f"rude says {ESCAPES}hi", flush=True)
    raise ValueError("no \x1b]52;c;cHduZWQ=\x07 thanks")


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler})

"""A RunPod worker that logs in colour, as loggers do on a terminal, and also writes sequences
that are no colour: a cursor move, an OSC 8 link and a window title."""

import runpod


def handler(job):
    print("\x1b[31mred alert\x1b[0m plain \x1b[1;32mbold green", flush=True)
    print("moved \x1b[1;1Hhome \x1b]8;;https://example.com\x07link\x1b]8;;\x07 \x1b]0;title\x07 \x1b[31;2Jwiped", flush=True)
    return {"ok": True}


if __name__ == "__main__":
    runpod.serverless.start({"handler": handler})

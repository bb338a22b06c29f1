"""Download Hugging Face models into a network volume's Hugging Face cache.

This file runs inside the warm-up pod, passed inline as `python3 -c <this text>`, so it uses
only the standard library and nothing of gpuctl: it must work in any image that has Python
3.8 or newer. gpuctl reads its text; it is never imported by the CLI.

Input, all from the environment:
  GPUCTL_WARM_MODELS   JSON list of "org/name" or "org/name:revision" (revision default main)
  HF_TOKEN             optional; sent as a bearer token for gated and private models
  HF_ENDPOINT          the hub, default https://huggingface.co
  RUNPOD_VOLUME_PATH   the volume root, default /runpod-volume (where the pod mounts it)

It writes the layout huggingface_hub reads (api-notes §8.4), so workers that set
HF_HOME=/runpod-volume/huggingface-cache find the files without downloading:
  huggingface-cache/hub/models--org--name/snapshots/<sha>/<file>
  huggingface-cache/hub/models--org--name/refs/<revision>      (contains <sha>)
A file is written as `<file>.incomplete` and renamed when whole, so a file that exists is
complete and a second run skips it; `refs/<revision>` is written last, after every file.

Output: one line per event, "gpuctl-warm <json>", that gpuctl reads from the pod's log
stream; the last is `done` (exit 0) or `error` (exit 1).
"""

import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

PREFIX = "gpuctl-warm "
CHUNK = 1 << 16
EVERY_S = 0.5


def emit(event, **fields):
    fields["event"] = event
    print(PREFIX + json.dumps(fields, sort_keys=True), flush=True)


class SameHostAuth(urllib.request.HTTPRedirectHandler):
    """The hub redirects large files to a CDN: the token must not follow it to another host."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        new = urllib.request.HTTPRedirectHandler.redirect_request(self, req, fp, code, msg, headers, newurl)
        if new is not None and urllib.parse.urlsplit(newurl).netloc != urllib.parse.urlsplit(req.full_url).netloc:
            new.remove_header("Authorization")
        return new


OPENER = urllib.request.build_opener(SameHostAuth)


def get(url, token):
    headers = {"User-Agent": "gpuctl-warm/1"}
    if token:
        headers["Authorization"] = "Bearer " + token
    return OPENER.open(urllib.request.Request(url, headers=headers), timeout=60)


def revision(hub, repo, rev, token):
    """(commit sha, file names) of one revision, from the Hub API."""
    url = "%s/api/models/%s/revision/%s" % (hub, repo, urllib.parse.quote(rev, safe=""))
    with get(url, token) as answer:
        info = json.loads(answer.read().decode("utf-8"))
    return info["sha"], [s["rfilename"] for s in info.get("siblings") or []]


def inside(root, name):
    """The path of `name` under `root`; a name that would escape it (.., absolute) is refused."""
    path = os.path.normpath(os.path.join(root, name))
    if os.path.isabs(name) or not path.startswith(root.rstrip(os.sep) + os.sep):
        raise ValueError("refusing file name %r: it points outside the snapshot" % name)
    return path


def fetch(hub, repo, sha, name, dest, token):
    """Download one file to `dest`; returns its size (0 when it was already there)."""
    if os.path.exists(dest):
        emit("file_done", repo=repo, file=name, bytes=0, skipped=True)
        return 0
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    url = "%s/%s/resolve/%s/%s" % (hub, repo, sha, urllib.parse.quote(name))
    done, shown = 0, time.monotonic()
    with get(url, token) as answer, open(dest + ".incomplete", "wb") as out:
        emit("file", repo=repo, file=name, total=int(answer.headers.get("Content-Length") or 0))
        chunk = answer.read(CHUNK)
        while chunk:
            out.write(chunk)
            done += len(chunk)
            if time.monotonic() - shown >= EVERY_S:
                emit("progress", repo=repo, file=name, bytes=done)
                shown = time.monotonic()
            chunk = answer.read(CHUNK)
    os.replace(dest + ".incomplete", dest)
    emit("file_done", repo=repo, file=name, bytes=done)
    return done


def model(hub, hub_dir, ref, token):
    """Download every file of one model revision; returns (files, bytes)."""
    repo, _, rev = ref.partition(":")
    rev = rev or "main"
    sha, names = revision(hub, repo, rev, token)
    base = os.path.join(hub_dir, "models--" + repo.replace("/", "--"))
    snapshot = os.path.join(base, "snapshots", sha)
    emit("model", repo=repo, revision=rev, sha=sha, files=len(names))
    size = sum(fetch(hub, repo, sha, n, inside(snapshot, n), token) for n in names)
    ref_file = inside(os.path.join(base, "refs"), rev)
    os.makedirs(os.path.dirname(ref_file), exist_ok=True)
    with open(ref_file, "w") as out:
        out.write(sha)
    emit("model_done", repo=repo, revision=rev, sha=sha, files=len(names), bytes=size)
    return len(names), size


def explain(exc):
    """A one-line reason, with the fix when the hub said who may read the model."""
    if isinstance(exc, urllib.error.HTTPError):
        if exc.code in (401, 403):
            return "HTTP %d from %s: the model is gated or private; set HF_TOKEN" % (exc.code, exc.filename)
        if exc.code == 404:
            return "HTTP 404 from %s: no such model, revision or file" % exc.filename
        return "HTTP %d from %s" % (exc.code, exc.filename)
    return "%s: %s" % (type(exc).__name__, exc)


def main():
    models = json.loads(os.environ.get("GPUCTL_WARM_MODELS") or "[]")
    token = os.environ.get("HF_TOKEN") or None
    hub = (os.environ.get("HF_ENDPOINT") or "https://huggingface.co").rstrip("/")
    root = os.environ.get("RUNPOD_VOLUME_PATH") or "/runpod-volume"
    hub_dir = os.path.join(root, "huggingface-cache", "hub")
    emit("start", models=models, hub=hub, volume=root)
    files = size = 0
    for ref in models:
        try:
            got = model(hub, hub_dir, ref, token)
        except Exception as exc:  # any failure ends the run with a reason gpuctl can show
            emit("error", model=ref, message=explain(exc))
            return 1
        files, size = files + got[0], size + got[1]
    emit("done", models=len(models), files=files, bytes=size)
    return 0


if __name__ == "__main__":
    sys.exit(main())

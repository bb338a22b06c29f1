"""A tiny Hugging Face hub on 127.0.0.1 for pre-warm tests: `GET /api/models/{repo}/revision/{rev}`
and `GET /{repo}/resolve/{sha}/{file}`, the two calls gpuctl's downloader makes. HF_ENDPOINT in
gpu's environment points the warm-up pod at it."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TINY_FILES = {"config.json": b'{"model_type": "tiny"}\n', "tokenizer.json": b'{"version": "1.0"}\n', "weights/model.bin": bytes(range(256)) * 64}


def sha_of(repo: str) -> str:
    return hashlib.sha1(f"{repo}@main".encode()).hexdigest()


@dataclass
class Hub:
    """`repos` maps "org/name" to its files; any other repo answers 404."""

    repos: dict[str, dict[str, bytes]]
    url: str = ""
    requests: list[str] = field(default_factory=list)

    def answer(self, path: str) -> tuple[int, bytes]:
        self.requests.append(path)
        for repo, files in self.repos.items():
            if path == f"/api/models/{repo}/revision/main":
                return 200, json.dumps({"sha": sha_of(repo), "siblings": [{"rfilename": n} for n in files]}).encode()
            prefix = f"/{repo}/resolve/{sha_of(repo)}/"
            if path.startswith(prefix) and path[len(prefix):] in files:
                return 200, files[path[len(prefix):]]
        return 404, b'{"error": "not found"}'


@contextmanager
def serve_hub(repos: dict[str, dict[str, bytes]]) -> Iterator[Hub]:
    hub = Hub(repos)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            status, body = hub.answer(self.path)
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()

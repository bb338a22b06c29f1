"""The `RUNPOD_AI_API_KEY` of each endpoint's workers, the only key its worker routes accept."""

from __future__ import annotations

import base64
import hashlib
import hmac


class WorkerKeys:
    """Keys derived (HMAC) from a secret drawn at each server start, so no key is stored, keys
    change on restart as the workers do, and no worker of one endpoint can compute another's."""

    def __init__(self, secret: bytes):
        self.secret = secret

    def key(self, endpoint_id: str) -> str:
        digest = hmac.new(self.secret, endpoint_id.encode("utf-8", "surrogatepass"), hashlib.sha256).digest()
        return "gpuctl-worker-" + base64.urlsafe_b64encode(digest[:24]).decode()

"""`/ai/v2/{endpoint_id}/openai/v1/*`: RunPod turns an OpenAI-shaped call into a job whose
input is `{"openai_route": "/v1/...", "openai_input": <body>}` (a body-less call carries only
the route), as vLLM workers expect (api-notes §5.6).

How RunPod unwraps the result is not visible in its sources; here a worker's single-element
aggregated output becomes the HTTP body, and with `"stream": true` every streamed chunk is
relayed as Server-Sent Events (text chunks verbatim, other values as `data: <json>`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from gpuctl.jsontext import dumps
from gpuctl.local.api.http import json_body, json_response, route
from gpuctl.local.runtime.queue import JobQueue
from gpuctl.local.runtime.settings import Settings
from gpuctl.local.store.jobs import Job

WAIT_S = 300.0


def _event(chunk: Any) -> bytes:
    if isinstance(chunk, str):
        return chunk.encode() if chunk.endswith("\n\n") else f"{chunk}\n\n".encode()
    return f"data: {dumps(chunk, ensure_ascii=False)}\n\n".encode()


def _unwrap(output: Any) -> Any:
    return output[0] if isinstance(output, list) and len(output) == 1 else output


@dataclass
class OpenAIRoutes:
    queue: JobQueue
    settings: Settings

    def routes(self) -> list[Route]:
        return [route("/ai/v2/{endpoint_id}/openai/v1/{path:path}", get=self.openai, post=self.openai)]

    async def _relay(self, job: Job) -> AsyncIterator[bytes]:
        jobs, signals = self.queue.jobs, self.queue.signals
        while True:
            current = jobs.get(job.id)
            for chunk in jobs.drain(job.id):
                yield _event(chunk)
            if current is None or current.terminal or signals.shutdown.is_set():
                if current is not None and current.status != "COMPLETED":
                    yield _event({"error": {"message": current.error or current.status, "type": "worker_error"}})
                return
            await signals.wait(("job", job.id), timeout=5.0)

    async def openai(self, request: Request) -> Response:
        doc = self.queue.endpoint(request.path_params["endpoint_id"])
        body = None if request.method == "GET" else await json_body(request, required=False)
        job_input: dict[str, Any] = {"openai_route": "/v1/" + request.path_params["path"]}
        if body is not None:
            job_input["openai_input"] = body
        job = self.queue.submit(doc, {"input": job_input}, sync=True, retention=self.settings.retention_sync_s)
        if isinstance(body, dict) and body.get("stream"):
            return StreamingResponse(self._relay(job), media_type="text/event-stream")
        final = await self.queue.until_terminal(job, WAIT_S)
        if final is None or not final.terminal:
            return json_response({"error": {"message": "the worker did not answer in time", "type": "timeout"}}, 504)
        if final.status != "COMPLETED":
            return json_response({"error": {"message": final.error or final.status, "type": "worker_error"}}, 500)
        return json_response(_unwrap(None if final.render().get("output") is None else final.output))

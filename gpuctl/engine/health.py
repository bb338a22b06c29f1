"""`deploy --wait-healthy`: the gate a CI pipeline waits on after an apply.

For each configured endpoint: wait until its rollout is done (every worker on the latest
release, from the releases document's rollout summary), then send the smoke input, if one was
given, and wait for its answer: `/run` and /status polls until the job's final state, as
`invoke` sends a job (jobs.QueuedJob: the job id is known from the moment the endpoint
answered, so an interrupt names the job and the commands to see and cancel it), or, for a
vLLM endpoint handed an OpenAI body, the OpenAI route. With `min_workers: 0` there is nothing to roll out,
and the smoke job itself cold-starts a worker of the new release. An endpoint that fails is
rolled back, when asked, to the version it had before this deploy (an endpoint this deploy
created has none). Every step is reported, so the JSON result says what happened.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gpuctl.commands import NONE, Flags
from gpuctl.errors import ExitCode, GpuctlError
from gpuctl.events import Emit, Note
from gpuctl.jobs import FINAL, SUBMITTING, QueuedJob, job_commands, job_error, summary
from gpuctl.polling import poll_until, time_left
from gpuctl.provider.protocol import Provider
from gpuctl.redact import clip
from gpuctl.v2 import release_version, rollout, rollout_progress
from gpuctl.words import counted


class Unhealthy(GpuctlError):
    """The apply is done, but an endpoint failed the health gate."""

    exit_code = ExitCode.UNHEALTHY


@dataclass(frozen=True)
class Smoke:
    """The smoke input: a job payload (`{"input": ...}`), or an OpenAI request body for vLLM."""

    body: dict
    source: str = "--smoke"

    @property
    def payload(self) -> dict:
        """What /run takes: the body as it is when it has an "input", else wrapped in one."""
        return self.body if "input" in self.body else {"input": self.body}

    def route(self, template: str | None) -> str:
        if template != "vllm" or "input" in self.body:
            return "run"
        return "openai/v1/chat/completions" if "messages" in self.body else "openai/v1/completions"


@dataclass(frozen=True)
class HealthCheck:
    """What `--wait-healthy` asks for."""

    smoke: Smoke | None = None
    rollback: bool = False
    timeout: float = 600.0


@dataclass(frozen=True)
class Target:
    name: str
    endpoint_id: str
    template: str | None  # the resolved template: vllm gets the OpenAI route
    previous_version: int | None  # the version before this deploy changed it; None: not changed by it


@dataclass
class HealthGate:
    provider: Provider
    check: HealthCheck
    emit: Emit = lambda event: None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    applied_by: str | None = None  # who deploys (gpuctl.author): a rollback is kept as that person's apply
    flags: Flags = NONE  # the run's options, which the commands its report suggests repeat (gpuctl.commands)

    def run(self, targets: list[Target]) -> dict:
        """{"healthy", "endpoints": [{name, endpoint_id, healthy, steps: [...]}]}."""
        deadline = self.clock() + self.check.timeout
        reports = [self._endpoint(t, deadline) for t in targets]
        return {"healthy": all(r["healthy"] for r in reports), "timeout": self.check.timeout, "endpoints": reports}

    def _endpoint(self, target: Target, deadline: float) -> dict:
        steps = [self._rollout(target, deadline)]
        if steps[-1]["status"] == "passed" and self.check.smoke is not None:
            steps.append(self._smoke(target, deadline))
        healthy = all(s["status"] == "passed" for s in steps)
        if not healthy and self.check.rollback:
            steps.append(self._rollback(target))
        return {"name": target.name, "endpoint_id": target.endpoint_id, "healthy": healthy, "steps": steps}

    def _say(self, target: Target, text: str) -> None:
        self.emit(Note(f"health of {target.name}: {text}", "plain"))

    def _rollout(self, target: Target, deadline: float) -> dict:
        start = self.clock()

        def look() -> tuple[bool, dict]:
            doc = self.provider.releases(target.endpoint_id)
            progress = rollout_progress(rollout(doc))
            return progress.in_progress, {"step": "rollout", "version": release_version(doc), "workers_on_latest": progress.on_latest, "workers_total": progress.total}

        in_progress, step = poll_until(look, lambda answer: not answer[0], remaining=time_left(deadline, self.clock), sleep=self.sleep,
                                       first=0.5, factor=1.5, cap=5.0)
        if not in_progress:
            self._say(target, f"rollout of version {step['version']} done ({step['workers_on_latest'] or 0} of {counted(step['workers_total'] or 0, 'worker')} on it)")
            return step | {"status": "passed", "seconds": round(self.clock() - start, 1)}
        return step | {"status": "failed", "seconds": round(self.clock() - start, 1),
                       "error": f"the rollout was still in progress after {self.check.timeout:.0f}s ({step['workers_on_latest']} of {counted(step['workers_total'], 'worker')} on the latest release)"}

    def _smoke(self, target: Target, deadline: float) -> dict:
        smoke, start = self.check.smoke, self.clock()
        route = smoke.route(target.template)
        self._say(target, f"sending the smoke input ({smoke.source}) to /{route}")
        step: dict[str, Any] = {"step": "smoke", "route": route}
        try:
            outcome = self._openai(target, route) if route != "run" else self._job(target, deadline)
        except GpuctlError as exc:
            outcome = {"status": "failed", "error": exc.summary}
        step |= outcome | {"seconds": round(self.clock() - start, 1)}
        self._say(target, "the smoke input passed" if step["status"] == "passed" else f"the smoke input failed: {step['error']}")
        return step

    def _job(self, target: Target, deadline: float) -> dict:
        queued = QueuedJob(self.provider, target.endpoint_id, target.name, say=lambda: self._say(target, SUBMITTING), flags=self.flags)
        try:
            queued.queue(self.check.smoke.payload)
            self._say(target, f"smoke job {queued.job['id']} queued")
            job = queued.wait(remaining=time_left(deadline, self.clock), sleep=self.sleep)
        except KeyboardInterrupt:  # the deploy ends as interrupted after its apply; the smoke job goes on without it
            self.emit(Note(queued.left("smoke job"), "plain"))
            raise
        if job.get("status") == "COMPLETED":
            return {"status": "passed", "job": summary(job)}
        if job.get("status") not in FINAL:
            return {"status": "failed", "job": summary(job),
                    "error": f"job {job.get('id')} did not end within the timeout (it is {job.get('status')}); {job_commands(target.name, job.get('id'), self.flags)}"}
        message = job_error(job)[0]  # shortened as invoke shortens it: a worker may put 100 kB into one exception
        return {"status": "failed", "job": summary(job), "error": f"job {job.get('id')} ended {job.get('status')}" + (f": {clip(message, 2000)}" if message else "")}

    def _openai(self, target: Target, route: str) -> dict:
        answer = self.provider.openai(target.endpoint_id, route, self.check.smoke.body)
        if isinstance(answer, dict) and answer.get("choices"):
            return {"status": "passed"}
        return {"status": "failed", "error": f"the answer of /{route} has no choices: {clip(str(answer), 200)}"}

    def _rollback(self, target: Target) -> dict:
        from gpuctl.engine.rollback import apply_rollback, plan_rollback

        if target.previous_version is None:
            return {"step": "rollback", "status": "skipped", "reason": "this deploy did not change the endpoint from an earlier version (it created it, or changed nothing)"}
        try:
            planned = plan_rollback(self.provider, target.endpoint_id, target.previous_version, self.flags)
            if not planned.changes:  # the deploy changed only fields outside the release (scaling): "rolled back" was untrue
                reason = (f"this deploy changed none of the fields of its release (it is on version {planned.version}, "
                          f"the configuration of version {target.previous_version}): there is nothing to roll back")
                self._say(target, f"not rolled back: {reason}")
                return {"step": "rollback", "status": "skipped", "reason": reason}
            now = apply_rollback(self.provider, target.endpoint_id, planned.changes, target.previous_version, by=self.applied_by, flags=self.flags).version
        except GpuctlError as exc:
            return {"step": "rollback", "status": "failed", "to_version": target.previous_version, "error": exc.summary,
                    **({"hint": exc.hint} if exc.hint else {})}
        self._say(target, f"rolled back to the configuration of version {target.previous_version} (now version {now})")
        return {"step": "rollback", "status": "passed", "from_version": planned.version, "to_version": target.previous_version, "new_version": now}

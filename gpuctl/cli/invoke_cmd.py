"""`gpu serverless invoke` and `gpu serverless job status|cancel`: RunPod's job API
(api-notes §5) from the command line, with an exit code that says how the job ended."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from gpuctl.cli.durations import DURATION
from gpuctl.cli.resolve import provider_options
from gpuctl.errors import ExitCode
from gpuctl.commands import suggest
from gpuctl.jobs import BODY_LIMITS, FINAL, STATE_WORDS, SUBMITTING, QueuedJob, about_job, body_size, check_body_size, job_commands, job_error, paused, refuse_if_paused, paused_hint, wait_until_final
from gpuctl.words import in_seconds

if TYPE_CHECKING:
    from gpuctl.cli.context import AppContext
    from gpuctl.cli.resolve import Target

JSON_HELP = "Print the whole job document as JSON on stdout."
ENDED = {"FAILED": "failed", "CANCELLED": "was cancelled", "TIMED_OUT": "timed out"}
LIVE_WAIT_MS = 2000  # on a terminal /runsync holds no longer, so the status line soon shows the job's state


@click.command("invoke")
@click.argument("name")
@click.option("--input", "input_value", metavar="JSON|@FILE|-",
              help='The job input: a JSON literal, @path to a JSON file, or - for stdin (default {}). Wrapped as {"input": ...} unless it has a top-level "input".')
@click.option("--async", "is_async", is_flag=True, help="Queue the job (/run), print its id and return.")
@click.option("--stream", "streaming", is_flag=True, help="Print each output chunk of a generator handler as a JSON line as it arrives.")
@click.option("--timeout", type=DURATION, default="600", show_default=True,
              help="How long to wait for the job to end (seconds, or 90s, 10m, 1h; 0: no limit). The job keeps running past it.")
@click.option("--wait-ms", type=click.IntRange(1000, 25000), default=20000, show_default=True,
              help="For a job request over 10 MB, which only /runsync accepts: how long that call holds for the result "
                   "before gpu polls /status (its HTTP read timeout covers the hold; at most 2 s when stderr is a terminal, "
                   "so the status line can follow the job).")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@provider_options
@click.pass_obj
def invoke(app: AppContext, name: str, input_value: str | None, is_async: bool, streaming: bool, timeout: float,
           wait_ms: int, as_json: bool, provider: str | None, config: str | None) -> int:
    """Run a job on endpoint NAME (a name or an id) and print its output as JSON.

    Queues the job (/run) and polls /status until it ends (a request over 10 MB goes by /runsync,
    the only route that takes it). Exits 0 when the job COMPLETED; 1 when it FAILED, was
    CANCELLED or TIMED_OUT (the error on stderr) or did not end within --timeout. Ctrl-C (or
    SIGTERM) stops the waiting, not the job (exit 130), and prints the job's id with the commands
    to see and cancel it. With --stream and
    --json the chunk lines are followed by the job document. While it waits, a terminal shows
    one live line on stderr: the job's state (queued, running), its id and the time waited."""
    from gpuctl.cli.resolve import open_target, while_it_exists
    from gpuctl.cli.job_input import job_payload, read_input
    from gpuctl.errors import UsageError

    if is_async and streaming:
        raise UsageError("--async and --stream cannot be combined", hint="--stream queues the job itself and prints its chunks")
    value, where = read_input(app, input_value)
    payload = job_payload(value)
    check_body_size("run" if is_async or streaming else "runsync", payload, where)
    by_runsync = not (is_async or streaming) and body_size(payload) > BODY_LIMITS["run"]  # only /runsync takes it
    target = open_target(app, provider, config, start_local=True, reads_only=True)
    try:
        found = queue_endpoint(target, name)
        if is_async and paused(found):
            app.note(f"note: endpoint {found.get('name')} has max workers 0: the job waits in the queue until it is raised; {paused_hint(target.flags)}")
        elif not is_async:
            refuse_if_paused(found, "the job", "--async queues it for then", target.flags)
        call = JobCall(app, target.provider, found["id"], name, timeout, as_json, target.flags)
        with while_it_exists(target, name, call.endpoint_id, "the job was sent" if is_async else "the job ran (the job went with it)"):
            try:
                if is_async:
                    return call.submit(payload)
                job = call.stream(payload) if streaming else call.run(payload, wait_ms, by_runsync)
            except KeyboardInterrupt:
                return call.interrupted()
        return call.finish(job)
    finally:
        target.close()


@click.group("job")
def job_group() -> None:
    """Look at or cancel one job of an endpoint."""


@job_group.command("status")
@click.argument("name")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help=JSON_HELP)
@provider_options
@click.pass_obj
def job_status(app: AppContext, name: str, job_id: str, as_json: bool, provider: str | None, config: str | None) -> int:
    """Show job JOB_ID of endpoint NAME.

    State, worker, timings, then the error or the output. Exits 0 whatever the job's state."""
    with job_endpoint(app, provider, config, name) as (target, found), about_job(name, job_id, flags=target.flags):  # an id typed: unknown, or removed
        job = target.provider.status(found["id"], job_id)
    app.stdout.write(to_json(job) + "\n" if as_json else describe(job))
    return ExitCode.OK


@job_group.command("cancel")
@click.argument("name")
@click.argument("job_id")
@click.option("--json", "as_json", is_flag=True, help="Print the answer to the cancel as JSON on stdout.")
@provider_options
@click.pass_obj
def job_cancel(app: AppContext, name: str, job_id: str, as_json: bool, provider: str | None, config: str | None) -> int:
    """Cancel job JOB_ID of endpoint NAME.

    A queued or running job becomes CANCELLED; one that already ended keeps its state. Prints
    the resulting status."""
    with job_endpoint(app, provider, config, name) as (target, found):
        job = cancelled(app, target, found, name, job_id)
    app.stdout.write(to_json(job) + "\n" if as_json else f"job {job_id}: {_after_cancel(job)}\n")
    return ExitCode.OK


def _after_cancel(job: dict) -> str:
    """The job's state as the answer to its cancel gives it."""
    return f"{job.get('status')}" + (" (it had already ended)" if _had_ended(job) else "")


def _had_ended(job: dict) -> bool:
    """Whether the cancel found the job ended some other way (a cancel leaves its state)."""
    return job.get("status") in FINAL and job.get("status") != "CANCELLED"


def cancelled(app: AppContext, target: Target, found: dict, ref: str, job_id: str) -> dict:
    """The answer to /cancel of one job, sent as the command's one write
    (`gpuctl.interrupts.writing`, tests/test_one_write_seam.py): an interrupt while it is in
    flight waits for it and says the job's state after it, a second one says the outcome is
    unknown and how to find out, one before it was sent says nothing was cancelled."""
    from gpuctl.interrupts import Interrupted, writing

    again = suggest("serverless", "job", "cancel", ref, job_id, flags=target.flags)
    look = suggest("serverless", "job", "status", ref, job_id, flags=target.flags)
    answer: list[dict] = []
    before = lambda: Interrupted(f"interrupted before the cancel was sent: job {job_id} was not cancelled", hint=f"run `{again}` to cancel it")  # noqa: E731
    after = lambda: Interrupted(f"interrupted, after the cancel: job {job_id}: {_after_cancel(answer[0])}",  # noqa: E731
                                hint="the job had already ended: there was nothing to cancel" if _had_ended(answer[0])
                                else "the cancel was carried out: there is nothing to repeat")
    unknown = lambda why: Interrupted(f"interrupted while the cancel of job {job_id} was in flight: its outcome is unknown ({why})",  # noqa: E731
                                      hint=f"`{look}` shows whether it was cancelled; if not, run `{again}` again")
    say = lambda: app.note("interrupted: waiting for the cancel in flight to finish (a second interrupt stops waiting)")  # noqa: E731
    with writing(before, after, say=say, unknown=unknown) as write, about_job(ref, job_id, flags=target.flags):  # an id typed: unknown, or removed
        with write.step():
            answer.append(write.send(lambda: target.provider.cancel(found["id"], job_id)))
    return answer[0]


# -- the input --------------------------------------------------------------------------------


def queue_endpoint(target: Target, ref: str) -> dict:
    from gpuctl.cli.resolve import endpoint
    from gpuctl.errors import UsageError

    found = endpoint(target, ref)
    target.protect_env(found)  # a job's output and error are the worker's words
    if found.get("type") == "LOAD_BALANCER":
        raise UsageError(f"endpoint {ref} is a load-balancing endpoint: it has no job queue", hint="send HTTP requests to its URL directly")
    return found


@contextlib.contextmanager
def input_refused() -> Iterator[None]:
    """A job the job API refuses (400, 413, 422) was refused for what --input holds: the
    provider's general advice to change gpu.jsonc pointed at the wrong file (review 4, R4-13)."""
    from gpuctl.provider.errors import Rejected

    try:
        yield
    except Rejected as exc:
        raise exc.with_hint("the job was never queued: change what its reason names in --input") from None


class JobCall:
    """One job on one endpoint: submitting it, waiting for it within a deadline, and saying
    how it ended. Knows the job id as soon as the endpoint has answered."""

    def __init__(self, app: AppContext, provider, endpoint_id: str, ref: str, timeout: float, as_json: bool, flags=None):
        import time

        from gpuctl.commands import NONE

        self.app, self.provider, self.endpoint_id, self.ref, self.as_json = app, provider, endpoint_id, ref, as_json
        self.flags = flags or NONE  # the run's options (gpuctl.commands.Flags), for the commands it suggests
        self.clock, self.sleep = time.monotonic, time.sleep
        self.timeout, self.deadline = timeout, self.clock() + timeout if timeout else None
        self.queued = QueuedJob(provider, endpoint_id, ref, say=lambda: app.note(SUBMITTING), flags=self.flags)
        self.chunks = 0
        self.line = StatusLine(app, ref)

    @property
    def job(self) -> dict | None:
        """The job's last answer seen (QueuedJob.job)."""
        return self.queued.job

    @job.setter
    def job(self, value: dict | None) -> None:
        self.queued.job = value

    def remaining(self) -> float:
        return float("inf") if self.deadline is None else self.deadline - self.clock()

    def hint(self, job_id: str) -> str:
        return job_commands(self.ref, job_id, self.flags)

    def queue(self, payload: dict) -> dict:
        """/run, its id known before an interrupt takes its course (QueuedJob.queue)."""
        with input_refused():
            return self.queued.queue(payload)

    def submit(self, payload: dict) -> int:
        job = self.queue(payload)
        self.app.stdout.write(to_json(job) + "\n" if self.as_json else f"{job['id']}\n")
        self.app.note(f"queued; check it with: {suggest('serverless', 'job', 'status', self.ref, job['id'], flags=self.flags)}")
        return ExitCode.OK

    def run(self, payload: dict, wait_ms: int, by_runsync: bool = False) -> dict:
        """/run, then /status polls (slowing down to one every 2 s) until a final state, with
        the status line showing each answer. /run answers with the job id at once, so an
        interrupt while the job runs can always name it (/runsync answers only after its hold).
        A request over 10 MB goes by /runsync, the only route that takes it: the id is then
        known once its hold ends (on a terminal, at most LIVE_WAIT_MS)."""
        wait = int(max(1000, min(wait_ms, self.remaining() * 1000, LIVE_WAIT_MS if self.line.live else wait_ms)))
        with self.line:
            if by_runsync:
                with input_refused():
                    self.job = self.provider.runsync(self.endpoint_id, payload, wait_ms=wait)
                self.job = wait_until_final(self.queued.status, self.job, remaining=self.remaining, sleep=self.sleep, on_status=self.seen)
            else:
                self.queue(payload)
                self.job = self.queued.wait(remaining=self.remaining, sleep=self.sleep, on_status=self.line.show)
            if self.job.get("status") not in FINAL:
                self.check_deadline()
        return self.job

    def seen(self, job: dict) -> None:
        """An answer of /runsync's polls (QueuedJob.seen), shown on the status line."""
        self.queued.seen(job, self.line.show)

    def stream(self, payload: dict) -> dict:
        """/run, then /stream (each call drains what is new) until the job is final and
        nothing is left, printing each chunk as one JSON line; then the final /status."""
        self.queue(payload)
        while True:
            answer = self.queued.stream()
            for chunk in answer.get("stream") or []:
                self.app.stdout.write(to_json(chunk.get("output"), indent=None) + "\n")
                self.app.stdout.flush()
                self.chunks += 1
            self.job = {**self.job, "status": answer.get("status", self.job.get("status"))}
            if self.job["status"] in FINAL and not answer.get("stream"):
                return self.queued.status()
            self.check_deadline()

    def check_deadline(self) -> None:
        if self.remaining() > 0 or self.job is None:
            return
        from gpuctl.errors import GpuctlError

        self.line.close()
        if self.as_json:
            self.app.stdout.write(to_json(self.job) + "\n")
        raise GpuctlError(f"job {self.job['id']} did not end within --timeout {in_seconds(self.timeout)} (it is {self.job.get('status')})",
                          hint=f"{self.goes_on()}; {self.hint(self.job['id'])}")

    def goes_on(self) -> str:
        """What the job does once gpu stops waiting for it, by its last state: a queued job has
        no worker yet, and is not to be taken for one that runs."""
        if self.job and self.job.get("status") == "IN_QUEUE":
            return "it stays in the queue until a worker takes it"
        return "it keeps running"

    def interrupted(self) -> int:
        self.app.note(self.queued.left())
        return ExitCode.INTERRUPTED

    def finish(self, job: dict) -> int:
        """Print the output (the document with --json; nothing more after streamed chunks);
        unless the job COMPLETED, fail with its error."""
        from gpuctl.errors import GpuctlError

        if self.as_json:
            self.app.stdout.write(to_json(job) + "\n")
        elif job.get("status") == "COMPLETED" and not self.chunks:
            self.app.stdout.write(to_json(job.get("output")) + "\n")
        if job.get("status") == "COMPLETED":
            return ExitCode.OK
        message, trace = job_error(job)
        raise GpuctlError(f"job {job['id']} {ENDED.get(job.get('status'), 'ended')}" + (f": {shortened(message)}" if message else ""),
                          detail=trace if self.app.debug else None,
                          hint=f"the whole job: `{suggest('serverless', 'job', 'status', self.ref, job['id'], '--json', flags=self.flags)}`")


class StatusLine:
    """While `invoke` waits and progress is drawn live on stderr (AppContext.live): one line with a spinner,
    the job's state (queued, running), its id and the time waited, redrawn by each answer
    and erased when the wait ends. Elsewhere (a pipe, a log, CI) it writes nothing."""

    def __init__(self, app: AppContext, ref: str):
        self.progress = None
        if app.stderr_live:
            from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

            self.progress = Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(),
                                     console=app.console(stderr=True), transient=True)
            self.task = self.progress.add_task(f"waiting for {ref}", total=None)

    @property
    def live(self) -> bool:
        return self.progress is not None

    def __enter__(self) -> StatusLine:
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def show(self, job: dict) -> None:
        if self.progress:
            state = str(job.get("status"))
            self.progress.update(self.task, description=f"{STATE_WORDS.get(state, state.lower())} · job {job.get('id')}")

    def close(self) -> None:
        """Erase the line; safe to call again."""
        if self.progress:
            self.progress.stop()


# -- showing a job ----------------------------------------------------------------------------


@contextlib.contextmanager
def job_endpoint(app: AppContext, provider: str | None, config: str | None, ref: str) -> Iterator[tuple[Target, dict]]:
    """The target and the endpoint `ref` whose job a `job` command is about; a job's output and
    error are the worker's words, masked like its env. Never starts the local provider."""
    from gpuctl.cli.resolve import endpoint, open_target

    target = open_target(app, provider, config, reads_only=True)
    try:
        found = endpoint(target, ref)
        target.protect_env(found)
        yield target, found
    finally:
        target.close()


def describe(job: dict) -> str:
    """The job document for people: one field a line, then the error or the output."""
    from gpuctl.safetext import printable

    rows = [("job", job.get("id")), ("status", job.get("status")), ("worker", job.get("workerId"))]
    rows += [(label, f"{job[key] / 1000:.2f} s") for key, label in (("delayTime", "queued"), ("executionTime", "ran"))
             if isinstance(job.get(key), (int, float))]
    message = job_error(job)[0]
    rows.append(("error", None if message is None else printable(shortened(message), keep_newlines=False)))  # the worker's words, shown, not obeyed
    lines = [f"{label + ':':<8} {value}" for label, value in rows if value is not None]
    if "output" in job:
        lines += ["output:", *("  " + line for line in to_json(job["output"]).splitlines())]
    return "\n".join(lines) + "\n"


ERROR_CHARS = 2000  # of a job's error message on a terminal; --json has the whole job


def shortened(message: str) -> str:
    """A job's error message for people: a worker may put a whole input or a log into its
    exception (100 kB on one stderr line buried the command's own words); the rest is in
    `job status --json`, which the message's hint names."""
    from gpuctl.redact import clip

    rest = len(message) - ERROR_CHARS
    return message if rest <= 0 else f"{clip(message, ERROR_CHARS)} ({rest:,} more characters: see the job with --json)"


def to_json(value: Any, indent: int | None = 2) -> str:
    """A job's output or record as JSON: the exact value for any JSON reader, with what a
    terminal would obey or reorder (a C1 CSI, U+202E) written as a `\\u` escape (`json_safe`)."""
    from gpuctl.cli.output import json_text

    return json_text(value, indent)

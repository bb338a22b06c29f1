"""`gpu serverless logs`: worker logs from RunPod v2's worker log stream (api-notes §4.2),
every live worker of an endpoint interleaved in time order, or one worker; `-f` follows.

The workers list names only live workers, so a worker that has scaled away is read with
`--worker ID` (a job's `workerId`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from gpuctl.cli.resolve import provider_options
from gpuctl.errors import ExitCode, GpuctlError

if TYPE_CHECKING:
    from gpuctl.cli.context import AppContext

SNAPSHOT_LIMIT_S = 10.0  # a worker that never goes quiet still ends a non-follow read
WORKER_POLL_S = 2.0
RECONNECT_S = 1.0  # the pause before a worker's ended or broken stream is opened again


@click.command("logs")
@click.argument("name")
@click.option("-f", "--follow", is_flag=True, help="Keep printing new lines, also of workers that start later, until Ctrl-C.")
@click.option("--worker", "worker_id", metavar="ID", help="Only this worker (also one that has stopped: a job's workerId).")
@click.option("--since", metavar="TIME", help="Lines from TIME on: RFC 3339 with its zone (2026-06-01T12:00:00Z, 2026-06-01T14:00:00+02:00) or an age (90s, 5m, 2h; a plain number is seconds).")
@click.option("--tail", type=click.IntRange(0, 5000), help="Only the last N lines (default: each worker's last 100).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines {worker, ts, source, line} on stdout.")
@provider_options
@click.pass_obj
def logs(app: AppContext, name: str, follow: bool, worker_id: str | None, since: str | None, tail: int | None,
         as_json: bool, provider: str | None, config: str | None) -> int:
    """Print the logs of the workers of endpoint NAME (a name or an id).

    Lines of all live workers are interleaved in time order and prefixed with [worker-id].
    With no worker (endpoints scale to zero), says so on stderr and exits 0."""
    from gpuctl.cli.resolve import endpoint, open_target, while_it_exists

    start = since_timestamp(since) if since else None
    target = open_target(app, provider, config, reads_only=True)
    try:
        found = endpoint(target, name)
        target.protect_env(found)  # what workers print may hold them
        source = LogSource(target.provider, found["id"], start, tail)
        if worker_id is not None:
            source.check_worker(name, worker_id, target.flags)
        printer = Printer(app, as_json, prefix=worker_id is None)
        with while_it_exists(target, name, found["id"], "logs --follow followed it" if follow else "its logs were read"):
            if follow:
                return Follower(app, source, printer, name, worker_id).run()
            return snapshot(app, source, printer, name, worker_id)
    finally:
        target.close()


def since_timestamp(value: str) -> str:
    """--since as the RFC 3339 UTC timestamp the log stream takes: an age (read as every
    duration flag reads one, a plain number being seconds) counts back from now; a time must
    name its zone (`Z` or an offset), as RFC 3339 requires."""
    from datetime import UTC, datetime, timedelta

    from gpuctl.cli.durations import seconds_of
    from gpuctl.errors import UsageError
    from gpuctl.moments import NoZone, rfc3339

    age = seconds_of(value)
    try:
        if age is not None:
            now = datetime.now(UTC)
            # an age from before 1970 asks for every line; timedelta and datetime stop at year 1 and 9999
            moment = now - timedelta(seconds=age) if age < now.timestamp() else datetime.fromtimestamp(0, UTC)
        else:
            moment = rfc3339(value).astimezone(UTC)
    except NoZone as exc:  # read in this machine's zone, it was hours away elsewhere (R9-7)
        raise UsageError(f"--since {exc.moment.isoformat()} names no time zone, and RFC 3339 requires one",
                         hint=f"add the zone the time is in: {exc.choices()}") from None
    except (ValueError, OverflowError):  # OverflowError: a time whose UTC falls outside years 1-9999
        raise click.BadParameter(f"{value!r} is neither an RFC 3339 time nor an age such as 90s, 5m or 2h (a plain number is seconds)", param_hint="--since") from None
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def time_key(record: dict):
    """Records sort by their parsed time (formats may differ in fractional digits), then by
    worker and event id."""
    from gpuctl.moments import epoch_of

    return epoch_of(record.get("ts")) or 0.0, record.get("worker", ""), record.get("_id", "")


class LogSource:
    """One endpoint's workers and their log streams."""

    def __init__(self, provider, endpoint_id: str, since: str | None, tail: int | None):
        self.provider, self.endpoint_id, self.since, self.tail = provider, endpoint_id, since, tail

    def live_workers(self) -> list[str]:
        from gpuctl.v2 import worker_list

        workers = worker_list(self.provider.workers(self.endpoint_id))
        return [w["id"] for w in sorted(workers, key=lambda w: w.get("startedAt") or "")]

    def check_worker(self, name: str, worker_id: str, flags=None) -> None:
        """Raise UnknownWorker unless `worker_id` is a live worker of the endpoint or one whose
        log stream the provider still has (a worker that has stopped: a job's workerId). The
        stream is asked only when the workers list does not name the id."""
        from gpuctl.provider.errors import NotFound
        from gpuctl.provider.http import check_id

        check_id("worker", worker_id)  # a value that is no id is refused before any request
        live = self.live_workers()
        if worker_id in live:
            return
        try:
            for _ in self.provider.worker_logs(self.endpoint_id, worker_id, tail=0):
                break
        except NotFound:
            raise UnknownWorker(name, worker_id, live, flags) from None

    def read(self, worker_id: str) -> list[dict]:
        """What the worker has logged so far: the stream until it is quiet for a second."""
        import time

        from gpuctl.provider.errors import NotFound

        records, deadline = [], time.monotonic() + SNAPSHOT_LIMIT_S
        try:
            for record in self.provider.worker_logs(self.endpoint_id, worker_id, since=self.since, tail=self.tail):
                records.append(record | {"worker": worker_id})
                if time.monotonic() > deadline:
                    break
        except NotFound:
            return []
        return records

    def follow(self, worker_id: str, emit, keep_going, wait=None) -> None:
        """Emit the worker's records until its stream ends and `keep_going()` says to stop;
        a dropped or quiet-timed-out stream resumes where it was, without repeats
        (gpuctl.logfollow, as `warm --cpu` follows its pod). `wait`: the pause before a
        reconnect (time.sleep)."""
        import time

        from gpuctl.logfollow import Cursor, follow
        from gpuctl.provider.errors import ProviderError

        def stream(cursor: Cursor):
            resume = {"since": cursor.since} if cursor.since else {"tail": self.tail}
            return self.provider.worker_logs(self.endpoint_id, worker_id, follow=True, **resume)

        # a broken stream is resumed; the workers poll reports lasting failures
        follow(stream, lambda record: emit(record | {"worker": worker_id}), again=lambda: keep_going(worker_id),
               errors=(ProviderError,), cursor=Cursor(self.since), pause=RECONNECT_S, wait=wait or time.sleep)


class UnknownWorker(GpuctlError):
    """--worker names no worker the endpoint has, live or stopped."""

    def __init__(self, name: str, worker_id: str, live: list[str], flags=None):
        from gpuctl.safetext import printable
        from gpuctl.spelling import did_you_mean

        shown = printable(worker_id, keep_newlines=False)
        known = f"its live workers: {', '.join(live)}" if live else "it has no live workers now"
        guess = did_you_mean(worker_id, live)
        name = printable(name, keep_newlines=False)
        from gpuctl.commands import NONE, suggest

        how = (f"`{suggest('serverless', 'logs', name, flags=flags or NONE)}` shows every live worker; a stopped worker's id is its job's workerId "
               f"(`{suggest('serverless', 'job', 'status', name, 'JOB_ID', flags=flags or NONE)}`)")
        super().__init__(f"endpoint {name} has no worker {shown!r} (live or stopped)", detail=known,
                         hint=f"{guess} {how}" if guess else how)


class Printer:
    def __init__(self, app: AppContext, as_json: bool, prefix: bool):
        self.app, self.as_json, self.prefix = app, as_json, prefix
        self.colours = not as_json and app.colour(app.stdout)

    def write(self, records: list[dict]) -> None:
        """One line per record. What a worker wrote is shown, never obeyed: its control
        characters (a terminal's escape sequences, a line break that would forge another
        worker's prefix) are written as escapes, except its colours on a terminal that shows
        them (SGR only, reset at the end of the line); --json carries the line as it is."""
        from gpuctl.cli.output import json_text
        from gpuctl.safetext import printable

        for r in records:
            if self.as_json:
                line = json_text({"worker": r["worker"], "ts": r.get("ts"), "source": r.get("source"), "line": r.get("line", "")}, indent=None)
            else:
                text = printable(str(r.get("line", "")), keep_colours=self.colours).replace("\n", "\\n")
                line = f"[{printable(str(r['worker']), keep_newlines=False)}] {text}" if self.prefix else text
            self.app.stdout.write(line + "\n")
        self.app.stdout.flush()


def snapshot(app: AppContext, source: LogSource, printer: Printer, name: str, worker_id: str | None) -> int:
    """Every worker's logs so far, read concurrently, merged in time order."""
    from concurrent.futures import ThreadPoolExecutor

    workers = [worker_id] if worker_id else source.live_workers()
    if not workers:
        app.note(no_workers(name))
        return ExitCode.OK
    with ThreadPoolExecutor(max_workers=min(len(workers), 16)) as pool:
        found = dict(zip(workers, pool.map(source.read, workers)))
    if source.tail != 0:  # --tail 0 asks for none: an empty answer says nothing about the worker
        for quiet in (w for w, records in found.items() if not records):
            app.note(f"worker {quiet} has no logs yet")
    records = sorted((r for records in found.values() for r in records), key=time_key)
    printer.write(records if source.tail is None else records[len(records) - source.tail:])  # [-0:] would be all of them
    return ExitCode.OK


def no_workers(name: str) -> str:
    return (f"{name} has no workers now: workers start with the first job and stop after the idle timeout.\n"
            "Logs of a stopped worker: --worker ID (the job's workerId); to wait for new ones: -f")


class Follower:
    """`logs -f`: a reader thread per live worker, new workers picked up by polling the
    workers list, lines printed in time order as they arrive, until Ctrl-C (exit 0)."""

    def __init__(self, app: AppContext, source: LogSource, printer: Printer, name: str, only: str | None):
        import queue

        self.app, self.source, self.printer, self.name, self.only = app, source, printer, name, only
        self.lines: queue.Queue = queue.Queue()
        self.live: set[str] = set()
        self.readers: dict = {}

    def run(self) -> int:
        try:
            self.poll()
            if not self.live and not self.only:
                self.app.note(f"{self.name} has no workers yet; waiting for one to start (Ctrl-C to stop)")
            while self.only is None or self.readers[self.only].is_alive() or self.only in self.live:
                self.print_for(WORKER_POLL_S)
                self.poll()
            self.print_for(0)
            self.app.note(f"worker {self.only} is not running")
        except KeyboardInterrupt:
            pass
        return ExitCode.OK

    def poll(self) -> None:
        """Refresh the live workers and start a reader for each new one."""
        import threading

        self.live = set(self.source.live_workers())
        for worker_id in ({self.only} if self.only else self.live) - self.readers.keys():
            reader = threading.Thread(target=self.source.follow, args=(worker_id, self.lines.put, self.keep_going), daemon=True)
            self.readers[worker_id] = reader
            reader.start()

    def keep_going(self, worker_id: str) -> bool:
        return worker_id in self.live

    def print_for(self, seconds: float) -> None:
        """Print what arrives within `seconds`, each burst sorted by time."""
        import queue
        import time

        deadline = time.monotonic() + seconds
        while True:
            try:
                batch = [self.lines.get(timeout=max(0.0, deadline - time.monotonic()))]
            except queue.Empty:
                return
            while not self.lines.empty():
                batch.append(self.lines.get_nowait())
            self.printer.write(sorted(batch, key=time_key))

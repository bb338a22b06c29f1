"""`gpu doctor`: whether this account speaks what gpuctl speaks, in one read-only command.

The checks live in gpuctl.doctor; this module gathers their inputs as `deploy --plan` would
(the provider choice, the key's source, gpu.jsonc and its desired state), never starts the
local provider, and renders the report. Exit 0 when no check failed (warnings included), 6
when one did, 1 when doctor itself could not run (a usage error)."""

from __future__ import annotations

import click

from gpuctl.cli.context import AppContext
from gpuctl.commands import Flags, suggest
from gpuctl.cli.resolve import provider_options, record_option
from gpuctl.errors import doc_ref
from gpuctl.words import first_of

# The help is given, not the docstring, so that it names the doc page through doc_ref (ADR 28).
HELP = f"""Check that this account speaks what gpuctl speaks; change nothing.

    Read-only checks, each with a verdict (pass, warn, fail, skip) and a fix: the API key and
    where it came from, the control plane and the job API, the rate-limit headers, every
    answer gpuctl reads against RunPod's OpenAPI document, the GPU and data-center catalog,
    and, with a gpu.jsonc, a plan that has no difference of form alone. Exits 0 when no check
    failed, 6 when one did. With --record DIR, the exchanges are kept (secrets removed) to
    share: see {doc_ref('conformance.md')}."""


@click.command("doctor", help=HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON document on stdout.")
@provider_options
@record_option
@click.pass_obj
def doctor(app: AppContext, as_json: bool, provider: str | None, config: str | None, record: str | None) -> int:
    """`HELP`: the read-only checks of gpuctl.doctor against this account."""
    from gpuctl.cli.output import print_json
    from dataclasses import replace

    from gpuctl.catalog import load_catalog
    from gpuctl.cli.resolve import start_recording
    from gpuctl.doctor import run
    from gpuctl.errors import ExitCode

    start_recording(app, record, "gpu doctor")
    catalog = load_catalog()
    loaded, plan_input = _project(app, config, catalog)
    flags = Flags.of_run(config, provider)
    name, key, account = _account(app, provider, loaded.provider if loaded else None, flags)
    if plan_input is not None:
        plan_input = replace(plan_input, flags=flags)
    if plan_input is not None and plan_input.error is None:
        plan_input = replace(plan_input, target=name)  # the local provider plans its GPUCTL_LOCAL_* env too
    try:
        report = run(name, key, account, catalog, plan_input, _used(plan_input))
    finally:
        if account is not None:
            account.close()
    if as_json:
        print_json(app, report.document())
    else:
        _print(app, report)
    return ExitCode.OK if report.ok else ExitCode.CHECK_FAILED


def _project(app: AppContext, config: str | None, catalog):
    """(the loaded gpu.jsonc, what to plan with) when there is one; a gpu.jsonc that cannot
    be read or planned is reported by the plan check, not raised. As for `deploy --plan`, a
    `${VAR}` that is not set is an unknown value, which the plan check names, not an error."""
    from gpuctl.cli.planning import user_path
    from gpuctl.config import build_desired, load_config
    from gpuctl.doctor import PlanInput
    from gpuctl.errors import GpuctlError
    from gpuctl.model import Sensitive

    path, display = user_path(app, config)
    if config is None and not path.exists():
        return None, None
    try:
        loaded = load_config(path, (), catalog, display)
        desired = build_desired(loaded, app.environ, catalog, unknown_ok=True)  # read-only: an unset ${VAR} is unknown (ADR 24)
    except GpuctlError as error:
        return None, PlanInput(error=error)
    for spec in desired.endpoints:
        for _, value in spec.env:
            if isinstance(value, Sensitive):
                app.protect(value.value)
    return loaded, PlanInput(desired, catalog)


def _account(app: AppContext, flag: str | None, configured: str | None, flags=None):
    """(provider name, where the key came from, the provider or None). A missing key, or a
    local provider that is not running, is the key check's failure, not an error."""
    from gpuctl.cli.connect import connect
    from gpuctl.cli.planning import LocalCredentials, NoApiKey, choose_provider
    from gpuctl.doctor import KeyInfo

    from gpuctl.credentials import KeyProblem

    try:
        name, _ = choose_provider(app, flag, configured)
    except (NoApiKey, LocalCredentials) as error:
        return "runpod", KeyInfo(None, error.summary, fix=error.hint), None
    except KeyProblem as error:
        return "runpod", KeyInfo(error.source, error.summary, fix=error.hint), None
    key = _local_key(app) if name == "local" else _runpod_key(app)
    if key.source is None or key.problem:
        return name, key, None
    from gpuctl.provider.http import RetryPolicy

    account = connect(app, name, start_local=False, flags=flags)
    for client in (account.control, account.jobs):
        client.retry = RetryPolicy(attempts=3, budget=30.0)  # a diagnosis says "unreachable" in seconds, not minutes
    return name, key, account


def _runpod_key(app: AppContext):
    from gpuctl.credentials import ENV_VAR, KeyProblem, api_key, loose_permissions
    from gpuctl.doctor import KeyInfo

    try:
        key, where = api_key(app.environ)
    except KeyProblem as error:
        return KeyInfo(error.source, error.summary, fix=error.hint)
    if not key:
        return KeyInfo(None)
    loose = () if app.environ.get(ENV_VAR) else tuple(f"{p} (mode {mode:o})" for p, mode in loose_permissions(app.environ))
    return KeyInfo(where, loose=loose)


def _local_key(app: AppContext):
    from gpuctl.doctor import KeyInfo
    from gpuctl.local.client import lifecycle

    data_dir = lifecycle.default_data_dir(app.environ)
    if lifecycle.read_server_info(data_dir) is None:
        return KeyInfo(None, f"the local provider is not running (data dir {data_dir})", fix=f"start it with `{suggest('local', 'up')}`")
    return KeyInfo(f"the local provider's token in {data_dir}")


def _used(plan_input) -> set[str]:
    """The GPU types and data centers gpu.jsonc names: a check may only fail on what is used."""
    if plan_input is None or plan_input.desired is None:
        return set()
    return {i for spec in plan_input.desired.endpoints for i in (*spec.gpu_types, *spec.data_center_ids)}


def _print(app: AppContext, report) -> None:
    from gpuctl.safetext import printable

    lines = [f"gpu doctor: provider {report.provider}", ""]
    for f in report.findings:
        lines.append(f"  {f.verdict:<4}  {f.title}: {f.summary}")
        if f.problems:
            lines.append(first_of(f.problems, 20, sep="\n", more="\n          ... and {} more (--json lists them all)", each=lambda p: f"          {p.path}: {p.kind}: {p.message}"))
        lines += [f"          {d}" for d in f.details]
        if f.fix and f.verdict != "pass":
            lines.append(f"          fix: {f.fix}")
    counts = report.counts()
    verdict = "" if not report.ok else " — every check passed" if counts["pass"] == len(report.findings) else " — no check failed"
    lines += ["", ", ".join(f"{n} {v}" for v, n in counts.items() if n) + verdict]
    app.stdout.write("\n".join(printable(line) for line in lines) + "\n")

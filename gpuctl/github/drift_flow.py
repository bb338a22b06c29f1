"""`gpu github drift`: the nightly drift report as a GitHub issue. Drift opens the config's
issue (or edits the one open), no drift closes it with a comment; a failed report touches no
issue, since "could not look" is neither; nor does one read while another gpuctl command of the
project held its account lease (an apply half-way looks like drift). GitHub failing to take the issue is an error of that
config (exit_code 1), after the report is in the job summary and the outputs, and the other
configs are still reported."""

from __future__ import annotations

from dataclasses import dataclass

from gpuctl.errors import GpuctlError
from gpuctl.github import issues, runner
from gpuctl.github.authors import login
from gpuctl.github.job import Job, combined, error_markdown
from gpuctl.commands import NONE, Flags, suggest
from gpuctl.render.drift import DRIFTING_NOTES, of_another_project


# How a repository that applies gpu.jsonc through review and merge ends the drift: the report's
# own advice names the commands, which here run through the workflows. Each kind of drift gets
# what ends *it*: the apply workflow leaves an orphan running (without `prune`), never touches
# an unmanaged endpoint, and refuses to plan while one holds a block's name or a volume is
# larger in the account, so "put the account back" alone would leave such an issue open.
_PUT_BACK = ("- **Put the account back** as gpu.jsonc on the default branch says: run the apply workflow by hand (Actions, `apply.yml`, "
             "*Run workflow*, with `replan`), which applies the plan as it is now; or run {deploy} in a checkout of the "
             "default branch.{blocked}\n")
_KEEP = ("- **Keep the account's values**: run {pull} on a branch and open a pull request; its plan comment should "
         "show no change to apply. A secret or an env var only the account has is not pulled: set it where gpu.jsonc reads it (the "
         "repository secret the workflows pass) or declare it, as its row says.\n")
_BLOCKED = " It refuses to plan while {what} (below): deal with that first."
_BY_LABEL = {
    "deleted-in-account": "- **Deleted in the account** ({names}): putting the account back re-creates it with a new id and so a new URL "
                          "(tell whoever calls it); to let it go instead, remove its block from gpu.jsonc in a pull request.\n",
    "orphan": "- **Orphan** ({names}): the apply workflow leaves it running unless its `prune` input is `true`. Delete it with "
              "{deletes} in a checkout of the default branch, or keep it by putting its block back with {imports} in a pull request.\n",
    "unmanaged": "- **Unmanaged** ({names}): gpuctl never touches it, so no apply ends this. Adopt it with {imports} in a pull request, "
                 "or delete it in the console if nobody calls it. While one holds the name of a block of gpu.jsonc, the apply workflow "
                 "refuses to plan.\n",
    "unmanaged-owned": "- **Another project's** ({names}): it carries another project's marker, so adopting it would take it from that "
                       "project. If it is this gpu.jsonc's own endpoint and the project id changed, set `project_id` back as its row says, "
                       "in a pull request; if both projects really declare the name, rename this block. While one holds the name of a "
                       "block of gpu.jsonc, the apply workflow refuses to plan.\n",
    "marker-lost": "- **Marker lost** ({names}): putting the account back writes its `GPUCTL_PROJECT` marker again.\n",
    "renamed-in-account": "- **Renamed in the account** ({names}): the same endpoint, which clients call, under another name (its last-applied "
                          "record says which block it is). Putting the account back renames it to the block's name in place, keeping its id and URL; to keep "
                          "the account's name instead, {pull} renames the block in a pull request. Never delete it to end this: a new endpoint "
                          "would get a new id and URL.\n",
    "renamed-in-account-kept": "- **Renamed in the account, while its block has another endpoint** ({names}): gpuctl does not guess which "
                               "one clients call, so no apply renames or deletes it (`prune` included). Keep the one they call: delete the "
                               "other by its id (each row names both) in a checkout of the default branch; once only this one is left, putting "
                               "the account back renames it to the block's name, keeping its id and URL.\n",
    "larger-in-account": "- **Larger in the account** ({names}): a volume can only be kept: set its `volume.size_gb` to the account's size "
                         "in a pull request ({pull} writes it). Until then every plan keeps the volume at that size, with a warning.\n",
    "duplicate": "- **Duplicate** ({names}): a second endpoint with this project's marker claims the block, and the apply workflow refuses "
                 "to plan until one is left. Delete the extra one with {removes} in a checkout of the default branch (deploy keeps the oldest, "
                 "as its row says); to keep it instead, delete the other by its id the same way.\n",
}


def ending(doc: dict, flags: Flags = NONE) -> str:
    """What ends the drift of `doc` in this repository, per kind of drift: nothing when it is in
    sync. Each command carries the run's options (`flags`: its config from the repository root,
    its provider, the policy the apply workflow keeps) and names an endpoint by its id, never by
    the name the account gives it (anyone who can create an endpoint chooses that: ``a; curl ..``),
    each word shell-quoted (`gpuctl.commands.suggest`)."""
    from gpuctl.render import md

    if doc["in_sync"]:
        return ""
    by_label: dict[str, list[dict]] = {}
    for entry in doc["drift"]:
        label = entry["drift"] or ""
        if of_another_project(entry, doc["project_id"]):
            label = "unmanaged-owned"
        elif label == "renamed-in-account" and entry["action"] == "orphan":  # its block has another endpoint (ADR 59)
            label = "renamed-in-account-kept"
        by_label.setdefault(label, []).append(entry)
    fields = any(e["changes"] and e["drift"] != "larger-in-account" for e in doc["drift"])
    blockers = [w for w, labels in (("two endpoints claim a block", {"duplicate"}),
                                     ("an unmanaged endpoint may hold a block's name", {"unmanaged", "unmanaged-owned"})) if labels & set(by_label)]

    def ref(e: dict) -> str:
        """How a command names the endpoint: by its id (RunPod's shape, one endpoint even where
        two share a name), by its name only when the report has no id."""
        return e["id"] or e["name"]

    def command(*argv: str) -> str:
        return md.code(suggest(*argv, flags=flags))

    pull = command("serverless", "pull", "--write")
    lines = []
    if fields or set(by_label) & {"", "deleted-in-account", "marker-lost"}:
        lines.append(_PUT_BACK.format(deploy=command("serverless", "deploy", "-y"),
                                      blocked=_BLOCKED.format(what=" or ".join(blockers)) if blockers else ""))
    if fields:
        lines.append(_KEEP.format(pull=pull))
    for label, text in _BY_LABEL.items():
        entries = by_label.get(label)
        if not entries:
            continue
        lines.append(text.format(names=", ".join(md.code_html(e["address"]) + (f" ({md.code_html(e['id'])})" if e["id"] else "") for e in entries),
                                 deletes=" / ".join(command("serverless", "delete", ref(e)) for e in entries),
                                 removes=" / ".join(command("serverless", "delete", ref(e), "--force") for e in entries),
                                 imports=" / ".join(command("serverless", "import", ref(e), "--write") for e in entries), pull=pull))
    unproven = [n for n in doc.get("notes") or () if n.get("code") in DRIFTING_NOTES]
    if unproven:  # review 7, R7-2: kept, never pruned; a person decides
        lines.append(f"- **Declared by no gpu.jsonc in this checkout** ({', '.join(md.code_html(n['address']) for n in unproven)}): last applied from "
                     "a gpu.jsonc this checkout lacks, with nothing to show it left the repository, so it is never pruned. Deploy that "
                     "gpu.jsonc from a checkout that has it, or, if it is gone, delete the endpoint with the command its note above gives.\n")
    return ("### Ending this drift\n\nThis repository applies gpu.jsonc through review and merge, so end the drift there:\n\n" + "".join(lines)
            + "\nThe next drift run after that closes this issue. Closing it by hand while the account still differs makes the next run "
              "open a new one.\n\n")


def drift_items(doc: dict) -> list[str]:
    """What drifts, one line per resource and per field (`endpoint.echo: workers.min`,
    `endpoint.old: orphan`), without values: the set whose change is worth a notification."""
    from gpuctl.render.drift import LABEL_WORDS

    out = []
    for entry in doc["drift"]:
        if entry["drift"] or not entry["changes"]:
            out.append(f"{entry['address']}: {LABEL_WORDS.get(entry['drift'] or '', entry['action'])}")
        out += [f"{entry['address']}: {c['path']}" for c in entry["changes"]]
    out += [f"{n['address']}: declared by no gpu.jsonc in this checkout" for n in doc.get("notes") or () if n.get("code") in DRIFTING_NOTES]
    return sorted(set(out))


@dataclass(frozen=True)
class DriftOptions:
    configs: tuple[str, ...]
    provider: str | None
    label: str
    issue: bool
    policy: str | None = None  # the policy the apply workflow keeps: only named in the deploy commands the issue suggests


def flags(job: Job, config: str, opts: DriftOptions) -> Flags:
    """The options the commands of a config's report carry, as a person runs them from the
    repository root: its config and policy by their paths there (`Job.key`), the provider the
    workflow named."""
    return job.flags(config, opts.provider, opts.policy)


def run(job: Job, opts: DriftOptions) -> int:
    job.one_project_per_config(opts.configs)  # before anything is read from the account or GitHub (ADR 35)
    read = [(config, _read(job, config, opts)) for config in opts.configs]
    return job.report(lambda: _report(job, opts, read))


def _read(job: Job, config: str, opts: DriftOptions) -> dict | GpuctlError:
    try:
        job.readable(config)  # before anything reads it (ADR 50)
        return runner.drift_document(job.app, config, opts.provider, flags=flags(job, config, opts), repository=job.actions.repository)
    except GpuctlError as exc:
        return runner.setup_advice(exc)


def _report(job: Job, opts: DriftOptions, read: list[tuple[str, dict | GpuctlError]]) -> int:
    codes, lines, drifted = [], [], False
    for config, doc in read:
        code, line, drift = _drift_one(job, config, opts, doc)
        codes.append(code)
        lines.append(line)
        drifted = drifted or drift
        job.app.stdout.write(line + "\n")
    code = combined(codes)
    job.outputs({"has_changes": "true" if drifted else "false", "exit_code": str(code), "plan_json": "", "summary": "\n".join(lines)})
    return 1 if code == 1 else 0


def _untouched(job: Job, key: str, opts: DriftOptions) -> str:
    """For the person paged by a failed report: what it means for the drift issue, which it
    left as it was, and what to do."""
    if not opts.issue:
        return "\nOnce the cause is fixed, re-run this workflow job.\n"
    try:
        issue = issues.find_open(job.github, key, opts.label)
        where = f"issue #{issue['number']} still says what the last report found" if issue else "no drift issue is open"
    except GpuctlError:
        where = "the drift issue, if one is open, still says what the last report found"
    return ("\nNo drift issue was opened, changed or closed: the report could not be made, which is neither drift nor its end; "
            f"{where}. Once the cause is fixed, re-run this workflow job.\n")


def _drift_one(job: Job, config: str, opts: DriftOptions, doc: dict | GpuctlError) -> tuple[int, str, bool]:
    """(exit code, summary line, whether the account drifted) for one config, from its drift
    document (or the error that kept it from being made)."""
    key = job.key(config)
    if isinstance(doc, GpuctlError):
        exc = doc
        job.app.note(f"{key}: {exc.format()}")
        job.summary(error_markdown(f"gpuctl could not report drift for `{key}`", exc.format()) + _untouched(job, key, opts)
                    + job.footer("Checked", key))
        return 1, f"{key}: error: {exc.summary}", False
    # Each gpu.jsonc key links to its line at the commit the run checked out (GITHUB_SHA), as the plan comment's do at its head.
    said = flags(job, config, opts)
    source = job.source_url(key, job.actions.sha)
    markdown = runner.drift_markdown(doc, source, said) + ending(doc, said)
    footer = job.footer("Checked", key)
    job.summary(markdown + footer)
    found = "in sync" if doc["in_sync"] else "drift"
    if not opts.issue:
        return (0 if doc["in_sync"] else 2), f"{key}: {found}", not doc["in_sync"]
    if doc.get("applying"):
        # Read half-way through another command's apply: its unwritten changes look like drift
        # (and a finished part like its end). Not a report to open, edit or close an issue on.
        line = (f"{key}: {found}, read while {doc['applying']} held the project's account lease; "
                "no issue opened, changed or closed: the next run decides")
        job.app.note(line)
        return (0 if doc["in_sync"] else 2), line, not doc["in_sync"]
    impostors: list[dict] = []
    url = job.actions.run_url()
    link = f"[run {job.actions.run_id}]({url})" if url else ""
    # The issue the project left under the config's old path, when the config moved (ADR 43).
    moved = issues.Moved(doc["project_id"], job.gone, job.clean, link)
    try:
        if doc["in_sync"]:
            note = f"The account matches `{key}` again{f' ({link})' if link else ''}; closing."
            closed = issues.resolve(job.github, key, opts.label, note, impostors, moved)
            return 0, f"{key}: in sync" + (f"; closed issue {', '.join(f'#{n}' for n in closed)}" if closed else "") + moved.said(), False
        title = issues.issue_title(doc["project_id"], key)
        lasting = runner.drift_markdown(runner.lasting(doc), source, said) + ending(doc, said)  # the issue changes with the drift only
        _number, what = issues.report(job.github, key, opts.label, title, job.clean(lasting), impostors,
                                     [job.clean(i) for i in drift_items(doc)], link, footer=job.clean(footer), moved=moved,
                                     project=doc["project_id"])
        return 2, f"{key}: drift; {what}" + moved.said(), True
    except GpuctlError as exc:  # the report stands; the issue that carries it does not
        what = "close" if doc["in_sync"] else "open or update"
        job.app.note(f"{key}: {found}, but the drift issue could not be {'closed' if doc['in_sync'] else 'opened or updated'}: {exc.format()}")
        job.summary(error_markdown(f"gpuctl could not {what} the drift issue for `{key}`", exc.format()))
        return 1, f"{key}: {found}; error: the drift issue: {exc.summary}", not doc["in_sync"]
    finally:
        for error in moved.errors:
            job.app.note(f"warning: {key}: the drift issue its project left under a config that is gone could not be closed, {error}; "
                         "the next run tries again")
        for issue in impostors:
            job.app.note(f"warning: {key}: issue #{issue['number']} by {login(issue)} starts with gpuctl's marker but gpuctl did not open it; "
                         "it was left alone")

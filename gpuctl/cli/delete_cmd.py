"""`gpu serverless delete` and `gpu serverless template delete`: deliberate deletes.

Both show what will go and ask first (`-y`/`--yes` or `--force` skips the question; without a terminal and
without either they refuse). Network volumes are never deleted. A NAME or ID that is not
in the account exits 1 with a did-you-mean, unless `--ignore-not-found`."""

from __future__ import annotations

import click

from gpuctl.cli.context import AppContext
from gpuctl.cli.lease_options import lease_options
from gpuctl.cli.resolve import provider_options

IGNORE_NOT_FOUND = "Exit 0 with a one-line note when NAME|ID is not in the account (for scripts that may repeat a delete)."


@click.command("delete")
@click.argument("ref", metavar="[NAME|ID]", required=False)
@click.option("--force", is_flag=True, help="Do not ask; also allows deleting an endpoint of another project named by its id.")
@click.option("-y", "--yes", is_flag=True, help="Do not ask (as deploy -y); unlike --force, allows nothing else.")
@click.option("--all", "pick_all", is_flag=True, help="Pick from every endpoint in the account, not only this project's.")
@click.option("--ignore-not-found", is_flag=True, help=IGNORE_NOT_FOUND)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@lease_options("the endpoint's project")
@provider_options
@click.pass_obj
def delete(app: AppContext, ref: str | None, force: bool, yes: bool, pick_all: bool, ignore_not_found: bool, as_json: bool, lock_timeout: float, break_lock: bool,
           provider: str | None, config: str | None) -> int:
    """Delete an endpoint (network volumes are always kept).

    The delete runs under the account lease of the endpoint's project, as deploy does, so it
    never lands in the middle of a deploy or rollback of that project."""
    from gpuctl.cli import deleting
    from gpuctl.cli.resolve import open_target

    from gpuctl.cli.output import result_document

    so_far = deleting.Deleted(volumes=True)
    with result_document(app, as_json, so_far.document):
        target = open_target(app, provider, config)
        try:
            return deleting.delete_endpoint(app, target, ref, force=force, ask=not (force or yes), pick_all=pick_all, as_json=as_json, ignore_not_found=ignore_not_found,
                                            lock_timeout=lock_timeout, break_lock=break_lock, so_far=so_far)
        finally:
            target.close()


@click.group("template")
def template_group() -> None:
    """Manage serverless templates."""


@template_group.command("delete")
@click.argument("ref", metavar="[NAME|ID]", required=False)
@click.option("--force", "-y", "--yes", is_flag=True, help="Do not ask.")
@click.option("--ignore-not-found", is_flag=True, help=IGNORE_NOT_FOUND)
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@provider_options
@click.pass_obj
def template_delete(app: AppContext, ref: str | None, force: bool, ignore_not_found: bool, as_json: bool, provider: str | None, config: str | None) -> int:
    """Delete a user-owned serverless template, named by its name or id; refuses one still used
    by an endpoint."""
    from gpuctl.cli import deleting
    from gpuctl.cli.resolve import open_target

    from gpuctl.cli.output import result_document

    so_far = deleting.Deleted(volumes=False)
    with result_document(app, as_json, so_far.document):
        target = open_target(app, provider, config)
        try:
            return deleting.delete_template(app, target, ref, force=force, as_json=as_json, ignore_not_found=ignore_not_found, so_far=so_far)
        finally:
            target.close()

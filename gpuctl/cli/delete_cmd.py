"""`gpu serverless delete` and `gpu serverless template delete`: deliberate deletes.

Both show what will go and ask first (`--force` skips the question; without a terminal and
without `--force` they refuse). Network volumes are never deleted. Deleting something already
gone is success with a note."""

from __future__ import annotations

import click

from gpuctl.cli.context import AppContext
from gpuctl.cli.resolve import provider_options


@click.command("delete")
@click.argument("ref", metavar="[NAME|ID]", required=False)
@click.option("--force", is_flag=True, help="Do not ask; also allows deleting an endpoint of another project named by its id.")
@click.option("--all", "pick_all", is_flag=True, help="Pick from every endpoint in the account, not only this project's.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@provider_options
@click.pass_obj
def delete(app: AppContext, ref: str | None, force: bool, pick_all: bool, as_json: bool, provider: str | None, config: str | None) -> int:
    """Delete an endpoint (network volumes are always kept)."""
    from gpuctl.cli import deleting
    from gpuctl.cli.resolve import open_target

    target = open_target(app, provider, config)
    try:
        return deleting.delete_endpoint(app, target, ref, force=force, pick_all=pick_all, as_json=as_json)
    finally:
        target.close()


@click.group("template")
def template_group() -> None:
    """Manage serverless templates."""


@template_group.command("delete")
@click.argument("template_id", metavar="[ID]", required=False)
@click.option("--force", is_flag=True, help="Do not ask.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON on stdout.")
@provider_options
@click.pass_obj
def template_delete(app: AppContext, template_id: str | None, force: bool, as_json: bool, provider: str | None, config: str | None) -> int:
    """Delete a user-owned serverless template; refuses one still used by an endpoint."""
    from gpuctl.cli import deleting
    from gpuctl.cli.resolve import open_target

    target = open_target(app, provider, config)
    try:
        return deleting.delete_template(app, target, template_id, force=force, as_json=as_json)
    finally:
        target.close()

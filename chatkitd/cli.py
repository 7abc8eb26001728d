"""The ``chatkitd`` command line. ``serve`` is the default command."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import click

from chatkitd.cli_db import with_db
from chatkitd.settings import Settings
from chatkitd.store import keys
from chatkitd.store.db import Database


class DefaultGroup(click.Group):
    """A group that runs ``serve`` when no command is named."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if not args or args[0].startswith("-") and args[0] not in ("--help", "-h"):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup)
@click.version_option(package_name="chatkitd")
def main() -> None:
    """chatkitd: self-hosted ChatKit."""


@main.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to bind (default 8000).")
def serve(host: str | None, port: int | None) -> None:
    """Run the server. Migrations run first."""
    import uvicorn

    from chatkitd.app import create_app

    overrides: dict[str, Any] = {k: v for k, v in {"host": host, "port": port}.items() if v is not None}
    settings = Settings(**overrides)
    if settings.api_key is None:
        created = with_db(_first_admin_key)
        if created:
            click.echo(
                "No admin key was configured, so one was created for the 'default' project.\n"
                f"It is shown only this once:\n\n    {created}\n"
            )
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_level=settings.log_level,
        proxy_headers=True,
    )


async def _first_admin_key(db: Database) -> str | None:
    if await keys.count_active_keys(db):
        return None
    token, _ = await keys.create_key(db, keys.DEFAULT_PROJECT, name="first key")
    return token


@main.command("migrate")
def migrate_command() -> None:
    """Bring the database schema up to date."""
    with_db(lambda db: asyncio.sleep(0))
    click.echo("Database is up to date.")


@main.group("keys")
def keys_group() -> None:
    """Manage admin keys."""


@keys_group.command("create")
@click.option("--project", default=keys.DEFAULT_PROJECT, show_default=True)
@click.option("--name", default=None, help="A label to tell keys apart.")
def keys_create(project: str, name: str | None) -> None:
    """Create an admin key for PROJECT and print it (shown only once)."""
    token, record = with_db(lambda db: keys.create_key(db, project, name))
    click.echo(token)
    click.echo(f"# id {record.id}, project {project}", err=True)


@keys_group.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
def keys_list(include_revoked: bool) -> None:
    """List admin keys (never the keys themselves)."""
    records = with_db(lambda db: keys.list_keys(db, include_revoked))
    for r in records:
        created = dt.datetime.fromtimestamp(r.created_at, dt.UTC).strftime("%Y-%m-%d %H:%M")
        state = "revoked" if r.revoked_at else "active"
        click.echo(f"{r.id}\t{r.project_name}\t…{r.hint}\t{created}\t{state}\t{r.name or ''}")


@keys_group.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke the key with id KEY_ID."""
    if not with_db(lambda db: keys.revoke_key(db, key_id)):
        raise click.ClickException(f"No active key with id {key_id}")
    click.echo(f"Revoked {key_id}")


def _register_subcommands() -> None:
    # Imported late: these import the registry and tracing, which `serve` alone does not need.
    from chatkitd.cli_workflows import traces_group, workflows_group

    main.add_command(workflows_group)
    main.add_command(traces_group)


_register_subcommands()

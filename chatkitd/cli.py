"""The ``chatkitd`` command line. ``serve`` is the default command.

Only click is imported at start; each command imports what it uses when it
runs, so ``chatkitd --help`` and ``chatkitd keys list`` do not pay for the
Agents SDK, the OpenAI types or the web app.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from chatkitd.cli_data import export_command, retention_group
from chatkitd.cli_database import current_settings, data_options, is_new, location, when, with_database
from chatkitd.cli_workflows import PROJECT, traces_group, workflows_group

if TYPE_CHECKING:
    from chatkitd.settings import Settings
    from chatkitd.store.db import Database


class DefaultGroup(click.Group):
    """A group that runs ``serve`` when no command is named (``chatkitd --port 9000`` serves)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        own = {"--help", "-h", *(opt for param in self.params for opt in param.opts)}
        if not args or args[0].startswith("-") and args[0] not in own:
            args = ["serve", *args]
        return super().parse_args(ctx, args)


@click.group(cls=DefaultGroup, context_settings={"help_option_names": ["--help", "-h"]})
@click.version_option(package_name="chatkitd", prog_name="chatkitd", message="%(prog)s %(version)s")
def main() -> None:
    """chatkitd: self-hosted ChatKit.

    Every command works on the data dir ./.chatkitd of the current directory
    unless told otherwise: pass --data-dir or --database-url, or set
    CHATKITD_DATA_DIR or CHATKITD_DATABASE_URL, to work on a server's data from
    anywhere.
    """


@main.command()
@click.option("--host", default=None, help="Address to bind (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to bind (default 8000).")
@data_options
def serve(host: str | None, port: int | None) -> None:
    """Run the server. Migrations run first, unless CHATKITD_MIGRATE_ON_START=false."""
    settings = current_settings(host=host, port=port)
    _check_serving(settings)
    new = " (new)" if is_new(settings) else ""
    click.echo(f"chatkitd: data in {location(settings)}{new}", err=True)
    migrate = settings.migrate_on_start
    if not migrate:  # refuse a schema `chatkitd migrate` has not brought up to date, saying so
        with_database(_nothing, settings=settings, migrate=False)
    if settings.api_key is None:
        created = with_database(_first_admin_key, create=True, settings=settings, migrate=migrate)
        if created:
            click.echo(
                "No admin key was configured, so one was created for the 'default' project.\n"
                f"It is shown only this once:\n\n    {created}\n"
            )
    import uvicorn

    from chatkitd import logs
    from chatkitd.app import create_app
    from chatkitd.serving import uvicorn_config
    from chatkitd.settings import SettingsError

    try:
        app = create_app(settings)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    logs.configure(settings.log_level, json_lines=settings.log_format == "json")
    uvicorn.Server(uvicorn_config(app, settings)).run()


def _check_serving(settings: Settings) -> None:
    from chatkitd.serving import check_address
    from chatkitd.settings import SettingsError, check_serving

    try:
        check_serving(settings)
        check_address(settings)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


async def _nothing(db: Database) -> None:
    return None


async def _first_admin_key(db: Database) -> str | None:
    from chatkitd.store import keys

    if await keys.count_active_keys(db):
        return None
    token, _ = await keys.create_key(db, keys.DEFAULT_PROJECT, name="first key")
    return token


@main.command("migrate")
@data_options
def migrate_command() -> None:
    """Bring the database schema up to date (creating the database if there is none)."""
    import asyncio

    settings = current_settings()
    new = is_new(settings)
    with_database(lambda db: asyncio.sleep(0), create=True, settings=settings)
    click.echo(f"{'New database' if new else 'Database'} at {location(settings)} is up to date.")


@main.group("keys")
def keys_group() -> None:
    """Manage admin keys."""


@keys_group.command("create")
@PROJECT
@click.option("--name", default=None, help="A label to tell keys apart.")
@data_options
def keys_create(project: str, name: str | None) -> None:
    """Create an admin key for PROJECT and print it (shown only once)."""
    from chatkitd.store import keys

    settings = current_settings()
    token, record = with_database(lambda db: keys.create_key(db, project, name), settings=settings)
    click.echo(token)
    click.echo(f"# id {record.id}, project {project}, in {location(settings)}", err=True)


@keys_group.command("list")
@click.option("--all", "include_revoked", is_flag=True, help="Include revoked keys.")
@data_options
def keys_list(include_revoked: bool) -> None:
    """List admin keys (never the keys themselves)."""
    from chatkitd.store import keys

    records = with_database(lambda db: keys.list_keys(db, include_revoked))
    for r in records:
        created = when(r.created_at)
        state = "revoked" if r.revoked_at else "active"
        click.echo(f"{r.id}\t{r.project_name}\t…{r.hint}\t{created}\t{state}\t{r.name or ''}")


@keys_group.command("revoke")
@click.argument("key_id")
@data_options
def keys_revoke(key_id: str) -> None:
    """Revoke the key with id KEY_ID."""
    from chatkitd.store import keys

    settings = current_settings()
    if not with_database(lambda db: keys.revoke_key(db, key_id), settings=settings):
        raise click.ClickException(f"No active key with id {key_id} in {location(settings)}")
    click.echo(f"Revoked {key_id}")


main.add_command(workflows_group)
main.add_command(traces_group)
main.add_command(retention_group)
main.add_command(export_command)

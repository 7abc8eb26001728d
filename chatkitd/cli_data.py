"""``chatkitd retention`` and ``chatkitd export``: the data-protection commands.

An operator answering "delete what nobody touched for 90 days" sets a
project's policy and lets the server (or cron) sweep; one answering "send me
everything you hold about me" runs ``export --user``. Both work on the
server's data like every other command (``--data-dir``/``--database-url``).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import click

from chatkitd.cli_database import current_settings, data_options, existing_project_id, location, with_database
from chatkitd.cli_workflows import PROJECT

if TYPE_CHECKING:
    from chatkitd.settings import Settings
    from chatkitd.store.db import Database
    from chatkitd.store.threads import ThreadStore


async def _project_id(db: Database, project: str) -> str:
    found = await existing_project_id(db, project)
    assert found is not None  # existing_project_id raises for a missing project
    return found


def _thread_store(db: Database, settings: Settings) -> ThreadStore:
    from chatkitd.blobs import open_blobs
    from chatkitd.store.threads import ThreadStore

    # The server's file store (CHATKITD_STORAGE_URL): a thread's files go with it.
    return ThreadStore(db, open_blobs(settings.storage_url, settings.blob_dir))


@click.group("retention")
def retention_group() -> None:
    """Delete threads idle for N days, with their files, per project."""


@retention_group.command("set")
@click.argument("days", type=click.IntRange(min=1))
@PROJECT
@data_options
def retention_set(days: int, project: str) -> None:
    """Keep PROJECT's threads for DAYS days after their last activity."""
    from chatkitd.store import retention

    async def work(db: Database) -> None:
        await retention.set_policy(db, await _project_id(db, project), days)

    settings = current_settings()
    with_database(work, settings=settings)
    click.echo(
        f"Project {project}: threads idle for more than {days} days are deleted ({location(settings)})."
    )


@retention_group.command("clear")
@PROJECT
@data_options
def retention_clear(project: str) -> None:
    """Keep PROJECT's threads for ever (the default)."""
    from chatkitd.store import retention

    async def work(db: Database) -> None:
        await retention.set_policy(db, await _project_id(db, project), None)

    with_database(work)
    click.echo(f"Project {project}: threads are kept for ever.")


@retention_group.command("list")
@data_options
def retention_list() -> None:
    """Each project's policy."""
    from chatkitd.store import retention

    for policy in with_database(retention.list_policies):
        click.echo(f"{policy.project_name}\t{policy.idle_days} days")


@retention_group.command("run")
@click.option("--project", default=None, help="Sweep only this project (by name).")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted, delete nothing.")
@data_options
def retention_run(project: str | None, dry_run: bool) -> None:
    """Delete, now, every thread a policy no longer keeps."""
    from chatkitd.store import retention

    settings = current_settings()

    async def work(db: Database) -> list[retention.Swept]:
        project_id = await _project_id(db, project) if project is not None else None
        store = _thread_store(db, settings)
        try:
            return await retention.sweep(db, store, project_id, dry_run)
        finally:
            await store.blobs.close()

    verb = "would delete" if dry_run else "deleted"
    for result in with_database(work, settings=settings):
        click.echo(
            f"{result.project_name}: {verb} {len(result.thread_ids)} threads idle for more than "
            f"{result.idle_days} days"
        )
        for thread_id in result.thread_ids:
            click.echo(f"  {thread_id}")


@click.command("export")
@click.option("--user", "user", required=True, help="The user, as sessions name them.")
@PROJECT
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Write here instead of standard output.",
)
@data_options
def export_command(user: str, project: str, output: Path | None) -> None:
    """Write USER's threads, items, attachments and feedback as JSON lines."""
    from chatkitd.store.user_export import user_records

    async def work(db: Database) -> int:
        project_id = await _project_id(db, project)
        out: TextIO = output.open("w", encoding="utf-8") if output is not None else sys.stdout
        written = 0
        try:
            async for record in user_records(db, project_id, user):
                out.write(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
                written += 1
        finally:
            if output is not None:
                out.close()
        return written

    written: Any = with_database(work)
    where = str(output) if output is not None else "standard output"
    click.echo(f"# {written} records of user {user!r} in project {project} to {where}", err=True)

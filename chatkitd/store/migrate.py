"""Bring a database's schema up to date with the Alembic migrations shipped in the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from chatkitd.store.db import Database
from chatkitd.store.projection_version import check_version

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


async def upgrade(db: Database, revision: str = "head") -> None:
    """Migrate to ``revision``; at the head, also check the stored REST shapes are this chatkitd's."""
    config = alembic_config()

    def run(sync_connection) -> None:  # noqa: ANN001
        config.attributes["connection"] = sync_connection
        command.upgrade(config, revision)
        if revision == "head":
            check_version(sync_connection)

    async with db.write() as conn:
        await conn.run_sync(run)


class SchemaOutOfDate(RuntimeError):
    """The database's schema is not the one this chatkitd was built for, and it may not migrate it."""


async def check_current(db: Database) -> None:
    """Refuse a database whose schema is not this chatkitd's head, changing nothing.

    For replicas started with ``CHATKITD_MIGRATE_ON_START=false``: ``chatkitd migrate`` runs once
    before them, so N replicas never race to migrate, and a replica of a newer release started
    before it did waits for it rather than running half an upgrade.
    """
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    wanted = set(ScriptDirectory.from_config(alembic_config()).get_heads())

    def run(sync_connection) -> None:  # noqa: ANN001
        current = set(MigrationContext.configure(sync_connection).get_current_heads())
        if current != wanted:
            found = ", ".join(sorted(current)) or "none"
            raise SchemaOutOfDate(
                f"The database's schema is at revision {found} and this chatkitd needs "
                f"{', '.join(sorted(wanted))}: run `chatkitd migrate` first "
                "(CHATKITD_MIGRATE_ON_START=false, so the server does not migrate by itself)."
            )
        check_version(sync_connection)

    async with db.read() as conn:
        await conn.run_sync(run)


async def is_set_up(db: Database) -> bool:
    """Whether migrations ever ran on this database (an empty one has no ``alembic_version``)."""
    from sqlalchemy import inspect

    async with db.read() as conn:
        return await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))

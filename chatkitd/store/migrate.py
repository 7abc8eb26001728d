"""Bring a database's schema up to date with the Alembic migrations shipped in the package."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from chatkitd.store import projection
from chatkitd.store.db import Database

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
            projection.check_version(sync_connection)

    async with db.write() as conn:
        await conn.run_sync(run)


async def is_set_up(db: Database) -> bool:
    """Whether migrations ever ran on this database (an empty one has no ``alembic_version``)."""
    from sqlalchemy import inspect

    async with db.read() as conn:
        return await conn.run_sync(lambda sync: inspect(sync).has_table("alembic_version"))

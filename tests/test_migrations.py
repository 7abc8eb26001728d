"""The Alembic migrations build exactly the schema ``tables.py`` declares, on both databases."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from chatkitd.store.tables import metadata


def test_migrated_schema_matches_the_tables(server):
    async def diff():
        async with server.platform.db.read() as conn:
            return await conn.run_sync(lambda c: compare_metadata(MigrationContext.configure(c), metadata))

    assert server.run(diff()) == []

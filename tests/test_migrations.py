"""Migrations: they build exactly the schema ``tables.py`` declares, on both databases,
and a database made by an older release keeps working after ``upgrade``.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from chatkit.types import ThreadItem, ThreadMetadata
from sqlalchemy import insert, select

from chatkitd.blobs import FileBlobStore
from chatkitd.context import RequestContext
from chatkitd.knowledge import tables as knowledge_tables
from chatkitd.store import keys, migrate, tables
from chatkitd.store.db import Database
from chatkitd.store.paging import Window
from chatkitd.store.rest_pages import RestPages
from chatkitd.store.tables import metadata
from chatkitd.store.threads import ThreadStore, _item_json, _metadata_json
from tests.support.seed import assistant_message, user_message
from tests.support.servers import fresh_database


def _declared(name, type_, parent_names) -> bool:  # noqa: ANN001
    """Leave out what migrations create beside the declared tables (full-text indexes)."""
    if type_ == "table":
        return name not in knowledge_tables.OUTSIDE_METADATA_TABLES
    if type_ == "column":
        return (parent_names.get("table_name"), name) not in knowledge_tables.OUTSIDE_METADATA_COLUMNS
    if type_ == "index":
        return name not in knowledge_tables.OUTSIDE_METADATA_INDEXES
    return True


def test_migrated_schema_matches_the_tables(server):
    async def diff():
        async with server.platform.db.read() as conn:
            return await conn.run_sync(
                lambda c: compare_metadata(
                    MigrationContext.configure(c, opts={"include_name": _declared}), metadata
                )
            )

    assert server.run(diff()) == []


# Revision 0003 adds the stored REST shapes; rows written before it must be
# listed by the REST API exactly as rows written after it.
@pytest.fixture(params=["sqlite", "postgres"])
def fresh_url(request, tmp_path):
    with fresh_database(request.param, tmp_path / "old.db", "chatkitd_migrate") as url:
        yield url


def test_rows_from_before_the_rest_projection_are_listed_after_upgrade(fresh_url, tmp_path):
    async def scenario():
        db = Database(fresh_url)
        try:
            await migrate.upgrade(db, "0002")
            project_id = await keys.ensure_project(db, "default")
            store = ThreadStore(db, FileBlobStore(tmp_path / "blobs"))
            context = RequestContext(project_id=project_id, user="old_user")
            thread = ThreadMetadata(
                id=store.generate_thread_id(context), created_at=datetime.now(), title="Old"
            )
            items: list[ThreadItem] = [
                user_message(store, thread, context, "written before 0003"),
                assistant_message(store, thread, context, "so was this"),
            ]
            # Written the way release 0002 wrote them: no REST shape column yet.
            async with db.write() as conn:
                await conn.execute(
                    insert(tables.threads).values(
                        id=thread.id,
                        project_id=project_id,
                        user="old_user",
                        session_id=None,
                        created_at=1_700_000_000.0,
                        updated_at=1_700_000_000.0,
                        title="Old",
                        status="active",
                        data=_metadata_json(thread),
                    )
                )
                for item in items:
                    await conn.execute(
                        insert(tables.items).values(
                            id=item.id,
                            thread_id=thread.id,
                            type=item.type,
                            created_at=item.created_at.timestamp(),
                            data=_item_json(item),
                        )
                    )
            await migrate.upgrade(db)
            pages = RestPages(db)
            threads = json.loads(await pages.threads(project_id, Window(limit=10)))
            listed = json.loads(await pages.items(project_id, thread.id, Window(limit=10, order="asc")))
            async with db.read() as conn:
                missing = (
                    await conn.execute(select(tables.items.c.id).where(tables.items.c.rest.is_(None)))
                ).all()
            return thread, items, threads, listed, missing
        finally:
            await db.dispose()

    thread, items, threads, listed, missing = asyncio.run(scenario())
    assert threads["data"] == [
        {
            "id": thread.id,
            "object": "chatkit.thread",
            "created_at": 1_700_000_000,
            "status": {"type": "active"},
            "title": "Old",
            "user": "old_user",
        }
    ]
    shapes = listed["data"]
    assert [s["id"] for s in shapes] == [item.id for item in items]
    assert [s["type"] for s in shapes] == ["chatkit.user_message", "chatkit.assistant_message"]
    assert shapes[0]["content"] == [{"type": "input_text", "text": "written before 0003"}]
    assert shapes[1]["content"][0]["text"] == "so was this"
    assert listed["has_more"] is False
    assert missing == []

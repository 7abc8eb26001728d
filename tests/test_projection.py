"""The stored REST shapes carry a version: a change to the mapping must be a migration.

The REST shape of one item of every kind (and of threads in every status) is
recorded in ``tests/data/rest_projection_v{VERSION}.json``. When the mapping
in ``chatkitd.store.rest_shapes`` changes, the first test here fails: bump
``chatkitd.store.projection.VERSION``, add a migration that calls
``projection.reproject_all``, and record the new shapes by running this file
with ``CHATKITD_RECORD_PROJECTION=1`` (it only ever writes a version's file
that does not exist yet).
"""

from __future__ import annotations

import asyncio
import json
import os
import typing
from pathlib import Path
from typing import Any

import chatkit.types
import pytest
from chatkit.types import ThreadItem, ThreadMetadata
from pydantic import TypeAdapter
from sqlalchemy import update

from chatkitd.blobs import FileBlobStore
from chatkitd.store import migrate, projection, tables
from chatkitd.store.db import Database
from chatkitd.store.paging import Window
from chatkitd.store.rest_pages import RestPages
from chatkitd.store.threads import ThreadStore
from tests.support import seed

RECORDED = Path(__file__).parent / "data" / f"rest_projection_v{projection.VERSION}.json"
AT = "2026-11-30T12:00:00Z"
BASE = {"thread_id": "cthr_golden", "created_at": AT}
_items: TypeAdapter[ThreadItem] = TypeAdapter(ThreadItem)

ITEMS: dict[str, dict[str, Any]] = {
    "user_message": {
        "type": "user_message",
        "id": "cthi_user",
        "content": [
            {"type": "input_text", "text": "What is in these files?"},
            {"type": "input_tag", "id": "tag_1", "text": "Ada", "data": {"k": "v"}},
        ],
        "quoted_text": "the part I mean",
        "attachments": [
            {"type": "file", "id": "atc_file", "name": "notes.txt", "mime_type": "text/plain"},
            {
                "type": "image",
                "id": "atc_image",
                "name": "cat.png",
                "mime_type": "image/png",
                "preview_url": "https://chat.example.com/v1/chatkit/files/atc_image/preview?sig=x",
            },
        ],
        "inference_options": {"model": "gpt-4.1", "tool_choice": {"id": "lookup"}},
    },
    "user_message_plain": {
        "type": "user_message",
        "id": "cthi_plain",
        "content": [{"type": "input_text", "text": "hi"}],
        "inference_options": {},
    },
    "assistant_message": {
        "type": "assistant_message",
        "id": "msg_answer",
        "content": [
            {
                "type": "output_text",
                "text": "See the docs, the report and Ada.",
                "annotations": [
                    {
                        "source": {"type": "url", "title": "Docs", "url": "https://example.com/docs"},
                        "index": 1,
                    },
                    {"source": {"type": "file", "title": "Report", "filename": "report.pdf"}, "index": 2},
                    {"source": {"type": "entity", "title": "Ada", "id": "ent_1"}, "index": 3},
                ],
            },
            {"type": "output_text", "text": "Second part.", "annotations": []},
        ],
    },
    "widget": {
        "type": "widget",
        "id": "cthi_widget",
        "widget": {"type": "Card", "children": [{"type": "Text", "value": "Hello widget"}]},
    },
    "client_tool_call_pending": {
        "type": "client_tool_call",
        "id": "cthi_call",
        "status": "pending",
        "call_id": "call_1",
        "name": "get_location",
        "arguments": {"precise": True, "n": 2},
    },
    "client_tool_call_completed": {
        "type": "client_tool_call",
        "id": "cthi_call_done",
        "status": "completed",
        "call_id": "call_2",
        "name": "get_location",
        "arguments": {},
        "output": {"city": "Paris"},
    },
    "task_custom": {
        "type": "task",
        "id": "cthi_task",
        "task": {"type": "custom", "title": "Searching", "content": "Looked in three places"},
    },
    "task_thought": {
        "type": "task",
        "id": "cthi_thought",
        "task": {"type": "thought", "title": "Hmm", "content": "x"},
    },
    "workflow": {
        "type": "workflow",
        "id": "cthi_workflow",
        "workflow": {
            "type": "reasoning",
            "tasks": [
                {"type": "thought", "title": "Thinking", "content": "Considered options"},
                {"type": "custom", "title": "Step"},
            ],
        },
    },
    "generated_image": {
        "type": "generated_image",
        "id": "cthi_image",
        "image": {"id": "img_1", "url": "https://example.com/i.png"},
    },
    "structured_input": {
        "type": "structured_input",
        "id": "cthi_question",
        "inputs": [{"type": "freeform", "id": "q1", "question": "Why?"}],
    },
    "hidden_context_item": {"type": "hidden_context_item", "id": "cthi_hidden", "content": {"secret": 1}},
    "sdk_hidden_context": {"type": "sdk_hidden_context", "id": "cthi_sdk", "content": "sdk context"},
    "end_of_turn": {"type": "end_of_turn", "id": "cthi_end"},
}

THREADS: dict[str, dict[str, Any]] = {
    "active": {"id": "cthr_active", "created_at": AT, "title": "Hello"},
    "locked": {"id": "cthr_locked", "created_at": AT, "status": {"type": "locked", "reason": "Done"}},
    "closed": {"id": "cthr_closed", "created_at": AT, "title": None, "status": {"type": "closed"}},
}


def shapes() -> dict[str, Any]:
    return {
        "threads": {
            name: json.loads(
                projection.thread_rest(ThreadMetadata.model_validate(data), "user_1", 1795000000.5)
            )
            for name, data in THREADS.items()
        },
        "items": {
            name: (
                json.loads(rest)
                if (rest := projection.item_rest(_items.validate_python({**BASE, **data})))
                else None
            )
            for name, data in ITEMS.items()
        },
    }


def test_the_mapping_is_the_recorded_version():
    if not RECORDED.exists():
        if os.environ.get("CHATKITD_RECORD_PROJECTION") == "1":
            RECORDED.write_text(json.dumps(shapes(), indent=2, sort_keys=True) + "\n")
        pytest.fail(f"No recorded shapes for REST projection version {projection.VERSION}: {RECORDED}")
    recorded = json.loads(RECORDED.read_text())
    assert shapes() == recorded, (
        "The REST mapping changed: bump chatkitd.store.projection.VERSION, add a migration that calls "
        "projection.reproject_all, and record the new shapes (see this file's docstring)."
    )


def test_every_protocol_item_kind_has_a_recorded_shape():
    union = typing.get_args(typing.get_args(chatkit.types.ThreadItem)[0])
    kinds = {typing.get_args(model.model_fields["type"].annotation)[0] for model in union}
    assert kinds == {data["type"] for data in ITEMS.values()}, "an item kind has no recorded REST shape"


def test_every_version_up_to_this_one_was_recorded():
    for version in range(1, projection.VERSION + 1):
        assert (RECORDED.parent / f"rest_projection_v{version}.json").exists(), version


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request, tmp_path):
    from tests.support.servers import fresh_database

    with fresh_database(request.param, tmp_path / "db.sqlite", "chatkitd_projection") as url:
        yield url


def test_a_database_holding_other_shapes_is_refused(database_url):
    async def scenario() -> None:
        db = Database(database_url)
        try:
            await migrate.upgrade(db)
            async with db.write() as conn:
                await conn.execute(update(tables.projections).values(version=projection.VERSION + 1))
            with pytest.raises(projection.ProjectionOutOfDate, match="reproject_all"):
                await migrate.upgrade(db)
        finally:
            await db.dispose()

    asyncio.run(scenario())


def test_reproject_all_rewrites_every_shape_and_records_the_version(database_url, tmp_path):
    async def scenario() -> tuple[bytes, bytes, bytes, bytes, int | None]:
        db = Database(database_url)
        try:
            await migrate.upgrade(db)
            store = ThreadStore(db, FileBlobStore(tmp_path / "blobs"))
            pages = RestPages(db)
            context = await seed.project_context(store, "default", "user_reproject")
            thread = await seed.make_thread(store, context, title="Kept")
            await seed.add_items(
                store,
                thread,
                context,
                [
                    seed.user_message(store, thread, context, "hello"),
                    seed.assistant_message(store, thread, context, "hi", annotated=True),
                ],
            )
            window = Window(limit=10, order="asc")
            before = (
                await pages.thread(context.project_id, thread.id),
                await pages.items(context.project_id, thread.id, window),
            )
            async with db.write() as conn:
                await conn.execute(update(tables.threads).values(rest='{"stale":true}'))
                await conn.execute(
                    update(tables.items).where(tables.items.c.rest.is_not(None)).values(rest='{"stale":true}')
                )
                await conn.execute(update(tables.projections).values(version=0))
                await conn.run_sync(projection.reproject_all)
                version = await conn.run_sync(projection.stored_version)
            after = (
                await pages.thread(context.project_id, thread.id),
                await pages.items(context.project_id, thread.id, window),
            )
            return *before, *after, version
        finally:
            await db.dispose()

    thread_before, items_before, thread_after, items_after, version = asyncio.run(scenario())
    assert b"stale" not in thread_after + items_after
    assert (thread_after, items_after) == (thread_before, items_before)
    assert version == projection.VERSION

"""Where chatkitd must behave as ``openai-chatkit``'s own reference store and server do.

Found by running openai-chatkit's store and server tests against chatkitd's
store: timestamps that differ between a stream and a read, a cursor on the
last page, and deletes that raise.
"""

from __future__ import annotations

import datetime as dt
import secrets
from types import SimpleNamespace

import pytest
from openai import OpenAI

from tests.support import seed
from tests.support.chat import Chat, new_session
from tests.support.processes import serve_process

# Five and a half hours east of UTC, in POSIX form (no tz database needed): a naive local
# time stamped by `datetime.now()` is then 5:30 away from the UTC one read back.
EAST = "IST-5:30"


def parse(stamp: str) -> dt.datetime:
    value = dt.datetime.fromisoformat(stamp)
    assert value.tzinfo is not None and value.utcoffset() == dt.timedelta(0), f"not UTC-aware: {stamp}"
    return value


@pytest.fixture(scope="module")
def east_server(database_url, tmp_path_factory):
    """``chatkitd serve`` in its own process, in a time zone that is not UTC."""
    admin_key = "sk-test-" + secrets.token_hex(8)
    data_dir = tmp_path_factory.mktemp("east")
    with serve_process(database_url, data_dir, admin_key, TZ=EAST) as base_url:
        yield base_url, admin_key


def test_every_timestamp_is_utc_streamed_or_read_back(east_server):
    base_url, admin_key = east_server
    with OpenAI(base_url=f"{base_url}/v1", api_key=admin_key, max_retries=0) as sdk:
        session = new_session(sdk, "east-user")
    before = dt.datetime.now(dt.UTC)
    with Chat(SimpleNamespace(base_url=base_url), session.client_secret) as chat:  # type: ignore[arg-type]
        stream = chat.create("show me a widget")
        after = dt.datetime.now(dt.UTC)
        created = stream.of("thread.created")[0]["thread"]
        streamed_items = {item["id"]: item["created_at"] for item in stream.done_items()}
        assert {i["type"] for i in stream.done_items()} == {"user_message", "widget"}
        updated = stream.of("thread.updated")[0]["thread"]  # the title

        stamps = [created["created_at"], updated["created_at"], *streamed_items.values()]
        for stamp in stamps:
            assert before - dt.timedelta(seconds=5) <= parse(stamp) <= after + dt.timedelta(seconds=5)

        # The same objects read back carry the same instants.
        thread = chat.call("threads.get_by_id", thread_id=stream.thread_id)
        assert parse(thread["created_at"]) == parse(created["created_at"])
        listed = chat.call("threads.list", limit=1)["data"][0]
        assert parse(listed["created_at"]) == parse(created["created_at"])
        items = chat.call("items.list", thread_id=stream.thread_id, order="asc")["data"]
        assert {i["id"]: parse(i["created_at"]) for i in items} == {
            item_id: parse(stamp) for item_id, stamp in streamed_items.items()
        }
        [widget] = [i for i in items if i["type"] == "widget"]
        synced = chat.call(
            "threads.sync_custom_action",
            thread_id=stream.thread_id,
            item_id=widget["id"],
            action={"type": "demo.increment", "payload": {"count": 0}},
        )
        assert parse(synced["updated_item"]["created_at"]) == parse(widget["created_at"])


def test_a_last_page_has_no_cursor(chat_for, user):
    chat = chat_for(user)
    first = chat.create("one").thread_id
    second = chat.create("two").thread_id
    page = chat.call("threads.list", limit=1, order="asc")
    assert [t["id"] for t in page["data"]] == [first] and page["after"] == first and page["has_more"]
    last = chat.call("threads.list", limit=1, order="asc", after=page["after"])
    assert [t["id"] for t in last["data"]] == [second] and last["has_more"] is False
    assert "after" not in last  # as the reference: no cursor when nothing follows
    items = chat.call("items.list", thread_id=second, order="asc", limit=10)
    assert len(items["data"]) == 2 and items["has_more"] is False and "after" not in items
    empty = chat_for(user + "_new").call("threads.list", limit=5)
    assert empty["data"] == [] and "after" not in empty


def test_store_pages_match_the_reference(server, user):
    store = server.platform.threads

    async def scenario():
        context = await seed.project_context(store, "default", user)
        thread = await seed.make_thread(store, context)
        page = await store.load_threads(10, None, "desc", context)
        assert page.after is None and page.has_more is False
        items = await store.load_thread_items(thread.id, None, 10, "asc", context)
        assert items.after is None and items.has_more is False

    server.run(scenario())


def test_deleting_an_attachment_record_is_idempotent(server, user):
    store = server.platform.threads

    async def scenario():
        context = await seed.project_context(store, "default", user)
        await store.delete_attachment("atc_never_existed", context)  # silent, as the reference
        thread = await seed.make_thread(store, context)
        attachment = await seed.attach_file(store, thread, context, b"bytes")
        await store.delete_attachment(attachment.id, context)
        await store.delete_attachment(attachment.id, context)
        assert not store.blobs.path(context.project_id, attachment.id).exists()

    server.run(scenario())

"""REST reads replayed from memory: never stale, never across credentials, always counted.

A repeated read is replayed until the database next changes (a commit writing
threads, items or keys: not a chat request's admission), on both databases;
the metrics show which path answered.
"""

from __future__ import annotations

import asyncio
import re
import secrets

import httpx2
import openai
import pytest

from chatkitd.blobs import FileBlobStore
from chatkitd.settings import Settings
from chatkitd.store import keys
from chatkitd.store.db import Database
from chatkitd.store.threads import ThreadStore
from tests.support import seed
from tests.support.processes import serve_process
from tests.support.servers import start_server


def cache_counts(base_url: str) -> dict[str, float]:
    """``hits``, ``misses`` and ``bytes`` of the response cache, from ``/metrics``."""
    text = httpx2.get(f"{base_url}/metrics").text
    counts = {}
    for name in ("hits", "misses", "bytes"):
        suffix = "_total" if name != "bytes" else ""
        match = re.search(rf"^chatkitd_response_cache_{name}{suffix} (\S+)$", text, re.MULTILINE)
        counts[name] = float(match.group(1)) if match else 0.0
    return counts


def test_a_repeated_read_is_replayed_until_the_next_write(server, client, user):
    store = server.platform.threads

    async def first_thread():
        context = await seed.project_context(store, "default", user)
        thread = await seed.make_thread(store, context, title="First")
        await seed.add_items(store, thread, context, [seed.user_message(store, thread, context, "hello")])
        return context, thread

    context, thread = server.run(first_thread())
    assert [t.title for t in client.beta.chatkit.threads.list(user=user)] == ["First"]
    before = cache_counts(server.base_url)
    assert [t.title for t in client.beta.chatkit.threads.list(user=user)] == ["First"]
    after = cache_counts(server.base_url)
    assert after["hits"] - before["hits"] == 1

    # Every kind of write shows on the very next read.
    second = server.run(seed.make_thread(store, context, title="Second"))
    assert [t.title for t in client.beta.chatkit.threads.list(user=user)] == ["Second", "First"]

    assert client.beta.chatkit.threads.retrieve(thread.id).title == "First"
    thread.title = "Renamed"
    server.run(store.save_thread(thread, context))
    assert client.beta.chatkit.threads.retrieve(thread.id).title == "Renamed"

    assert len(client.beta.chatkit.threads.list_items(thread.id).data) == 1
    server.run(seed.add_items(store, thread, context, [seed.assistant_message(store, thread, context, "hi")]))
    assert [i.type for i in client.beta.chatkit.threads.list_items(thread.id, order="asc").data] == [
        "chatkit.user_message",
        "chatkit.assistant_message",
    ]

    client.beta.chatkit.threads.delete(second.id)
    with pytest.raises(openai.NotFoundError):
        client.beta.chatkit.threads.retrieve(second.id)
    assert [t.id for t in client.beta.chatkit.threads.list(user=user)] == [thread.id]


def test_chat_requests_that_change_no_thread_leave_the_cache_alone(server, client, user, chat_for):
    """Each chat request commits its admission (the per-minute log): not a change REST reads show."""
    chat = chat_for(user)
    thread_id = chat.create("hello").thread_id
    assert [t.id for t in client.beta.chatkit.threads.list(user=user)] == [thread_id]
    before = cache_counts(server.base_url)
    for _ in range(3):
        assert chat.call("threads.list", limit=5)["data"][0]["id"] == thread_id  # admitted, counted
        assert [t.id for t in client.beta.chatkit.threads.list(user=user)] == [thread_id]
    assert cache_counts(server.base_url)["hits"] - before["hits"] == 3

    # A chat request that does change a thread is seen by the very next read.
    chat.say(thread_id, "again")
    items = client.beta.chatkit.threads.list_items(thread_id, order="asc").data
    assert [i.type for i in items].count("chatkit.user_message") == 2


def test_a_replay_is_the_same_response(server, user):
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        return await seed.make_thread(store, context, title="Same")

    thread = server.run(make())
    headers = {"Authorization": f"Bearer {server.settings.api_key.get_secret_value()}"}
    url = f"{server.base_url}/v1/chatkit/threads/{thread.id}"
    first = httpx2.get(url, headers=headers)
    before = cache_counts(server.base_url)
    second = httpx2.get(url, headers=headers)
    assert cache_counts(server.base_url)["hits"] - before["hits"] == 1
    assert second.status_code == first.status_code == 200
    assert second.content == first.content
    assert second.json()["title"] == "Same"
    assert second.headers["content-type"] == first.headers["content-type"] == "application/json"
    assert second.headers["content-length"] == first.headers["content-length"]
    # A replay is still labelled by its route in the request metrics.
    assert (
        'chatkitd_http_requests_total{method="GET",route="/v1/chatkit/threads/{thread_id}",status="200"}'
        in httpx2.get(f"{server.base_url}/metrics").text
    )


def test_errors_are_never_replayed(server, client):
    # A 404 must not outlive the thread that was missing.
    with pytest.raises(openai.NotFoundError):
        client.beta.chatkit.threads.retrieve("cthr_missing_then_not")
    before = cache_counts(server.base_url)
    with pytest.raises(openai.NotFoundError):
        client.beta.chatkit.threads.retrieve("cthr_missing_then_not")
    assert cache_counts(server.base_url)["hits"] == before["hits"]


def test_a_replay_never_reaches_another_project(server, user):
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        thread = await seed.make_thread(store, context, title="Ours")
        other_key, _ = await keys.create_key(store.db, f"other_{secrets.token_hex(4)}")
        return thread, other_key

    thread, other_key = server.run(make())
    admin_key = server.settings.api_key.get_secret_value()
    with server.sdk(admin_key) as ours, server.sdk(other_key) as theirs:
        for _ in range(2):  # the second read of each is a replay on SQLite
            assert [t.id for t in ours.beta.chatkit.threads.list(user=user)] == [thread.id]
            assert ours.beta.chatkit.threads.retrieve(thread.id).title == "Ours"
            assert theirs.beta.chatkit.threads.list(user=user).data == []
            with pytest.raises(openai.NotFoundError):
                theirs.beta.chatkit.threads.retrieve(thread.id)
            with pytest.raises(openai.NotFoundError):
                theirs.beta.chatkit.threads.list_items(thread.id)


def test_a_revoked_key_gets_no_replay(server, user):
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        await seed.make_thread(store, context, title="Secret")
        return await keys.create_key(store.db, "default", name="to revoke")

    token, record = server.run(make())
    with server.sdk(token) as sdk:
        assert [t.title for t in sdk.beta.chatkit.threads.list(user=user)] == ["Secret"]
        assert [t.title for t in sdk.beta.chatkit.threads.list(user=user)] == ["Secret"]
        assert server.run(keys.revoke_key(store.db, record.id))
        with pytest.raises(openai.AuthenticationError):
            sdk.beta.chatkit.threads.list(user=user)


@pytest.fixture(scope="module")
def sqlite_file(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("cache_sqlite")
    return data_dir, f"sqlite+aiosqlite:///{data_dir / 'chatkitd.db'}"


def test_a_write_by_another_process_is_seen_at_once(sqlite_file):
    """Two processes on one SQLite file: the server replays, the test process writes."""
    data_dir, url = sqlite_file
    admin_key = "sk-test-" + secrets.token_hex(8)
    user = "user_" + secrets.token_hex(4)

    async def write(action):
        db = Database(url)
        try:
            store = ThreadStore(db, FileBlobStore(Settings(data_dir=data_dir).blob_dir))
            context = await seed.project_context(store, "default", user)
            return await action(store, context)
        finally:
            await db.dispose()

    with serve_process(url, data_dir, admin_key) as base_url:
        with openai.OpenAI(base_url=f"{base_url}/v1", api_key=admin_key, max_retries=0) as sdk:
            assert sdk.beta.chatkit.threads.list(user=user).data == []
            assert sdk.beta.chatkit.threads.list(user=user).data == []
            assert cache_counts(base_url)["hits"] >= 1

            thread = asyncio.run(
                write(lambda store, context: seed.make_thread(store, context, title="Elsewhere"))
            )
            assert [t.title for t in sdk.beta.chatkit.threads.list(user=user)] == ["Elsewhere"]

            async def rename(store, context):
                thread.title = "Renamed elsewhere"
                await store.save_thread(thread, context)

            asyncio.run(write(rename))
            assert sdk.beta.chatkit.threads.retrieve(thread.id).title == "Renamed elsewhere"
            assert [t.title for t in sdk.beta.chatkit.threads.list(user=user)] == ["Renamed elsewhere"]


def test_the_cache_stays_within_its_bytes(sqlite_file, tmp_path):
    _, url = sqlite_file
    admin_key = "sk-test-" + secrets.token_hex(8)
    limit = 3000  # room for a few small answers, not for eight
    with start_server(url, tmp_path, admin_key, response_cache_bytes=limit) as server:
        store = server.platform.threads

        async def make():
            context = await seed.project_context(store, "default", "user_bounded")
            return [await seed.make_thread(store, context, title=f"T{n}") for n in range(8)]

        threads = server.run(make())
        with server.sdk(admin_key) as sdk:
            for thread in threads:  # each answer is a few hundred bytes, with its key and headers
                sdk.beta.chatkit.threads.retrieve(thread.id)
            counts = cache_counts(server.base_url)
            assert 0 < counts["bytes"] <= limit
            sdk.beta.chatkit.threads.retrieve(threads[-1].id)  # the newest stays
            assert cache_counts(server.base_url)["hits"] == counts["hits"] + 1
            sdk.beta.chatkit.threads.retrieve(threads[0].id)  # the oldest was evicted
            assert cache_counts(server.base_url)["misses"] == counts["misses"] + 1


def test_long_queries_count_against_the_budget(sqlite_file, tmp_path):
    """Small answers to long URLs: the URLs are what fills the memory, so they are counted."""
    _, url = sqlite_file
    admin_key = "sk-test-" + secrets.token_hex(8)
    limit = 4_000
    with start_server(url, tmp_path, admin_key, response_cache_bytes=limit) as server:
        with server.sdk(admin_key) as sdk:
            # Ten empty pages (about 80 bytes each) under 500-character user filters.
            users = [f"user_{n}_" + "x" * 500 for n in range(10)]
            for user in users:
                assert sdk.beta.chatkit.threads.list(user=user).data == []
            counts = cache_counts(server.base_url)
            assert 0 < counts["bytes"] <= limit
            assert sdk.beta.chatkit.threads.list(user=users[0]).data == []  # long evicted
            assert cache_counts(server.base_url)["misses"] == counts["misses"] + 1


def test_cors_headers_follow_each_request_not_the_replay(sqlite_file, tmp_path):
    _, url = sqlite_file
    admin_key = "sk-test-" + secrets.token_hex(8)
    origins = ["http://one.example", "http://two.example"]
    with start_server(url, tmp_path, admin_key, cors_origins=origins) as server:
        path = f"{server.base_url}/v1/chatkit/threads?user=user_cors"
        for origin in [*origins, *origins]:
            response = httpx2.get(path, headers={"Authorization": f"Bearer {admin_key}", "Origin": origin})
            assert response.status_code == 200
            assert response.headers.get_list("access-control-allow-origin") == [origin]
            assert response.headers.get_list("vary") == ["Origin"]
        assert cache_counts(server.base_url)["hits"] >= 2


def test_a_zero_budget_turns_it_off(sqlite_file, tmp_path):
    _, url = sqlite_file
    admin_key = "sk-test-" + secrets.token_hex(8)
    with start_server(url, tmp_path, admin_key, response_cache_bytes=0) as server:
        with server.sdk(admin_key) as sdk:
            for _ in range(3):
                sdk.beta.chatkit.threads.list(user="user_off")
        assert cache_counts(server.base_url) == {"hits": 0, "misses": 0, "bytes": 0}

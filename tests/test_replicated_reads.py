"""REST reads replayed from memory are never older than a write another process acknowledged.

A ``chatkitd serve`` process replays repeated REST reads until the database
says something changed (``chatkitd.http.response_cache``). Here other
processes write while it serves reads at once: the test process (as another
replica writing through the store), and a second ``chatkitd serve`` (a chat on
it). After each write is acknowledged, the very next read from the first
process must show it, while other readers keep its cache hot; and no reader
ever sees a page older than one it saw before.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest

from chatkitd.blobs import FileBlobStore
from chatkitd.store.db import Database
from chatkitd.store.threads import ThreadStore
from tests.support import seed
from tests.support.chat import parse_sse, user_input
from tests.support.processes import serve_process
from tests.support.servers import fresh_database
from tests.test_response_cache import cache_counts

WRITES = 40
READERS = 6


@pytest.fixture(params=["sqlite", "postgres"])
def shared(request, tmp_path) -> Iterator[tuple[str, Path]]:
    """A database URL and a data dir that several processes share."""
    with fresh_database(request.param, tmp_path / "chatkitd.db", "chatkitd_replicas") as url:
        yield url, tmp_path


def test_reads_never_miss_a_write_acknowledged_by_another_process(shared):
    url, data_dir = shared
    admin_key = "sk-test-" + secrets.token_hex(8)
    user = "user_" + secrets.token_hex(4)

    async def scenario(base_url: str) -> tuple[int, int]:
        db = Database(url)
        store = ThreadStore(db, FileBlobStore(data_dir / "blobs"))
        headers = {"Authorization": f"Bearer {admin_key}"}
        try:
            context = await seed.project_context(store, "default", user)
            thread = await seed.make_thread(store, context, title="v0")
            paths = [
                f"/v1/chatkit/threads/{thread.id}",
                f"/v1/chatkit/threads/{thread.id}/items?order=asc&limit=100",
                f"/v1/chatkit/threads?user={user}",
            ]
            done = asyncio.Event()
            stepped_back: list[str] = []

            async def keep_reading(http: httpx2.AsyncClient, path: str) -> int:
                """Read ``path`` over and over; what it shows may only ever move forward."""
                newest, reads = -1, 0
                while not done.is_set():
                    response = await http.get(path)
                    assert response.status_code == 200, response.text
                    seen = _progress(response.json())
                    if seen < newest:
                        stepped_back.append(f"{path}: saw {seen} after {newest}")
                    newest, reads = max(newest, seen), reads + 1
                return reads

            async with httpx2.AsyncClient(base_url=base_url, headers=headers, timeout=30) as http:
                readers = [
                    asyncio.create_task(keep_reading(http, paths[n % len(paths)])) for n in range(READERS)
                ]
                for n in range(1, WRITES + 1):
                    # Acknowledged (committed) by this process before the next read is sent.
                    thread.title = f"v{n}"
                    await store.save_thread(thread, context)
                    message = seed.user_message(store, thread, context, f"message {n}")
                    await store.add_thread_item(thread.id, message, context)
                    shown = (await http.get(paths[0])).json()
                    assert shown["title"] == f"v{n}", f"write {n} was acknowledged, the read shows {shown}"
                    items = (await http.get(paths[1])).json()["data"]
                    assert items[-1]["content"][0]["text"] == f"message {n}", f"write {n} missing"
                    listed = (await http.get(paths[2])).json()["data"]
                    assert [t["title"] for t in listed] == [f"v{n}"]
                done.set()
                reads = sum(await asyncio.gather(*readers))
            assert not stepped_back, stepped_back
            return reads, WRITES * 3
        finally:
            await db.dispose()

    with serve_process(url, data_dir, admin_key) as base_url:
        before = cache_counts(base_url)
        reads, checked = asyncio.run(scenario(base_url))
        after = cache_counts(base_url)
    replayed = after["hits"] - before["hits"]
    # Not a vacuous pass: the first process did replay from memory while the writes went on.
    assert replayed > 0, (reads, after)
    assert reads + checked > replayed


def _progress(body: dict) -> int:
    """How far a thread, an item page or a thread list has come: the ``vN`` or ``message N`` it shows."""
    if body.get("object") == "chatkit.thread":
        return int(body["title"][1:])
    data = body["data"]
    if not data:
        return 0
    if data[0]["object"] == "chatkit.thread":
        return int(data[0]["title"][1:])
    return int(data[-1]["content"][0]["text"].split()[-1])


def test_a_chat_on_one_replica_is_listed_at_once_by_another(shared):
    url, data_dir = shared
    admin_key = "sk-test-" + secrets.token_hex(8)
    user = "user_" + secrets.token_hex(4)
    headers = {"Authorization": f"Bearer {admin_key}"}
    with serve_process(url, data_dir, admin_key) as one, serve_process(url, data_dir, admin_key) as two:
        with httpx2.Client(headers=headers, timeout=30) as http:
            session = http.post(f"{one}/v1/chatkit/sessions", json={"user": user, "workflow": {"id": "demo"}})
            secret = session.json()["client_secret"]
            listing = f"{two}/v1/chatkit/threads?user={user}"
            for _ in range(2):  # the second is replayed by replica two
                assert http.get(listing).json()["data"] == []

            def chat(kind: str, **params: object) -> list[dict]:
                response = http.post(
                    f"{one}/v1/chatkit/conversation",
                    json={"type": kind, "params": params},
                    headers={"Authorization": f"Bearer {secret}"},
                )
                assert response.status_code == 200, response.text
                return parse_sse(response.text)

            events = chat("threads.create", input=user_input("hello there"))
            thread_id = next(e["thread"]["id"] for e in events if e["type"] == "thread.created")
            assert [t["id"] for t in http.get(listing).json()["data"]] == [thread_id]
            items = f"{two}/v1/chatkit/threads/{thread_id}/items?order=asc"
            texts = [i["content"][0]["text"] for i in http.get(items).json()["data"]]
            assert texts[0] == "hello there" and texts[-1].startswith("Echo: hello there")
            for _ in range(2):
                http.get(items)
            chat("threads.add_user_message", thread_id=thread_id, input=user_input("and again"))
            texts = [i["content"][0]["text"] for i in http.get(items).json()["data"]]
            assert texts[-2] == "and again" and texts[-1].startswith("Echo: and again")
            assert http.delete(f"{one}/v1/chatkit/threads/{thread_id}").status_code == 200
            assert http.get(f"{two}/v1/chatkit/threads/{thread_id}").status_code == 404
            assert http.get(listing).json()["data"] == []
        assert cache_counts(two)["hits"] >= 2

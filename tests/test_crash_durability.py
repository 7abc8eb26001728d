"""Nothing acknowledged is lost when the server dies: SIGKILL in the middle of a burst of chats.

A stream acknowledges a write by the event it sends after it: ``thread.created``
once the thread is saved, ``thread.item.done`` once the item is. Writes are
grouped into shared transactions (``chatkitd.store.group_commit``) and each
waits for its commit, so every thread and item a client was told about must
be in the database after a crash, on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import signal
from urllib.parse import urlsplit

import pytest
from openai import OpenAI
from sqlalchemy import select

from chatkitd.store import tables
from chatkitd.store.db import Database
from tests.support.processes import serve_process_handle
from tests.support.servers import fresh_database

STREAMS = 60
KILL_AFTER = 40  # items acknowledged before the kill (of about 2 per stream): mid-burst


class Acknowledged:
    def __init__(self) -> None:
        self.threads: set[str] = set()
        self.items: set[str] = set()
        self.finished = 0  # streams that ended normally (the kill cut the others)
        self.enough = asyncio.Event()

    def saw(self, event: dict) -> None:
        if event["type"] == "thread.created":
            self.threads.add(event["thread"]["id"])
        elif event["type"] == "thread.item.done":
            self.items.add(event["item"]["id"])
        if len(self.items) >= KILL_AFTER:
            self.enough.set()


async def _chat(host: str, port: int, secret: str, seen: Acknowledged) -> None:
    body = json.dumps(
        {
            "type": "threads.create",
            "params": {
                "input": {
                    "content": [{"type": "input_text", "text": "remember this"}],
                    "attachments": [],
                    "inference_options": {},
                }
            },
        }
    ).encode()
    head = (
        f"POST /v1/chatkit/conversation HTTP/1.1\r\nHost: {host}:{port}\r\n"
        f"Authorization: Bearer {secret}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(head + body)
        buffer, tail = b"", b""
        while chunk := await reader.read(65536):
            buffer += chunk
            tail = (tail + chunk)[-5:]
            *frames, buffer = buffer.split(b"\n\n")
            for frame in frames:
                start = frame.find(b"data: ")
                if start >= 0:
                    seen.saw(json.loads(frame[start + 6 :]))
        writer.close()
        if tail == b"0\r\n\r\n":  # the last chunk of the response: it ended, not cut
            seen.finished += 1
    except (ConnectionError, json.JSONDecodeError):
        pass  # cut by the kill; whatever it acknowledged before is recorded


async def _burst(base_url: str, secrets_: list[str], kill) -> Acknowledged:  # noqa: ANN001
    url = urlsplit(base_url)
    assert url.hostname is not None and url.port is not None
    seen = Acknowledged()
    chats = [asyncio.create_task(_chat(url.hostname, url.port, s, seen)) for s in secrets_]
    await asyncio.wait_for(seen.enough.wait(), timeout=60)
    kill()
    await asyncio.wait_for(asyncio.gather(*chats), timeout=60)
    return seen


async def _stored(url: str, seen: Acknowledged) -> tuple[set[str], set[str]]:
    db = Database(url)
    try:
        async with db.read() as conn:
            threads = set(
                await conn.scalars(select(tables.threads.c.id).where(tables.threads.c.id.in_(seen.threads)))
            )
            items = set(
                await conn.scalars(select(tables.items.c.id).where(tables.items.c.id.in_(seen.items)))
            )
        return threads, items
    finally:
        await db.dispose()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_nothing_acknowledged_is_lost_when_the_server_is_killed_mid_burst(backend, tmp_path):
    admin_key = "sk-test-" + secrets.token_hex(8)
    with fresh_database(backend, tmp_path / "chatkitd.db", "chatkitd_kill") as url:
        with serve_process_handle(url, tmp_path, admin_key) as (base_url, process):
            with OpenAI(base_url=f"{base_url}/v1", api_key=admin_key, max_retries=0) as sdk:
                secrets_ = [
                    sdk.beta.chatkit.sessions.create(
                        user=f"user_{n}",
                        workflow={"id": "demo"},
                        rate_limits={"max_requests_per_1_minute": 100},
                    ).client_secret
                    for n in range(STREAMS)
                ]
            seen = asyncio.run(_burst(base_url, secrets_, lambda: process.send_signal(signal.SIGKILL)))
            assert process.wait(10) == -signal.SIGKILL
        assert seen.finished < STREAMS, "every stream finished before the kill: nothing was mid-write"
        assert seen.threads and seen.items
        threads, items = asyncio.run(_stored(url, seen))
        assert threads == seen.threads, f"acknowledged threads lost: {seen.threads - threads}"
        assert items == seen.items, f"acknowledged items lost: {seen.items - items}"

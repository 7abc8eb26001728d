"""chatkitd behind PgBouncer in transaction pooling mode: migrations, chats and REST reads.

PgBouncer (``tests.support.pgbouncer``) runs with two server connections in
front of the local PostgreSQL, and ``chatkitd serve`` with four of its own, so
consecutive transactions of one chatkitd connection run on different server
connections: a statement prepared in one would be missing, or clash, in the
next. With ``CHATKITD_DATABASE_TRANSACTION_POOLING=true`` nothing is kept
prepared, and everything works.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest

from tests.support.chat import parse_sse, user_input
from tests.support.pgbouncer import admin_console, pgbouncer
from tests.support.processes import serve_process
from tests.support.servers import fresh_database

CHATS = 6


@pytest.fixture
def behind_pgbouncer(tmp_path: Path) -> Iterator[tuple[str, str, int]]:
    """``(url through PgBouncer, database name, PgBouncer's port)`` of a fresh database."""
    with fresh_database("postgres", tmp_path / "unused.db", "chatkitd_pgbouncer") as url, pgbouncer() as port:
        name = url.rsplit("/", 1)[1]
        yield url.replace("127.0.0.1:5432", f"127.0.0.1:{port}"), name, port


def test_chat_and_rest_through_pgbouncer_in_transaction_mode(behind_pgbouncer, tmp_path):
    url, database, port = behind_pgbouncer
    admin_key = "sk-test-" + secrets.token_hex(8)
    settings = {"CHATKITD_DATABASE_TRANSACTION_POOLING": "true", "CHATKITD_DATABASE_POOL_SIZE": "4"}
    with serve_process(url, tmp_path, admin_key, **settings) as base_url:  # migrations ran through it
        admin = httpx2.Client(base_url=base_url, headers={"Authorization": f"Bearer {admin_key}"}, timeout=60)

        def chat(user: str) -> str:
            """A new thread and a second message, by one user's session; returns the thread id."""
            secret = admin.post("/v1/chatkit/sessions", json={"user": user, "workflow": {"id": "demo"}})
            assert secret.status_code == 200, secret.text
            headers = {"Authorization": f"Bearer {secret.json()['client_secret']}"}
            with httpx2.Client(base_url=base_url, headers=headers, timeout=60) as client:

                def send(kind: str, **params: object) -> list[dict]:
                    response = client.post("/v1/chatkit/conversation", json={"type": kind, "params": params})
                    assert response.status_code == 200, response.text
                    return parse_sse(response.text)

                created = send("threads.create", input=user_input(f"hello from {user}"))
                thread_id = next(e["thread"]["id"] for e in created if e["type"] == "thread.created")
                send("threads.add_user_message", thread_id=thread_id, input=user_input("tell me more"))
                listed = client.post(
                    "/v1/chatkit/conversation", json={"type": "threads.list", "params": {"limit": 5}}
                )
                assert [t["id"] for t in listed.json()["data"]] == [thread_id]
            return thread_id

        users = [f"user_{n}_{secrets.token_hex(3)}" for n in range(CHATS)]
        with ThreadPoolExecutor(CHATS) as pool:  # at once: the connections must share the server's
            threads = dict(zip(users, pool.map(chat, users), strict=True))

        for user, thread_id in threads.items():
            for _ in range(2):  # the second read is replayed from memory
                listed = admin.get("/v1/chatkit/threads", params={"user": user})
                assert listed.status_code == 200, listed.text
                assert [t["id"] for t in listed.json()["data"]] == [thread_id]
            items = admin.get(f"/v1/chatkit/threads/{thread_id}/items", params={"order": "asc"}).json()[
                "data"
            ]
            texts = [item["content"][0]["text"] for item in items]
            assert texts[0] == f"hello from {user}" and texts[2] == "tell me more"
            assert texts[3].startswith("Echo: tell me more")
        gone = threads[users[0]]
        assert admin.delete(f"/v1/chatkit/threads/{gone}").status_code == 200
        assert admin.get(f"/v1/chatkit/threads/{gone}").status_code == 404
        admin.close()

    # Every one of those transactions went through PgBouncer, onto its two server connections.
    [stats] = [row for row in admin_console(port, "SHOW STATS") if row["database"] == database]
    assert int(stats["total_xact_count"]) > 10 * CHATS
    [servers] = [row for row in admin_console(port, "SHOW POOLS") if row["database"] == database]
    assert int(servers["sv_active"]) + int(servers["sv_idle"]) + int(servers["sv_used"]) <= 2

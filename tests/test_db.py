"""The SQLite handle: reads and the statements of writes run inline on the event loop;
what may wait (the write lock, commits, deletes) runs on aiosqlite's thread.

Inline calls rely on aiosqlite's internals (``chatkitd.compat.aiosqlite``); these
tests, and ``tests/test_compat.py``, fail loudly if an upgrade changes them.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading

from sqlalchemy import text

from chatkitd.compat.aiosqlite import sqlite3_connection
from chatkitd.store.db import Database


async def _thread_of(conn) -> int:  # noqa: ANN001
    raw = await conn.get_raw_connection()
    # The sqlite3 connection under aiosqlite; a function that reports its caller's thread.
    sqlite3_connection(raw.driver_connection).create_function("caller_thread", 0, threading.get_ident)
    return await conn.scalar(text("select caller_thread()"))


def test_sqlite_reads_and_write_statements_run_inline_deletes_do_not(tmp_path):
    async def scenario() -> tuple[int, int, int, set[int]]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        try:
            async with db.read() as conn:
                read_thread = await _thread_of(conn)
            async with db.write() as conn:
                write_thread = await _thread_of(conn)
                await conn.execute(text("create table t (n integer)"))
                await conn.execute(text("insert into t values (1), (2)"))
            deleted_on: set[int] = set()

            def note_thread() -> int:
                deleted_on.add(threading.get_ident())
                return 1

            async with db.write() as conn:
                raw = await conn.get_raw_connection()
                assert raw.driver_connection is not None
                sqlite3_connection(raw.driver_connection).create_function("note_thread", 0, note_thread)
                await conn.execute(text("delete from t where note_thread() = 1"))
            return threading.get_ident(), read_thread, write_thread, deleted_on
        finally:
            await db.dispose()

    loop_thread, read_thread, write_thread, deleted_on = asyncio.run(scenario())
    assert read_thread == loop_thread
    assert write_thread == loop_thread
    assert deleted_on and loop_thread not in deleted_on  # a delete may be large: off the loop


def test_a_write_waiting_for_another_process_leaves_the_loop_free(tmp_path):
    path = tmp_path / "db.sqlite"

    async def scenario() -> tuple[bool, int, list[int]]:
        db = Database(f"sqlite+aiosqlite:///{path}")
        try:
            async with db.write() as conn:
                await conn.execute(text("create table t (n integer)"))
            # Another process's writer, in effect: a connection of its own holding the lock.
            other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            other.execute("BEGIN IMMEDIATE")
            other.execute("insert into t values (1)")

            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    ticks += 1
                    await asyncio.sleep(0.01)

            async def write() -> None:
                async with db.write() as conn:
                    await conn.execute(text("insert into t values (2)"))

            ticker = asyncio.create_task(tick())
            writing = asyncio.create_task(write())
            await asyncio.sleep(0.5)
            waited, ticks_while_waiting = not writing.done(), ticks
            other.execute("COMMIT")
            other.close()
            await writing
            ticker.cancel()
            async with db.read() as conn:
                rows = [n for (n,) in await conn.execute(text("select n from t order by n"))]
            return waited, ticks_while_waiting, rows
        finally:
            await db.dispose()

    waited, ticks, rows = asyncio.run(scenario())
    assert waited  # the write waited for the other writer's lock...
    assert ticks >= 20  # ...while the loop went on serving everything else,
    assert rows == [1, 2]  # and then both writes landed.


def test_reads_see_committed_writes_and_run_concurrently(tmp_path):
    async def scenario() -> list[int]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        try:
            async with db.write() as conn:
                await conn.execute(text("create table t (n integer)"))
                await conn.execute(text("insert into t values (1), (2), (3)"))

            async def total() -> int:
                async with db.read() as conn:
                    return await conn.scalar(text("select sum(n) from t"))

            return await asyncio.gather(*(total() for _ in range(50)))
        finally:
            await db.dispose()

    assert asyncio.run(scenario()) == [6] * 50


def test_reads_survive_postgres_closing_their_connections(server, client, user):
    """A PostgreSQL restart or an idle timeout ends pooled connections under the server;
    the next read must still answer. On SQLite the same steps show nothing is lost."""
    from tests.support import seed

    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        return await seed.make_thread(store, context, title="Survivor")

    thread = server.run(make())
    assert client.beta.chatkit.threads.retrieve(thread.id).title == "Survivor"

    async def close_every_other_connection() -> int:
        if server.platform.db.is_sqlite:
            return 0
        async with server.platform.db.read() as conn:
            ended = await conn.scalar(
                text(
                    "select count(pg_terminate_backend(pid)) from pg_stat_activity "
                    "where datname = current_database() and pid <> pg_backend_pid()"
                )
            )
            return ended or 0

    ended = server.run(close_every_other_connection())
    if not server.platform.db.is_sqlite:
        assert ended >= 1  # the REST read above opened the reader's pool
    assert client.beta.chatkit.threads.retrieve(thread.id).title == "Survivor"
    assert [t.id for t in client.beta.chatkit.threads.list(user=user)] == [thread.id]


def test_every_database_back_end_runs_the_suite():
    """A back end added to ``BACKENDS`` without a row in ``TESTED_BACKENDS`` fails here."""
    from chatkitd.store.db import BACKENDS
    from tests.support.servers import TESTED_BACKENDS

    assert set(BACKENDS) == set(TESTED_BACKENDS)


def test_an_unknown_database_is_refused_by_name():
    import pytest

    with pytest.raises(ValueError, match="mysql"):
        Database("mysql+aiomysql://user@localhost/chatkitd")


def test_a_process_opens_at_most_its_pool_size_of_postgres_connections(tmp_path):
    """Under concurrent chats and REST reads, one ``chatkitd serve`` stays within
    ``CHATKITD_DATABASE_POOL_SIZE`` connections (counted by PostgreSQL itself)."""
    import secrets
    from concurrent.futures import ThreadPoolExecutor

    import asyncpg
    import httpx2

    from tests.support.chat import user_input
    from tests.support.processes import serve_process
    from tests.support.servers import PG_ADMIN_URL, fresh_database

    admin_key = "sk-test-" + secrets.token_hex(8)
    with fresh_database("postgres", tmp_path / "unused.db", "chatkitd_pool") as url:
        database = url.rsplit("/", 1)[1]
        with serve_process(url, tmp_path, admin_key, CHATKITD_DATABASE_POOL_SIZE="3") as base_url:
            headers = {"Authorization": f"Bearer {admin_key}"}

            def load(n: int) -> None:
                with httpx2.Client(base_url=base_url, headers=headers, timeout=60) as http:
                    session = http.post(
                        "/v1/chatkit/sessions", json={"user": f"u{n}", "workflow": {"id": "demo"}}
                    )
                    secret = session.json()["client_secret"]
                    chat = {"type": "threads.create", "params": {"input": user_input(f"hi {n}")}}
                    answer = http.post(
                        "/v1/chatkit/conversation", json=chat, headers={"Authorization": f"Bearer {secret}"}
                    )
                    assert answer.status_code == 200, answer.text
                    for _ in range(5):
                        assert http.get("/v1/chatkit/threads", params={"user": f"u{n}"}).status_code == 200

            async def connections() -> int:
                conn = await asyncpg.connect(PG_ADMIN_URL)
                try:
                    return await conn.fetchval(
                        "select count(*) from pg_stat_activity where datname = $1", database
                    )
                finally:
                    await conn.close()

            with ThreadPoolExecutor(12) as pool:
                running = [pool.submit(load, n) for n in range(24)]
                seen = []
                while not all(f.done() for f in running):
                    seen.append(asyncio.run(connections()))
                for future in running:
                    future.result()
            assert max(seen) >= 2  # the load did reach the database...
            assert max(seen) <= 3, seen  # ...through no more than the pool size

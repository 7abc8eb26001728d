"""The SQLite handle: reads run inline on the event loop, writes on aiosqlite's thread.

Inline reads rely on aiosqlite's internals (``Connection._execute``); this
test fails loudly if an upgrade changes them.
"""

from __future__ import annotations

import asyncio
import threading

from sqlalchemy import text

from chatkitd.store.db import Database


async def _thread_of(conn) -> int:  # noqa: ANN001
    raw = await conn.get_raw_connection()
    # The sqlite3 connection under aiosqlite; a function that reports its caller's thread.
    raw.driver_connection._conn.create_function("caller_thread", 0, threading.get_ident)
    return await conn.scalar(text("select caller_thread()"))


def test_sqlite_reads_inline_and_writes_on_a_worker_thread(tmp_path):
    async def scenario() -> tuple[int, int, int]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        try:
            async with db.read() as conn:
                read_thread = await _thread_of(conn)
            async with db.write() as conn:
                write_thread = await _thread_of(conn)
            return threading.get_ident(), read_thread, write_thread
        finally:
            await db.dispose()

    loop_thread, read_thread, write_thread = asyncio.run(scenario())
    assert read_thread == loop_thread
    assert write_thread != loop_thread


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

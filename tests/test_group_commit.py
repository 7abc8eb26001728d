"""Group commit on SQLite: concurrent writes share transactions, and each still behaves as its own.

``Database.write()`` on SQLite runs the blocks of concurrent writers in one
transaction, each in a savepoint, with one commit for all
(``chatkitd.store.group_commit``). These tests hold it to what a caller of
``write()`` was promised when every block was its own transaction.
"""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from chatkitd import clock
from chatkitd.store import migrate, tables
from chatkitd.store.db import Database


def _url(path: Path) -> str:
    return f"sqlite+aiosqlite:///{path}"


async def _migrated(path: Path) -> Database:
    db = Database(_url(path))
    await migrate.upgrade(db)
    return db


async def _add_project(db: Database, name: str) -> None:
    async with db.write() as conn:
        await conn.execute(insert(tables.projects).values(id=name, name=name, created_at=clock.unix()))


def _committed_projects(path: Path) -> set[str]:
    """What another connection (another process, in effect) sees."""
    with sqlite3.connect(path) as other:
        return {name for (name,) in other.execute("SELECT id FROM projects")}


def test_concurrent_writes_share_commits_and_each_returns_once_committed(tmp_path):
    path = tmp_path / "chatkitd.db"

    async def scenario() -> tuple[int, int, list[bool]]:
        db = await _migrated(path)
        writes = db.backend._writes  # type: ignore[attr-defined]
        before = (writes.commits, writes.writes)
        seen: list[bool] = []

        async def write(n: int) -> None:
            await _add_project(db, f"p{n}")
            # Returned: committed, so visible to any other connection at once.
            seen.append(f"p{n}" in _committed_projects(path))

        try:
            await asyncio.gather(*(write(n) for n in range(60)))
            return writes.commits - before[0], writes.writes - before[1], seen
        finally:
            await db.dispose()

    commits, written, seen = asyncio.run(scenario())
    assert written == 60
    assert commits < 60 / 4, f"{commits} commits for 60 concurrent writes: not grouped"
    assert seen == [True] * 60
    assert {f"p{n}" for n in range(60)} <= _committed_projects(path)


def test_a_failing_write_undoes_only_its_own_statements(tmp_path):
    path = tmp_path / "chatkitd.db"

    async def scenario() -> tuple[list[object], int]:
        db = await _migrated(path)
        writes = db.backend._writes  # type: ignore[attr-defined]
        commits = writes.commits

        async def failing() -> None:
            async with db.write() as conn:
                await conn.execute(
                    insert(tables.projects).values(id="half", name="half", created_at=clock.unix())
                )
                # The same name again: this block fails after a statement that worked.
                await conn.execute(
                    insert(tables.projects).values(id="half2", name="half", created_at=clock.unix())
                )

        try:
            outcomes: list[object] = list(
                await asyncio.gather(
                    _add_project(db, "before"), failing(), _add_project(db, "after"), return_exceptions=True
                )
            )
            return outcomes, writes.commits - commits
        finally:
            await db.dispose()

    outcomes, commits = asyncio.run(scenario())
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], IntegrityError)
    assert commits == 1  # the three shared one transaction
    committed = _committed_projects(path)
    assert {"before", "after"} <= committed
    assert "half" not in committed  # its first statement was undone with it


def test_a_failed_commit_fails_every_write_in_it_and_keeps_none(tmp_path):
    """A commit can fail (here a deferred foreign key, checked at commit): then no writer in
    that transaction is told its write was kept, and none of it is."""
    path = tmp_path / "chatkitd.db"

    async def scenario() -> list[object]:
        db = await _migrated(path)

        async def poisoning() -> None:
            async with db.write() as conn:
                await conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
                await conn.execute(
                    insert(tables.api_keys).values(
                        id="key_orphan",
                        project_id="no_such_project",
                        digest="0" * 64,
                        hint="0000",
                        created_at=clock.unix(),
                    )
                )

        try:
            outcomes: list[object] = list(
                await asyncio.gather(_add_project(db, "innocent"), poisoning(), return_exceptions=True)
            )
            # The next write starts a new transaction and succeeds.
            await _add_project(db, "later")
            return outcomes
        finally:
            await db.dispose()

    outcomes = asyncio.run(scenario())
    assert all(isinstance(outcome, IntegrityError) for outcome in outcomes), outcomes
    committed = _committed_projects(path)
    assert "innocent" not in committed
    assert "later" in committed
    with sqlite3.connect(path) as other:
        assert other.execute("SELECT count(*) FROM api_keys WHERE id = 'key_orphan'").fetchone() == (0,)


def test_a_writer_cancelled_while_its_commit_runs_harms_no_one(tmp_path):
    path = tmp_path / "chatkitd.db"

    async def scenario() -> None:
        db = await _migrated(path)
        try:
            leaving = asyncio.create_task(_add_project(db, "leaving"))
            staying = asyncio.create_task(_add_project(db, "staying"))
            while "leaving" not in await _in_open_transaction(db):
                await asyncio.sleep(0)
            leaving.cancel()
            await staying  # the commit they share still happens, and is awaited by the other
            with pytest.raises(asyncio.CancelledError):
                await leaving
        finally:
            await db.dispose()

    asyncio.run(scenario())
    assert {"leaving", "staying"} <= _committed_projects(path)


async def _in_open_transaction(db: Database) -> set[str]:
    """The projects the writer's open transaction holds so far (empty when none is open)."""
    opened = db.backend._writes._open  # type: ignore[attr-defined]
    if opened is None:
        return set()
    return set((await opened.conn.scalars(select(tables.projects.c.id))).all())

"""Replicas told not to migrate (``CHATKITD_MIGRATE_ON_START=false``) refuse a schema
``chatkitd migrate`` has not brought up to date, change nothing, and serve once it has.

This is what lets N replicas start together (and a newer release roll out) without
racing each other to migrate: the container image's compose file runs ``chatkitd
migrate`` once, then the replicas.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from chatkitd.settings import Settings
from chatkitd.store import migrate
from chatkitd.store.db import Database
from tests.support.processes import ServeProcess
from tests.support.servers import TESTED_BACKENDS, fresh_database


def chatkitd(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHATKITD_")}
    return subprocess.run(
        [sys.executable, "-m", "chatkitd", *args],
        env={**environment, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def revision(url: str, data_dir: Path) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    async def read() -> set[str]:
        db = Database.from_settings(Settings(database_url=url, data_dir=data_dir))
        try:
            async with db.read() as conn:
                return set(
                    await conn.run_sync(lambda sync: MigrationContext.configure(sync).get_current_heads())
                )
        finally:
            await db.dispose()

    return asyncio.run(read())


def upgrade_to(url: str, data_dir: Path, target: str) -> None:
    async def run() -> None:
        db = Database.from_settings(Settings(database_url=url, data_dir=data_dir))
        try:
            await migrate.upgrade(db, target)
        finally:
            await db.dispose()

    asyncio.run(run())


@pytest.fixture(params=list(TESTED_BACKENDS), ids=list(TESTED_BACKENDS.values()))
def database(request: pytest.FixtureRequest, tmp_path: Path):
    backend = request.param
    if backend != "sqlite":
        request.applymarker(pytest.mark.postgres)
    with fresh_database(backend, tmp_path / "chatkitd.db", "chatkitd_migrate_sep") as url:
        yield url


def test_serve_without_migrating_refuses_an_old_schema_and_serves_after_migrate(database, tmp_path):
    env = {
        "CHATKITD_DATABASE_URL": database,
        "CHATKITD_DATA_DIR": str(tmp_path),
        "CHATKITD_MIGRATE_ON_START": "false",
        "CHATKITD_API_KEY": "sk-test-separately",
    }
    never = chatkitd("serve", "--port", "1", **env)  # refused before it binds anything
    assert never.returncode == 1
    assert "No chatkitd database at" in never.stderr and "chatkitd migrate" in never.stderr

    revisions = sorted(path.stem for path in (migrate.MIGRATIONS / "versions").glob("[0-9]*.py"))
    older = revisions[-2]  # the one before the head
    upgrade_to(database, tmp_path, older)
    behind = chatkitd("serve", "--port", "1", **env)
    assert behind.returncode == 1, behind.stdout
    assert "\nError: The database's schema is at revision " in behind.stderr
    assert "run `chatkitd migrate` first" in behind.stderr
    assert "Traceback" not in behind.stderr
    assert f"at revision {older} and this chatkitd needs {revisions[-1]}" in behind.stderr
    assert revision(database, tmp_path) == {older}  # the refusing server changed nothing

    migrated = chatkitd("migrate", **env)
    assert migrated.returncode == 0, migrated.stderr
    assert revision(database, tmp_path) == {revisions[-1]}

    server = ServeProcess(
        database, tmp_path, "sk-test-separately", env={"CHATKITD_MIGRATE_ON_START": "false"}
    )
    try:
        server.wait_ready(180)
    finally:
        server.stop()

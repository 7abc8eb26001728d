"""What every ``chatkitd`` command that touches the database shares: a migrated database for its work.

Both ``chatkitd.cli`` and ``chatkitd.cli_workflows`` call it, so neither needs the other.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from chatkitd.settings import Settings
from chatkitd.store import migrate
from chatkitd.store.db import Database

T = TypeVar("T")


def with_db(work: Callable[[Database], Awaitable[T]]) -> T:
    """Run ``work`` on the configured database, brought up to date first."""

    async def run() -> T:
        db = Database.from_settings(Settings())
        try:
            await migrate.upgrade(db)
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(run())

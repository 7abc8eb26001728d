"""chatkitd's store behind the name ``openai-chatkit``'s own tests import (``helpers.mock_store``).

``run.py`` lays this file out as ``tests/helpers/mock_store.py`` beside the
reference's ``test_store.py`` and ``test_chatkit_server.py``, so that every
store call those tests make lands in ``chatkitd.store.threads.ThreadStore`` on
a migrated SQLite database. The reference's context (``RequestContext(user_id)``)
becomes a chatkitd context for that user in one project.

The reference names its databases with shared in-memory SQLite URIs; each name
becomes one file, so two stores opened on the same name share their data, as
there. aiosqlite's connections belong to the event loop that opened them and
each reference test runs in a loop of its own, so the store is opened per loop,
and closed as the test ends (``close_this_loop``, an autouse fixture of the
laid-out ``conftest.py``): a database left open was garbage-collected with a
warning per test.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from pathlib import Path
from typing import Any

from chatkit.store import Store
from chatkit.types import Attachment, Page, ThreadItem, ThreadMetadata

from chatkitd import ids
from chatkitd.blobs import FileBlobStore
from chatkitd.context import RequestContext as ChatkitdContext
from chatkitd.store import migrate
from chatkitd.store.db import Database
from chatkitd.store.keys import ensure_project
from chatkitd.store.threads import ThreadStore

_ROOT = Path(tempfile.mkdtemp(prefix="chatkitd-reference-"))
_FILES: dict[str, Path] = {}  # the reference's database name -> its SQLite file
_TEMPLATE = _ROOT / "migrated.sqlite"
_STORES: list[SQLiteStore] = []  # every store made, to close what each test's loop opened


async def close_this_loop() -> None:
    """Dispose of the databases the running loop opened, before the loop goes."""
    loop = asyncio.get_running_loop()
    for made in _STORES:
        opened = made._opened.pop(loop, None)
        if opened is not None:
            await opened[0].db.dispose()
        for key in [key for key in made._contexts if key[0] is loop]:
            del made._contexts[key]


async def _migrated_copy(target: Path) -> None:
    """A new database at ``target``: a copy of one migrated once (migrating is most of a test's time)."""
    if not _TEMPLATE.exists():
        db = Database(f"sqlite+aiosqlite:///{_TEMPLATE}")
        await migrate.upgrade(db)
        await db.dispose()
    shutil.copyfile(_TEMPLATE, target)


class SQLiteStore(Store[Any]):
    def __init__(self, db_path: str | None = None) -> None:
        self.db_path = db_path or "default"
        self._file = _FILES.setdefault(self.db_path, _ROOT / f"db{len(_FILES)}.sqlite")
        self._opened: dict[asyncio.AbstractEventLoop, tuple[ThreadStore, str]] = {}
        self._contexts: dict[tuple[asyncio.AbstractEventLoop, str], ChatkitdContext] = {}
        _STORES.append(self)

    async def _store(self) -> tuple[ThreadStore, str]:
        loop = asyncio.get_running_loop()
        if loop not in self._opened:
            if not self._file.exists():
                await _migrated_copy(self._file)
            db = Database(f"sqlite+aiosqlite:///{self._file}")
            store = ThreadStore(db, FileBlobStore(self._file.with_suffix(".blobs")))
            self._opened[loop] = (store, await ensure_project(db, "default"))
        return self._opened[loop]

    async def _call(self, context: Any) -> tuple[ThreadStore, ChatkitdContext]:
        store, project_id = await self._store()
        key = (asyncio.get_running_loop(), context.user_id)
        if key not in self._contexts:
            self._contexts[key] = ChatkitdContext(project_id=project_id, user=context.user_id)
        return store, self._contexts[key]

    def generate_thread_id(self, context: Any) -> str:
        return ids.new_id(ids.THREAD)  # what ThreadStore mints

    def generate_item_id(self, item_type: Any, thread: ThreadMetadata, context: Any) -> str:
        return ids.new_id(ids.ITEM)

    async def load_thread(self, thread_id: str, context: Any) -> ThreadMetadata:
        store, ctx = await self._call(context)
        return await store.load_thread(thread_id, ctx)

    async def save_thread(self, thread: ThreadMetadata, context: Any) -> None:
        store, ctx = await self._call(context)
        await store.save_thread(thread, ctx)

    async def load_thread_items(
        self, thread_id: str, after: str | None, limit: int, order: str, context: Any
    ) -> Page[ThreadItem]:
        store, ctx = await self._call(context)
        return await store.load_thread_items(thread_id, after, limit, order, ctx)

    async def save_attachment(self, attachment: Attachment, context: Any) -> None:
        store, ctx = await self._call(context)
        await store.save_attachment(attachment, ctx)

    async def load_attachment(self, attachment_id: str, context: Any) -> Attachment:
        store, ctx = await self._call(context)
        return await store.load_attachment(attachment_id, ctx)

    async def delete_attachment(self, attachment_id: str, context: Any) -> None:
        store, ctx = await self._call(context)
        await store.delete_attachment(attachment_id, ctx)

    async def load_threads(
        self, limit: int, after: str | None, order: str, context: Any
    ) -> Page[ThreadMetadata]:
        store, ctx = await self._call(context)
        return await store.load_threads(limit, after, order, ctx)

    async def add_thread_item(self, thread_id: str, item: ThreadItem, context: Any) -> None:
        store, ctx = await self._call(context)
        await store.add_thread_item(thread_id, item, ctx)

    async def save_item(self, thread_id: str, item: ThreadItem, context: Any) -> None:
        store, ctx = await self._call(context)
        await store.save_item(thread_id, item, ctx)

    async def load_item(self, thread_id: str, item_id: str, context: Any) -> ThreadItem:
        store, ctx = await self._call(context)
        return await store.load_item(thread_id, item_id, ctx)

    async def delete_thread(self, thread_id: str, context: Any) -> None:
        store, ctx = await self._call(context)
        await store.delete_thread(thread_id, ctx)

    async def delete_thread_item(self, thread_id: str, item_id: str, context: Any) -> None:
        store, ctx = await self._call(context)
        await store.delete_thread_item(thread_id, item_id, ctx)

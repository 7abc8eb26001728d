"""A new thread's row held back until the user's message, so both commit as one transaction.

On PostgreSQL every commit waits for its ``fsync``, and one conversation
request that creates a thread made them in sequence: the thread, then the
user's message, each acknowledged by an event (``thread.created``, then the
message's ``thread.item.done``). Nothing needs the thread's row between the
two: chatkit builds the user's message and adds it right away. So a streamed
``threads.create`` keeps the new thread's insert here (``DeferredThread``) and
the user's message carries it: one statement (``threads._thread_with_first_item``),
one round trip, one ``fsync``.

The guarantee stays "nothing acknowledged is lost on a crash": a frame is
written to the socket only after ``settle`` (``chatkitd.http.conversation``
awaits it before every write). ``settle`` waits for the commit that carries
the row, or, if none has started (a step in between suspended the stream, a
failure came first), commits the row on its own. Any other store call about
the request's threads settles first too, so nothing ever reads a thread whose
row is still held.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy.sql import ClauseElement

from chatkitd.context import RequestContext
from chatkitd.store.db import Database
from chatkitd.store.direct import Direct

_KEY = "chatkitd.deferred_thread"  # in RequestContext.extras
_BARRIER = "chatkitd.frames_wait_for_writes"  # in RequestContext.extras


def hold_frames(context: RequestContext) -> None:
    """Promise that this request's frames reach the client only after ``settle``: writes may wait."""
    context.extras[_BARRIER] = True


def frames_held(context: RequestContext) -> bool:
    return bool(context.extras.get(_BARRIER))


class DeferredThread:
    """A new thread's insert, committed with the request's next write or on its own."""

    def __init__(self, db: Database, thread_id: str, insert: ClauseElement, row: dict[str, Any]) -> None:
        self.thread_id = thread_id
        self._db = db
        self._insert = insert
        self.row = row
        self._done = False
        self._committing: asyncio.Event | None = None

    @asynccontextmanager
    async def carried(self) -> AsyncIterator[bool]:
        """Claim the row for a transaction the caller runs inside: True if it must insert it.

        False when it is already committed (or is being, then once it is): the
        caller's transaction is then its own.
        """
        await self.settled_or_free()
        if self._done:
            yield False
            return
        committing = self._committing = asyncio.Event()
        try:
            yield True
            self._done = True
        finally:
            # Failed or cancelled: the row is held again, for ``settle`` to commit alone.
            self._committing = None
            committing.set()

    async def write(self, direct: Direct) -> None:
        """The row's insert, inside the caller's transaction (after ``carried`` said True)."""
        await direct.execute(self._insert, self.row)

    async def settled_or_free(self) -> None:
        """Wait while another commit carries the row."""
        while self._committing is not None:
            await self._committing.wait()

    async def settle(self) -> None:
        """The row committed (by the transaction carrying it, or alone)."""
        async with self.carried() as mine:
            if mine:
                async with self._db.write_direct(single=True) as direct:
                    await self.write(direct)


def defer(context: RequestContext, deferred: DeferredThread) -> None:
    context.extras[_KEY] = deferred


def deferred_thread(context: RequestContext) -> DeferredThread | None:
    return context.extras.get(_KEY)


async def settle(context: RequestContext) -> None:
    """Every write this request held back, committed: call before a frame reaches the client."""
    deferred = context.extras.get(_KEY)
    if deferred is not None:
        await deferred.settle()
        if context.extras.get(_KEY) is deferred:
            del context.extras[_KEY]

"""Run a stream in its own task, so a client's disconnect cancels it exactly once.

Starlette cancels a response through an anyio cancel scope when the client
goes away. anyio cancellation is level-triggered: every later ``await`` in
that task is cancelled again, so chatkit's ``handle_stream_cancelled`` could
never save the partial assistant message. Here the chatkit generator runs in
a separate asyncio task that feeds a queue; when the consumer is cancelled,
the producer gets one plain ``CancelledError`` and its cleanup can still
await the store.

The consumer takes what the producer queued while it was away all at once
(``detached_batches``): a workflow that streams without waiting queues many
frames between two turns of the consumer, and sending them as one write spares
a socket write and a pass through every ASGI middleware per frame. Nothing
waits for a batch to fill: a frame is sent as soon as the consumer runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable
from dataclasses import dataclass
from typing import TypeVar

T = TypeVar("T")

# Strong references: a task nobody holds may be garbage-collected mid-run.
_running: set[asyncio.Task[None]] = set()


@dataclass
class _Failed:
    error: BaseException


class _End:
    """Queued after the source's last value."""


_END = _End()


async def detached_batches(source: AsyncIterable[T]) -> AsyncGenerator[list[T], None]:
    """The values of ``source``, produced in a task of their own; each time, every value
    queued since the last (at least one)."""
    # Unbounded on purpose: the producer must only ever wait inside ``source``,
    # so that cancellation lands there and chatkit's cleanup runs.
    queue: asyncio.Queue[T | _Failed | _End] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for value in source:
                queue.put_nowait(value)
        except asyncio.CancelledError:
            raise
        except BaseException as error:  # noqa: BLE001 - handed to the consumer
            queue.put_nowait(_Failed(error))
        else:
            queue.put_nowait(_END)

    task = asyncio.create_task(pump())
    _running.add(task)
    task.add_done_callback(_running.discard)
    try:
        while True:
            batch: list[T] = []
            value = await queue.get()
            while True:
                if isinstance(value, _End):
                    if batch:
                        yield batch
                    return
                if isinstance(value, _Failed):
                    if batch:
                        yield batch  # what came before the failure is sent first
                    raise value.error
                batch.append(value)
                if queue.empty():
                    break
                value = queue.get_nowait()
            yield batch
    finally:
        if not task.done():
            task.cancel()


async def wait_for_detached(timeout: float = 10.0) -> None:
    """Let cancelled producers finish their cleanup (used on shutdown), then cancel stragglers."""
    if not _running:
        return
    _, pending = await asyncio.wait(list(_running), timeout=timeout)
    for task in pending:
        task.cancel()

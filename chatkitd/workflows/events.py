"""Helpers that turn text into the protocol's streamed assistant-message events.

Any workflow can use them; the demo does, and so does the bench's reference
server (by copy), so both stream the same frames.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

from chatkit.types import (
    Annotation,
    AssistantMessageContent,
    AssistantMessageContentPartAdded,
    AssistantMessageContentPartAnnotationAdded,
    AssistantMessageContentPartDone,
    AssistantMessageContentPartTextDelta,
    AssistantMessageItem,
    ThreadItemAddedEvent,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadStreamEvent,
)

from chatkitd import clock

# Deltas streamed between two turns of the event loop.
YIELD_EVERY = 16


def chunk_words(text: str, words_per_chunk: int = 1) -> list[str]:
    """Split ``text`` into deltas that join back to exactly ``text``."""
    pieces = text.split(" ")
    chunks = []
    for start in range(0, len(pieces), words_per_chunk):
        chunk = " ".join(pieces[start : start + words_per_chunk])
        chunks.append(chunk if start + words_per_chunk >= len(pieces) else chunk + " ")
    return chunks


async def stream_assistant_message(
    item_id: str,
    thread_id: str,
    chunks: Iterable[str],
    annotations: Iterable[Annotation] = (),
    delay: float = 0.0,
) -> AsyncIterator[ThreadStreamEvent]:
    """added -> content part added -> text deltas -> annotations -> part done -> done."""
    item = AssistantMessageItem(id=item_id, thread_id=thread_id, created_at=clock.now(), content=[])
    yield ThreadItemAddedEvent(item=item)
    yield ThreadItemUpdatedEvent(
        item_id=item_id,
        update=AssistantMessageContentPartAdded(content_index=0, content=AssistantMessageContent(text="")),
    )
    parts: list[str] = []
    for count, chunk in enumerate(chunks, 1):
        if delay:
            await asyncio.sleep(delay)
        elif count % YIELD_EVERY == 0:
            # A long answer made without waiting would hold the event loop, and every other
            # request, until its last delta: let them run between deltas.
            await asyncio.sleep(0)
        parts.append(chunk)
        yield ThreadItemUpdatedEvent(
            item_id=item_id,
            update=AssistantMessageContentPartTextDelta(content_index=0, delta=chunk),
        )
    notes = list(annotations)
    for index, annotation in enumerate(notes):
        yield ThreadItemUpdatedEvent(
            item_id=item_id,
            update=AssistantMessageContentPartAnnotationAdded(
                content_index=0, annotation_index=index, annotation=annotation
            ),
        )
    content = AssistantMessageContent(text="".join(parts), annotations=notes)
    yield ThreadItemUpdatedEvent(
        item_id=item_id, update=AssistantMessageContentPartDone(content_index=0, content=content)
    )
    yield ThreadItemDoneEvent(item=item.model_copy(update={"content": [content]}))

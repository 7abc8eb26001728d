"""Every timestamp the conversation endpoint sends is UTC-aware, streamed or read back.

``openai-chatkit`` stamps what it creates with ``datetime.now()``: naive,
local time. The store saves UTC, so the same thread used to show two
different times on a server not set to UTC (the streamed one without an
offset, the read-back one with ``Z``). Objects are converted on their way
out, as copies: chatkit's converter later subtracts ``datetime.now()`` from
items it made, which an aware time would break.
"""

from __future__ import annotations

import functools
from typing import Any, TypeVar

from chatkit.types import Page, Thread, ThreadItemBase, ThreadMetadata
from pydantic import BaseModel

from chatkitd.clock import to_utc

M = TypeVar("M", bound=BaseModel)

# Where an event or response carries a thread or an item.
_CARRIERS = ("thread", "item", "updated_item")


def utc_timestamps(obj: M) -> M:
    """``obj``, or a copy of it whose threads and items carry UTC-aware ``created_at``."""
    if isinstance(obj, (ThreadMetadata, ThreadItemBase)):
        return _stamped(obj)
    if isinstance(obj, Page):
        return _page(obj)  # type: ignore[return-value]
    for name in _carriers(type(obj)):
        value = getattr(obj, name)
        if isinstance(value, BaseModel):
            fixed = utc_timestamps(value)
            if fixed is not value:
                obj = obj.model_copy(update={name: fixed})
    return obj


@functools.cache
def _carriers(model: type[BaseModel]) -> tuple[str, ...]:
    """The carrier fields a model has (most events have none: a text delta carries no item)."""
    return tuple(name for name in _CARRIERS if name in model.model_fields)


def _stamped(obj: Any) -> Any:
    update: dict[str, Any] = {}
    if obj.created_at.tzinfo is None:
        update["created_at"] = to_utc(obj.created_at)
    if isinstance(obj, Thread):
        items = _page(obj.items)
        if items is not obj.items:
            update["items"] = items
    return obj.model_copy(update=update) if update else obj


def _page(page: Page[Any]) -> Page[Any]:
    data = [utc_timestamps(entry) if isinstance(entry, BaseModel) else entry for entry in page.data]
    if all(new is old for new, old in zip(data, page.data, strict=True)):
        return page
    return page.model_copy(update={"data": data})

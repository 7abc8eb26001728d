"""The REST shapes the store writes beside each thread and item (the read model).

The mapping itself lives in ``chatkitd.rest``; this module only serializes
what it returns, the way every REST response is serialized.
"""

from __future__ import annotations

import json
from typing import Any

from chatkit.types import ThreadItem, ThreadMetadata
from pydantic import TypeAdapter

from chatkitd.rest.items import to_rest
from chatkitd.rest.threads import thread_resource

_items = TypeAdapter(ThreadItem)


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def thread_rest(thread: ThreadMetadata, user: str, created_at: float) -> str:
    return dumps(thread_resource(thread, user, created_at))


def item_rest(item: ThreadItem) -> str | None:
    shape = to_rest(item)
    return None if shape is None else dumps(shape)


def thread_rest_json(data: str, user: str, created_at: float) -> str:
    return thread_rest(ThreadMetadata.model_validate_json(data), user, created_at)


def item_rest_json(data: str) -> str | None:
    return item_rest(_items.validate_json(data))

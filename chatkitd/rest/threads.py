"""REST shapes of the thread endpoints that the store does not keep: the deletion receipt.

A thread's own shape and the list envelope are part of the stored REST
projection: ``chatkitd.store.rest_shapes``.
"""

from __future__ import annotations

from typing import Any


def deleted_resource(thread_id: str) -> dict[str, Any]:
    return {"id": thread_id, "object": "chatkit.thread.deleted", "deleted": True}

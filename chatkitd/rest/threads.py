"""REST shapes for threads and for the list envelope shared by every list endpoint."""

from __future__ import annotations

from typing import Any

from chatkitd.store.threads import StoredThread


def thread_resource(thread: StoredThread) -> dict[str, Any]:
    status = thread.metadata.status
    status_body: dict[str, Any] = {"type": status.type}
    if status.type != "active":
        status_body["reason"] = getattr(status, "reason", None)
    return {
        "id": thread.metadata.id,
        "object": "chatkit.thread",
        "created_at": int(thread.created_at),
        "status": status_body,
        "title": thread.metadata.title,
        "user": thread.user,
    }


def list_resource(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def deleted_resource(thread_id: str) -> dict[str, Any]:
    return {"id": thread_id, "object": "chatkit.thread.deleted", "deleted": True}

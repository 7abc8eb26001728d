"""REST shapes for threads and for the list envelope shared by every list endpoint."""

from __future__ import annotations

import json
from typing import Any

from chatkit.types import ThreadMetadata


def thread_resource(thread: ThreadMetadata, user: str, created_at: float) -> dict[str, Any]:
    status = thread.status
    status_body: dict[str, Any] = {"type": status.type}
    if status.type != "active":
        status_body["reason"] = getattr(status, "reason", None)
    return {
        "id": thread.id,
        "object": "chatkit.thread",
        "created_at": int(created_at),
        "status": status_body,
        "title": thread.title,
        "user": user,
    }


def list_resource(data: list[dict[str, Any]], has_more: bool) -> dict[str, Any]:
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": has_more,
    }


def list_body(rows: list[tuple[str, str]], has_more: bool) -> bytes:
    """The list envelope around stored REST shapes, spliced without re-parsing them.

    ``rows`` are ``(id, rest_json)`` pairs; the result equals
    ``list_resource`` of the parsed shapes, serialized.
    """
    first_id = json.dumps(rows[0][0]) if rows else "null"
    last_id = json.dumps(rows[-1][0]) if rows else "null"
    data = ",".join(rest for _, rest in rows)
    more = "true" if has_more else "false"
    return (
        f'{{"object":"list","data":[{data}],"first_id":{first_id},"last_id":{last_id},"has_more":{more}}}'
    ).encode()


def deleted_resource(thread_id: str) -> dict[str, Any]:
    return {"id": thread_id, "object": "chatkit.thread.deleted", "deleted": True}

"""Reading request bodies and query parameters with clear 400s."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from chatkitd.errors import InvalidRequest
from chatkitd.store.paging import Window

MAX_LIST_LIMIT = 100
DEFAULT_LIST_LIMIT = 20


async def json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        data = json.loads(raw) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidRequest("The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    return data


def list_window(request: Request) -> Window:
    """``after``, ``before``, ``limit`` (0–100, default 20) and ``order`` (default desc)."""
    query = request.query_params
    raw_limit = query.get("limit")
    limit = DEFAULT_LIST_LIMIT
    if raw_limit is not None:
        try:
            limit = int(raw_limit)
        except ValueError:
            raise InvalidRequest(
                f"Invalid 'limit': expected an integer, got {raw_limit!r}.", param="limit"
            ) from None
        if not 0 <= limit <= MAX_LIST_LIMIT:
            raise InvalidRequest(
                f"Invalid 'limit': must be between 0 and {MAX_LIST_LIMIT}, got {limit}.",
                param="limit",
            )
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise InvalidRequest(f"Invalid 'order': expected 'asc' or 'desc', got {order!r}.", param="order")
    return Window(limit=limit, order=order, after=query.get("after"), before=query.get("before"))

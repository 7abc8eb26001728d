"""Reading request bodies and query parameters with clear 400s."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from chatkitd.errors import InvalidRequest
from chatkitd.rest import json_input
from chatkitd.rest.input_policy import MAX_QUERY_TEXT
from chatkitd.store.paging import DEFAULT_LIMIT, MAX_LIMIT, Window, is_order, parse_limit


async def read_body(request: Request) -> bytes:
    """The request body: at most the route's limit, which ``chatkitd.http.body_limit`` enforces
    (a 413 on the declared length, or at the first byte over) before this returns."""
    return await request.body()


async def json_object(request: Request) -> dict[str, Any]:
    """The body as a JSON object, within ``chatkitd.rest.json_input``'s bounds, or a 400."""
    raw = await read_body(request)
    data = json_input.decode(raw) if raw else None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    return data


def _no_nul(value: str | None, param: str) -> str | None:
    # PostgreSQL text cannot hold NUL; no id, cursor or user contains one.
    if value is not None and "\x00" in value:
        raise InvalidRequest(f"Invalid '{param}': must not contain NUL characters.", param=param)
    return value


def query_text(request: Request, name: str) -> str | None:
    """An optional text query parameter: when given, 1 to 512 characters (as the reference bounds
    ``user``; an empty filter or cursor means nothing), without NUL."""
    value = request.query_params.get(name)
    if value is not None and not 1 <= len(value) <= MAX_QUERY_TEXT:
        raise InvalidRequest(
            f"Invalid '{name}': expected 1 to {MAX_QUERY_TEXT} characters, got {len(value)}.",
            param=name,
            code="invalid_value",
        )
    return _no_nul(value, name)


def path_id(request: Request, name: str) -> str:
    """An id from the path, e.g. ``thread_id``."""
    return _no_nul(request.path_params[name], name) or ""


def list_window(request: Request, *, maximum: int = MAX_LIMIT, default: int = DEFAULT_LIMIT) -> Window:
    """``after``, ``before``, ``limit`` (``paging.parse_limit``; an endpoint whose OpenAI twin
    pages wider passes its bounds) and ``order`` (default desc)."""
    query = request.query_params
    limit = parse_limit(query.get("limit"), "limit", default=default, maximum=maximum)
    order = query.get("order", "desc")
    if not is_order(order):
        raise InvalidRequest(f"Invalid 'order': expected 'asc' or 'desc', got {order!r}.", param="order")
    return Window(
        limit=limit,
        order=order,
        after=query_text(request, "after"),
        before=query_text(request, "before"),
    )

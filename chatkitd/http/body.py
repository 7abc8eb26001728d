"""Reading request bodies and query parameters with clear 400s."""

from __future__ import annotations

import json
import math
from typing import Any

from starlette.requests import Request

from chatkitd.errors import InvalidRequest, PayloadTooLarge
from chatkitd.store.paging import DEFAULT_LIMIT, MAX_LIMIT, Window, is_order, parse_limit

# JSON bodies of the REST API are small; uploads have their own, per-session limit.
MAX_BODY_BYTES = 16 * 1024 * 1024


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, refused with a 413 as soon as it passes ``limit`` bytes.

    A declared Content-Length over the limit is refused before anything is
    read; a chunked body is counted while it streams, so an oversized request
    never sits in memory whole.
    """
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(
        f"The request body is larger than the limit of {limit} bytes.",
        code="request_too_large",
    )


def _not_finite(value: str) -> float:
    # Python's json accepts NaN, Infinity and 1e999; JSON does not, and nothing
    # chatkitd stores could be written back out.
    raise InvalidRequest(
        f"The request body is not valid JSON: {value} is not a finite number.", code="invalid_json"
    )


def _finite(text: str) -> float:
    value = float(text)
    return value if math.isfinite(value) else _not_finite(text)


async def json_object(request: Request) -> dict[str, Any]:
    raw = await read_body(request)
    try:
        data = json.loads(raw, parse_constant=_not_finite, parse_float=_finite) if raw else None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InvalidRequest("The request body is not valid JSON.", code="invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidRequest("The request body must be a JSON object.", code="invalid_json")
    return data


def _no_nul(value: str | None, param: str) -> str | None:
    # PostgreSQL text cannot hold NUL; no id, cursor or user contains one.
    if value is not None and "\x00" in value:
        raise InvalidRequest(f"Invalid '{param}': must not contain NUL characters.", param=param)
    return value


def query_text(request: Request, name: str) -> str | None:
    """An optional text query parameter."""
    return _no_nul(request.query_params.get(name), name)


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

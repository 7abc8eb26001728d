"""What a JSON request body may hold, checked once for every route (the bounds are
``chatkitd.rest.input_policy``'s, with every other input limit).

Valid JSON can still be hostile or useless: a 5 000-digit integer, an array
nested 100 000 deep, ``NaN``, a million-element list, a NUL character that
PostgreSQL text cannot store. Each used to end as a 500 somewhere deeper (a
``RecursionError``, Python's 4 300-digit conversion limit, the driver's
32 767-parameter limit, a database error). Here each is a 400 naming the
param, before any handler sees the body:

- nesting is bounded by the parser itself (pydantic-core's, whose recursion
  limit stops it early) and then to ``MAX_DEPTH``;
- integers fit in 64 bits, numbers are finite;
- no array holds more than ``MAX_ARRAY_ITEMS`` values (a list of ids is one
  query parameter each on PostgreSQL, and work for the one writer on SQLite);
- no string or key holds a NUL character.

REST bodies (``chatkitd.http.body.json_object``) and every conversation
request (``chatkitd.runtime.server.parse_request``) go through ``decode``.
"""

from __future__ import annotations

import math
import re
from typing import Any

import pydantic_core

from chatkitd.errors import InvalidRequest
from chatkitd.rest.input_policy import MAX_ARRAY_ITEMS, MAX_DEPTH, MAX_INTEGER
from chatkitd.rest.validation import param_path

# A string (or one the body cuts off, up to where the parser stopped), or a structural character.
_TOKEN = re.compile(rb'"(?:[^"\\]|\\.)*(?:"|$)|[\[\]{}:,]')
_NON_FINITE = re.compile(rb"-?(?:NaN|Infinity)")


def decode(raw: bytes) -> Any:
    """The decoded body, or a 400 (``invalid_json``, or naming the param over a bound)."""
    try:
        data = pydantic_core.from_json(raw, allow_inf_nan=False, cache_strings="keys")
    except ValueError as error:
        reason = str(error)
        if "recursion limit" in reason:
            raise _too_deep(_path_to(raw, depth=MAX_DEPTH)) from None
        offset = _offset(raw, reason)
        literal = _NON_FINITE.search(raw, max(0, offset - 2), offset + 10)
        if literal is not None:
            # Python's json takes NaN and Infinity; JSON does not, and nothing stored could be sent back.
            reason = f"{literal.group().decode()} is not a finite number"
            raise _number_error(raw, literal.start(), reason) from None
        if "number out of range" in reason:
            # Past Python's 4 300-digit conversion limit, or a float past 1e308's range.
            raise _number_error(raw, offset, "number out of range") from None
        # Named where parsing stopped: a bad escape, invalid UTF-8 or a stray character
        # inside a param's value names the param.
        param = param_path(_path_to(raw, end=offset)) or None
        where = f" (in '{param}')" if param else ""
        problem = reason.split(" at line ")[0]
        raise InvalidRequest(
            f"The request body is not valid JSON{where}: {problem}.", param=param, code="invalid_json"
        ) from None
    check(data)
    return data


def check(data: Any) -> None:
    """Refuse ``data`` (already decoded JSON) if it breaks a bound."""
    problem = _first_problem(data, ())
    if problem is None:
        return
    path, kind = problem
    param = param_path(path) or None
    where = f"'{param}'" if param else "the request body"
    if kind == "depth":
        raise _too_deep(path)
    if kind == "number":
        message = f"Invalid value for {where}: numbers must be finite, and integers fit in 64 bits."
    elif kind == "items":
        message = f"Invalid value for {where}: an array may hold at most {MAX_ARRAY_ITEMS} values."
    else:
        message = f"Invalid value for {where}: must not contain NUL characters."
    raise InvalidRequest(message, param=param, code=f"invalid_{kind}" if kind != "nul" else None)


def _number_error(raw: bytes, offset: int, reason: str) -> InvalidRequest:
    param = param_path(_path_to(raw, end=offset)) or None
    where = f"'{param}'" if param else "the request body"
    return InvalidRequest(f"Invalid value for {where}: {reason}.", param=param, code="invalid_number")


def _too_deep(path: tuple[Any, ...]) -> InvalidRequest:
    # Named by the innermost key: "a.b", not "a.b[0][0][0]..." 64 times over.
    keys = [index for index, part in enumerate(path) if isinstance(part, str)]
    param = param_path(path[: keys[-1] + 1]) if keys else None
    return InvalidRequest(
        f"The request body nests arrays and objects more than {MAX_DEPTH} levels deep"
        + (f" (at '{param}')." if param else "."),
        param=param,
        code="nesting_too_deep",
    )


def _first_problem(value: Any, path: tuple[Any, ...]) -> tuple[tuple[Any, ...], str] | None:
    # Recursion is bounded: the parser refuses anything deeper than its own limit
    # (200), and this stops at MAX_DEPTH.
    if isinstance(value, str):
        return (path, "nul") if "\x00" in value else None
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        return None if -MAX_INTEGER - 1 <= value <= MAX_INTEGER else (path, "number")
    if isinstance(value, float):
        return None if math.isfinite(value) else (path, "number")
    if len(path) >= MAX_DEPTH:
        return (path, "depth")
    if isinstance(value, list):
        if len(value) > MAX_ARRAY_ITEMS:
            return (path, "items")
        for index, child in enumerate(value):
            if child is not None and child is not True and child is not False:
                found = _first_problem(child, (*path, index))
                if found is not None:
                    return found
        return None
    for key, child in value.items():
        if "\x00" in key:
            return (path, "nul")  # a bad key: named by the object holding it
        found = _first_problem(child, (*path, key))
        if found is not None:
            return found
    return None


def _offset(raw: bytes, reason: str) -> int:
    """The byte offset of the parser's "at line L column C"."""
    match = re.search(r"line (\d+) column (\d+)", reason)
    if match is None:
        return len(raw)
    line, column = int(match.group(1)), int(match.group(2))
    start = 0
    for _ in range(line - 1):
        start = raw.index(b"\n", start) + 1
    return start + column - 1


def _path_to(raw: bytes, *, depth: int | None = None, end: int | None = None) -> tuple[Any, ...]:
    """The keys and indexes leading to where ``raw`` first nests deeper than ``depth``, or to
    byte ``end``. Only for a body the parser refused, so it is valid JSON up to there."""
    path: list[Any] = []
    pending_key: Any = None
    for match in _TOKEN.finditer(raw, 0, len(raw) if end is None else end):
        token = match.group()
        if token in (b"[", b"{"):
            if depth is not None and len(path) >= depth:
                break
            path.append(0 if token == b"[" else None)
            pending_key = None
        elif token in (b"]", b"}"):
            if path:
                path.pop()
        elif token == b",":
            if path and isinstance(path[-1], int):
                path[-1] += 1
        elif token == b":":
            if path:
                path[-1] = pending_key
        elif len(token) < 2 or not token.endswith(b'"'):
            break  # a string cut off where parsing stopped: the error is inside it
        else:  # a string: an object's key when a colon follows
            pending_key = pydantic_core.from_json(token)
    return tuple(part for part in path if part is not None)

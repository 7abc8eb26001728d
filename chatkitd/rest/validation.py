"""Turn a pydantic ValidationError into one clear 400 that names the offending param."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chatkitd.errors import InvalidRequest

M = TypeVar("M", bound=BaseModel)

_MISSING = object()


def param_path(loc: tuple[Any, ...]) -> str:
    parts: list[str] = []
    for part in loc:
        if isinstance(part, int):
            parts.append(f"[{part}]")
        elif parts:
            parts.append(f".{part}")
        else:
            parts.append(str(part))
    return "".join(parts)


def _input_loc(loc: tuple[Any, ...], data: Any, missing: bool) -> tuple[Any, ...]:
    """The part of pydantic's ``loc`` that is a path into the request body.

    Pydantic adds steps that are not in the body: the member of a union it
    tried (``bool``, ``constrained-str``...) and ``[key]`` for a bad dict key.
    Walking the body keeps only real keys; a bad key names the dict holding it.
    """
    kept: list[Any] = []
    current = data
    for index, part in enumerate(loc):
        last = index == len(loc) - 1
        if part == "[key]":
            return tuple(kept[:-1])
        if isinstance(current, dict) and part in current:
            kept.append(part)
            current = current[part]
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            kept.append(part)
            current = current[part]
        elif missing and last and isinstance(current, dict):
            kept.append(part)  # a missing field: name it
            current = _MISSING
    return tuple(kept)


def from_validation_error(error: ValidationError, data: Any = _MISSING) -> InvalidRequest:
    first = error.errors(include_url=False)[0]
    if data is _MISSING:
        # Without the body, drop the steps pydantic adds for tagged unions at least.
        loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
    else:
        loc = _input_loc(tuple(first["loc"]), data, first["type"] == "missing")
    param = param_path(loc) or None
    if first["type"] == "extra_forbidden":
        message = f"Unknown parameter: '{param}'."
    elif first["type"] == "missing":
        message = f"Missing required parameter: '{param}'."
    else:
        message = f"Invalid value for '{param}': {first['msg']}."
    return InvalidRequest(message, param=param, code=first["type"])


def parse(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise from_validation_error(error, data) from None

"""Turn a pydantic ValidationError into one clear 400 that names the offending param."""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from chatkitd.errors import InvalidRequest

M = TypeVar("M", bound=BaseModel)


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


def from_validation_error(error: ValidationError) -> InvalidRequest:
    first = error.errors(include_url=False)[0]
    # Tagged unions add the tag to the location; it only confuses the reader.
    loc = tuple(p for p in first["loc"] if not (isinstance(p, str) and p.startswith("function-")))
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
        raise from_validation_error(error) from None

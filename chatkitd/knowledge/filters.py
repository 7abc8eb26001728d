"""Attribute filters (``filters`` of a search, OpenAI's comparison and compound filters).

Attributes belong to a vector store file, so a filter picks files, not
chunks: search evaluates it once per file here, then looks only at the
chunks of the files it kept.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from chatkitd.knowledge.requests import ComparisonFilter, CompoundFilter, Filter

_ORDERED: dict[str, Callable[[Any, Any], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def _same_kind(a: Any, b: Any) -> bool:
    numeric = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool)
    return (isinstance(a, numeric) and isinstance(b, numeric)) or type(a) is type(b)


def _compare(condition: ComparisonFilter, attributes: dict[str, Any]) -> bool:
    if condition.key not in attributes:
        return condition.type in ("ne", "nin")
    value, wanted = attributes[condition.key], condition.value
    match condition.type:
        case "eq":
            return _same_kind(value, wanted) and value == wanted
        case "ne":
            return not (_same_kind(value, wanted) and value == wanted)
        case "in" | "nin":
            members = wanted if isinstance(wanted, list) else [wanted]
            found = any(_same_kind(value, member) and value == member for member in members)
            return found if condition.type == "in" else not found
    return _same_kind(value, wanted) and _ORDERED[condition.type](value, wanted)


def matches(condition: Filter, attributes: dict[str, Any]) -> bool:
    if isinstance(condition, CompoundFilter):
        results = (matches(part, attributes) for part in condition.filters)
        return all(results) if condition.type == "and" else any(results)
    return _compare(condition, attributes)

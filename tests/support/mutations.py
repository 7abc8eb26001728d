"""Mutating valid requests into hostile ones, fast: the volume half of the fuzz test.

Generating a body from a schema with Hypothesis costs tens of milliseconds
(far more for the conversation's request union), so the schema-driven half
(``fuzzing.fuzz``) sends a few per operation, and this half takes those and
hand-made valid requests as seeds and breaks them thousands of times: a node
replaced by a value of another type or an extreme one, a key dropped or
added, a list grown, the request type swapped, ids from another object, or
the JSON text itself cut or corrupted. One seeded ``random.Random`` makes a
run reproducible from its seed.
"""

from __future__ import annotations

import copy
import json
import random
from dataclasses import dataclass
from typing import Any

# Values every JSON field should survive: wrong types, edges of number ranges, hostile strings.
EXTREMES: tuple[Any, ...] = (
    None,
    True,
    0,
    -1,
    2**31,
    2**53 + 1,
    2**64,
    10**40,
    -(10**40),
    1e308,
    -0.0,
    0.5,
    "",
    " ",
    "x" * 5_000,
    "\u0000",
    "\ud800",
    "é\u202e🙂",
    "../../etc/passwd",
    "%00",
    "null",
    "[]",
    {},
    [],
    [None],
    {"": None},
)
# JSON texts no parser should choke on for long, and bodies that are not JSON at all.
RAW_BODIES: tuple[bytes, ...] = (
    b"",
    b"{",
    b"[" * 20_000 + b"]" * 20_000,
    b'{"a":' * 5_000 + b"1" + b"}" * 5_000,
    b"NaN",
    b'{"type": Infinity}',
    b"1e999999",
    b"9" * 10_000,
    b"\xff\xfe\x00",
    b'"\\ud800"',
    b"\x00" * 100,
)


@dataclass(frozen=True)
class Request:
    method: str
    url: str
    headers: dict[str, str]
    params: dict[str, Any] | None = None
    body: Any = None  # a JSON value, or bytes sent as they are
    raw: bool = False


def _paths(value: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Where a mutation may strike: every node down to 20 levels (below lies what a mutation nested)."""
    found = [here]
    if len(here) >= 20:
        return found
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*here, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*here, index))
    return found


def _get(value: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        value = value[step]
    return value


def _set(value: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    _get(value, path[:-1])[path[-1]] = new
    return value


DEEP = "\u0000deep\u0000"  # where a deeply nested value goes into the JSON text


class Mutator:
    def __init__(self, seed: int, ids: list[str], request_types: list[str]) -> None:
        self._deep = ""
        self.rng = random.Random(seed)
        self.ids = ids
        self.request_types = request_types

    def _extreme(self) -> Any:
        # A copy: EXTREMES' dicts and lists must never be changed by a later mutation (or hold themselves).
        return copy.deepcopy(self.rng.choice(EXTREMES))

    def body(self, seed: Any) -> tuple[Any, bool]:
        """A mutation of ``seed``: (a JSON value, False) or (raw bytes, True)."""
        rng = self.rng
        if rng.random() < 0.08:
            return rng.choice(RAW_BODIES), True
        if rng.random() < 0.07:
            text = json.dumps(seed).encode()
            cut = rng.randrange(len(text) + 1)
            return text[:cut] + rng.choice((b"", b"\x00", b"\xff", b'"', b"}")), True
        value = json.loads(json.dumps(seed))
        self._deep = ""
        for _ in range(rng.choice((1, 1, 1, 2, 3))):
            value = self._once(value)
        if self._deep:
            return json.dumps(value).replace(json.dumps(DEEP), self._deep, 1).encode(), True
        return value, False

    def _once(self, value: Any) -> Any:
        rng = self.rng
        path = rng.choice(_paths(value))
        node = _get(value, path)
        roll = rng.random()
        if roll < 0.35:
            return _set(value, path, self._extreme())
        if roll < 0.5 and isinstance(node, dict) and node:
            del node[rng.choice(list(node))]
            return value
        if roll < 0.6 and isinstance(node, dict):
            node[rng.choice(("extra", "type", "params", "id", "__proto__", "x" * 300))] = self._extreme()
            return value
        if roll < 0.7 and isinstance(node, list):
            grown = node * rng.choice((2, 50, 500)) if node else [self._extreme()] * 1_000
            return _set(value, path, grown)
        if roll < 0.8 and path and path[-1] == "type" and self.request_types:
            return _set(value, path, rng.choice(self.request_types))
        if roll < 0.9 and isinstance(node, str) and self.ids:
            return _set(value, path, rng.choice(self.ids))
        if roll < 0.95:
            return _set(value, path, [node] if rng.random() < 0.5 else {"value": node})
        # Deep nesting is spliced into the JSON text (``body``): json.dumps would recurse.
        depth = rng.choice((50, 500, 5_000))
        self._deep = "[" * depth + json.dumps(node) + "]" * depth
        return _set(value, path, DEEP)

    def params(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """Query parameters with one value replaced, added or dropped."""
        rng = self.rng
        out = {key: value for key, value in (params or {}).items() if rng.random() > 0.2}
        key = rng.choice([*out, "limit", "after", "before", "order", "user", "signature", "expires"])
        out[key] = rng.choice(
            ("", "-1", "0", "101", "1e9", "99999999999999999999", "asc", "desc", "x" * 3_000, "\u0000", "%ff")
            + tuple(self.ids[:5])
        )
        return out

    def request(self, seed: Request) -> Request:
        if seed.method in ("GET", "DELETE") and seed.body is None:
            return Request(seed.method, seed.url, seed.headers, self.params(seed.params))
        body, raw = self.body(seed.body)
        params = self.params(seed.params) if self.rng.random() < 0.1 else seed.params
        return Request(seed.method, seed.url, seed.headers, params, body, raw)

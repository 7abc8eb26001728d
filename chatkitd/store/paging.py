"""Keyset pagination over a table's ``seq`` column, shared by every list.

``after=X`` continues past X in the requested order (what the ``openai``
SDK's auto-pagination sends); ``before=X`` is the page just before X in that
order. Cost depends on the page size, never on how deep the page is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, TypeGuard

from sqlalchemy import ColumnElement, Select, Table, select
from sqlalchemy.ext.asyncio import AsyncConnection

Order = Literal["asc", "desc"]


def is_order(value: str) -> TypeGuard[Order]:
    """Whether a query parameter names an order (and, to the type checker, is one)."""
    return value in ("asc", "desc")


class UnknownCursor(LookupError):
    def __init__(self, param: str, value: str) -> None:
        super().__init__(f"No such {param} cursor: {value!r}")
        self.param = param
        self.value = value


@dataclass(frozen=True)
class Window:
    limit: int
    order: Order = "desc"
    after: str | None = None
    before: str | None = None


@dataclass(frozen=True)
class Plan:
    """How to read one window: which bounds apply, and in which direction to scan."""

    after: bool
    before: bool
    ascending: bool  # the order the caller asked for
    read_ascending: bool  # the order the rows are read in
    backwards: bool  # walking back from `before`: read reversed, then flip


def plan(window: Window) -> Plan:
    ascending = window.order == "asc"
    backwards = window.before is not None and window.after is None
    return Plan(
        after=window.after is not None,
        before=window.before is not None,
        ascending=ascending,
        read_ascending=ascending != backwards,
        backwards=backwards,
    )


def bound_conditions(seq: ColumnElement[Any], how: Plan, after_seq: Any, before_seq: Any) -> list:
    """The ``seq`` conditions of a window, given the cursors' own ``seq`` values."""
    conditions = []
    if how.after:
        conditions.append(seq > after_seq if how.ascending else seq < after_seq)
    if how.before:
        conditions.append(seq < before_seq if how.ascending else seq > before_seq)
    return conditions


def trim(rows: list[Any], window: Window, how: Plan) -> tuple[list[Any], bool]:
    """The page out of ``limit + 1`` rows read, and whether more lie beyond."""
    has_more = len(rows) > window.limit
    rows = rows[: window.limit]
    if how.backwards:
        rows.reverse()
    return rows, has_more


async def fetch_page(
    conn: AsyncConnection,
    query: Select,
    table: Table,
    window: Window,
    cursor_where: Iterable[ColumnElement[bool]] = (),
) -> tuple[list[Any], bool]:
    """Run ``query`` for one page; returns the rows and whether more lie beyond.

    A cursor must name a row of ``table`` that meets every condition in
    ``cursor_where``; a cursor outside them is as unknown as one that never
    existed. They are row predicates, not ``id IN (subquery)``, which SQLite
    would materialize on every lookup.
    """
    seq = table.c.seq
    how = plan(window)

    async def seq_of(cursor: str, param: str) -> int:
        found = await conn.scalar(select(seq).where(table.c.id == cursor, *cursor_where))
        if found is None:
            raise UnknownCursor(param, cursor)
        return found

    after_seq = await seq_of(window.after, "after") if window.after is not None else None
    before_seq = await seq_of(window.before, "before") if window.before is not None else None
    query = query.where(*bound_conditions(seq, how, after_seq, before_seq))
    query = query.order_by(seq.asc() if how.read_ascending else seq.desc()).limit(window.limit + 1)
    rows = list((await conn.execute(query)).mappings().all())
    return trim(rows, window, how)

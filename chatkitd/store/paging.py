"""Keyset pagination over a table's ``seq`` column: the one paging rule every list follows.

A list keyed on something other than a table's own rows (one row per workflow, a
version number for a cursor) pages a subquery with an ``id`` and a ``seq`` column.

``after=X`` continues past X in the requested order (what the ``openai``
SDK's auto-pagination sends); ``before=X`` is the page just before X in that
order. A page holds 0 to ``MAX_LIMIT`` rows (``DEFAULT_LIMIT`` unless asked).
Cost depends on the page size, never on how deep the page is.

``keyset`` builds a page's statement once per plan, with bind parameters: the
cursors are subqueries of it (their ``seq``, looked up within the scope the
caller gives), so a page is one statement. A cursor outside that scope reads as
NULL and the page comes back empty; only then does ``check_cursors`` look at
the cursors on their own, to tell an empty page from an unknown cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeGuard

from sqlalchemy import ColumnElement, FromClause, Select, bindparam, select

from chatkitd.errors import InvalidRequest

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncConnection

    from chatkitd.store.db import Database

Order = Literal["asc", "desc"]
MAX_LIMIT = 100
DEFAULT_LIMIT = 20


def is_order(value: str) -> TypeGuard[Order]:
    """Whether a query parameter names an order (and, to the type checker, is one)."""
    return value in ("asc", "desc")


def parse_limit(
    raw: str | int | None,
    param: str,
    *,
    default: int = DEFAULT_LIMIT,
    minimum: int = 0,
    maximum: int = MAX_LIMIT,
) -> int:
    """A page size from a query string (text) or a JSON body (a number), or a 400 naming ``param``.

    ``maximum`` is for an endpoint whose OpenAI twin allows wider pages (``GET /v1/files``: 10 000)."""
    if raw is None:
        return default
    if isinstance(raw, str):
        # ASCII digits only: str.isdigit alone accepts "²", which int() then refuses.
        digits = raw[1:] if raw.startswith("-") else raw
        if not (digits.isascii() and digits.isdigit()) or len(digits) > 18:
            raise InvalidRequest(
                f"Invalid '{param}': expected an integer, got {raw!r}.", param=param, code="invalid_limit"
            )
        raw = int(raw)
    if not minimum <= raw <= maximum:
        raise InvalidRequest(
            f"Invalid '{param}': must be between {minimum} and {maximum}, got {raw}.",
            param=param,
            code="invalid_limit",
        )
    return raw


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


def cursor_seq(table: FromClause, scope: Sequence[ColumnElement[bool]], param: str = "cursor") -> Select:
    """The ``seq`` of the row of ``table`` within ``scope`` that the ``param`` parameter names."""
    return select(table.c.seq).where(table.c.id == bindparam(param), *scope)


def keyset(
    query: Select, table: FromClause, cursor_scope: Sequence[ColumnElement[bool]], how: Plan
) -> Select:
    """``query`` bounded by the window's cursors, in the plan's order, ``limit`` rows.

    The statement's parameters: ``after``, ``before`` (the cursor ids, when the
    plan has them), ``limit`` (read one more than the page, to know whether
    more lie beyond), and whatever ``query`` and ``cursor_scope`` use.
    """
    seq = table.c.seq
    # Subqueries of their own (not correlated with the page's table): NULL, and
    # so an empty page, when the cursor names no row in scope.
    if how.after:
        after = cursor_seq(table, cursor_scope, "after").correlate(None).scalar_subquery()
        query = query.where(seq > after if how.ascending else seq < after)
    if how.before:
        before = cursor_seq(table, cursor_scope, "before").correlate(None).scalar_subquery()
        query = query.where(seq < before if how.ascending else seq > before)
    return query.order_by(seq.asc() if how.read_ascending else seq.desc()).limit(bindparam("limit"))


def page_params(window: Window, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters of a ``keyset`` statement for ``window``."""
    return {**params, "after": window.after, "before": window.before, "limit": window.limit + 1}


def trim(rows: list[Any], window: Window, how: Plan) -> tuple[list[Any], bool]:
    """The page out of ``limit + 1`` rows read, and whether more lie beyond."""
    has_more = len(rows) > window.limit
    rows = rows[: window.limit]
    if how.backwards:
        rows.reverse()
    return rows, has_more


async def read_page(
    db: Database, statement: Select, window: Window, params: dict[str, Any]
) -> tuple[list[Any], bool]:
    """Run a ``keyset`` statement for ``window``: the page's rows, and whether more lie beyond."""
    rows = await db.fetch_all(statement, page_params(window, params))
    return trim(rows, window, plan(window))


async def check_cursors(db: Database, statement: Select, window: Window, params: dict[str, Any]) -> None:
    """``UnknownCursor`` for a cursor of ``window`` that ``statement`` (a ``cursor_seq``) finds no row for."""
    for param, cursor in (("after", window.after), ("before", window.before)):
        if cursor is not None and not await db.fetch_all(statement, {**params, "cursor": cursor}):
            raise UnknownCursor(param, cursor)


async def page_on(
    conn: AsyncConnection,
    query: Select,
    table: FromClause,
    window: Window,
    scope: Sequence[ColumnElement[bool]],
) -> tuple[list[Any], bool]:
    """One page of ``query`` on an open connection (inside a transaction the caller holds):
    ``keyset`` with literal scope, for lists that are not hot enough for a statement built
    once (the files and vector stores APIs). Rows come back as SQLAlchemy rows."""
    how = plan(window)
    statement = keyset(query, table, scope, how)
    rows = list((await conn.execute(statement, page_params(window, {}))).all())
    rows, has_more = trim(rows, window, how)
    if not rows:
        for param, cursor in (("after", window.after), ("before", window.before)):
            if cursor is not None and await conn.scalar(cursor_seq(table, scope), {"cursor": cursor}) is None:
                raise UnknownCursor(param, cursor)
    return rows, has_more

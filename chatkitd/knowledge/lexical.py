"""Lexical ranking in the database's own full-text index, one row of ``BACKENDS`` per database.

- SQLite: FTS5 (Porter stemming), ranked by BM25.
- PostgreSQL: a generated ``tsvector`` with a GIN index (English stemming and
  stop words), ranked by ``ts_rank_cd``.

A question is matched term by term (any term may match), so a chunk that
answers it in other words still ranks by the words it shares.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from sqlalchemy import BindParameter, bindparam, text
from sqlalchemy.ext.asyncio import AsyncConnection

MAX_TERMS = 32
# Words that match nearly every chunk: left out of SQLite's query (PostgreSQL drops its own).
STOP_WORDS = frozenset(
    "a an and are as at be but by can do does for from has have how i if in into is it its me my no not of "
    "on or our so than that the their them then there these they this to was we were what when where which "
    "who why will with you your".split()
)


def terms(query: str) -> list[str]:
    words = [word for word in re.findall(r"\w+", query.lower()) if word not in STOP_WORDS]
    return list(dict.fromkeys(words))[:MAX_TERMS]


def _in(column: str, name: str, values: Sequence[str] | None) -> str:
    return f" AND {column} IN :{name}" if values is not None else ""


def _params(store_ids: Sequence[str], file_ids: Sequence[str] | None) -> list[BindParameter[Any]]:
    binds: list[BindParameter[Any]] = [bindparam("stores", expanding=True)]
    if file_ids is not None:
        binds.append(bindparam("files", expanding=True))
    return binds


async def sqlite_search(
    conn: AsyncConnection, query: str, store_ids: Sequence[str], file_ids: Sequence[str] | None, limit: int
) -> list[tuple[int, float]]:
    words = terms(query)
    if not words:
        return []
    match = " OR ".join('"' + word.replace('"', '""') + '"' for word in words)
    sql = text(
        "SELECT c.seq, -bm25(knowledge_chunks_fts) AS score FROM knowledge_chunks_fts "
        "JOIN knowledge_chunks c ON c.seq = knowledge_chunks_fts.rowid "
        "WHERE knowledge_chunks_fts MATCH :match AND c.vector_store_id IN :stores"
        + _in("c.file_id", "files", file_ids)
        + " ORDER BY score DESC LIMIT :limit"
    ).bindparams(*_params(store_ids, file_ids))
    values = {"match": match, "stores": list(store_ids), "limit": limit}
    if file_ids is not None:
        values["files"] = list(file_ids)
    return [(seq, float(score)) for seq, score in (await conn.execute(sql, values)).all()]


async def postgres_search(
    conn: AsyncConnection, query: str, store_ids: Sequence[str], file_ids: Sequence[str] | None, limit: int
) -> list[tuple[int, float]]:
    words = terms(query)
    if not words:
        return []
    sql = text(
        "SELECT seq, ts_rank_cd(tsv, q, 32) AS score "
        "FROM knowledge_chunks, websearch_to_tsquery('english', :query) AS q "
        "WHERE tsv @@ q AND vector_store_id IN :stores"
        + _in("file_id", "files", file_ids)
        + " ORDER BY score DESC LIMIT :limit"
    ).bindparams(*_params(store_ids, file_ids))
    values = {"query": " or ".join(words), "stores": list(store_ids), "limit": limit}
    if file_ids is not None:
        values["files"] = list(file_ids)
    return [(seq, float(score)) for seq, score in (await conn.execute(sql, values)).all()]


LexicalSearch = Callable[
    [AsyncConnection, str, Sequence[str], Sequence[str] | None, int], Awaitable[list[tuple[int, float]]]
]
BACKENDS: dict[str, LexicalSearch] = {"sqlite": sqlite_search, "postgresql": postgres_search}

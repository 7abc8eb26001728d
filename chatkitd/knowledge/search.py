"""Search over vector stores: lexical ranking, vector similarity when an embedding model is set, fused.

Everything is read from the database on each query (the full-text index, the
vectors), so every process answers the same. The cost of a query:

- lexical: the full-text index finds the matching chunks (sub-linear in the
  number of chunks; a common word matches many);
- vector: an exact scan of the searched stores' vectors (linear in their
  chunks; a matrix product in numpy).

Scores are in [0, 1]. Lexical scores are relative to the query's best match;
vector scores are cosine similarities; with both, a chunk scores
``VECTOR_WEIGHT × cosine + (1 − VECTOR_WEIGHT) × lexical``.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import select

from chatkitd.knowledge import tables, thread_uploads
from chatkitd.knowledge.embeddings import Embedder, from_blobs
from chatkitd.knowledge.filters import matches
from chatkitd.knowledge.lexical import BACKENDS
from chatkitd.knowledge.requests import Filter
from chatkitd.store.db import Database

VF, F, C, V = (
    tables.vector_store_files,
    tables.knowledge_files,
    tables.knowledge_chunks,
    tables.knowledge_vectors,
)
VECTOR_WEIGHT = 0.5
T = TypeVar("T")
# How many candidates each ranking contributes, per result asked for.
CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 40


@dataclass(frozen=True)
class Hit:
    chunk_seq: int
    vector_store_id: str
    file_id: str
    filename: str
    score: float
    text: str
    attributes: dict[str, Any] = field(default_factory=dict)

    def resource(self) -> dict[str, Any]:
        return {
            "file_id": self.file_id,
            "filename": self.filename,
            "score": round(self.score, 6),
            "attributes": self.attributes,
            "content": [{"type": "text", "text": self.text}],
        }


@dataclass(frozen=True)
class Mode:
    """Which rankings to use: both by default; the benchmarks measure each alone."""

    lexical: bool = True
    vector: bool = True


class Searcher:
    def __init__(self, db: Database, embedder: Embedder | None) -> None:
        self.db = db
        self.embedder = embedder
        self._lexical = BACKENDS["sqlite" if db.is_sqlite else "postgresql"]

    async def search(
        self,
        store_ids: list[str],
        queries: list[str],
        max_results: int = 10,
        filters: Filter | None = None,
        score_threshold: float = 0.0,
        mode: Mode = Mode(),
    ) -> list[Hit]:
        """Ranked chunks of the given stores (the caller has checked they are the project's)."""
        if not store_ids:
            return []
        attributes = await self._attributes(store_ids)
        file_ids: list[str] | None = None
        if filters is not None:
            kept = [key for key, attrs in attributes.items() if matches(filters, attrs)]
            file_ids = sorted({file_id for _, file_id in kept})
            if not file_ids:
                return []
        best: dict[int, float] = {}
        for query in queries:
            for seq, score in (await self._rank(store_ids, file_ids, query, max_results, mode)).items():
                best[seq] = max(score, best.get(seq, 0.0))
        ranked = sorted(((s, q) for q, s in best.items() if s >= score_threshold and s > 0), reverse=True)
        return await self._hits(ranked[:max_results], attributes)

    async def _rank(
        self, store_ids: list[str], file_ids: list[str] | None, query: str, max_results: int, mode: Mode
    ) -> dict[int, float]:
        limit = max(MIN_CANDIDATES, max_results * CANDIDATES_PER_RESULT)
        # Both halves at once, each on a connection of its own: hybrid costs the slower, not the sum.
        lexical, similarity = await asyncio.gather(
            self._lexical_scores(store_ids, file_ids, query, limit) if mode.lexical else _nothing({}),
            self._similarity(store_ids, file_ids, query) if mode.vector else _nothing(None),
        )
        if similarity is None:
            return lexical
        seqs, sims = similarity
        if len(seqs) == 0:
            return lexical
        order = np.argsort(-sims)[:limit]
        cosine = {int(seqs[i]): max(float(sims[i]), 0.0) for i in order}
        if not mode.lexical:
            return cosine
        lookup = dict(zip(seqs.tolist(), sims.tolist(), strict=True))
        scores: dict[int, float] = {}
        for seq in cosine.keys() | lexical.keys():
            vector_score = max(lookup.get(seq, 0.0), 0.0)
            scores[seq] = VECTOR_WEIGHT * vector_score + (1 - VECTOR_WEIGHT) * lexical.get(seq, 0.0)
        return scores

    async def _lexical_scores(
        self, store_ids: list[str], file_ids: list[str] | None, query: str, limit: int
    ) -> dict[int, float]:
        """The full-text index's best ``limit`` chunks, scored relative to the best one."""
        async with self.db.read() as conn:
            found = await self._lexical(conn, query, store_ids, file_ids, limit)
        top = max((score for _, score in found), default=0.0)
        return {seq: score / top for seq, score in found} if top > 0 else {}

    async def _similarity(
        self, store_ids: list[str], file_ids: list[str] | None, query: str
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """Every searched chunk's cosine to the query, or None without an embedding model."""
        if self.embedder is None:
            return None
        [query_vector] = await self.embedder.embed([query])
        statement = select(V.c.chunk_seq, V.c.vector).where(
            V.c.vector_store_id.in_(store_ids), V.c.model == self.embedder.model
        )
        if file_ids is not None:
            statement = statement.where(V.c.file_id.in_(file_ids))
        async with self.db.read() as conn:
            rows = (await conn.execute(statement)).all()
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        matrix = from_blobs([row.vector for row in rows])
        if matrix.shape[1] != query_vector.shape[0]:
            return None  # vectors of another model's size: the model changed under the same name
        return np.array([row.chunk_seq for row in rows], dtype=np.int64), matrix @ query_vector

    async def _attributes(self, store_ids: list[str]) -> dict[tuple[str, str], dict[str, Any]]:
        query = select(VF.c.vector_store_id, VF.c.id, VF.c.attributes).where(
            VF.c.vector_store_id.in_(store_ids), VF.c.status == "completed"
        )
        async with self.db.read() as conn:
            rows = (await conn.execute(query)).all()
        return {
            (row.vector_store_id, row.id): json.loads(row.attributes) if row.attributes else {}
            for row in rows
        }

    async def _hits(
        self, ranked: list[tuple[float, int]], attributes: dict[tuple[str, str], dict[str, Any]]
    ) -> list[Hit]:
        if not ranked:
            return []
        seqs = [seq for _, seq in ranked]
        async with self.db.read() as conn:
            chunks = {
                row.seq: row
                for row in (
                    await conn.execute(
                        select(C.c.seq, C.c.vector_store_id, C.c.file_id, C.c.text).where(C.c.seq.in_(seqs))
                    )
                ).all()
            }
            names = dict(
                (
                    await conn.execute(
                        select(F.c.id, F.c.filename).where(
                            F.c.id.in_({row.file_id for row in chunks.values()})
                        )
                    )
                ).all()
            )
            # A thread's store holds the chat's uploads, which are named in the attachments.
            unnamed = [row.file_id for row in chunks.values() if row.file_id not in names]
            names.update(await thread_uploads.names_of(conn, unnamed))
        return [
            Hit(
                chunk_seq=seq,
                vector_store_id=chunks[seq].vector_store_id,
                file_id=chunks[seq].file_id,
                filename=names.get(chunks[seq].file_id, chunks[seq].file_id),
                score=min(score, 1.0),
                text=chunks[seq].text,
                attributes=attributes.get((chunks[seq].vector_store_id, chunks[seq].file_id), {}),
            )
            for score, seq in ranked
            # A file taken out of the store leaves its chunks to be deleted after (``index_rows``).
            if seq in chunks and (chunks[seq].vector_store_id, chunks[seq].file_id) in attributes
        ]


async def _nothing(value: T) -> T:
    return value

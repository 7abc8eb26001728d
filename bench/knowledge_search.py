"""Vector store search latency at 10 000 and 100 000 chunks, and ingestion throughput.

    .venv/bin/python bench/knowledge_search.py [--sizes 10000,100000] [--queries 200]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Search: one store is filled with ``size`` chunks of real English (sentences of
the Python standard library's docstrings, shuffled into 120-word chunks) and a
384-dimension unit vector each, written straight into the knowledge tables.
The embedder is a stand-in that returns a random unit vector, so the figures
are the index's own cost, not a model's. For each size it times
``Searcher.search`` in three modes (lexical, vector, hybrid) on queries of
4 to 8 words drawn from the same text, and reports p50 and p95. Baseline, in
the same run: the bare lexical statement on the driver (FTS5 ``MATCH`` with
``bm25`` through ``sqlite3``; ``tsvector @@`` with ``ts_rank_cd`` through
``asyncpg``), so the ratio says what chatkitd adds around the database.

Ingestion: 40 documents of 6 000 words go through the worker (parse, chunk
800/400, embed with the stand-in, write); throughput in chunks per second,
beside the tokenizer alone on the same text (the floor).

With ``--database-url`` (an admin URL) it runs on a fresh PostgreSQL database
made for the run and dropped after; otherwise on a SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import insert, text

sys.path.insert(0, str(Path(__file__).parents[1]))

from chatkitd import clock  # noqa: E402
from chatkitd.blobs import FileBlobStore  # noqa: E402
from chatkitd.knowledge import tables  # noqa: E402
from chatkitd.knowledge.chunking import chunk_text, count_tokens  # noqa: E402
from chatkitd.knowledge.embeddings import normalized, to_blob  # noqa: E402
from chatkitd.knowledge.search import Mode, Searcher  # noqa: E402
from chatkitd.knowledge.worker import IngestionWorker  # noqa: E402
from chatkitd.store import migrate  # noqa: E402
from chatkitd.store.db import Database  # noqa: E402

DIMS = 384
STORE = "vs_bench"


class RandomEmbedder:
    """Unit vectors from a seeded generator: what a model returns, at no cost."""

    model = "bench-random-384"

    def __init__(self) -> None:
        self._random = np.random.default_rng(7)

    async def embed(self, texts: list[str]) -> np.ndarray:
        return normalized(self._random.standard_normal((len(texts), DIMS)).astype(np.float32))


def corpus_sentences() -> list[str]:
    """Sentences of the standard library's docstrings: text that ships here and no one here wrote."""
    import importlib
    import pkgutil

    sentences: list[str] = []
    for module_info in sorted(pkgutil.iter_modules(), key=lambda m: m.name):
        if module_info.name.startswith("_") or module_info.name in (
            "antigravity",
            "this",
            "idlelib",
            "tkinter",
        ):
            continue
        if not str(getattr(module_info.module_finder, "path", "")).startswith(sys.base_prefix):
            continue
        try:
            module = importlib.import_module(module_info.name)
        except Exception:  # noqa: BLE001 - some modules need a display, a platform, ...
            continue
        for _, member in inspect.getmembers(module):
            doc = inspect.getdoc(member) or ""
            sentences.extend(s.strip() for s in re.split(r"(?<=[.!?])\s+", doc) if len(s.split()) >= 5)
        if len(sentences) > 60_000:
            break
    return sentences


def chunks_of(sentences: list[str], count: int, rng: random.Random) -> list[str]:
    out = []
    for _ in range(count):
        words: list[str] = []
        while len(words) < 120:
            words.extend(rng.choice(sentences).split())
        out.append(" ".join(words[:120]))
    return out


async def seed(db: Database, chunks: list[str], embedder: RandomEmbedder) -> None:
    C, V, VF, S = (
        tables.knowledge_chunks,
        tables.knowledge_vectors,
        tables.vector_store_files,
        tables.vector_stores,
    )
    now = clock.unix()
    async with db.write() as conn:
        await conn.execute(
            insert(S).values(id=STORE, project_id="p", name="bench", created_at=now, last_active_at=now)
        )
        await conn.execute(
            insert(VF).values(
                vector_store_id=STORE,
                id="file-bench",
                project_id="p",
                status="completed",
                usage_bytes=0,
                chunking="{}",
                created_at=now,
                attempts=0,
            )
        )
    for start in range(0, len(chunks), 2000):
        part = chunks[start : start + 2000]
        vectors = await embedder.embed(part)
        async with db.write() as conn:
            seqs = (
                (
                    await conn.execute(
                        insert(C).returning(C.c.seq, sort_by_parameter_order=True),
                        [
                            {
                                "vector_store_id": STORE,
                                "file_id": "file-bench",
                                "position": start + i,
                                "text": t,
                                "tokens": 150,
                            }
                            for i, t in enumerate(part)
                        ],
                    )
                )
                .scalars()
                .all()
            )
            await conn.execute(
                insert(V),
                [
                    {
                        "chunk_seq": seq,
                        "vector_store_id": STORE,
                        "file_id": "file-bench",
                        "model": embedder.model,
                        "vector": to_blob(v),
                    }
                    for seq, v in zip(seqs, vectors, strict=True)
                ],
            )


async def bare_lexical(db: Database, url: str, query: str) -> None:
    words = " OR ".join(f'"{w}"' for w in re.findall(r"\w+", query.lower()))
    if db.is_sqlite:
        import sqlite3

        connection = (
            _sqlite[url]
            if url in _sqlite
            else _sqlite.setdefault(url, sqlite3.connect(url.split("///", 1)[1]))
        )
        connection.execute(
            "SELECT rowid, bm25(knowledge_chunks_fts) AS s FROM knowledge_chunks_fts "
            "WHERE knowledge_chunks_fts MATCH ? ORDER BY s LIMIT 40",
            (words,),
        ).fetchall()
    else:
        async with db.read() as conn:
            await conn.execute(
                text(
                    "SELECT seq, ts_rank_cd(tsv, q, 32) s "
                    "FROM knowledge_chunks, websearch_to_tsquery('english', :q) q "
                    "WHERE tsv @@ q AND vector_store_id = :s ORDER BY s DESC LIMIT 40"
                ),
                {"q": " or ".join(re.findall(r"\w+", query.lower())), "s": STORE},
            )


_sqlite: dict[str, Any] = {}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


async def search_bench(url: str, size: int, sentences: list[str], queries: int) -> None:
    db = Database(url)
    await migrate.upgrade(db)
    rng = random.Random(size)
    embedder = RandomEmbedder()
    started = time.perf_counter()
    await seed(db, chunks_of(sentences, size, rng), embedder)
    print(f"  seeded {size} chunks in {time.perf_counter() - started:.1f} s")
    searcher = Searcher(db, embedder)
    asked = [" ".join(rng.choice(sentences).split()[: rng.randint(4, 8)]) for _ in range(queries)]
    modes = {"lexical": Mode(vector=False), "vector": Mode(lexical=False), "hybrid": Mode()}
    timings: dict[str, list[float]] = {name: [] for name in [*modes, "baseline"]}
    for query in asked:  # interleaved, so load on the machine touches every mode alike
        started = time.perf_counter()
        await bare_lexical(db, url, query)
        timings["baseline"].append(time.perf_counter() - started)
        for name, mode in modes.items():
            started = time.perf_counter()
            await searcher.search([STORE], [query], 10, mode=mode)
            timings[name].append(time.perf_counter() - started)
    base50, base95 = percentiles(timings["baseline"])
    print(f"  bare lexical statement: p50 {base50:.2f} ms, p95 {base95:.2f} ms")
    for name in modes:
        p50, p95 = percentiles(timings[name])
        print(
            f"  {name:8} p50 {p50:7.2f} ms  p95 {p95:7.2f} ms   "
            f"({p50 / base50:.1f}x / {p95 / base95:.1f}x bare lexical)"
        )
    await db.dispose()


async def ingestion_bench(url: str, sentences: list[str], blob_dir: Path) -> None:
    db = Database(url)
    await migrate.upgrade(db)
    blobs = FileBlobStore(blob_dir)
    rng = random.Random(1)
    documents = [" ".join(chunks_of(sentences, 50, rng)) for _ in range(40)]
    started = time.perf_counter()
    floor = sum(len(chunk_text(d, 800, 400)) for d in documents)
    tokenizer_seconds = time.perf_counter() - started
    now = clock.unix()
    F, VF, S = tables.knowledge_files, tables.vector_store_files, tables.vector_stores
    async with db.write() as conn:
        await conn.execute(
            insert(S).values(id="vs_ingest", project_id="p", name="i", created_at=now, last_active_at=now)
        )
    for index, document in enumerate(documents):
        file_id = f"file-ingest{index}"
        size = await blobs.write("p", file_id, _one(document.encode()), 10**9)
        async with db.write() as conn:
            await conn.execute(
                insert(F).values(
                    id=file_id,
                    project_id="p",
                    filename=f"d{index}.txt",
                    bytes=size,
                    purpose="assistants",
                    mime_type="text/plain",
                    created_at=now,
                )
            )
            await conn.execute(
                insert(VF).values(
                    vector_store_id="vs_ingest",
                    id=file_id,
                    project_id="p",
                    status="in_progress",
                    usage_bytes=0,
                    chunking='{"max_chunk_size_tokens": 800, "chunk_overlap_tokens": 400}',
                    created_at=now,
                    attempts=0,
                )
            )
    worker = IngestionWorker(db, blobs, RandomEmbedder())
    started = time.perf_counter()
    while await worker.run_once():
        pass
    seconds = time.perf_counter() - started
    print(
        f"  ingestion: {floor} chunks from {len(documents)} files of ~{count_tokens(documents[0])} tokens"
        f" in {seconds:.2f} s = {floor / seconds:.0f} chunks/s;"
        f" tokenizer alone {floor / tokenizer_seconds:.0f} chunks/s"
        f" ({(floor / seconds) / (floor / tokenizer_seconds):.2f}x)"
    )
    await db.dispose()


async def _one(data: bytes):  # noqa: ANN202
    yield data


async def postgres_database(admin_url: str) -> tuple[str, Any]:
    import asyncpg

    name = f"chatkitd_bench_{uuid.uuid4().hex[:8]}"
    plain = admin_url.replace("+asyncpg", "")
    connection = await asyncpg.connect(plain)
    await connection.execute(f'CREATE DATABASE "{name}"')
    await connection.close()

    async def drop() -> None:
        connection = await asyncpg.connect(plain)
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await connection.close()

    return admin_url.rsplit("/", 1)[0] + f"/{name}", drop


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    sentences = corpus_sentences()
    print(f"corpus: {len(sentences)} standard-library docstring sentences")
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"{size} chunks, {'PostgreSQL' if args.database_url else 'SQLite'}:")
            if args.database_url:
                url, drop = await postgres_database(args.database_url)
                try:
                    await search_bench(url, size, sentences, args.queries)
                finally:
                    await drop()
            else:
                await search_bench(
                    f"sqlite+aiosqlite:///{folder}/search{size}.db", size, sentences, args.queries
                )
        if args.database_url:
            url, drop = await postgres_database(args.database_url)
            try:
                await ingestion_bench(url, sentences, Path(folder) / "blobs")
            finally:
                await drop()
        else:
            await ingestion_bench(
                f"sqlite+aiosqlite:///{folder}/ingest.db", sentences, Path(folder) / "blobs"
            )


if __name__ == "__main__":
    asyncio.run(main())

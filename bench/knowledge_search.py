"""Vector store search latency at 10 000 and 100 000 chunks, and ingestion throughput.

    .venv/bin/python bench/knowledge_search.py [--sizes 10000,100000] [--queries 200]
        [--database-url postgresql+asyncpg://postgres@127.0.0.1:5432/postgres]

Each size fills one store through the public ingestion path: long text files
of real English (sentences of the Python standard library's docstrings,
shuffled) are uploaded with ``FileStore.create`` (what ``POST /v1/files``
runs), attached with ``VectorStores.attach`` (``POST
/v1/vector_stores/{id}/files``), and the ingestion worker parses, chunks them
the ``auto`` way (800 tokens, 400 of overlap), embeds and writes them, until
the store holds ``size`` chunks. The embedder is a stand-in that returns a
random 384-dimension unit vector, so the figures are chatkitd's and the
database's cost, not a model's.

Ingestion: chunks written per second of the worker's time, beside the
tokenizer alone chunking a sample of the same files (the floor).

Search: ``Searcher.search`` in three modes (lexical, vector, hybrid) on
queries of 4 to 8 words drawn from the same text; p50 and p95. Baseline, in
the same run: the bare lexical statement on the driver (FTS5 ``MATCH`` with
``bm25`` through ``sqlite3``; ``tsvector @@`` with ``ts_rank_cd`` through
``asyncpg``), so the ratio says what chatkitd adds around the database.

With ``--database-url`` (an admin URL) it runs on a fresh PostgreSQL database
made for the run and dropped after; otherwise on a SQLite file.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import os
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
from sqlalchemy import func, select, text

sys.path.insert(0, str(Path(__file__).parents[1]))

from chatkitd.blobs import FileBlobStore  # noqa: E402
from chatkitd.knowledge import tables  # noqa: E402
from chatkitd.knowledge.chunking import chunk_text, count_tokens  # noqa: E402
from chatkitd.knowledge.embeddings import normalized  # noqa: E402
from chatkitd.knowledge.files import FileStore  # noqa: E402
from chatkitd.knowledge.requests import FileAttach, VectorStoreCreate  # noqa: E402
from chatkitd.knowledge.search import Mode, Searcher  # noqa: E402
from chatkitd.knowledge.stores import VectorStores  # noqa: E402
from chatkitd.knowledge.worker import IngestionWorker  # noqa: E402
from chatkitd.store import migrate  # noqa: E402
from chatkitd.store.db import Database  # noqa: E402

DIMS = 384
PROJECT = "proj_bench"
# 480 pieces of 120 words: about 77 000 tokens, so about 190 chunks of 800 (400 overlap) a file.
PIECES_PER_FILE = 480


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


def document(sentences: list[str], rng: random.Random) -> str:
    """One long text file: about ``CHUNKS_PER_FILE`` chunks once cut 800/400."""
    return " ".join(chunks_of(sentences, PIECES_PER_FILE, rng))


async def seed(
    db: Database, blobs: FileBlobStore, size: int, sentences: list[str], rng: random.Random
) -> str:
    """Fill one store with at least ``size`` chunks through the public ingestion path; report its speed.

    Each text file is uploaded (``FileStore.create``, what ``POST /v1/files``
    runs) and attached (``VectorStores.attach``, what ``POST
    /v1/vector_stores/{id}/files`` runs), then the ingestion worker parses,
    chunks (``auto``: 800 tokens, 400 overlap), embeds (with the stand-in) and
    writes them: the chunks/s it reaches is the ingestion figure. The floor
    beside it is the tokenizer alone chunking a sample of the same files.
    """
    files = FileStore(db, blobs, 10**9)
    stores = VectorStores(db, files)
    store = await stores.create(PROJECT, VectorStoreCreate(name=f"bench {size}"))
    worker = IngestionWorker(db, blobs, RandomEmbedder())
    chunks = files_done = 0
    busy = 0.0
    sample: list[str] = []
    while chunks < size:
        text = document(sentences, rng)
        if len(sample) < 5:
            sample.append(text)
        data = text.encode()
        record = await files.create(
            PROJECT, _one(data), lambda i=files_done: (f"doc{i}.txt", "text/plain", "assistants", None)
        )
        await stores.attach(PROJECT, store["id"], [FileAttach(file_id=record.id)])
        started = time.perf_counter()
        while await worker.run_once():
            pass
        busy += time.perf_counter() - started
        files_done += 1
        async with db.read() as conn:
            counted = await conn.scalar(
                select(func.count())
                .select_from(tables.knowledge_chunks)
                .where(tables.knowledge_chunks.c.vector_store_id == store["id"])
            )
        chunks = int(counted or 0)
    started = time.perf_counter()
    floor = sum(len(chunk_text(t, 800, 400)) for t in sample)
    floor_rate = floor / (time.perf_counter() - started)
    print(
        f"  ingestion: {chunks} chunks from {files_done} files of ~{count_tokens(sample[0])} tokens "
        f"in {busy:.1f} s of the worker = {chunks / busy:.0f} chunks/s; "
        f"tokenizer alone {floor_rate:.0f} chunks/s ({(chunks / busy) / floor_rate:.2f}x)"
    )
    return str(store["id"])


async def bare_lexical(db: Database, url: str, store_id: str, query: str) -> None:
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
                {"q": " or ".join(re.findall(r"\w+", query.lower())), "s": store_id},
            )


_sqlite: dict[str, Any] = {}


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.95) - 1] * 1000


async def search_bench(url: str, size: int, sentences: list[str], queries: int, blob_dir: Path) -> None:
    db = Database(url)
    await migrate.upgrade(db)
    rng = random.Random(size)
    embedder = RandomEmbedder()
    store_id = await seed(db, FileBlobStore(blob_dir), size, sentences, rng)
    searcher = Searcher(db, embedder)
    asked = [" ".join(rng.choice(sentences).split()[: rng.randint(4, 8)]) for _ in range(queries)]
    modes = {"lexical": Mode(vector=False), "vector": Mode(lexical=False), "hybrid": Mode()}
    timings: dict[str, list[float]] = {name: [] for name in [*modes, "baseline"]}
    for query in asked:  # interleaved, so load on the machine touches every mode alike
        started = time.perf_counter()
        await bare_lexical(db, url, store_id, query)
        timings["baseline"].append(time.perf_counter() - started)
        for name, mode in modes.items():
            started = time.perf_counter()
            await searcher.search([store_id], [query], 10, mode=mode)
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
    print(f"corpus: {len(sentences)} standard-library docstring sentences; load {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        for size in (int(s) for s in args.sizes.split(",")):
            print(f"{size} chunks, {'PostgreSQL' if args.database_url else 'SQLite'}:")
            blob_dir = Path(folder) / f"blobs{size}"
            if args.database_url:
                url, drop = await postgres_database(args.database_url)
                try:
                    await search_bench(url, size, sentences, args.queries, blob_dir)
                finally:
                    await drop()
            else:
                url = f"sqlite+aiosqlite:///{folder}/search{size}.db"
                await search_bench(url, size, sentences, args.queries, blob_dir)
            print(f"  machine load after: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    asyncio.run(main())

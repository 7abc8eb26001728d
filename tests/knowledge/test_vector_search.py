"""With an embedding model set, search finds chunks by meaning too, and failures fail only the file.

The model is the fake OpenAI-compatible server's ``/v1/embeddings`` over real HTTP: texts that
mean the same (``concepts``) get near vectors even when they share no word, so a question in
other words than the document's can be found only through the vector half of the search.
"""

from __future__ import annotations

import io
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from chatkitd.knowledge import tables
from tests.conftest import ADMIN_KEY
from tests.support.fake_llm import POISON, FakeLLM, fake_llm
from tests.support.servers import RunningServer, fresh_database, start_server

DOCUMENTS = {
    "garage.txt": "The car needs new tires before winter arrives.",
    "kitchen.txt": "Bake the bread slowly until the crust turns golden.",
    "window.txt": "The cat sleeps all afternoon on the warm windowsill.",
}
CONCEPTS = {"automobile": "car", "vehicle": "car", "feline": "cat", "loaf": "bread"}


@pytest.fixture(params=["sqlite", "postgres"])
def embedding_server(request, tmp_path) -> Iterator[tuple[RunningServer, FakeLLM]]:
    with (
        fresh_database(request.param, tmp_path / "vectors.db", "chatkitd_vectors") as url,
        fake_llm(concepts=CONCEPTS) as fake,
        start_server(
            url, tmp_path, ADMIN_KEY, embedding_model="fake-embed", embedding_base_url=fake.base_url
        ) as server,
    ):
        yield server, fake


def _store(sdk, documents: dict[str, str]):  # noqa: ANN001, ANN202
    store = sdk.vector_stores.create(name="meanings")
    files = {}
    for name, text in documents.items():
        files[name] = sdk.vector_stores.files.upload_and_poll(
            vector_store_id=store.id, file=(name, io.BytesIO(text.encode())), poll_interval_ms=50
        )
    return store, files


def _vectors(server: RunningServer, file_id: str) -> int:
    V = tables.knowledge_vectors

    async def count() -> int:
        # A delete leaves its vectors to be collected after it answers (``index_rows.Collector``).
        await server.platform.knowledge.collector.wait()
        async with server.platform.db.read() as conn:
            return int(
                await conn.scalar(select(func.count()).select_from(V).where(V.c.file_id == file_id)) or 0
            )

    return server.run(count())


def test_a_question_in_other_words_is_found_by_meaning(embedding_server):
    server, fake = embedding_server
    with server.sdk(ADMIN_KEY) as sdk:
        store, files = _store(sdk, DOCUMENTS)
        assert all(f.status == "completed" for f in files.values())
        # Each chunk was embedded at ingestion, and its vector stored.
        assert all(text in fake.embedded for text in DOCUMENTS.values())
        assert _vectors(server, files["garage.txt"].id) == 1
        # No document has the word "automobile": only its meaning finds the garage.
        hits = sdk.vector_stores.search(store.id, query="automobile maintenance").data
        assert hits[0].filename == "garage.txt"
        assert "automobile maintenance" in fake.embedded  # the query was embedded too
        assert sdk.vector_stores.search(store.id, query="feline").data[0].filename == "window.txt"
        # Shared words still rank first: the lexical half blends in.
        assert sdk.vector_stores.search(store.id, query="golden crust").data[0].filename == "kitchen.txt"
        # Deleting the file deletes its vector.
        sdk.files.delete(files["garage.txt"].id)
        assert _vectors(server, files["garage.txt"].id) == 0
        assert "garage.txt" not in [
            h.filename for h in sdk.vector_stores.search(store.id, query="automobile").data
        ]


def test_an_embedding_failure_fails_the_file_not_the_server(embedding_server):
    server, _ = embedding_server
    with server.sdk(ADMIN_KEY) as sdk:
        store, files = _store(sdk, {"bad.txt": f"This text is {POISON} for the model.", **DOCUMENTS})
        failed = files["bad.txt"]
        assert failed.status == "failed" and failed.last_error is not None
        assert failed.last_error.code == "server_error" and "fake-embed" in failed.last_error.message
        assert _vectors(server, failed.id) == 0
        # The other files, and search, go on.
        assert files["kitchen.txt"].status == "completed"
        assert sdk.vector_stores.search(store.id, query="loaf").data[0].filename == "kitchen.txt"
        counts = sdk.vector_stores.retrieve(store.id).file_counts
        assert (counts.failed, counts.completed, counts.total) == (1, 3, 4)

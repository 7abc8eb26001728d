"""``client.vector_stores`` (stores, files, batches, search) through the official SDK, on both databases."""

from __future__ import annotations

import io

import openai
import pytest
from sqlalchemy import func, select

from chatkitd.knowledge import tables
from tests.support import documents

HANDBOOK = (
    "Employee handbook. Expense reports are due on the fifth working day of each month. "
    "The office closes at 18:00 on Fridays. Parking permits are issued by the facilities desk."
)


def text_file(client, name: str, text: str):
    return client.files.create(file=(name, io.BytesIO(text.encode()), "text/plain"), purpose="assistants")


def chunk_count(server, **where: str) -> int:
    C = tables.knowledge_chunks

    async def count() -> int:
        # A delete leaves its chunks to be collected after it answers (``index_rows.Collector``).
        await server.platform.knowledge.collector.wait()
        async with server.platform.db.read() as conn:
            query = select(func.count()).select_from(C)
            for column, value in where.items():
                query = query.where(C.c[column] == value)
            return (await conn.execute(query)).scalar_one()

    return server.run(count())


def test_a_store_from_files_is_searchable_once_completed(client):
    handbook = text_file(client, "handbook.txt", HANDBOOK)
    store = client.vector_stores.create(name="HR", file_ids=[handbook.id], metadata={"team": "hr"})
    assert store.object == "vector_store" and store.id.startswith("vs_")
    assert store.file_counts.total == 1 and store.metadata == {"team": "hr"}
    attached = client.vector_stores.files.poll(handbook.id, vector_store_id=store.id, poll_interval_ms=50)
    assert attached.status == "completed" and attached.last_error is None
    assert attached.chunking_strategy.type == "static"
    assert (
        attached.chunking_strategy.static.max_chunk_size_tokens,
        attached.chunking_strategy.static.chunk_overlap_tokens,
    ) == (800, 400)
    store = client.vector_stores.retrieve(store.id)
    assert store.status == "completed" and store.usage_bytes > 0
    assert (store.file_counts.completed, store.file_counts.in_progress, store.file_counts.total) == (1, 0, 1)
    results = client.vector_stores.search(store.id, query="when are expense reports due?")
    [hit] = results.data
    assert hit.file_id == handbook.id and hit.filename == "handbook.txt" and 0 < hit.score <= 1
    assert "fifth working day" in hit.content[0].text
    assert client.vector_stores.search(store.id, query="submarine periscope").data == []


def test_every_kind_of_document_is_read(client):
    store = client.vector_stores.create(name="kinds")
    kinds = {
        "a.md": (b"# Title\n\nThe **zebra** crossing is on Main Street.", "zebra"),
        "b.html": (
            b"<html><script>var hidden='pelican';</script><p>The flamingo is pink.</p></html>",
            "flamingo",
        ),
        "c.pdf": (documents.pdf(["The narwhal handbook", "Narwhals have tusks."]), "narwhal"),
        "d.docx": (documents.docx(["The axolotl regrows limbs."]), "axolotl"),
        "e.csv": (b"animal,colour\nokapi,striped\n", "okapi"),
        "f.json": (b'{"animal": "quokka", "mood": "smiling"}', "quokka"),
        "g.py": (b"def wombat():\n    return 'cube droppings'\n", "wombat"),
    }
    for name, (data, _) in kinds.items():
        client.vector_stores.files.upload_and_poll(
            vector_store_id=store.id, file=(name, io.BytesIO(data)), poll_interval_ms=50
        )
    files = client.vector_stores.files.list(store.id, limit=100)
    assert {f.status for f in files} == {"completed"}, [(f.id, f.last_error) for f in files]
    for name, (_, word) in kinds.items():
        hits = client.vector_stores.search(store.id, query=word).data
        assert hits and hits[0].filename == name, (name, hits)
    # Text inside <script> is not content.
    assert client.vector_stores.search(store.id, query="pelican").data == []


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("broken.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "invalid_file"),
        ("scan.pdf", documents.pdf([]), "invalid_file"),
        ("photo.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, "unsupported_file"),
        ("blob.txt", b"\x00\x01\x02binary", "invalid_file"),
        ("empty.txt", b"   \n", "invalid_file"),
        ("bad.json", b"{not json", "invalid_file"),
    ],
)
def test_a_file_that_cannot_be_read_fails_with_last_error(client, name, data, code):
    store = client.vector_stores.create(name="failures")
    failed = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=(name, io.BytesIO(data)), poll_interval_ms=50
    )
    assert failed.status == "failed"
    assert failed.last_error is not None and failed.last_error.code == code and failed.last_error.message
    counts = client.vector_stores.retrieve(store.id).file_counts
    assert (counts.failed, counts.completed, counts.in_progress, counts.total) == (1, 0, 0, 1)
    # The server is fine: the next file in the same store is processed.
    fine = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id, file=("ok.txt", io.BytesIO(b"perfectly readable")), poll_interval_ms=50
    )
    assert fine.status == "completed"


def test_static_chunking_cuts_token_windows(client):
    words = " ".join(f"word{i}" for i in range(1200))
    store = client.vector_stores.create(name="static")
    vs_file = client.vector_stores.files.upload_and_poll(
        vector_store_id=store.id,
        file=("long.txt", io.BytesIO(words.encode())),
        chunking_strategy={
            "type": "static",
            "static": {"max_chunk_size_tokens": 200, "chunk_overlap_tokens": 50},
        },
        poll_interval_ms=50,
    )
    assert vs_file.chunking_strategy.static.max_chunk_size_tokens == 200
    content = client.vector_stores.files.content(vs_file.id, vector_store_id=store.id)
    assert content.data[0].text == words


def test_attributes_filter_search_and_can_be_updated(client):
    store = client.vector_stores.create(name="filters")
    made = {}
    for region, year in (("emea", 2023), ("apac", 2024), ("amer", 2025)):
        f = text_file(client, f"{region}.txt", f"Holiday policy for the {region} region: twenty days.")
        made[region] = client.vector_stores.files.create_and_poll(
            f.id,
            vector_store_id=store.id,
            attributes={"region": region, "year": year, "public": year > 2023},
            poll_interval_ms=50,
        )

    def found(**filters) -> set[str]:
        hits = client.vector_stores.search(store.id, query="holiday policy", **filters).data
        return {h.filename.removesuffix(".txt") for h in hits}

    assert found() == {"emea", "apac", "amer"}
    assert found(filters={"type": "eq", "key": "region", "value": "apac"}) == {"apac"}
    assert found(filters={"type": "gte", "key": "year", "value": 2024}) == {"apac", "amer"}
    assert found(filters={"type": "in", "key": "region", "value": ["emea", "amer"]}) == {"emea", "amer"}
    assert found(filters={"type": "nin", "key": "region", "value": ["emea"]}) == {"apac", "amer"}
    assert found(filters={"type": "eq", "key": "public", "value": True}) == {"apac", "amer"}
    compound = {
        "type": "or",
        "filters": [
            {"type": "eq", "key": "region", "value": "emea"},
            {
                "type": "and",
                "filters": [
                    {"type": "gt", "key": "year", "value": 2024},
                    {"type": "ne", "key": "region", "value": "x"},
                ],
            },
        ],
    }
    assert found(filters=compound) == {"emea", "amer"}
    updated = client.vector_stores.files.update(
        made["emea"].id, vector_store_id=store.id, attributes={"region": "apac"}
    )
    assert updated.attributes == {"region": "apac"}
    assert found(filters={"type": "eq", "key": "region", "value": "apac"}) == {"emea", "apac"}
    assert len(client.vector_stores.search(store.id, query="holiday policy", max_num_results=2).data) == 2
    assert (
        client.vector_stores.search(
            store.id, query="holiday policy", ranking_options={"score_threshold": 1.0}
        ).data
        != []
    )
    # Several queries: the union, each chunk once.
    both = client.vector_stores.search(store.id, query=["emea", "amer"]).data
    assert {h.filename for h in both} == {"emea.txt", "amer.txt"}


def test_update_list_and_delete_a_store(server, client):
    stores = [client.vector_stores.create(name=f"list-{i}") for i in range(3)]
    listed = [s.id for s in client.vector_stores.list(limit=2)]
    assert [s for s in listed if s in {x.id for x in stores}] == [s.id for s in reversed(stores)]
    updated = client.vector_stores.update(
        stores[0].id,
        name="renamed",
        metadata={"k": "v"},
        expires_after={"anchor": "last_active_at", "days": 7},
    )
    assert updated.name == "renamed" and updated.metadata == {"k": "v"}
    assert updated.expires_after is not None and updated.expires_after.days == 7
    assert updated.expires_at == updated.last_active_at + 7 * 86400
    f = text_file(client, "gone.txt", "This text will be deleted with its store.")
    client.vector_stores.files.create_and_poll(f.id, vector_store_id=stores[0].id, poll_interval_ms=50)
    assert chunk_count(server, vector_store_id=stores[0].id) == 1
    deleted = client.vector_stores.delete(stores[0].id)
    assert deleted.deleted and deleted.object == "vector_store.deleted"
    assert chunk_count(server, vector_store_id=stores[0].id) == 0
    with pytest.raises(openai.NotFoundError) as caught:
        client.vector_stores.retrieve(stores[0].id)
    assert caught.value.param == "vector_store_id"
    # The file itself stays, as in OpenAI's API.
    assert client.files.retrieve(f.id).id == f.id


def test_detaching_or_deleting_a_file_removes_its_chunks(server, client):
    one, two = client.vector_stores.create(name="one"), client.vector_stores.create(name="two")
    f = text_file(client, "shared.txt", "A capybara is the largest rodent.")
    for store in (one, two):
        client.vector_stores.files.create_and_poll(f.id, vector_store_id=store.id, poll_interval_ms=50)
    assert chunk_count(server, file_id=f.id) == 2
    removed = client.vector_stores.files.delete(f.id, vector_store_id=one.id)
    assert removed.deleted and removed.object == "vector_store.file.deleted"
    assert chunk_count(server, file_id=f.id) == 1
    assert client.vector_stores.search(one.id, query="capybara").data == []
    assert client.vector_stores.search(two.id, query="capybara").data != []
    client.files.delete(f.id)
    assert chunk_count(server, file_id=f.id) == 0
    assert client.vector_stores.files.list(two.id).data == []
    assert client.vector_stores.retrieve(two.id).file_counts.total == 0


def test_file_batches(client):
    store = client.vector_stores.create(name="batches")
    files = [
        text_file(client, f"b{i}.txt", f"Batch document number {i} about lighthouses.") for i in range(3)
    ]
    batch = client.vector_stores.file_batches.create_and_poll(
        store.id, file_ids=[f.id for f in files], poll_interval_ms=50
    )
    assert batch.object == "vector_store.files_batch" and batch.status == "completed"
    assert (batch.file_counts.completed, batch.file_counts.total) == (3, 3)
    assert client.vector_stores.file_batches.retrieve(batch.id, vector_store_id=store.id).id == batch.id
    listed = client.vector_stores.file_batches.list_files(
        batch.id, vector_store_id=store.id, filter="completed"
    )
    assert {f.id for f in listed} == {f.id for f in files}
    uploaded = client.vector_stores.file_batches.upload_and_poll(
        store.id,
        files=[("u1.txt", io.BytesIO(b"upload one")), ("u2.txt", io.BytesIO(b"upload two"))],
        poll_interval_ms=50,
    )
    assert uploaded.file_counts.completed == 2
    per_file = client.vector_stores.file_batches.create(
        store.id, files=[{"file_id": files[0].id, "attributes": {"tag": "first"}}]
    )
    assert per_file.file_counts.total == 1
    cancelled = client.vector_stores.file_batches.cancel(per_file.id, vector_store_id=store.id)
    assert cancelled.status == "cancelled"


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda c, s: c.vector_stores.create(file_ids=["file-missing"]), "file_ids[0]"),
        (lambda c, s: c.vector_stores.files.create(vector_store_id=s, file_id="file-missing"), "file_id"),
        (lambda c, s: c.vector_stores.retrieve("vs_missing"), "vector_store_id"),
        (lambda c, s: c.vector_stores.files.retrieve("file-missing", vector_store_id=s), "file_id"),
        (lambda c, s: c.vector_stores.file_batches.retrieve("vsfb_missing", vector_store_id=s), "batch_id"),
        (lambda c, s: c.vector_stores.search("vs_missing", query="x"), "vector_store_id"),
    ],
)
def test_unknown_ids_are_404s_naming_the_param(client, call, param):
    store = client.vector_stores.create(name="404s")
    with pytest.raises(openai.NotFoundError) as caught:
        call(client, store.id)
    assert caught.value.param == param


@pytest.mark.parametrize(
    ("call", "param"),
    [
        (lambda c, s: c.vector_stores.search(s, query="x", max_num_results=51), "max_num_results"),
        (
            lambda c, s: c.vector_stores.search(s, query="x", ranking_options={"score_threshold": 2}),
            "ranking_options.score_threshold",
        ),
        (lambda c, s: c.vector_stores.search(s, query="x", filters={"type": "eq", "key": "k"}), "filters"),
        (
            lambda c, s: c.vector_stores.create(
                chunking_strategy={
                    "type": "static",
                    "static": {"max_chunk_size_tokens": 100, "chunk_overlap_tokens": 60},
                }
            ),
            "chunking_strategy",
        ),
        (lambda c, s: c.vector_stores.create(metadata={f"k{i}": "v" for i in range(17)}), "metadata"),
        (lambda c, s: c.vector_stores.list(limit=101), "limit"),
        (lambda c, s: c.vector_stores.files.list(s, filter="done"), "filter"),
        (lambda c, s: c.vector_stores.file_batches.create(s), None),
    ],
)
def test_bad_requests_are_400s(client, call, param):
    store = client.vector_stores.create(name="400s")
    with pytest.raises(openai.BadRequestError) as caught:
        call(client, store.id)
    got = caught.value.param
    assert got == param or (param is not None and got is not None and got.startswith(param)), caught.value

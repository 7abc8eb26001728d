"""``Knowledge``: the files, vector stores, batches, search and ingestion worker of one platform.

``for_run`` gives workflows (the ``file_search`` tool) the same search over
the same database, whichever object built them; the embedder is shared per
configuration, so a local model loads once per process.
"""

from __future__ import annotations

import functools
import weakref

from chatkitd.knowledge.batches import FileBatches
from chatkitd.knowledge.embeddings import Embedder, embedder_from_settings
from chatkitd.knowledge.files import FileStore
from chatkitd.knowledge.search import Searcher
from chatkitd.knowledge.stores import VectorStores
from chatkitd.knowledge.worker import IngestionWorker
from chatkitd.settings import Settings
from chatkitd.store.blobs import FileBlobStore
from chatkitd.store.db import Database


@functools.cache
def _embedder(provider: str, model: str | None, base_url: str | None, key: str | None) -> Embedder | None:
    settings = Settings(
        embedding_provider=provider,
        embedding_model=model,
        embedding_base_url=base_url,
        embedding_api_key=key,
    )
    return embedder_from_settings(settings)


def shared_embedder(settings: Settings) -> Embedder | None:
    key = settings.embedding_api_key.get_secret_value() if settings.embedding_api_key else None
    return _embedder(settings.embedding_provider, settings.embedding_model, settings.embedding_base_url, key)


class Knowledge:
    def __init__(self, db: Database, blobs: FileBlobStore, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.embedder = shared_embedder(settings)
        self.files = FileStore(db, blobs, settings.file_max_bytes)
        self.worker = IngestionWorker(db, blobs, self.embedder)
        self.stores = VectorStores(db, self.files, wake=self.worker.wake)
        self.batches = FileBatches(self.stores)
        self.searcher = Searcher(db, self.embedder)
        _by_database[db] = self

    async def start(self) -> None:
        self.worker.start()

    async def stop(self) -> None:
        await self.worker.stop()


_by_database: weakref.WeakKeyDictionary[Database, Knowledge] = weakref.WeakKeyDictionary()


def for_run(db: Database, settings: Settings) -> Knowledge:
    """The platform's Knowledge for this database (made on the spot when a test built none)."""
    found = _by_database.get(db)
    if found is None:
        found = Knowledge(db, FileBlobStore(settings.blob_dir), settings)
    return found

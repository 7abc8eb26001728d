"""``Knowledge``: the files, vector stores, batches, search and ingestion worker of one platform.

``for_run`` gives workflows (the ``file_search`` tool) the same search over
the same database, whichever object built them.
"""

from __future__ import annotations

import weakref

from chatkitd.blobs import BlobStore, open_blobs
from chatkitd.knowledge.batches import FileBatches
from chatkitd.knowledge.embeddings import embedder_from_settings
from chatkitd.knowledge.files import FileStore
from chatkitd.knowledge.index_rows import Collector
from chatkitd.knowledge.search import Searcher
from chatkitd.knowledge.stores import VectorStores
from chatkitd.knowledge.worker import IngestionWorker
from chatkitd.settings import Settings
from chatkitd.store.db import Database


class Knowledge:
    def __init__(self, db: Database, blobs: BlobStore, settings: Settings) -> None:
        self.db = db
        self.settings = settings
        self.blobs = blobs
        # Per platform: an HTTP client belongs to one event loop (a local model is shared per process).
        self.embedder = embedder_from_settings(settings)
        self.collector = Collector(db)
        self.files = FileStore(db, blobs, settings.file_max_bytes, self.collector)
        self.worker = IngestionWorker(db, blobs, self.embedder)
        self.stores = VectorStores(db, self.files, wake=self.worker.wake)
        self.batches = FileBatches(self.stores)
        self.searcher = Searcher(db, self.embedder)
        _by_database[db] = self

    async def start(self) -> None:
        self.worker.start()

    async def stop(self) -> None:
        await self.collector.stop()
        await self.worker.stop()
        close = getattr(self.embedder, "close", None)
        if close is not None:
            await close()


_by_database: weakref.WeakKeyDictionary[Database, Knowledge] = weakref.WeakKeyDictionary()


def for_run(db: Database, settings: Settings) -> Knowledge:
    """The platform's Knowledge for this database (made on the spot when a test built none)."""
    found = _by_database.get(db)
    if found is None:
        found = Knowledge(db, open_blobs(settings.storage_url, settings.blob_dir), settings)
    return found

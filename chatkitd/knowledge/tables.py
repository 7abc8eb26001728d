"""The knowledge tables: files, vector stores, the files attached to them, chunks and vectors.

They join the store's one ``MetaData`` so migrations and the schema check see
a single schema. Full-text indexes are not tables SQLAlchemy can declare (an
FTS5 virtual table on SQLite, a generated ``tsvector`` column on PostgreSQL);
migration 0006 creates them, and ``OUTSIDE_METADATA`` names them for the check.
"""

from sqlalchemy import BigInteger, Column, Float, ForeignKey, Index, Integer, LargeBinary, String, Table, Text

from chatkitd.store.tables import Seq, metadata

knowledge_files = Table(
    "knowledge_files",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("project_id", String(64), nullable=False),
    Column("filename", String(512), nullable=False),
    Column("bytes", BigInteger, nullable=False),
    Column("purpose", String(32), nullable=False),
    Column("mime_type", String(255), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("expires_at", BigInteger),
    Index(None, "project_id", "seq"),
)

vector_stores = Table(
    "vector_stores",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("project_id", String(64), nullable=False),
    Column("name", Text, nullable=False),
    Column("description", Text),
    Column("metadata", Text),  # JSON object of strings, or NULL
    Column("expires_after_days", Integer),
    Column("created_at", Float, nullable=False),
    Column("last_active_at", Float, nullable=False),
    # Set for a store that holds one thread's own uploads.
    Column("thread_id", String(64)),
    Index(None, "project_id", "seq"),
    Index(None, "thread_id"),
)

# A file attached to a store: its processing state is the work queue. A worker
# claims a row by writing its token and a lease; a lease that runs out (the
# process died) lets another worker take the row over.
vector_store_files = Table(
    "vector_store_files",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("vector_store_id", String(64), nullable=False),
    # The file's id: a vector store file is known by its file's id.
    Column("id", String(64), nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("batch_id", String(64)),
    Column("status", String(16), nullable=False),
    Column("last_error", Text),  # JSON {code, message}
    Column("usage_bytes", BigInteger, nullable=False),
    Column("attributes", Text),  # JSON object
    Column("chunking", Text, nullable=False),  # JSON {max_chunk_size_tokens, chunk_overlap_tokens}
    Column("created_at", Float, nullable=False),
    Column("claim_token", String(64)),
    Column("claimed_until", Float),
    Column("attempts", Integer, nullable=False),
    Index(None, "vector_store_id", "id", unique=True),
    Index(None, "vector_store_id", "seq"),
    Index(None, "status", "claimed_until"),
    Index(None, "id"),
    Index(None, "batch_id"),
)

vector_store_file_batches = Table(
    "vector_store_file_batches",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("id", String(64), nullable=False, unique=True),
    Column("vector_store_id", String(64), nullable=False),
    Column("project_id", String(64), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("cancelled_at", Float),
    Index(None, "vector_store_id"),
)

knowledge_chunks = Table(
    "knowledge_chunks",
    metadata,
    Column("seq", Seq, primary_key=True, autoincrement=True),
    Column("vector_store_id", String(64), nullable=False),
    Column("file_id", String(64), nullable=False),
    Column("position", Integer, nullable=False),
    Column("text", Text, nullable=False),
    Column("tokens", Integer, nullable=False),
    Index(None, "vector_store_id", "file_id", "position"),
    Index(None, "file_id"),
)

# One embedding per chunk and model; normalized float32, little-endian.
knowledge_vectors = Table(
    "knowledge_vectors",
    metadata,
    Column(
        "chunk_seq",
        Seq,
        ForeignKey("knowledge_chunks.seq", ondelete="CASCADE"),
        primary_key=True,
        autoincrement=False,
    ),
    Column("vector_store_id", String(64), nullable=False),
    Column("file_id", String(64), nullable=False),
    Column("model", String(200), nullable=False),
    Column("vector", LargeBinary, nullable=False),
    Index(None, "vector_store_id", "model"),
    Index(None, "file_id"),
)

SQLITE_FTS = "knowledge_chunks_fts"
PG_TSV = "tsv"
# What migration 0006 creates beside the tables above: the schema check leaves them out.
OUTSIDE_METADATA_TABLES = frozenset(
    {SQLITE_FTS, *(f"{SQLITE_FTS}_{part}" for part in ("data", "idx", "content", "docsize", "config"))}
)
OUTSIDE_METADATA_COLUMNS = frozenset({("knowledge_chunks", PG_TSV)})
OUTSIDE_METADATA_INDEXES = frozenset({"ix_knowledge_chunks_tsv"})

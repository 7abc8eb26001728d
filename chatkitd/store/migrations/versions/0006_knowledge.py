"""knowledge: files, vector stores, their files and batches, chunks, vectors and full-text indexes

Revision ID: 0006_knowledge
Revises: 0005_approvals

The full-text index is the database's own: an FTS5 table kept in step with
``knowledge_chunks`` by triggers on SQLite, a generated ``tsvector`` column
with a GIN index on PostgreSQL.
"""

import sqlalchemy as sa
from alembic import op

revision = "0006_knowledge"
down_revision = "0005_approvals"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "knowledge_chunks",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("vector_store_id", sa.String(length=64), nullable=False),
        sa.Column("file_id", sa.String(length=64), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("tokens", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_knowledge_chunks")),
    )
    with op.batch_alter_table("knowledge_chunks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_chunks_file_id"), ["file_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_knowledge_chunks_vector_store_id_file_id_position"),
            ["vector_store_id", "file_id", "position"],
            unique=False,
        )

    op.create_table(
        "knowledge_files",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=512), nullable=False),
        sa.Column("bytes", sa.BigInteger(), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("mime_type", sa.String(length=255), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_knowledge_files")),
        sa.UniqueConstraint("id", name=op.f("uq_knowledge_files_id")),
    )
    with op.batch_alter_table("knowledge_files", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_knowledge_files_project_id_seq"), ["project_id", "seq"], unique=False
        )

    op.create_table(
        "vector_store_file_batches",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("vector_store_id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("cancelled_at", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_vector_store_file_batches")),
        sa.UniqueConstraint("id", name=op.f("uq_vector_store_file_batches_id")),
    )
    with op.batch_alter_table("vector_store_file_batches", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vector_store_file_batches_vector_store_id"), ["vector_store_id"], unique=False
        )

    op.create_table(
        "vector_store_files",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("vector_store_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("usage_bytes", sa.BigInteger(), nullable=False),
        sa.Column("attributes", sa.Text(), nullable=True),
        sa.Column("chunking", sa.Text(), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("claim_token", sa.String(length=64), nullable=True),
        sa.Column("claimed_until", sa.Float(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_vector_store_files")),
    )
    with op.batch_alter_table("vector_store_files", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_vector_store_files_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_vector_store_files_id"), ["id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_vector_store_files_status_claimed_until"),
            ["status", "claimed_until"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_vector_store_files_vector_store_id_id"), ["vector_store_id", "id"], unique=True
        )
        batch_op.create_index(
            batch_op.f("ix_vector_store_files_vector_store_id_seq"), ["vector_store_id", "seq"], unique=False
        )

    op.create_table(
        "vector_stores",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("metadata", sa.Text(), nullable=True),
        sa.Column("expires_after_days", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.Column("last_active_at", sa.Float(), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_vector_stores")),
        sa.UniqueConstraint("id", name=op.f("uq_vector_stores_id")),
    )
    with op.batch_alter_table("vector_stores", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_vector_stores_project_id_seq"), ["project_id", "seq"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_vector_stores_thread_id"), ["thread_id"], unique=False)

    op.create_table(
        "knowledge_vectors",
        sa.Column(
            "chunk_seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("vector_store_id", sa.String(length=64), nullable=False),
        sa.Column("file_id", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("vector", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chunk_seq"],
            ["knowledge_chunks.seq"],
            name=op.f("fk_knowledge_vectors_chunk_seq_knowledge_chunks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chunk_seq", name=op.f("pk_knowledge_vectors")),
    )
    with op.batch_alter_table("knowledge_vectors", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_knowledge_vectors_file_id"), ["file_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_knowledge_vectors_vector_store_id_model"),
            ["vector_store_id", "model"],
            unique=False,
        )

    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE knowledge_chunks_fts USING fts5(text, content='knowledge_chunks', "
            "content_rowid='seq', tokenize='porter unicode61 remove_diacritics 2')"
        )
        op.execute(
            "CREATE TRIGGER knowledge_chunks_fts_insert AFTER INSERT ON knowledge_chunks BEGIN "
            "INSERT INTO knowledge_chunks_fts(rowid, text) VALUES (new.seq, new.text); END"
        )
        op.execute(
            "CREATE TRIGGER knowledge_chunks_fts_delete AFTER DELETE ON knowledge_chunks BEGIN "
            "INSERT INTO knowledge_chunks_fts(knowledge_chunks_fts, rowid, text) "
            "VALUES ('delete', old.seq, old.text); END"
        )
    else:
        op.execute(
            "ALTER TABLE knowledge_chunks ADD COLUMN tsv tsvector "
            "GENERATED ALWAYS AS (to_tsvector('english', text)) STORED"
        )
        op.execute("CREATE INDEX ix_knowledge_chunks_tsv ON knowledge_chunks USING gin (tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER knowledge_chunks_fts_delete")
        op.execute("DROP TRIGGER knowledge_chunks_fts_insert")
        op.execute("DROP TABLE knowledge_chunks_fts")
    for table in (
        "knowledge_vectors",
        "knowledge_chunks",
        "vector_store_file_batches",
        "vector_store_files",
        "vector_stores",
        "knowledge_files",
    ):
        op.drop_table(table)

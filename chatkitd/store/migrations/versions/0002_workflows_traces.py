"""workflow versions, traces and spans

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "workflow_versions",
        sa.Column("seq", Seq, autoincrement=True, nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("definition", sa.Text(), nullable=False),
        sa.Column("source_path", sa.Text(), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_workflow_versions")),
    )
    op.create_index(
        op.f("ix_workflow_versions_project_id_workflow_id_version"),
        "workflow_versions",
        ["project_id", "workflow_id", "version"],
        unique=True,
    )
    op.create_table(
        "traces",
        sa.Column("seq", Seq, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=True),
        sa.Column("session_id", sa.String(length=64), nullable=True),
        sa.Column("workflow_id", sa.String(length=200), nullable=True),
        sa.Column("workflow_version", sa.String(length=200), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("item_ids", sa.Text(), nullable=False),
        sa.Column("started_at", sa.Float(), nullable=False),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_traces")),
        sa.UniqueConstraint("id", name=op.f("uq_traces_id")),
    )
    op.create_index(
        op.f("ix_traces_project_id_thread_id_seq"),
        "traces",
        ["project_id", "thread_id", "seq"],
        unique=False,
    )
    op.create_table(
        "spans",
        sa.Column("seq", Seq, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("trace_id", sa.String(length=64), nullable=False),
        sa.Column("parent_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=True),
        sa.Column("started_at", sa.Float(), nullable=True),
        sa.Column("ended_at", sa.Float(), nullable=True),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["trace_id"], ["traces.id"], name=op.f("fk_spans_trace_id_traces"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_spans")),
    )
    op.create_index(op.f("ix_spans_trace_id_seq"), "spans", ["trace_id", "seq"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_spans_trace_id_seq"), table_name="spans")
    op.drop_table("spans")
    op.drop_index(op.f("ix_traces_project_id_thread_id_seq"), table_name="traces")
    op.drop_table("traces")
    op.drop_index(op.f("ix_workflow_versions_project_id_workflow_id_version"), table_name="workflow_versions")
    op.drop_table("workflow_versions")

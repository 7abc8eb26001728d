"""approval pauses and approvals (chatkitd.approvals)

Revision ID: 0005_approvals
Revises: 0004_projection_version
"""

import sqlalchemy as sa
from alembic import op

revision = "0005_approvals"
down_revision = "0004_projection_version"
branch_labels = None
depends_on = None

Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "approval_pauses",
        sa.Column("seq", Seq, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.Column("user", sa.String(length=512), nullable=False),
        sa.Column("workflow_id", sa.String(length=200), nullable=False),
        sa.Column("workflow_version", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("remaining", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("trace_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["thread_id"],
            ["threads.id"],
            name=op.f("fk_approval_pauses_thread_id_threads"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_approval_pauses")),
        sa.UniqueConstraint("id", name=op.f("uq_approval_pauses_id")),
    )
    op.create_index(op.f("ix_approval_pauses_thread_id_status"), "approval_pauses", ["thread_id", "status"])
    op.create_table(
        "approvals",
        sa.Column("seq", Seq, autoincrement=True, nullable=False),
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("pause_id", sa.String(length=64), nullable=False),
        sa.Column("thread_id", sa.String(length=64), nullable=False),
        sa.Column("item_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("answered_by", sa.String(length=512), nullable=True),
        sa.Column("answered_at", sa.Float(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["pause_id"],
            ["approval_pauses.id"],
            name=op.f("fk_approvals_pause_id_approval_pauses"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_approvals")),
        sa.UniqueConstraint("id", name=op.f("uq_approvals_id")),
    )
    op.create_index(op.f("ix_approvals_pause_id"), "approvals", ["pause_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_approvals_pause_id"), table_name="approvals")
    op.drop_table("approvals")
    op.drop_index(op.f("ix_approval_pauses_thread_id_status"), table_name="approval_pauses")
    op.drop_table("approval_pauses")

"""Graph workflows: per-thread state and paused runs; workflow rollback and archive

Revision ID: 0008_graph_workflows
Revises: 0007_change_counters
"""

import sqlalchemy as sa
from alembic import op

revision = "0008_graph_workflows"
down_revision = "0007_change_counters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workflows",
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("workflow_id", sa.String(200), nullable=False),
        sa.Column("latest_version", sa.Integer()),
        sa.Column("archived_at", sa.Float()),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("project_id", "workflow_id", name="pk_workflows"),
    )
    op.create_table(
        "graph_threads",
        sa.Column("thread_id", sa.String(64), nullable=False),
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("paused", sa.Text()),
        sa.Column("paused_token", sa.String(64)),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("thread_id", name="pk_graph_threads"),
    )


def downgrade() -> None:
    op.drop_table("graph_threads")
    op.drop_table("workflows")

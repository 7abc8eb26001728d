"""Retention: a per-project policy deleting threads idle for N days

Revision ID: 0009_retention
Revises: 0008_graph_workflows
"""

import sqlalchemy as sa
from alembic import op

revision = "0009_retention"
down_revision = "0008_graph_workflows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retention_policies",
        sa.Column("project_id", sa.String(64), nullable=False),
        sa.Column("idle_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_retention_policies_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("project_id", name=op.f("pk_retention_policies")),
    )


def downgrade() -> None:
    op.drop_table("retention_policies")

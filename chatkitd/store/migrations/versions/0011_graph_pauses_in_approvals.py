"""Graph runs waiting for a person are the approvals core's pauses: graph_threads keeps state only

Revision ID: 0011_graph_pauses_in_approvals
Revises: 0010_sqlite_change_counter

A graph run paused by the former mechanism (``graph_threads.paused``) is
dropped with it: its card no longer resumes anything (answering it is a 404).
"""

import sqlalchemy as sa
from alembic import op

revision = "0011_graph_pauses_in_approvals"
down_revision = "0010_sqlite_change_counter"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("graph_threads") as batch:
        batch.drop_column("paused_token")
        batch.drop_column("paused")


def downgrade() -> None:
    with op.batch_alter_table("graph_threads") as batch:
        batch.add_column(sa.Column("paused", sa.Text()))
        batch.add_column(sa.Column("paused_token", sa.String(64)))

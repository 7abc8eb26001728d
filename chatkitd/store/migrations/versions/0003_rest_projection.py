"""Store each thread's and item's REST shape beside its protocol JSON

Revision ID: 0003
Revises: 0002

REST lists splice the stored shapes instead of parsing and re-serializing
every row. Existing rows are filled in here, through the same mapping the
store writes with.
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BATCH = 2000


def upgrade() -> None:
    from chatkitd.store.projection import item_rest_json, thread_rest_json

    with op.batch_alter_table("threads") as batch:
        batch.add_column(sa.Column("rest", sa.Text(), nullable=True))
    with op.batch_alter_table("items") as batch:
        batch.add_column(sa.Column("rest", sa.Text(), nullable=True))

    conn = op.get_bind()
    threads = sa.table(
        "threads",
        sa.column("seq"),
        sa.column("data"),
        sa.column("user"),
        sa.column("created_at"),
        sa.column("rest"),
    )
    items = sa.table("items", sa.column("seq"), sa.column("data"), sa.column("rest"))
    for table, project in (
        (threads, lambda row: thread_rest_json(row.data, row.user, row.created_at)),
        (items, lambda row: item_rest_json(row.data)),
    ):
        last = 0
        while True:
            rows = conn.execute(
                sa.select(table).where(table.c.seq > last).order_by(table.c.seq).limit(BATCH)
            ).all()
            if not rows:
                break
            for row in rows:
                conn.execute(sa.update(table).where(table.c.seq == row.seq).values(rest=project(row)))
            last = rows[-1].seq


def downgrade() -> None:
    with op.batch_alter_table("items") as batch:
        batch.drop_column("rest")
    with op.batch_alter_table("threads") as batch:
        batch.drop_column("rest")

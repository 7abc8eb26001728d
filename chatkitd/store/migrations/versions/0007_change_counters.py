"""Count, on PostgreSQL, the commits that change what REST reads return

Revision ID: 0007_change_counters
Revises: 0006_knowledge

Every statement writing threads, items or api_keys adds one, in its own
transaction, to one of 64 counters (picked by server process, so concurrent
writers rarely wait on one another). The REST response cache replays an
answer while the counters' sum stands still (chatkitd.store.postgres). SQLite
counts commits itself; there the table stays empty.
"""

import sqlalchemy as sa
from alembic import op

revision = "0007_change_counters"
down_revision = "0006_knowledge"
branch_labels = None
depends_on = None

SHARDS = 64
COUNTED = ("threads", "items", "api_keys")


def upgrade() -> None:
    counters = op.create_table(
        "change_counters",
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("changes", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("shard", name=op.f("pk_change_counters")),
    )
    if op.get_bind().dialect.name != "postgresql":
        return
    op.bulk_insert(counters, [{"shard": shard, "changes": 0} for shard in range(SHARDS)])
    op.execute(
        f"""
        CREATE FUNCTION chatkitd_count_change() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE change_counters SET changes = changes + 1 WHERE shard = pg_backend_pid() % {SHARDS};
            RETURN NULL;
        END
        $$
        """
    )
    for table in COUNTED:
        op.execute(
            f"CREATE TRIGGER chatkitd_count_change AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION chatkitd_count_change()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in COUNTED:
            op.execute(f"DROP TRIGGER chatkitd_count_change ON {table}")
        op.execute("DROP FUNCTION chatkitd_count_change()")
    op.drop_table("change_counters")

"""Count, on SQLite too, only the commits that change what REST reads return

Revision ID: 0010_sqlite_change_counter
Revises: 0009_retention

SQLite's PRAGMA data_version moves with every commit, chat admissions (the
per-minute request log) and session records included, so every chat request
emptied the REST response cache. Triggers on threads, items and api_keys now
add one to a single counter (SQLite has one writer at a time, so one row
serves), as on PostgreSQL since 0007; chatkitd.store.sqlite reads it only when
data_version says something committed.
"""

from alembic import op

revision = "0010_sqlite_change_counter"
down_revision = "0009_retention"
branch_labels = None
depends_on = None

COUNTED = ("threads", "items", "api_keys")
EVENTS = ("INSERT", "UPDATE", "DELETE")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("INSERT INTO change_counters (shard, changes) VALUES (0, 0)")
    for table in COUNTED:
        for event in EVENTS:
            op.execute(
                f"CREATE TRIGGER chatkitd_count_{table}_{event.lower()} AFTER {event} ON {table} "
                "BEGIN UPDATE change_counters SET changes = changes + 1 WHERE shard = 0; END"
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for table in COUNTED:
        for event in EVENTS:
            op.execute(f"DROP TRIGGER chatkitd_count_{table}_{event.lower()}")
    op.execute("DELETE FROM change_counters")

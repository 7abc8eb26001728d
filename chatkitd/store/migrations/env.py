"""Alembic environment: runs migrations on the connection chatkitd hands it."""

from alembic import context

from chatkitd.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `chatkitd migrate`")

context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()

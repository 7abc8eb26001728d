"""Which version of the REST shapes (``chatkitd.store.projection``) the database's rows hold.

Apart from the mapping, so that checking it (every ``chatkitd`` command does, after
migrating) loads neither chatkit's types nor the mapping: about a quarter of a
command's start. ``chatkitd.store.projection`` re-exports all of it.
"""

from __future__ import annotations

import sqlalchemy as sa

from chatkitd.store import tables

VERSION = 1
NAME = "rest"  # the row of ``projections`` that holds the REST shapes' version


class ProjectionOutOfDate(RuntimeError):
    """The database's stored REST shapes are not the version this chatkitd writes."""


def stored_version(conn: sa.Connection) -> int | None:
    """The version the database's rows hold (None before the table exists)."""
    if not sa.inspect(conn).has_table(tables.projections.name):
        return None
    p = tables.projections
    return conn.scalar(sa.select(p.c.version).where(p.c.name == NAME))


def check_version(conn: sa.Connection) -> None:
    found = stored_version(conn)
    if found != VERSION:
        raise ProjectionOutOfDate(
            f"The database's stored REST shapes are version {found}, and this chatkitd writes "
            f"version {VERSION}: a migration calling chatkitd.store.projection.reproject_all is missing."
        )

"""Projects and their admin keys.

A key is shown once, when it is made; the table keeps only its digest and the
last four characters, so an operator can tell keys apart in `keys list`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError

from chatkitd import clock, credentials, ids
from chatkitd.store import tables
from chatkitd.store.db import Database

DEFAULT_PROJECT = "default"


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    project_id: str
    project_name: str
    name: str | None
    hint: str
    created_at: float
    revoked_at: float | None


async def find_project(db: Database, name: str) -> str | None:
    """The id of the project named ``name``, or None."""
    async with db.read() as conn:
        return await conn.scalar(select(tables.projects.c.id).where(tables.projects.c.name == name))


async def ensure_project(db: Database, name: str) -> str:
    """The id of the project named ``name``, creating it if needed."""
    found = await find_project(db, name)
    if found:
        return found
    try:
        async with db.write() as conn:
            found = await conn.scalar(select(tables.projects.c.id).where(tables.projects.c.name == name))
            if found:
                return found
            project_id = ids.new_id(ids.PROJECT)
            await conn.execute(
                insert(tables.projects).values(id=project_id, name=name, created_at=clock.unix())
            )
            return project_id
    except IntegrityError:
        # Another process (replicas starting together) created it between our look and our insert.
        found = await find_project(db, name)
        if found is None:
            raise
        return found


async def create_key(db: Database, project: str, name: str | None = None) -> tuple[str, ApiKeyRecord]:
    """Make a key for ``project``; returns the plaintext key, which is never stored."""
    project_id = await ensure_project(db, project)
    token = credentials.new_admin_key()
    record = ApiKeyRecord(
        id=ids.new_id(ids.API_KEY),
        project_id=project_id,
        project_name=project,
        name=name,
        hint=token[-4:],
        created_at=clock.unix(),
        revoked_at=None,
    )
    async with db.write() as conn:
        await conn.execute(
            insert(tables.api_keys).values(
                id=record.id,
                project_id=project_id,
                name=name,
                digest=credentials.digest(token),
                hint=record.hint,
                created_at=record.created_at,
            )
        )
    return token, record


def _select_keys():
    k, p = tables.api_keys, tables.projects
    return select(
        k.c.id,
        k.c.project_id,
        p.c.name.label("project_name"),
        k.c.name,
        k.c.hint,
        k.c.created_at,
        k.c.revoked_at,
    ).join(p, p.c.id == k.c.project_id)


async def list_keys(db: Database, include_revoked: bool = False) -> list[ApiKeyRecord]:
    query = _select_keys().order_by(tables.api_keys.c.created_at)
    if not include_revoked:
        query = query.where(tables.api_keys.c.revoked_at.is_(None))
    async with db.read() as conn:
        rows = (await conn.execute(query)).mappings().all()
    return [ApiKeyRecord(**row) for row in rows]


async def revoke_key(db: Database, key_id: str) -> bool:
    global _revocations
    async with db.write() as conn:
        result = await conn.execute(
            update(tables.api_keys)
            .where(tables.api_keys.c.id == key_id, tables.api_keys.c.revoked_at.is_(None))
            .values(revoked_at=clock.unix())
        )
    # After the commit: a lookup racing the update cannot re-cache the key.
    _revocations += 1
    return result.rowcount > 0


async def count_active_keys(db: Database) -> int:
    return len(await list_keys(db))


# Every revocation made in this process bumps it, ending all cached lookups at once.
_revocations = 0


class KeyCache:
    """Admin keys verified in the last ``ttl`` seconds, so a busy integration is not
    looked up in the database on every request.

    Only keys found valid are kept, by digest. A revocation made in this process
    takes effect at once; one made by another process (``chatkitd keys revoke``
    against a running server) within ``ttl`` seconds.
    """

    MAX_ENTRIES = 10_000

    def __init__(self, ttl: float = 1.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[str, float, int]] = {}

    def get(self, token_digest: str) -> str | None:
        entry = self._entries.get(token_digest)
        if entry is None:
            return None
        project_id, expires, revocations = entry
        if revocations != _revocations or time.monotonic() >= expires:
            self._entries.pop(token_digest, None)
            return None
        return project_id

    def put(self, token_digest: str, project_id: str) -> None:
        if len(self._entries) >= self.MAX_ENTRIES:
            self._entries.clear()
        self._entries[token_digest] = (project_id, time.monotonic() + self.ttl, _revocations)


async def project_for_key(db: Database, token: str, cache: KeyCache | None = None) -> str | None:
    """The project an admin key belongs to, or None if it is unknown or revoked."""
    token_digest = credentials.digest(token)
    if cache is not None and (cached := cache.get(token_digest)) is not None:
        return cached
    k = tables.api_keys
    async with db.read() as conn:
        row = (
            await conn.execute(
                select(k.c.project_id, k.c.digest).where(k.c.digest == token_digest, k.c.revoked_at.is_(None))
            )
        ).first()
    if row is None or not credentials.matches(token, row.digest):
        return None
    if cache is not None:
        cache.put(token_digest, row.project_id)
    return row.project_id

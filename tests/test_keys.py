"""Admin keys in the store: hashed at rest, and the short-lived cache of verified keys."""

from __future__ import annotations

import asyncio

from sqlalchemy import select

from chatkitd import credentials
from chatkitd.store import keys, migrate, tables
from chatkitd.store.db import Database


def run(tmp_path, scenario):
    async def wrapper():
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'keys.db'}")
        try:
            await migrate.upgrade(db)
            return await scenario(db)
        finally:
            await db.dispose()

    return asyncio.run(wrapper())


def test_keys_are_stored_as_digests(tmp_path):
    async def scenario(db):
        token, record = await keys.create_key(db, "acme", name="ci")
        async with db.read() as conn:
            row = (await conn.execute(select(tables.api_keys))).mappings().one()
        return token, record, dict(row)

    token, record, row = run(tmp_path, scenario)
    assert row["digest"] == credentials.digest(token)
    assert token not in {str(v) for v in row.values()}
    assert row["hint"] == token[-4:] == record.hint


def test_cache_serves_verified_keys_until_revoked(tmp_path):
    async def scenario(db):
        cache = keys.KeyCache(ttl=60)
        token, record = await keys.create_key(db, "acme")
        project = await keys.project_for_key(db, token, cache)
        assert cache.get(credentials.digest(token)) == project
        # Unknown keys are never cached.
        assert await keys.project_for_key(db, "ck-admin-unknown", cache) is None
        assert cache.get(credentials.digest("ck-admin-unknown")) is None
        await keys.revoke_key(db, record.id)
        assert cache.get(credentials.digest(token)) is None
        return await keys.project_for_key(db, token, cache)

    assert run(tmp_path, scenario) is None


def test_cache_entries_expire(tmp_path):
    async def scenario(db):
        cache = keys.KeyCache(ttl=0)
        token, _ = await keys.create_key(db, "acme")
        assert await keys.project_for_key(db, token, cache) is not None
        return cache.get(credentials.digest(token))

    assert run(tmp_path, scenario) is None

"""Retention: each project may say how long an idle thread is kept, and sweeps enforce it.

Data-protection rules ("delete conversations nobody touched for 90 days") are
per project, so the policy is a row per project, set with ``chatkitd retention
set``. A sweep deletes every thread whose last activity (``updated_at``: a new
item or any change touches it) is older than its project's policy, through
``ThreadStore.delete_thread``: the same delete as ``DELETE /threads/{id}``, so
the thread's items, files, feedback, paused runs, graph state and traces go
with it, and the files' bytes after the rows. ``chatkitd retention run`` sweeps
once (cron), and the server sweeps every ``CHATKITD_RETENTION_INTERVAL``
seconds. Sweeps from several replicas at once are harmless: a thread another
sweep deleted first is skipped.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from chatkit.store import NotFoundError
from sqlalchemy import delete, select

from chatkitd import clock
from chatkitd.context import RequestContext
from chatkitd.store import tables
from chatkitd.store.db import Database
from chatkitd.store.threads import ThreadStore

logger = logging.getLogger(__name__)

DAY = 86_400
# Threads deleted per read of candidates: a sweep of a large backlog never holds a long write.
_BATCH = 200


@dataclass(frozen=True)
class Policy:
    project_id: str
    project_name: str
    idle_days: int


@dataclass(frozen=True)
class Swept:
    project_name: str
    idle_days: int
    thread_ids: list[str]


async def set_policy(db: Database, project_id: str, idle_days: int | None) -> None:
    """Keep idle threads of ``project_id`` for ``idle_days`` days; ``None`` keeps them for ever."""
    policies = tables.retention_policies
    async with db.write() as conn:
        await conn.execute(delete(policies).where(policies.c.project_id == project_id))
        if idle_days is not None:
            await conn.execute(
                policies.insert().values(project_id=project_id, idle_days=idle_days, updated_at=clock.unix())
            )


async def list_policies(db: Database) -> list[Policy]:
    policies, projects = tables.retention_policies, tables.projects
    query = (
        select(policies.c.project_id, projects.c.name, policies.c.idle_days)
        .join(projects, projects.c.id == policies.c.project_id)
        .order_by(projects.c.name)
    )
    async with db.read() as conn:
        return [Policy(*row) for row in (await conn.execute(query)).all()]


async def _idle_threads(
    db: Database, project_id: str, idle_since: float, after_seq: int
) -> list[tuple[int, str]]:
    threads = tables.threads
    query = (
        select(threads.c.seq, threads.c.id)
        .where(
            threads.c.project_id == project_id, threads.c.updated_at < idle_since, threads.c.seq > after_seq
        )
        .order_by(threads.c.seq)
        .limit(_BATCH)
    )
    async with db.read() as conn:
        return [(seq, thread_id) for seq, thread_id in (await conn.execute(query)).all()]


async def sweep(
    db: Database, threads: ThreadStore, project_id: str | None = None, dry_run: bool = False
) -> list[Swept]:
    """Delete the threads each policy (or ``project_id``'s alone) no longer keeps; say which."""
    swept = []
    for policy in await list_policies(db):
        if project_id is not None and policy.project_id != project_id:
            continue
        idle_since = clock.unix() - policy.idle_days * DAY
        context = RequestContext(project_id=policy.project_id)  # the project's admin: every user's threads
        deleted: list[str] = []
        after_seq = 0
        while batch := await _idle_threads(db, policy.project_id, idle_since, after_seq):
            after_seq = batch[-1][0]
            for _, thread_id in batch:
                if not dry_run:
                    try:
                        await threads.delete_thread(thread_id, context)
                    except NotFoundError:
                        continue  # another sweep (another replica) was first
                deleted.append(thread_id)
        swept.append(Swept(policy.project_name, policy.idle_days, deleted))
    return swept


async def sweep_every(db: Database, threads: ThreadStore, interval: float) -> None:
    """The server's own sweeps: one now, then one every ``interval`` seconds, until cancelled."""
    while True:
        try:
            for result in await sweep(db, threads):
                if result.thread_ids:
                    logger.info(
                        "retention: deleted %d threads of project %s idle for more than %d days",
                        len(result.thread_ids),
                        result.project_name,
                        result.idle_days,
                    )
        except Exception as error:  # noqa: BLE001 - a failed sweep is retried at the next interval
            if not db.availability.absorbs(error):
                logger.exception("retention sweep failed; retrying in %.0f s", interval)
        await asyncio.sleep(interval)

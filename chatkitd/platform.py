"""The one object that owns chatkitd's configuration, database, stores and registries.

Both faces of the server reach the store through it; ``create_app`` builds
the HTTP app around one instance.
"""

from __future__ import annotations

import asyncio
import logging

from chatkitd import credentials
from chatkitd.blobs import BlobUnavailable, open_blobs
from chatkitd.knowledge.service import Knowledge
from chatkitd.models import providers
from chatkitd.runtime.attachments import ConversationAttachments
from chatkitd.runtime.detached import wait_for_detached
from chatkitd.runtime.run_metrics import RunMetrics
from chatkitd.runtime.server import ConversationServer
from chatkitd.runtime.signing import Signer
from chatkitd.runtime.transcription import Transcriber
from chatkitd.settings import Settings
from chatkitd.store import keys, migrate, retention
from chatkitd.store.db import Database
from chatkitd.store.rest_pages import RestPages
from chatkitd.store.threads import ThreadStore
from chatkitd.tools import mcp
from chatkitd.tracing.runs import RunTracer
from chatkitd.workflows import registry
from chatkitd.workflows.deploy import deploy_folder
from chatkitd.workflows.registry import WorkflowRegistry

logger = logging.getLogger("chatkitd")


class Platform:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.db = Database.from_settings(settings)
        self.blobs = open_blobs(settings.storage_url, settings.blob_dir)
        self.threads = ThreadStore(self.db, self.blobs)
        self.rest_pages = RestPages(self.db)
        self.workflows = WorkflowRegistry(self.db, settings)
        self.signer = Signer.from_settings(settings)
        self.attachments = ConversationAttachments(
            self.threads, self.blobs, self.signer, settings.upload_lease_seconds
        )
        self.knowledge = Knowledge(self.db, self.blobs, settings)
        # Every run of every workflow is traced here; installing its processor replaces the
        # Agents SDK's export to OpenAI, before any agent runs.
        self.tracer = RunTracer(self.db, settings.otlp_endpoint)
        # One conversation runtime per app: chatkit's server on this platform's store.
        self.run_metrics = RunMetrics()
        self.conversation = ConversationServer(
            self.threads,
            self.attachments,
            self.workflows,
            self.tracer,
            self.run_metrics,
            Transcriber.from_settings(settings),
        )
        self._env_key_digest = (
            credentials.digest(settings.api_key.get_secret_value()) if settings.api_key else None
        )
        self._env_key_project: str | None = None
        self._key_cache = keys.KeyCache()
        self._sweeper: asyncio.Future[None] | None = None
        self._retention: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Migrate (or, told not to, check the schema is current); make sure the project behind
        ``CHATKITD_API_KEY`` exists."""
        if self.settings.migrate_on_start:
            await migrate.upgrade(self.db)
        else:
            await migrate.check_current(self.db)
        await self.signer.load_shared_key(self.db, self.settings.data_dir)
        await self.sweep_unfinished_uploads()
        self._sweeper = asyncio.ensure_future(self._sweep_now_and_then())
        if self._env_key_digest is not None:
            self._env_key_project = await keys.ensure_project(self.db, keys.DEFAULT_PROJECT)
        if self.settings.workflows_dir is not None:
            await deploy_folder(self.workflows, self.settings.workflows_dir)
        await self.knowledge.start()
        registry.load_builtins()
        if self.settings.retention_interval > 0:
            self._retention = asyncio.create_task(
                retention.sweep_every(self.db, self.threads, self.settings.retention_interval)
            )

    async def stop(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.wait([self._sweeper])
        if self._retention is not None:
            self._retention.cancel()
            await asyncio.gather(self._retention, return_exceptions=True)
        await self.knowledge.stop()
        # Cancelled streams may still be saving their partial messages, and runs their traces.
        await wait_for_detached()
        await self.tracer.wait_saved()
        await mcp.close_all()
        await providers.close_clients()
        await self.blobs.close()
        await self.db.dispose()

    async def sweep_unfinished_uploads(self) -> None:
        """What uploads cut short by a crash left behind: partial files no live process writes,
        multipart uploads older than ``CHATKITD_UPLOAD_ABANDONED_SECONDS``, direct uploads' records
        whose lease (``CHATKITD_UPLOAD_LEASE_SECONDS``) lapsed."""
        try:
            removed = await self.blobs.sweep_unfinished(self.settings.upload_abandoned_seconds)
        except (BlobUnavailable, OSError) as error:
            # Not fatal: the server starts, /readyz says the store is down, the next sweep retries.
            logger.warning("could not sweep unfinished uploads in %s: %s", self.blobs.description, error)
        else:
            if removed:
                logger.info("removed %d unfinished upload(s) from %s", removed, self.blobs.description)
        try:
            lapsed = await self.attachments.sweep_lapsed()
        except Exception as error:  # the database or the store is away: the next sweep retries
            logger.warning("could not sweep direct uploads left by a dead server: %s", error)
            return
        if lapsed:
            logger.info("gave back %d file(s) of direct uploads left by a dead server", lapsed)

    async def _sweep_now_and_then(self) -> None:
        """Abandoned uploads also go while the server runs: a crashed replica may never restart."""
        every = max(60, self.settings.upload_abandoned_seconds // 4)
        while True:
            await asyncio.sleep(every)
            await self.sweep_unfinished_uploads()

    async def project_for_admin_key(self, token: str) -> str | None:
        if self._env_key_digest is not None and credentials.matches(token, self._env_key_digest):
            return self._env_key_project
        return await keys.project_for_key(self.db, token, self._key_cache)

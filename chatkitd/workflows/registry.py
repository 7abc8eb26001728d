"""Which workflows exist, which version a session gets, and the runnable workflow for it.

Deployed workflows live in the database, one immutable row per version
(``1``, ``2``, ...; the highest is the latest). A session resolves its
version once, at creation, so a redeploy never changes what a running
session talks to. Built-in workflows (the offline ``demo``) are always
present, in every project.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, String, Subquery, cast, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from chatkitd import clock
from chatkitd.errors import InvalidRequest, NotFound
from chatkitd.settings import Settings
from chatkitd.store import tables
from chatkitd.store.db import Database
from chatkitd.store.paging import Window, page_on

if TYPE_CHECKING:
    from chatkitd.workflows.base import Workflow
    from chatkitd.workflows.definitions import Deployable

BUILTIN_VERSION = "1"


@dataclass(frozen=True)
class ResolvedWorkflow:
    id: str
    version: str
    definition: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class WorkflowVersion:
    project_id: str
    workflow_id: str
    version: str
    kind: str
    name: str | None
    definition: str
    source_path: str | None
    created_at: float

    @classmethod
    def from_row(cls, row: Any) -> WorkflowVersion:
        return cls(
            row.project_id,
            row.workflow_id,
            str(row.version),
            row.kind,
            row.name,
            row.definition,
            row.source_path,
            row.created_at,
        )


@dataclass(frozen=True)
class WorkflowSummary:
    """A workflow as the admin list shows it: its latest version, how many it has, its state."""

    latest: WorkflowVersion
    versions: int
    pointed: int | None  # the version a rollback made the latest (None: the highest)
    archived_at: float | None

    @classmethod
    def from_row(cls, row: Any) -> WorkflowSummary:
        return cls(WorkflowVersion.from_row(row), row.n, row.pointed, row.archived_at)


class WorkflowRegistry:
    def __init__(
        self,
        db: Database | None = None,
        settings: Settings | None = None,
        builtins: tuple[str, ...] = ("demo",),
    ) -> None:
        self.db = db
        self.settings = settings or Settings()
        self.builtins = builtins
        # Versions never change, so a loaded workflow serves every later turn.
        self._loaded: dict[tuple[str, str, str], Workflow] = {}

    async def resolve(self, project_id: str, workflow_id: str, version: str | None) -> ResolvedWorkflow:
        """The version to run; None means the latest. Unknown ids and versions are 404s."""
        if workflow_id in self.builtins:
            if version is not None and version != BUILTIN_VERSION:
                raise _no_version(workflow_id, version)
            return ResolvedWorkflow(workflow_id, BUILTIN_VERSION)
        row = await self._version_row(project_id, workflow_id, version)
        if (await self.status(project_id, workflow_id))[1] is not None:
            raise InvalidRequest(
                f"Workflow '{workflow_id}' is archived: it takes no new sessions.",
                param="workflow.id",
                code="workflow_archived",
            )
        return ResolvedWorkflow(workflow_id, str(row.version))

    async def load(self, project_id: str, workflow_id: str, version: str | None) -> Workflow:
        """The runnable workflow for a session's id and resolved version."""
        if workflow_id in self.builtins:
            await self.resolve(project_id, workflow_id, version)
            return _builtin_instance(workflow_id)
        if version is not None and (project_id, workflow_id, version) in self._loaded:
            # Sessions always name their resolved version: every turn after the first skips the database.
            return self._loaded[(project_id, workflow_id, version)]
        row = await self._version_row(project_id, workflow_id, version)
        key = (project_id, workflow_id, str(row.version))
        workflow = self._loaded.get(key)
        if workflow is None:
            from chatkitd.workflows.environment import RunEnvironment
            from chatkitd.workflows.loader import load_version

            assert self.db is not None
            env = RunEnvironment(self.settings, self.db)
            workflow = load_version(
                workflow_id, str(row.version), row.kind, row.definition, row.source_path, env
            )
            self._loaded[key] = workflow
        return workflow

    async def deploy(
        self,
        project_id: str,
        deployable: Deployable,
        *,
        only_if_changed: bool = False,
        version: int | None = None,
    ) -> tuple[WorkflowVersion, bool]:
        """Add a new version and make it the latest; returns it and whether it is new.

        With ``only_if_changed``, a definition identical to the latest is not
        deployed again (serve start redeploys the workflows folder every time).
        Two processes deploying at once both succeed: the one that loses the
        race for a version number takes the next one (or, unchanged, none).
        """
        if deployable.id in self.builtins:
            raise InvalidRequest(
                f"'{deployable.id}' is a built-in workflow and cannot be deployed.", param="id"
            )
        digest = hashlib.sha256(f"{deployable.kind}\n{deployable.definition}".encode()).hexdigest()
        for _ in range(5):
            try:
                return await self._insert_version(project_id, deployable, digest, only_if_changed, version)
            except IntegrityError:
                if version is not None:
                    raise _version_taken(deployable.id, version) from None
                continue
        raise RuntimeError(f"could not deploy '{deployable.id}': too many concurrent deploys")

    async def _insert_version(
        self, project_id: str, deployable: Deployable, digest: str, only_if_changed: bool, version: int | None
    ) -> tuple[WorkflowVersion, bool]:
        w = tables.workflow_versions
        async with self._db().write() as conn:
            latest = (
                await conn.execute(
                    select(w)
                    .where(w.c.project_id == project_id, w.c.workflow_id == deployable.id)
                    .order_by(w.c.version.desc())
                    .limit(1)
                )
            ).first()
            if latest is not None and only_if_changed and latest.digest == digest:
                return WorkflowVersion.from_row(latest), False
            values = dict(
                project_id=project_id,
                workflow_id=deployable.id,
                version=version if version is not None else (latest.version if latest else 0) + 1,
                kind=deployable.kind,
                name=deployable.name,
                definition=deployable.definition,
                source_path=deployable.source_path,
                digest=digest,
                created_at=clock.unix(),
            )
            await conn.execute(insert(w).values(**values))
            # A deploy is the new latest, whatever an earlier rollback chose: the highest, or,
            # when --version kept a number below the highest, pointed at like a rollback.
            pointed = values["version"] if latest is not None and values["version"] < latest.version else None
            changed = await conn.execute(
                update(tables.workflows)
                .where(
                    tables.workflows.c.project_id == project_id,
                    tables.workflows.c.workflow_id == deployable.id,
                )
                .values(latest_version=pointed, updated_at=clock.unix())
            )
            if pointed is not None and changed.rowcount == 0:
                await conn.execute(
                    insert(tables.workflows).values(
                        project_id=project_id,
                        workflow_id=deployable.id,
                        latest_version=pointed,
                        updated_at=clock.unix(),
                    )
                )
        return WorkflowVersion.from_row(_Row(values)), True

    async def status(self, project_id: str, workflow_id: str) -> tuple[int | None, float | None]:
        """The version a rollback made the latest (None: the highest) and when it was archived."""
        if self.db is None:
            return None, None
        f = tables.workflows
        async with self.db.read() as conn:
            row = (
                await conn.execute(
                    select(f.c.latest_version, f.c.archived_at).where(
                        f.c.project_id == project_id, f.c.workflow_id == workflow_id
                    )
                )
            ).first()
        return (row.latest_version, row.archived_at) if row is not None else (None, None)

    async def set_status(
        self, project_id: str, workflow_id: str, *, latest_version: int | None, archived_at: float | None
    ) -> None:
        f = tables.workflows
        async with self._db().write() as conn:
            await conn.execute(delete(f).where(f.c.project_id == project_id, f.c.workflow_id == workflow_id))
            await conn.execute(
                insert(f).values(
                    project_id=project_id,
                    workflow_id=workflow_id,
                    latest_version=latest_version,
                    archived_at=archived_at,
                    updated_at=clock.unix(),
                )
            )

    def _summaries(self, project_id: str) -> tuple[Select, Subquery]:
        """Each workflow's latest version (a rollback's choice, else the highest), with its count,
        rollback and archive state; and the per-workflow subquery a page of them is keyed on
        (``id``: the workflow's id, ``seq``: its first deploy's, so the list is in deploy order)."""
        w, f = tables.workflow_versions, tables.workflows
        each = (
            select(
                w.c.workflow_id.label("id"),
                func.min(w.c.seq).label("seq"),
                func.max(w.c.version).label("highest"),
                func.count().label("n"),
            )
            .where(w.c.project_id == project_id)
            .group_by(w.c.workflow_id)
            .subquery("each_workflow")
        )
        chosen = func.coalesce(f.c.latest_version, each.c.highest)
        query = (
            select(w, each.c.n, f.c.latest_version.label("pointed"), f.c.archived_at)
            .join(each, w.c.workflow_id == each.c.id)
            .outerjoin(f, (f.c.project_id == project_id) & (f.c.workflow_id == w.c.workflow_id))
            .where(w.c.project_id == project_id, w.c.version == chosen)
        )
        return query, each

    async def latest_versions(self, project_id: str) -> list[tuple[WorkflowVersion, int]]:
        """Every deployed workflow's latest version with its count, by id (the CLI's list)."""
        query, _ = self._summaries(project_id)
        async with self._db().read() as conn:
            rows = (await conn.execute(query.order_by(tables.workflow_versions.c.workflow_id))).all()
        return [(WorkflowVersion.from_row(row), row.n) for row in rows]

    async def page_workflows(self, project_id: str, window: Window) -> tuple[list[WorkflowSummary], bool]:
        """One page of the project's workflows in deploy order (``after``: a workflow id)."""
        query, each = self._summaries(project_id)
        async with self._db().read() as conn:
            rows, has_more = await page_on(conn, query, each, window, [])
        return [WorkflowSummary.from_row(row) for row in rows], has_more

    async def summary(self, project_id: str, workflow_id: str) -> WorkflowSummary | None:
        """One workflow as ``page_workflows`` lists it; None if it has no version in the project."""
        query, _ = self._summaries(project_id)
        async with self._db().read() as conn:
            row = (
                await conn.execute(query.where(tables.workflow_versions.c.workflow_id == workflow_id))
            ).first()
        return WorkflowSummary.from_row(row) if row is not None else None

    async def page_versions(
        self, project_id: str, workflow_id: str, window: Window
    ) -> tuple[list[WorkflowVersion], bool]:
        """One page of a workflow's versions in deploy order (``after``: a version number)."""
        w = tables.workflow_versions
        scoped = (
            select(w, cast(w.c.version, String).label("id"))
            .where(w.c.project_id == project_id, w.c.workflow_id == workflow_id)
            .subquery("versions")
        )
        async with self._db().read() as conn:
            rows, has_more = await page_on(conn, select(scoped), scoped, window, [])
        return [WorkflowVersion.from_row(row) for row in rows], has_more

    async def resolve_latest(self, project_id: str, workflow_id: str) -> WorkflowVersion:
        return WorkflowVersion.from_row(await self._version_row(project_id, workflow_id, None))

    async def versions(self, project_id: str, workflow_id: str) -> list[WorkflowVersion]:
        w = tables.workflow_versions
        async with self._db().read() as conn:
            rows = (
                await conn.execute(
                    select(w)
                    .where(w.c.project_id == project_id, w.c.workflow_id == workflow_id)
                    .order_by(w.c.version)
                )
            ).all()
        return [WorkflowVersion.from_row(row) for row in rows]

    def _db(self) -> Database:
        if self.db is None:
            raise RuntimeError("this registry has no database; it knows only the built-ins")
        return self.db

    async def find_version(self, project_id: str, workflow_id: str, version: str) -> WorkflowVersion | None:
        """One stored version (read alone, not among the workflow's others), or None."""
        try:
            return WorkflowVersion.from_row(await self._version_row(project_id, workflow_id, version))
        except NotFound:
            return None

    async def _version_row(self, project_id: str, workflow_id: str, version: str | None) -> Any:
        """The stored row for a version (None: the latest); 404s name what is unknown."""
        w = tables.workflow_versions
        query: Select | None
        query = select(w).where(w.c.project_id == project_id, w.c.workflow_id == workflow_id)
        if version is None:
            pointed, _ = await self.status(project_id, workflow_id)
            if pointed is not None:
                query = query.where(w.c.version == pointed)
            else:
                query = query.order_by(w.c.version.desc()).limit(1)
        elif version.isdigit() and len(version) < 10:
            query = query.where(w.c.version == int(version))
        else:
            query = None  # not a version number: no such version, whatever the workflow
        row = None
        if query is not None and self.db is not None:
            async with self.db.read() as conn:
                row = (await conn.execute(query)).first()
        if row is not None:
            return row
        if version is not None and await self._exists(project_id, workflow_id):
            raise _no_version(workflow_id, version)
        raise _no_id(workflow_id)

    async def _exists(self, project_id: str, workflow_id: str) -> bool:
        if self.db is None:
            return False
        w = tables.workflow_versions
        async with self.db.read() as conn:
            found = await conn.execute(
                select(w.c.seq).where(w.c.project_id == project_id, w.c.workflow_id == workflow_id).limit(1)
            )
            return found.first() is not None


class _Row:
    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


def _no_id(workflow_id: str) -> NotFound:
    return NotFound(f"No workflow with id '{workflow_id}'.", param="workflow.id")


def _no_version(workflow_id: str, version: str) -> NotFound:
    return NotFound(f"Workflow '{workflow_id}' has no version '{version}'.", param="workflow.version")


def _version_taken(workflow_id: str, version: int) -> InvalidRequest:
    return InvalidRequest(f"Workflow '{workflow_id}' already has a version {version}.", param="version")


def load_builtins() -> None:
    """Import and build the built-in workflows now (at start): the first chat used to do it,
    holding the event loop about half a second while every other request waited."""
    _builtin_instance("demo")


def _builtin_instance(workflow_id: str) -> Workflow:
    # Built-ins are stateless, so one instance per process serves every session.
    if workflow_id not in _instances:
        from chatkitd.workflows.demo import DemoWorkflow

        builtin_classes: dict[str, type[Workflow]] = {"demo": DemoWorkflow}
        _instances[workflow_id] = builtin_classes[workflow_id]()
    return _instances[workflow_id]


_instances: dict[str, Workflow] = {}

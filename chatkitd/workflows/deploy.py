"""Deploying definition files: one file, or the whole ``CHATKITD_WORKFLOWS_DIR`` at serve start."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path

from pydantic import ValidationError

from chatkitd.errors import InvalidRequest
from chatkitd.store import keys
from chatkitd.workflows.definitions import Deployable, definition_files, read_deployable
from chatkitd.workflows.registry import WorkflowRegistry, WorkflowVersion

logger = logging.getLogger(__name__)


async def deploy_file(
    registry: WorkflowRegistry,
    project: str,
    path: Path,
    *,
    only_if_changed: bool = False,
    workflow_id: str | None = None,
    version: int | None = None,
) -> tuple[WorkflowVersion, bool]:
    """Deploy one file into a project (by name, created if needed) as its workflow's new latest.

    ``workflow_id`` names a Python file's or an export's workflow (``--id``);
    ``version`` keeps a version number an integrator's backend already sends.
    """
    assert registry.db is not None
    deployable = read_deployable(path, workflow_id)
    check_loads(deployable, registry)
    project_id = await keys.ensure_project(registry.db, project)
    return await registry.deploy(project_id, deployable, only_if_changed=only_if_changed, version=version)


def check_loads(deployable: Deployable, registry: WorkflowRegistry) -> None:
    """Load the definition once, so a broken file fails its deploy rather than its first chat.

    This imports a Python workflow's module (and a YAML workflow's tools), as the
    server will; agents themselves are built only when a turn runs.
    """
    from chatkitd.workflows.environment import RunEnvironment
    from chatkitd.workflows.loader import load_version

    assert registry.db is not None
    env = RunEnvironment(registry.settings, registry.db)
    try:
        load_version(deployable.id, "0", deployable.kind, deployable.definition, deployable.source_path, env)
    except InvalidRequest as error:  # already names what is wrong (a graph names its node)
        raise InvalidRequest(
            f"{deployable.source_path or deployable.id}: {error.message}", param=error.param
        ) from None
    except Exception as error:  # noqa: BLE001 - any failure is the file's, reported to the operator
        raise InvalidRequest(
            f"Workflow '{deployable.id}' from {deployable.source_path} does not load"
            f"{_where(error, deployable.source_path)}: {type(error).__name__}: {_one_line(error)}",
            param="definition",
        ) from None


def _where(error: BaseException, source_path: str | None) -> str:
    """`` (line N)``: the line of the workflow's own file the error came from, when it did."""
    lines = [
        line
        for frame, line in traceback.walk_tb(error.__traceback__)
        if frame.f_code.co_filename == source_path
    ]
    return f" (line {lines[-1]})" if source_path and lines else ""


def _one_line(error: BaseException) -> str:
    """The error in one line: pydantic's report lists each error over three lines, with a URL."""
    if isinstance(error, ValidationError):
        found = error.errors(include_url=False)
        listed = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'value'}: {e['msg']}" for e in found[:3])
        return f"{listed}{'; ...' if len(found) > 3 else ''}"
    return " ".join(str(error).split())


async def deploy_folder(
    registry: WorkflowRegistry, folder: Path, project: str = keys.DEFAULT_PROJECT
) -> None:
    """Deploy every definition in ``folder`` whose content changed since its latest version.

    A file that does not parse or load is logged and skipped.
    """
    for path in definition_files(folder):
        try:
            version, created = await deploy_file(registry, project, path, only_if_changed=True)
        except InvalidRequest as error:
            # One broken file must not keep the others (or the server) down.
            reason = " ".join(error.message.split())  # one line, whatever the file's error says
            logger.error("CHATKITD_WORKFLOWS_DIR: not deploying %s: %s", path, reason)
            continue
        if created:
            logger.info("deployed workflow %s version %s from %s", version.workflow_id, version.version, path)

"""Deploying definition files: one file, or the whole ``CHATKITD_WORKFLOWS_DIR`` at serve start."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from chatkitd.store import keys
from chatkitd.workflows.definitions import definition_files, read_deployable
from chatkitd.workflows.registry import WorkflowRegistry, WorkflowVersion

if TYPE_CHECKING:
    from chatkitd.platform import Platform

logger = logging.getLogger(__name__)


async def deploy_file(
    registry: WorkflowRegistry, project: str, path: Path, *, only_if_changed: bool = False
) -> tuple[WorkflowVersion, bool]:
    """Deploy one file into a project (by name, created if needed) as its workflow's new latest."""
    assert registry.db is not None
    project_id = await keys.ensure_project(registry.db, project)
    deployable = read_deployable(path)
    return await registry.deploy(project_id, deployable, only_if_changed=only_if_changed)


async def deploy_folder(platform: Platform, folder: Path, project: str = keys.DEFAULT_PROJECT) -> None:
    """Deploy every definition in ``folder`` whose content changed since its latest version."""
    for path in definition_files(folder):
        version, created = await deploy_file(platform.workflows, project, path, only_if_changed=True)
        if created:
            logger.info("deployed workflow %s version %s from %s", version.workflow_id, version.version, path)

"""Which workflows exist, and which version a session gets.

Built-in workflows (the offline ``demo``) are always present, in every project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatkitd.errors import NotFound
from chatkitd.workflows.base import Workflow

BUILTIN_VERSION = "1"


@dataclass(frozen=True)
class ResolvedWorkflow:
    id: str
    version: str
    definition: dict[str, Any] = field(default_factory=dict)


class WorkflowRegistry:
    def __init__(self, builtins: tuple[str, ...] = ("demo",)) -> None:
        self.builtins = builtins

    async def resolve(self, project_id: str, workflow_id: str, version: str | None) -> ResolvedWorkflow:
        """The version to run; None means the latest. Unknown ids and versions are 404s."""
        if workflow_id not in self.builtins:
            raise NotFound(f"No workflow with id '{workflow_id}'.", param="workflow.id")
        if version is not None and version != BUILTIN_VERSION:
            raise NotFound(f"Workflow '{workflow_id}' has no version '{version}'.", param="workflow.version")
        return ResolvedWorkflow(workflow_id, BUILTIN_VERSION)

    async def load(self, project_id: str, workflow_id: str, version: str | None) -> Workflow:
        """The runnable workflow for a session's id and resolved version."""
        resolved = await self.resolve(project_id, workflow_id, version)
        return _builtin_instance(resolved.id)


def _builtin_instance(workflow_id: str) -> Workflow:
    # Built-ins are stateless, so one instance per process serves every session.
    if workflow_id not in _instances:
        from chatkitd.workflows.demo import DemoWorkflow

        builtin_classes: dict[str, type[Workflow]] = {"demo": DemoWorkflow}
        _instances[workflow_id] = builtin_classes[workflow_id]()
    return _instances[workflow_id]


_instances: dict[str, Workflow] = {}

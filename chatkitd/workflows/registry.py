"""Which workflows exist, and which version a session gets.

Built-in workflows (the offline ``demo``) are always present, in every project.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chatkitd.errors import NotFound

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

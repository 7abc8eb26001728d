"""The run context every agent tool receives (``ctx.context`` in a ``function_tool``)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import Field, SkipValidation

from chatkitd.compat.chatkit import AgentContextWithOwnQueue
from chatkitd.tools.web_search.citations import Sources


class WorkflowRunContext(AgentContextWithOwnQueue):
    """chatkit's AgentContext (thread, store, request context, task helpers) plus the session's state."""

    # Passed through as is: the store needs the very same context object.
    request_context: Annotated[Any, SkipValidation]  # a RequestContext
    workflow_id: str = ""
    workflow_version: str = ""
    state_variables: dict[str, Any] = Field(default_factory=dict)
    # Results of this run's web searches, numbered as the model saw them: its citations.
    web_sources: Annotated[Sources, SkipValidation] = Field(default_factory=Sources)

"""The run context every agent tool receives (``ctx.context`` in a ``function_tool``)."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from chatkit.agents import AgentContext
from pydantic import Field, PrivateAttr, SkipValidation


class WorkflowRunContext(AgentContext[Any]):
    """chatkit's AgentContext (thread, store, request context, task helpers) plus the session's state."""

    # Passed through as is: the store needs the very same context object.
    request_context: Annotated[Any, SkipValidation]  # a RequestContext
    workflow_id: str = ""
    workflow_version: str = ""
    state_variables: dict[str, Any] = Field(default_factory=dict)
    # chatkit declares this queue with an instance as its default, which pydantic
    # deep-copies for every context (about 0.1 ms a run); a factory makes the same
    # fresh, empty queue without the copy.
    _events: asyncio.Queue[Any] = PrivateAttr(default_factory=asyncio.Queue)

"""Driving a workflow through chatkit's own ``ChatKitServer`` on chatkitd's store.

The workflow tests use it to exercise agent workflows end to end (events,
stored items, client tool round trips) through the public ``Workflow``
interface, the same way chatkitd's conversation runtime calls it.
"""

from __future__ import annotations

import json
from typing import Any

from chatkit.server import ChatKitServer, StreamingResult

from chatkitd.context import RequestContext
from chatkitd.rest.sessions import SessionCreateBody, create_session
from chatkitd.store.keys import ensure_project
from chatkitd.workflows.definitions import Deployable, parse_yaml


class WorkflowHarness(ChatKitServer[RequestContext]):
    def __init__(self, platform: Any) -> None:
        super().__init__(platform.threads)
        self.platform = platform

    async def respond(self, thread, item, context):  # noqa: ANN001, ANN201
        session = context.session
        workflow = await self.platform.workflows.load(
            session.project_id, session.workflow_id, session.resolved_version
        )
        async for event in workflow.respond(thread, item, context, self.store):
            yield event

    async def request(self, context: RequestContext, type: str, **params: Any) -> list[dict]:
        """One streaming request; returns its events as JSON objects."""
        result = await self.process(json.dumps({"type": type, "params": params}), context)
        assert isinstance(result, StreamingResult)
        events = []
        async for chunk in result:
            for frame in chunk.decode().split("\n\n"):
                if frame.startswith("data: "):
                    events.append(json.loads(frame[len("data: ") :]))
        return events


async def deploy_yaml(platform: Any, text: str, project: str = "default") -> str:
    definition = parse_yaml(text)
    project_id = await ensure_project(platform.db, project)
    version, _ = await platform.workflows.deploy(
        project_id,
        Deployable(id=definition.id, name=definition.name, kind="yaml", definition=text),
        only_if_changed=True,
    )
    return version.version


async def session_context(
    platform: Any, user: str, workflow: dict, project: str = "default"
) -> RequestContext:
    project_id = await ensure_project(platform.db, project)
    body = SessionCreateBody.model_validate({"user": user, "workflow": workflow})
    record, _ = await create_session(platform.db, platform.workflows, project_id, body)
    return RequestContext.for_session(record)


def user_input(text: str, **inference_options: Any) -> dict:
    return {
        "content": [{"type": "input_text", "text": text}],
        "attachments": [],
        "inference_options": inference_options,
    }

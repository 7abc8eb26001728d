"""The one place where protocol threads and items (``chatkit.types``) get their REST shapes.

The store keeps each row's REST shape beside it (``chatkitd.store.projection``),
so this mapping is part of what is stored: a change to it changes stored data,
and goes with a new ``projection.VERSION`` and a migration.

| protocol item      | REST type                  |
|--------------------|----------------------------|
| user_message       | chatkit.user_message       |
| assistant_message  | chatkit.assistant_message  |
| widget             | chatkit.widget             |
| client_tool_call   | chatkit.client_tool_call   |
| task               | chatkit.task               |
| workflow           | chatkit.task_group         |

Every other item (hidden context, end of turn, generated images, structured
input) has no REST type: ``to_rest`` returns None, the store keeps no REST
shape for it, and REST pages skip it in SQL, so it never makes a page short.
"""

from __future__ import annotations

import json
from typing import Any

from chatkit.types import (
    AssistantMessageItem,
    ClientToolCallItem,
    CustomTask,
    FileSource,
    ImageAttachment,
    Task,
    TaskItem,
    ThoughtTask,
    ThreadItem,
    ThreadMetadata,
    URLSource,
    UserMessageItem,
    UserMessageTextContent,
    WidgetItem,
    WorkflowItem,
)

from chatkitd import clock


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), default=str)


def _task_fields(task: Task) -> dict[str, Any]:
    # The REST API knows only custom and thought tasks; other kinds read as custom.
    task_type = "thought" if isinstance(task, ThoughtTask) else "custom"
    content = task.content if isinstance(task, (CustomTask, ThoughtTask)) else None
    return {"type": task_type, "heading": task.title, "summary": content}


def _user_content(item: UserMessageItem) -> list[dict[str, str]]:
    content: list[dict[str, str]] = []
    if item.quoted_text:
        content.append({"type": "quoted_text", "text": item.quoted_text})
    for part in item.content:
        # Tags carry their display text; REST has only plain text.
        text = part.text if isinstance(part, UserMessageTextContent) else part.text
        content.append({"type": "input_text", "text": text})
    return content


def _annotations(item: AssistantMessageItem, index: int) -> list[dict[str, Any]]:
    annotations = []
    for annotation in item.content[index].annotations:
        source = annotation.source
        if isinstance(source, URLSource):
            annotations.append({"type": "url", "source": {"type": "url", "url": source.url}})
        elif isinstance(source, FileSource):
            annotations.append({"type": "file", "source": {"type": "file", "filename": source.filename}})
        # Entity annotations have no REST shape and are dropped.
    return annotations


def to_rest(item: ThreadItem) -> dict[str, Any] | None:
    """The REST shape of ``item``, or None if the REST API does not list it."""
    base = {
        "id": item.id,
        "object": "chatkit.thread_item",
        "created_at": int(clock.to_utc(item.created_at).timestamp()),
        "thread_id": item.thread_id,
    }
    match item:
        case UserMessageItem():
            options = item.inference_options
            return base | {
                "type": "chatkit.user_message",
                "content": _user_content(item),
                "attachments": [
                    {
                        "id": a.id,
                        "type": a.type,
                        "name": a.name,
                        "mime_type": a.mime_type,
                        "preview_url": (
                            str(a.preview_url) if isinstance(a, ImageAttachment) and a.preview_url else None
                        ),
                    }
                    for a in item.attachments
                ],
                "inference_options": (
                    {
                        "model": options.model,
                        "tool_choice": {"id": options.tool_choice.id} if options.tool_choice else None,
                    }
                    if options and (options.model or options.tool_choice)
                    else None
                ),
            }
        case AssistantMessageItem():
            return base | {
                "type": "chatkit.assistant_message",
                "content": [
                    {"type": "output_text", "text": part.text, "annotations": _annotations(item, i)}
                    for i, part in enumerate(item.content)
                ],
            }
        case WidgetItem():
            return base | {
                "type": "chatkit.widget",
                "widget": item.widget.model_dump_json(exclude_none=True, by_alias=True),
            }
        case ClientToolCallItem():
            return base | {
                "type": "chatkit.client_tool_call",
                "status": "in_progress" if item.status == "pending" else "completed",
                "call_id": item.call_id,
                "name": item.name,
                "arguments": _json(item.arguments),
                "output": None if item.output is None else _json(item.output),
            }
        case TaskItem():
            fields = _task_fields(item.task)
            return base | {
                "type": "chatkit.task",
                "task_type": fields["type"],
                "heading": fields["heading"],
                "summary": fields["summary"],
            }
        case WorkflowItem():
            return base | {
                "type": "chatkit.task_group",
                "tasks": [_task_fields(task) for task in item.workflow.tasks],
            }
    return None


def thread_resource(thread: ThreadMetadata, user: str, created_at: float) -> dict[str, Any]:
    """The REST shape of a thread (``chatkit.thread``)."""
    status = thread.status
    status_body: dict[str, Any] = {"type": status.type}
    if status.type != "active":
        status_body["reason"] = getattr(status, "reason", None)
    return {
        "id": thread.id,
        "object": "chatkit.thread",
        "created_at": int(created_at),
        "status": status_body,
        "title": thread.title,
        "user": user,
    }


def list_resource(data: list[dict[str, Any]], has_more: bool, key: str = "id") -> dict[str, Any]:
    """The list envelope every list endpoint answers with; ``key`` names the field the
    cursors are (a workflow version's ``version``)."""
    return {
        "object": "list",
        "data": data,
        "first_id": data[0][key] if data else None,
        "last_id": data[-1][key] if data else None,
        "has_more": has_more,
    }


def list_body(rows: list[tuple[str, str]], has_more: bool) -> bytes:
    """The list envelope around stored REST shapes, spliced without re-parsing them.

    ``rows`` are ``(id, rest_json)`` pairs; the result equals
    ``list_resource`` of the parsed shapes, serialized.
    """
    first_id = json.dumps(rows[0][0]) if rows else "null"
    last_id = json.dumps(rows[-1][0]) if rows else "null"
    data = ",".join(rest for _, rest in rows)
    more = "true" if has_more else "false"
    return (
        f'{{"object":"list","data":[{data}],"first_id":{first_id},"last_id":{last_id},"has_more":{more}}}'
    ).encode()

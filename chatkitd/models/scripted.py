"""An offline, deterministic model that plays a script: for tests, benchmarks and demos.

It implements the Agents SDK's ``Model`` interface and streams the same
Responses API events a real model does, so everything downstream (the
runner, tool calls, chatkit's stream converter, tracing) runs for real.

A script is a list of rules. The first rule whose ``when`` regex matches
the latest user message (case-insensitive; no ``when`` matches anything)
answers the turn. Each of its ``steps`` answers one model call of the
turn: step N answers the call made after N tool results came back, so a
step that calls a tool is followed by the step that uses its output.

A step may carry ``reasoning`` (a summary), ``text`` (streamed one word per
delta; ``{{ user }}``, ``{{ tool_output }}``, ``{{ instructions }}``,
``{{ model }}`` and ``{{ tools }}``, the names of the tools offered, are
filled in), ``url`` (``{url, title}``, an annotation on the text), ``call``
(``{name, arguments}``, a function call; ``calls``, a list of them made at
once, each result counting as one), ``delay`` (seconds before each text
delta) and ``error`` (the call fails with it). A tool forced by
``tool_choice`` is called first.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from typing import Any

from agents.items import ModelResponse, TResponseStreamEvent
from agents.models.interface import Model
from agents.tracing import SpanError, generation_span
from agents.usage import Usage
from openai.types.responses import (
    Response,
    ResponseCompletedEvent,
    ResponseContentPartAddedEvent,
    ResponseContentPartDoneEvent,
    ResponseCreatedEvent,
    ResponseFunctionToolCall,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseReasoningItem,
    ResponseReasoningSummaryTextDeltaEvent,
    ResponseReasoningSummaryTextDoneEvent,
    ResponseTextDeltaEvent,
    ResponseTextDoneEvent,
    ResponseUsage,
)
from openai.types.responses.response_output_text import AnnotationURLCitation
from openai.types.responses.response_reasoning_item import Summary
from openai.types.responses.response_usage import InputTokensDetails, OutputTokensDetails

from chatkitd.templating import render

_WORD = re.compile(r"\S+\s*|\s+")


class ScriptedModelError(RuntimeError):
    """The error a script step asked for."""


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex}"


def _text_of(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return ""


def turn_state(input: str | list[Any]) -> tuple[str, int, str]:
    """The latest user text, how many tool results followed it, and the last tool output."""
    if isinstance(input, str):
        return input, 0, ""
    user, outputs, last_output = "", 0, ""
    for item in input:
        if not isinstance(item, dict):
            continue
        if item.get("role") == "user" and item.get("type", "message") == "message":
            text = _text_of(item.get("content"))
            if not text.startswith("Hidden context"):
                user, outputs, last_output = text, 0, ""
        elif item.get("type") == "function_call_output":
            outputs += 1
            raw = item.get("output")
            # Structured outputs (an MCP tool's text parts) read as their text.
            text = _text_of(raw)
            last_output = raw if isinstance(raw, str) else text or json.dumps(raw)
    return user, outputs, last_output


class ScriptedModel(Model):
    def __init__(self, script: list[dict[str, Any]], name: str = "scripted") -> None:
        self.script = script
        self.name = name

    def step_for(self, input: str | list[Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        user, done, tool_output = turn_state(input)
        for rule in self.script:
            pattern = rule.get("when")
            if pattern is None or re.search(pattern, user, re.IGNORECASE):
                steps = rule.get("steps") or [{"text": ""}]
                step = steps[min(done, len(steps) - 1)]
                break
        else:
            step = {"text": ""}
        return step, {"user": user, "tool_output": tool_output, "done": done}

    async def get_response(
        self,
        system_instructions,
        input,
        model_settings,
        tools,
        output_schema,
        handoffs,
        tracing,
        *,
        previous_response_id=None,
        conversation_id=None,
        prompt=None,
    ) -> ModelResponse:
        response = None
        async for event in self.stream_response(
            system_instructions,
            input,
            model_settings,
            tools,
            output_schema,
            handoffs,
            tracing,
            previous_response_id=previous_response_id,
            conversation_id=conversation_id,
            prompt=prompt,
        ):
            if isinstance(event, ResponseCompletedEvent):
                response = event.response
        assert response is not None
        usage = response.usage
        return ModelResponse(
            output=response.output,
            usage=Usage(
                requests=1,
                input_tokens=usage.input_tokens if usage else 0,
                output_tokens=usage.output_tokens if usage else 0,
                total_tokens=usage.total_tokens if usage else 0,
            ),
            response_id=response.id,
        )

    async def stream_response(
        self,
        system_instructions,
        input,
        model_settings,
        tools,
        output_schema,
        handoffs,
        tracing,
        *,
        previous_response_id=None,
        conversation_id=None,
        prompt=None,
    ) -> AsyncIterator[TResponseStreamEvent]:
        step, variables = self.step_for(input)
        variables.update(
            instructions=system_instructions or "",
            model=self.name,
            tools=", ".join(sorted(getattr(tool, "name", "?") for tool in tools or [])),
        )
        forced = model_settings.tool_choice
        if isinstance(forced, str) and forced not in ("auto", "required", "none") and not variables["done"]:
            # A forced tool is called first, as a real model would.
            step = {"call": {"name": forced, "arguments": {}}}
        with generation_span(
            model=self.name,
            model_config={"tool_choice": model_settings.tool_choice},
            disabled=tracing.is_disabled(),
        ) as span:
            if "error" in step:
                span.set_error(SpanError(message="Error", data={"message": step["error"]}))
                raise ScriptedModelError(step["error"])
            events, usage = _events_for(step, variables, input)
            span.span_data.usage = {
                "input_tokens": usage.input_tokens,
                "output_tokens": usage.output_tokens,
            }
            delay = float(step.get("delay", 0))
            for event in events:
                # Hand control back between events, as a model reading the network does.
                await asyncio.sleep(delay if event.type == "response.output_text.delta" else 0)
                yield event


def _events_for(
    step: dict[str, Any], variables: dict[str, Any], input: Any
) -> tuple[list[Any], ResponseUsage]:
    """The Responses stream events of one step, ending with ``response.completed``."""
    response_id = _id("resp")
    events: list[Any] = []
    output: list[Any] = []
    seq = 0

    def add(event_cls: type, **fields: Any) -> None:
        nonlocal seq
        events.append(event_cls(sequence_number=seq, **fields))
        seq += 1

    def shell(items: list[Any], status: str, usage: ResponseUsage | None = None) -> Response:
        return Response(
            id=response_id,
            created_at=0,
            model="scripted",
            object="response",
            output=items,
            tool_choice="auto",
            tools=[],
            parallel_tool_calls=False,
            status=status,
            usage=usage,
        )

    add(ResponseCreatedEvent, type="response.created", response=shell([], "in_progress"))
    if step.get("reasoning"):
        summary = render(step["reasoning"], variables)
        item = ResponseReasoningItem(id=_id("rs"), type="reasoning", summary=[])
        index = len(output)
        add(ResponseOutputItemAddedEvent, type="response.output_item.added", item=item, output_index=index)
        for word in _WORD.findall(summary):
            add(
                ResponseReasoningSummaryTextDeltaEvent,
                type="response.reasoning_summary_text.delta",
                item_id=item.id,
                output_index=index,
                summary_index=0,
                delta=word,
            )
        add(
            ResponseReasoningSummaryTextDoneEvent,
            type="response.reasoning_summary_text.done",
            item_id=item.id,
            output_index=index,
            summary_index=0,
            text=summary,
        )
        done = item.model_copy(update={"summary": [Summary(text=summary, type="summary_text")]})
        add(ResponseOutputItemDoneEvent, type="response.output_item.done", item=done, output_index=index)
        output.append(done)
    text = render(step["text"], variables) if "text" in step else None
    if text is not None:
        _message_events(add, output, text, step.get("url"))
    calls = list(step.get("calls") or []) + ([step["call"]] if step.get("call") else [])
    for call in calls:
        tool_call = ResponseFunctionToolCall(
            id=_id("fc"),
            call_id=_id("call"),
            type="function_call",
            name=call["name"],
            arguments=json.dumps(call.get("arguments", {})),
            status="completed",
        )
        index = len(output)
        add(
            ResponseOutputItemAddedEvent,
            type="response.output_item.added",
            item=tool_call,
            output_index=index,
        )
        add(ResponseOutputItemDoneEvent, type="response.output_item.done", item=tool_call, output_index=index)
        output.append(tool_call)
    words_in = len(_WORD.findall(json.dumps(input, default=str))) if input else 0
    words_out = len(_WORD.findall(text or "")) + len(calls)
    usage = ResponseUsage(
        input_tokens=words_in,
        output_tokens=words_out,
        total_tokens=words_in + words_out,
        input_tokens_details=InputTokensDetails(cached_tokens=0, cache_write_tokens=0),
        output_tokens_details=OutputTokensDetails(reasoning_tokens=0),
    )
    add(ResponseCompletedEvent, type="response.completed", response=shell(output, "completed", usage))
    return events, usage


def _message_events(add: Any, output: list[Any], text: str, url: dict[str, str] | None) -> None:
    item_id, index = _id("msg"), len(output)
    empty = ResponseOutputText(type="output_text", text="", annotations=[])
    add(
        ResponseOutputItemAddedEvent,
        type="response.output_item.added",
        output_index=index,
        item=ResponseOutputMessage(
            id=item_id, type="message", role="assistant", status="in_progress", content=[]
        ),
    )
    add(
        ResponseContentPartAddedEvent,
        type="response.content_part.added",
        item_id=item_id,
        output_index=index,
        content_index=0,
        part=empty,
    )
    for word in _WORD.findall(text):
        add(
            ResponseTextDeltaEvent,
            type="response.output_text.delta",
            item_id=item_id,
            output_index=index,
            content_index=0,
            delta=word,
            logprobs=[],
        )
    annotations = []
    if url:
        annotation = AnnotationURLCitation(
            type="url_citation",
            url=url["url"],
            title=url.get("title", url["url"]),
            start_index=0,
            end_index=len(text),
        )
        annotations.append(annotation)
        add(
            ResponseOutputTextAnnotationAddedEvent,
            type="response.output_text.annotation.added",
            item_id=item_id,
            output_index=index,
            content_index=0,
            annotation_index=0,
            annotation=annotation.model_dump(),
        )
    add(
        ResponseTextDoneEvent,
        type="response.output_text.done",
        item_id=item_id,
        output_index=index,
        content_index=0,
        text=text,
        logprobs=[],
    )
    part = ResponseOutputText(type="output_text", text=text, annotations=annotations)
    add(
        ResponseContentPartDoneEvent,
        type="response.content_part.done",
        item_id=item_id,
        output_index=index,
        content_index=0,
        part=part,
    )
    message = ResponseOutputMessage(
        id=item_id, type="message", role="assistant", status="completed", content=[part]
    )
    add(ResponseOutputItemDoneEvent, type="response.output_item.done", item=message, output_index=index)
    output.append(message)

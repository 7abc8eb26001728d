"""``ConversationServer``: chatkit's ``ChatKitServer`` on chatkitd's store, running the session's workflow.

It adds what the hosted service does around chatkit's request handling:
requests are parsed into clear 400s, deletes are idempotent, locked and closed
threads refuse new input, chatkit's ``ValueError``s about wrong items become
422s, threads get an automatic title when the session asks for one (after a
failed or cancelled first run too), feedback is stored, every run of every
workflow is traced (``chatkitd.tracing.runs``), and every timestamp sent is UTC.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Callable
from typing import Any

from chatkit.actions import Action
from chatkit.server import NonStreamingResult, StreamingResult
from chatkit.store import NotFoundError
from chatkit.types import (
    AttachmentsCreateReq,
    AttachmentsDeleteReq,
    AudioInput,
    ChatKitReq,
    ClientToolCallItem,
    FeedbackKind,
    InputTranscribeReq,
    ItemsFeedbackReq,
    ItemsListReq,
    StructuredInputItem,
    SyncCustomActionResponse,
    ThreadItemDoneEvent,
    ThreadItemReplacedEvent,
    ThreadMetadata,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsAddUserMessageReq,
    ThreadsCreateReq,
    ThreadsCustomActionReq,
    ThreadsDeleteReq,
    ThreadsListReq,
    ThreadsRetryAfterItemReq,
    ThreadsSyncCustomActionReq,
    ThreadStreamEvent,
    TranscriptionResult,
    UserMessageItem,
    WidgetItem,
    is_streaming_req,
)
from pydantic import BaseModel, TypeAdapter, ValidationError

from chatkitd import approvals, log_context
from chatkitd.compat.chatkit import OutgoingServer, dispatch_non_streaming, dispatch_streaming
from chatkitd.context import RequestContext
from chatkitd.errors import InvalidRequest, NotFound, Unprocessable
from chatkitd.models.failures import Where, called, clear_error, model_failure
from chatkitd.rest import input_policy, json_input
from chatkitd.rest.validation import param_path
from chatkitd.runtime.attachments import ConversationAttachments
from chatkitd.runtime.run_metrics import RunMetrics
from chatkitd.runtime.timestamps import utc_timestamps
from chatkitd.runtime.titles import clean_title, first_text, offline_title
from chatkitd.runtime.transcription import Transcriber, decode_audio
from chatkitd.store.paging import UnknownCursor, parse_limit
from chatkitd.store.threads import ThreadStore
from chatkitd.tracing.runs import RunTracer
from chatkitd.workflows.base import Workflow
from chatkitd.workflows.registry import WorkflowRegistry

_ANSWERED = "chatkitd.approval_answered"  # in RequestContext.extras, from process() to action()
_TRACE_SAVES = "chatkitd.trace_saves"  # in RequestContext.extras: the run traces being saved
_requests: TypeAdapter[ChatKitReq] = TypeAdapter(ChatKitReq)

# Requests that add input to a thread: refused once the thread is locked or closed.
INPUT_REQUESTS = (
    ThreadsAddUserMessageReq,
    ThreadsAddClientToolOutputReq,
    ThreadsAddStructuredInputReq,
    ThreadsRetryAfterItemReq,
    ThreadsCustomActionReq,
    ThreadsSyncCustomActionReq,
)

# Deletes are idempotent, as in chatkit's reference server (its store deletes silently): whether
# the thread or attachment is there, was deleted already, or is not the caller's, the answer is the
# same ``{}`` and nothing the caller does not see is touched (the stores confine every delete,
# ``chatkitd.store.tenancy``). So no answer tells whether someone else's id exists. REST's
# ``DELETE /v1/chatkit/threads/{id}`` keeps OpenAI's 404.
IDEMPOTENT_DELETES = (AttachmentsDeleteReq, ThreadsDeleteReq)
DELETED = b"{}"


def parse_request(body: str | bytes | bytearray) -> ChatKitReq:
    """The request, or a 400 naming the offending param.

    The body first passes chatkitd's JSON input policy (``chatkitd.rest.json_input``:
    nesting, number size, list lengths, NUL characters), then chatkit's types.
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    data = json_input.decode(raw)
    try:
        return _requests.validate_python(data)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        kind = first["type"]
        if not first["loc"] and kind not in ("union_tag_invalid", "union_tag_not_found"):
            raise InvalidRequest("The request body must be a JSON object.", code="invalid_json") from None
        if kind in ("union_tag_invalid", "union_tag_not_found"):
            raise InvalidRequest(
                f"Invalid 'type': {first['msg']}.", param="type", code="invalid_request_type"
            ) from None
        # The first location is the request type (the union's tag), not a param.
        param = param_path(first["loc"][1:]) or None
        if kind == "extra_forbidden":
            message = f"Unknown parameter: '{param}'."
        elif kind == "missing":
            message = f"Missing required parameter: '{param}'."
        else:
            message = f"Invalid value for '{param}': {first['msg']}."
        raise InvalidRequest(message, param=param, code=kind) from None


def _check_bounds(request: ChatKitReq) -> None:
    """Numbers chatkit accepts as they come, but which only make sense in a range."""
    if isinstance(request, (ThreadsListReq, ItemsListReq)):
        parse_limit(request.params.limit, "params.limit")
    if isinstance(request, AttachmentsCreateReq) and request.params.size < 0:
        raise InvalidRequest("Invalid 'params.size': must not be negative.", param="params.size")
    # A message's size, a title's and a name's length: the input policy's.
    input_policy.check_conversation(request)
    if isinstance(request, InputTranscribeReq):
        decode_audio(request.params.audio_base64, request.params.mime_type)
    if isinstance(request, ItemsFeedbackReq) and not request.params.item_ids:
        raise InvalidRequest(
            "Invalid 'params.item_ids': name at least one item.",
            param="params.item_ids",
            code="invalid_value",
        )


class ConversationServer(OutgoingServer[RequestContext]):
    def __init__(
        self,
        threads: ThreadStore,
        attachments: ConversationAttachments,
        workflows: WorkflowRegistry,
        tracer: RunTracer,
        run_metrics: RunMetrics | None = None,
        transcriber: Transcriber | None = None,
    ) -> None:
        super().__init__(threads, attachments)
        self.threads = threads
        self.workflows = workflows
        self.tracer = tracer
        self.run_metrics = run_metrics or RunMetrics()
        self.transcriber = transcriber

    async def process(
        self, request: str | bytes | bytearray, context: RequestContext
    ) -> StreamingResult | NonStreamingResult:
        # chatkit's own process() parses and dispatches in one go; this does the
        # same, with checks between.
        parsed = parse_request(request)
        log_context.add(thread=getattr(parsed.params, "thread_id", None))
        _check_bounds(parsed)
        if isinstance(parsed, ThreadsSyncCustomActionReq) and approvals.is_answer(parsed.params.action.type):
            raise InvalidRequest(
                "Approvals are answered with threads.custom_action, which streams the run they resume.",
                param="type",
            )
        if isinstance(parsed, INPUT_REQUESTS):
            await self._check_accepts_input(parsed, context)
        if isinstance(parsed, ThreadsCustomActionReq) and approvals.is_answer(parsed.params.action.type):
            # Claimed before the stream starts, so a refusal is a 4xx, not an error event.
            context.extras[_ANSWERED] = await approvals.answer(
                self.threads, parsed.params.thread_id, parsed.params.action.payload, context
            )
        elif isinstance(parsed, (ThreadsCustomActionReq, ThreadsSyncCustomActionReq)):
            # An action the workflow does not handle is a 400 before anything streams.
            (await self.workflow_for(context)).check_action(parsed.params.action.type)
        if isinstance(parsed, (ThreadsCreateReq, ThreadsAddUserMessageReq)):
            await self._check_attachments(parsed.params.input.attachments, context)
        if is_streaming_req(parsed):
            stream = _settled(dispatch_streaming(self, parsed, context), context)
            return StreamingResult(_unprocessable_on_value_error(stream))
        try:
            return NonStreamingResult(await dispatch_non_streaming(self, parsed, context))
        except NotFoundError:
            if isinstance(parsed, IDEMPOTENT_DELETES):
                return NonStreamingResult(DELETED)
            raise
        except UnknownCursor as error:
            raise InvalidRequest(str(error), param="params.after", code="invalid_cursor") from None
        except ValidationError:
            raise
        except ValueError as error:
            raise Unprocessable(str(error), code="invalid_item") from None

    async def _check_accepts_input(self, request: Any, context: RequestContext) -> None:
        thread_id = request.params.thread_id
        thread = await self.threads.load_thread(thread_id, context)
        status = thread.status
        if status.type != "active":
            reason = f": {status.reason}" if status.reason else "."
            raise Unprocessable(
                f"Thread {thread_id} is {status.type} and accepts no new input{reason}",
                param="params.thread_id",
                code=f"thread_{status.type}",
            )
        # Checked here, before the stream: chatkit raises inside it, and logs each such
        # refusal as an error with its traceback, for what is the client's mistake.
        if isinstance(request, ThreadsRetryAfterItemReq):
            # chatkit silently streams nothing for an unknown item; say so instead.
            item = await self.threads.load_item(thread_id, request.params.item_id, context)
            if not isinstance(item, UserMessageItem):
                raise Unprocessable(
                    f"Item {item.id} is not a user message.", param="params.item_id", code="invalid_item"
                )
        elif isinstance(request, ThreadsAddClientToolOutputReq):
            last = (await self.threads.load_thread_items(thread_id, None, 1, "desc", context)).data
            if not (last and isinstance(last[0], ClientToolCallItem) and last[0].status == "pending"):
                raise Unprocessable(
                    f"Thread {thread_id} has no pending client tool call: its last item is not a "
                    "ClientToolCallItem awaiting output.",
                    param="params.thread_id",
                    code="invalid_item",
                )
        elif isinstance(request, ThreadsCustomActionReq) and request.params.item_id:
            item = await self.threads.load_item(thread_id, request.params.item_id, context)
            if not isinstance(item, WidgetItem):
                raise Unprocessable(
                    f"Item {item.id} is not a widget: actions come from widgets.",
                    param="params.item_id",
                    code="invalid_item",
                )
        elif isinstance(request, ThreadsAddStructuredInputReq):
            item = await self.threads.load_item(thread_id, request.params.item_id, context)
            if not (isinstance(item, StructuredInputItem) and item.status == "pending"):
                raise Unprocessable(
                    f"Item {item.id} is not a StructuredInputItem awaiting answers.",
                    param="params.item_id",
                    code="invalid_item",
                )

    async def _check_attachments(self, attachment_ids: list[str], context: RequestContext) -> None:
        """The user's own, uploaded attachments only, refused before a thread is created."""
        for index, attachment_id in enumerate(attachment_ids):
            param = f"params.input.attachments[{index}]"
            try:
                attachment = await self.threads.load_attachment(attachment_id, context)
            except NotFoundError:
                raise NotFound(
                    f"No attachment found with id '{attachment_id}'.", param=param, code="not_found"
                ) from None
            if not (attachment.metadata or {}).get("uploaded"):
                raise Unprocessable(
                    f"Attachment {attachment_id} has no bytes yet: upload it first.",
                    param=param,
                    code="attachment_not_uploaded",
                )

    async def workflow_for(self, context: RequestContext) -> Workflow:
        session = context.session
        if session is None:
            raise InvalidRequest("The conversation needs a session's client secret.")
        return await self.workflows.load(session.project_id, session.workflow_id, session.resolved_version)

    # -- delegation to the session's workflow ---------------------------------------------

    def respond(
        self, thread: ThreadMetadata, input_user_message: UserMessageItem | None, context: RequestContext
    ) -> AsyncIterator[ThreadStreamEvent]:
        return self._respond(thread, input_user_message, context)

    async def _respond(
        self, thread: ThreadMetadata, item: UserMessageItem | None, context: RequestContext
    ) -> AsyncIterator[ThreadStreamEvent]:
        workflow = await self.workflow_for(context)
        if item is not None and approvals.PENDING_KEY in thread.metadata:
            for cancelled in await approvals.cancel_pending(thread, context, self.threads):
                yield cancelled
        events = self._traced(
            workflow,
            "respond",
            thread,
            context,
            lambda: workflow.respond(thread, item, context, self.threads),
            [item.id] if item is not None else [],
        )
        try:
            async for event in events:
                yield event
        except BaseException as error:
            # A failed first run still names its thread: chatkit saves the changed thread
            # (and sends thread.updated) after an error, though not after a cancel.
            if item is not None and self._title_offline(thread, item, context):
                if isinstance(error, asyncio.CancelledError):
                    await self.threads.save_thread(thread, context)
            raise
        if item is not None:
            await self._title(thread, item, workflow, context)

    async def _traced(
        self,
        workflow: Workflow,
        operation: str,
        thread: ThreadMetadata,
        context: RequestContext,
        start: Callable[[], AsyncIterator[ThreadStreamEvent]],
        item_ids: list[str] | None = None,
    ) -> AsyncIterator[ThreadStreamEvent]:
        """The workflow's events, inside a trace of the run (the one path for every kind)."""
        run = self.tracer.open(context, thread.id, workflow.id, workflow.version, operation, item_ids)
        context.run_trace = run
        failure: BaseException | None = None
        try:
            with self.run_metrics.run(workflow.id):
                async for event in start():
                    if isinstance(event, ThreadItemDoneEvent):
                        run.produced(event.item.id)
                    yield event
        except BaseException as error:
            failure = error
            # A workflow's own model call (a ``Workflow`` subclass) fails as the agents' do: one
            # line for the operator, a clear error for the user, no traceback.
            unclear = model_failure(error)
            if unclear is None:
                raise
            said = called(error)
            where = Where(
                workflow=workflow.id,
                version=workflow.version,
                provider=said["provider"],
                endpoint=said["endpoint"],
                model=said["model"],
                served_as=said["model"],
                thread=thread.id,
                session=context.session.id if context.session is not None else None,
            )
            raise clear_error(unclear, where) from None
        finally:
            # Saved beside the rest of the stream; the stream ends once it is (``_settled``).
            saving = self.tracer.close_soon(run, failure)
            if saving is not None:
                context.extras.setdefault(_TRACE_SAVES, []).append(saving)

    def _title_offline(self, thread: ThreadMetadata, item: UserMessageItem, context: RequestContext) -> bool:
        if thread.title is not None or context.session is None or not context.session.titling_enabled:
            return False
        thread.title = offline_title(first_text(item))
        return True

    async def _title(
        self, thread: ThreadMetadata, item: UserMessageItem, workflow: Workflow, context: RequestContext
    ) -> None:
        """Name an untitled thread after its first exchange.

        Setting ``thread.title`` is enough: chatkit notices the change, saves the
        thread and sends ``thread.updated``.
        """
        if thread.title is not None or context.session is None or not context.session.titling_enabled:
            return
        text = first_text(item)
        with self.run_metrics.model_calls(workflow.id):
            title = await workflow.title(thread, text, context)
        thread.title = clean_title(title) or offline_title(text)

    def action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        return self._action(thread, action, sender, context)

    async def _action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> AsyncIterator[ThreadStreamEvent]:
        if approvals.is_answer(action.type):
            async for event in self._answered(thread, context.extras.pop(_ANSWERED), context):
                yield event
            return
        workflow = await self.workflow_for(context)
        events = self._traced(
            workflow,
            f"action {action.type}",
            thread,
            context,
            lambda: workflow.action(thread, action, sender, context, self.threads),
        )
        async for event in events:
            yield event

    async def _answered(
        self, thread: ThreadMetadata, answered: approvals.Answered, context: RequestContext
    ) -> AsyncIterator[ThreadStreamEvent]:
        """The answered card, then, when it was the pause's last answer, the resumed run."""
        if answered.card is not None:
            yield ThreadItemReplacedEvent(item=answered.card)
        resumption = answered.resumption
        if resumption is None:
            return
        approvals.resumed(thread, resumption)
        # The version that paused, whatever the caller's session resolves to today.
        workflow = await self.workflows.load(
            context.project_id, resumption.workflow_id, resumption.workflow_version
        )
        events = self._traced(
            workflow,
            "resume",
            thread,
            context,
            lambda: workflow.resume(thread, resumption, context, self.threads),
        )
        async for event in events:
            yield event

    async def sync_action(
        self,
        thread: ThreadMetadata,
        action: Action[str, Any],
        sender: WidgetItem | None,
        context: RequestContext,
    ) -> SyncCustomActionResponse:
        workflow = await self.workflow_for(context)
        operation = f"sync_action {action.type}"
        run = self.tracer.open(context, thread.id, workflow.id, workflow.version, operation)
        context.run_trace = run
        failure: BaseException | None = None
        try:
            with self.run_metrics.run(workflow.id):
                response = await workflow.sync_action(thread, action, sender, context, self.threads)
            if response.updated_item is not None:
                run.produced(response.updated_item.id)
            return response
        except BaseException as error:
            failure = error
            raise
        finally:
            await self.tracer.close(run, failure)

    async def transcribe(self, audio_input: AudioInput, context: RequestContext) -> TranscriptionResult:
        """The session's workflow, if it transcribes itself; else the configured endpoint."""
        workflow = await self.workflow_for(context)
        if _transcribes_itself(workflow) or self.transcriber is None:
            return await workflow.transcribe(audio_input, context)
        return await self.transcriber.transcribe(audio_input, context.locale)

    def dictation_available(self, workflow: Workflow) -> bool:
        """Whether ``input.transcribe`` can answer for this workflow's chats: it transcribes
        itself, or the server has a transcription endpoint (the composer's mic shows only then)."""
        return _transcribes_itself(workflow) or self.transcriber is not None

    async def add_feedback(
        self, thread_id: str, item_ids: list[str], feedback: FeedbackKind, context: RequestContext
    ) -> None:
        await self.threads.add_feedback(thread_id, item_ids, feedback, context)

    def outgoing(self, obj: BaseModel) -> BaseModel:
        """Every object sent, streamed or not: chatkit's naive local times made UTC."""
        return utc_timestamps(obj)


async def _settled(stream: AsyncIterator[bytes], context: RequestContext) -> AsyncGenerator[bytes, None]:
    """The stream, ended only once the traces of its runs are saved: whoever reads a trace after
    the stream ended finds it. A stream that fails or is cancelled does not wait (they are saved all
    the same, and ``Platform.stop`` waits for them)."""
    async for chunk in stream:
        yield chunk
    saves = context.extras.pop(_TRACE_SAVES, [])
    if saves:
        await asyncio.wait(saves)


async def _unprocessable_on_value_error(stream: AsyncIterator[bytes]) -> AsyncGenerator[bytes, None]:
    """chatkit raises ``ValueError`` for a wrong item (not a pending tool call, ...): a 422."""
    try:
        async for chunk in stream:
            yield chunk
    except ValidationError:
        raise
    except ValueError as error:
        raise Unprocessable(str(error), code="invalid_item") from None


def _transcribes_itself(workflow: Workflow) -> bool:
    return type(workflow).transcribe is not Workflow.transcribe

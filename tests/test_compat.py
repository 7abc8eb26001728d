"""The assumptions ``chatkitd.compat`` makes about other libraries' internals, each checked.

When an upgrade of a pinned library fails one of these, the message says which
reliance broke; fix the wrapper in ``chatkitd/compat/`` (and only there).
Two checks keep the package honest: every row of ``REACHES`` names a test that
exists, and no module outside ``chatkitd/compat`` names another library's
private member.
"""

from __future__ import annotations

import ast
import asyncio
import importlib
import inspect
import json
import re
import sqlite3
import threading
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any

import chatkit.agents
import pytest
from agents import ModelSettings
from agents.models.interface import ModelTracing
from agents.stream_events import RawResponsesStreamEvent
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.server import ChatKitServer
from chatkit.types import (
    AssistantMessageContent,
    AssistantMessageItem,
    Page,
    ThreadItemDoneEvent,
    ThreadItemUpdatedEvent,
    ThreadMetadata,
    ThreadsCreateReq,
    ThreadsListReq,
)
from openai.types.responses import (
    ResponseContentPartAddedEvent,
    ResponseOutputItemAddedEvent,
    ResponseOutputItemDoneEvent,
    ResponseOutputMessage,
    ResponseOutputText,
    ResponseOutputTextAnnotationAddedEvent,
    ResponseTextDeltaEvent,
)
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from chatkitd import compat
from chatkitd.blobs import FileBlobStore
from chatkitd.compat import agents as compat_agents
from chatkitd.compat.aiosqlite import InlineConnection, open_inline, sqlite3_connection
from chatkitd.compat.chatkit import (
    CONVERTED_EVENTS,
    FIRST_LOOK,
    AgentContextWithOwnQueue,
    ConverterInput,
    OutgoingServer,
    dispatch_non_streaming,
    dispatch_streaming,
    wake_side_queue,
)
from chatkitd.compat.sqlalchemy import asyncpg_connect_args
from chatkitd.context import RequestContext
from chatkitd.models.providers import ProviderDefinition, build_model
from chatkitd.settings import Settings
from chatkitd.store import migrate
from chatkitd.store.db import Database
from chatkitd.store.threads import ThreadStore
from tests.support.fake_llm import fake_llm
from tests.support.servers import fresh_database

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "chatkitd"


# -- the registry ---------------------------------------------------------------------


def test_every_reach_names_a_test_that_exists():
    assert compat.REACHES
    for reach in compat.REACHES:
        path, _, name = reach.test.partition("::")
        assert path.startswith("tests/") and path.endswith(".py"), reach
        module = importlib.import_module(path[:-3].replace("/", "."))
        assert callable(getattr(module, name, None)), f"{reach.relies_on}: no test {reach.test}"
        used_by = reach.used_by.split(",")[0].strip()
        module_name, _, attr = used_by.rpartition(".")
        assert hasattr(importlib.import_module(module_name), attr), f"{reach.used_by} does not exist"


def _private_names_defined_in(tree: ast.AST) -> set[str]:
    """The ``_names`` a module defines itself: functions, classes, attributes, fields."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Store):
            names.add(node.attr)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, ast.arg):
            names.add(node.arg)
    return {name for name in names if name.startswith("_")}


def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def test_no_private_reach_outside_compat():
    """``x._name`` or ``from lib._module import`` only where chatkitd itself defines the name."""
    files = [p for p in PACKAGE.rglob("*.py") if "compat" not in p.relative_to(PACKAGE).parts]
    trees = {path: ast.parse(path.read_text(), str(path)) for path in files}
    ours = set().union(*(_private_names_defined_in(tree) for tree in trees.values()))
    found = []
    for path, tree in trees.items():
        where = path.relative_to(ROOT)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and not node.module.startswith("chatkitd"):
                parts = node.module.split(".")
                private = [p for p in parts if _is_private(p)] + [
                    alias.name for alias in node.names if _is_private(alias.name)
                ]
                if private:
                    found.append(f"{where}:{node.lineno} imports {node.module}: {private}")
            elif isinstance(node, ast.Attribute) and _is_private(node.attr) and node.attr not in ours:
                found.append(f"{where}:{node.lineno} reaches .{node.attr}")
    assert not found, "private internals outside chatkitd.compat:\n" + "\n".join(found)


# -- aiosqlite --------------------------------------------------------------------------


def test_aiosqlite_calls_run_inline_unless_sent_to_the_worker(tmp_path):
    class Picky(InlineConnection):
        def runs_on_worker(self, fn, args):  # noqa: ANN001, ANN201
            return bool(args) and isinstance(args[0], str) and "worker" in args[0]

    async def scenario() -> tuple[int, int, int, bool]:
        connection = await open_inline(str(tmp_path / "db.sqlite"), Picky)
        try:
            sqlite3_connection(connection).create_function("caller_thread", 0, threading.get_ident)
            [(inline,)] = await (await connection.execute("select caller_thread() /* inline */")).fetchall()
            [(worker,)] = await (await connection.execute("select caller_thread() /* worker */")).fetchall()
            return threading.get_ident(), inline, worker, connection._thread.daemon
        finally:
            await connection.close()

    loop_thread, inline_thread, worker_thread, daemon = asyncio.run(scenario())
    assert inline_thread == loop_thread, "InlineConnection._execute no longer runs calls inline"
    assert worker_thread != loop_thread, "aiosqlite's own _execute no longer hands calls to its thread"
    assert daemon, "aiosqlite's worker thread is no longer Connection._thread"


def test_aiosqlite_exposes_its_sqlite3_connection(tmp_path):
    async def scenario() -> Any:
        connection = await open_inline(str(tmp_path / "db.sqlite"))
        try:
            raw = sqlite3_connection(connection)
            raw.execute("create table t (n integer)")
            raw.execute("insert into t values (7)")
            return raw, await (await connection.execute("select n from t")).fetchall()
        finally:
            await connection.close()

    raw, rows = asyncio.run(scenario())
    assert isinstance(raw, sqlite3.Connection)
    assert [tuple(row) for row in rows] == [(7,)]


# -- openai-chatkit ---------------------------------------------------------------------


class _Server(ChatKitServer[RequestContext]):
    async def respond(self, thread, input_user_message, context):  # noqa: ANN001, ANN201
        yield ThreadItemDoneEvent(
            item=AssistantMessageItem(
                id=self.store.generate_item_id("message", thread, context),
                thread_id=thread.id,
                created_at=datetime.now(),
                content=[AssistantMessageContent(text="pong")],
            )
        )


def test_chatkit_server_dispatches_through_its_two_private_methods(tmp_path):
    """``process`` is parse + the two methods; calling them on a parsed request answers the same."""
    for name in ("_process_streaming", "_process_non_streaming"):
        params = list(inspect.signature(getattr(ChatKitServer, name)).parameters)
        assert params == ["self", "request", "context"], f"ChatKitServer.{name} changed: {params}"

    async def scenario() -> tuple[bytes, bytes, list[bytes]]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        try:
            await migrate.upgrade(db)
            server = _Server(ThreadStore(db, FileBlobStore(tmp_path / "blobs")))
            context = RequestContext(project_id="proj_compat", user="user_compat")
            listing = ThreadsListReq(type="threads.list", params={"limit": 5})
            through_process = await server.process(listing.model_dump_json(), context)
            direct = await dispatch_non_streaming(server, listing, context)
            create = ThreadsCreateReq.model_validate(
                {
                    "type": "threads.create",
                    "params": {
                        "input": {
                            "content": [{"type": "input_text", "text": "ping"}],
                            "attachments": [],
                            "inference_options": {},
                        }
                    },
                }
            )
            frames = [frame async for frame in dispatch_streaming(server, create, context)]
            return getattr(through_process, "json", b""), direct, frames
        finally:
            await db.dispose()

    through_process, direct, frames = asyncio.run(scenario())
    assert direct == through_process
    text = b"".join(frames).decode()
    assert '"type":"thread.created"' in text and '"text":"pong"' in text


class _Marking(OutgoingServer[RequestContext], _Server):
    """Marks every outgoing object, to see which ones pass through ``outgoing``."""

    def outgoing(self, obj):  # noqa: ANN001, ANN201
        if hasattr(obj, "created_at"):
            return obj.model_copy(update={"created_at": datetime(2000, 1, 2, 3, 4, 5)})
        for name in ("thread", "item"):
            value = getattr(obj, name, None)
            if value is not None and hasattr(value, "created_at"):
                return obj.model_copy(update={name: self.outgoing(value)})
        if hasattr(obj, "data"):
            return obj.model_copy(update={"data": [self.outgoing(entry) for entry in obj.data]})
        return obj


def test_every_outgoing_object_passes_through_serialize(tmp_path):
    """Streamed events and JSON answers alike: each object chatkit sends goes through ``_serialize``."""
    marked = b"2000-01-02T03:04:05"

    async def scenario() -> tuple[list[bytes], bytes, bytes]:
        db = Database(f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}")
        try:
            await migrate.upgrade(db)
            server = _Marking(ThreadStore(db, FileBlobStore(tmp_path / "blobs")))
            context = RequestContext(project_id="proj_compat", user="user_compat")
            create = json.dumps(
                {
                    "type": "threads.create",
                    "params": {
                        "input": {
                            "content": [{"type": "input_text", "text": "ping"}],
                            "attachments": [],
                            "inference_options": {},
                        }
                    },
                }
            )
            result = await server.process(create, context)
            frames = [frame async for frame in result]  # type: ignore[union-attr]
            listing = await server.process('{"type": "threads.list", "params": {}}', context)
            thread_id = json.loads(frames[0].removeprefix(b"data: "))["thread"]["id"]
            one = await server.process(
                json.dumps({"type": "threads.get_by_id", "params": {"thread_id": thread_id}}), context
            )
            return frames, listing.json, one.json  # type: ignore[union-attr]
        finally:
            await db.dispose()

    frames, listing, one = asyncio.run(scenario())
    events = [json.loads(frame.removeprefix(b"data: ")) for frame in frames]
    carrying = [e for e in events if "thread" in e or "item" in e]
    assert {e["type"] for e in carrying} >= {"thread.created", "thread.item.done"}
    assert all(marked in frame for frame in frames if b'"thread"' in frame or b'"item"' in frame)
    assert marked in listing and marked in one


class _Store:
    """Just enough of a store for ``stream_agent_response``, recording its reads."""

    def __init__(self) -> None:
        self.reads: list[tuple[Any, ...]] = []

    async def load_thread_items(self, thread_id, after, limit, order, context):  # noqa: ANN001, ANN201
        self.reads.append((thread_id, after, limit, order))
        return Page(data=[], has_more=False)

    def generate_item_id(self, item_type, thread, context):  # noqa: ANN001, ANN201
        return f"item_{len(self.reads)}"


def _context(store: _Store) -> AgentContextWithOwnQueue:
    thread = ThreadMetadata(id="thr_compat", created_at=datetime.now())
    return AgentContextWithOwnQueue(thread=thread, store=store, request_context=None)


class _Events:
    """A run result that is nothing but ``stream_events``."""

    def __init__(self, events: list[Any], then: Exception | None = None, context: Any = None) -> None:
        self.events, self.then, self.context = events, then, context

    async def stream_events(self) -> AsyncIterator[Any]:
        for event in self.events:
            yield event
        if self.context is not None:
            await self.context.stream(ThreadItemUpdatedEvent.model_validate(_PROGRESS))
            await asyncio.sleep(0.01)  # the side queue's reader takes it first
        if self.then is not None:
            raise self.then


_PROGRESS = {
    "item_id": "x",
    "update": {
        "type": "assistant_message.content_part.text_delta",
        "content_index": 0,
        "delta": "from the side queue",
    },
}


def test_agent_context_side_queue():
    """Each context gets its own queue; events put there reach the stream; a failed run leaves
    the queue's reader waiting until ``wake_side_queue``."""
    declared = AgentContext.__private_attributes__["_events"]
    assert declared.default is not None, "chatkit no longer declares _events with an instance default"

    async def scenario() -> tuple[list[Any], set[asyncio.Task[Any]]]:
        one, two = _context(_Store()), _context(_Store())
        assert one._events is not two._events and one._events.empty()
        streamed = [e async for e in stream_agent_response(one, _Events([], context=one))]  # type: ignore[arg-type]
        before = asyncio.all_tasks()
        with pytest.raises(RuntimeError):
            async for _ in stream_agent_response(two, _Events([], RuntimeError("model down"))):  # type: ignore[arg-type]
                pass
        waiting = asyncio.all_tasks() - before
        wake_side_queue(two)
        await asyncio.wait_for(asyncio.gather(*waiting), 5)
        return streamed, waiting

    streamed, waiting = asyncio.run(scenario())
    assert any(getattr(e, "update", None) and e.update.delta == "from the side queue" for e in streamed)
    assert waiting, "chatkit now ends its side-queue reader itself: wake_side_queue may go"


def test_stream_agent_response_first_looks_at_the_last_two_items():
    store = _Store()

    async def scenario() -> None:
        async for _ in stream_agent_response(_context(store), _Events([])):  # type: ignore[arg-type]
            pass

    asyncio.run(scenario())
    assert store.reads[0] == ("thr_compat", *FIRST_LOOK)


def test_the_converter_acts_on_exactly_the_events_passed_to_it():
    source = inspect.getsource(chatkit.agents.stream_agent_response)
    handled = set(re.findall(r'"(response\.[a-z_.]+)"', source))
    assert handled == CONVERTED_EVENTS, "chatkit's converter handles other raw events now"
    assert "stream_events()" in source and not re.search(r"result\.(?!stream_events)[a-z]", source), (
        "stream_agent_response uses more of the run result than stream_events()"
    )


def _message_events(annotation: dict[str, Any]) -> list[Any]:
    message = ResponseOutputMessage(
        id="msg_1", type="message", role="assistant", status="in_progress", content=[]
    )
    part = ResponseOutputText(type="output_text", text="", annotations=[])
    raw: list[Any] = [
        ResponseOutputItemAddedEvent(
            type="response.output_item.added", output_index=0, item=message, sequence_number=0
        ),
        ResponseContentPartAddedEvent(
            type="response.content_part.added",
            item_id="msg_1",
            output_index=0,
            content_index=0,
            part=part,
            sequence_number=1,
        ),
        ResponseTextDeltaEvent(
            type="response.output_text.delta",
            item_id="msg_1",
            output_index=0,
            content_index=0,
            delta="See",
            logprobs=[],
            sequence_number=2,
        ),
        # Parsed as from the wire: openai 3.x makes the annotation an event-specific class.
        ResponseOutputTextAnnotationAddedEvent.model_validate(
            {
                "type": "response.output_text.annotation.added",
                "item_id": "msg_1",
                "output_index": 0,
                "content_index": 0,
                "annotation_index": 0,
                "sequence_number": 3,
                "annotation": annotation,
            }
        ),
        ResponseOutputItemDoneEvent(
            type="response.output_item.done",
            output_index=0,
            sequence_number=4,
            item=message.model_copy(
                update={"status": "completed", "content": [part.model_copy(update={"text": "See"})]}
            ),
        ),
    ]
    return [RawResponsesStreamEvent(data=event) for event in raw]


def test_url_annotations_reach_the_client_as_dicts():
    annotation = {
        "type": "url_citation",
        "url": "https://example.com/",
        "title": "Example",
        "start_index": 0,
        "end_index": 3,
    }
    assert hasattr(_message_events(annotation)[3].data.annotation, "model_dump")

    async def run(result: Any) -> list[Any]:
        return [e async for e in stream_agent_response(_context(_Store()), result)]

    with pytest.raises(Exception):  # noqa: B017 - whatever chatkit raises on the parsed class
        asyncio.run(run(_Events(_message_events(annotation))))
    events = asyncio.run(run(ConverterInput(_Events(_message_events(annotation)))))
    added = [
        e
        for e in events
        if getattr(getattr(e, "update", None), "type", "")
        == "assistant_message.content_part.annotation_added"
    ]
    assert added and added[0].update.annotation.source.url == "https://example.com/"


# -- openai-agents ----------------------------------------------------------------------


def test_chat_completions_messages_stream_under_the_placeholder_id(monkeypatch):
    monkeypatch.setenv("FAKE_LLM_KEY", "sk-local-test")

    async def first_message_id(base_url: str) -> str:
        provider = ProviderDefinition(type="chat_completions", base_url=base_url, api_key_env="FAKE_LLM_KEY")
        model = build_model(provider, "llama3.2", Settings())
        stream = model.stream_response(
            None,
            "hello",
            ModelSettings(),
            [],
            None,
            [],
            ModelTracing.DISABLED,
            previous_response_id=None,
            conversation_id=None,
            prompt=None,
        )
        async for event in stream:
            if event.type == "response.output_item.added" and event.item.type == "message":
                return event.item.id
        raise AssertionError("no message streamed")

    with fake_llm() as llm:
        assert asyncio.run(first_message_id(llm.base_url)) == compat_agents.FAKE_RESPONSES_ID


# -- SQLAlchemy -------------------------------------------------------------------------


def test_asyncpg_connect_args_open_a_connection(tmp_path):
    import asyncpg

    with fresh_database("postgres", tmp_path / "unused.db", "chatkitd_compat") as url:
        sqlalchemy_url = make_url(url + "?prepared_statement_cache_size=0")
        dialect = create_async_engine(sqlalchemy_url).dialect
        args, kwargs = asyncpg_connect_args(sqlalchemy_url, dialect)

        async def connect() -> int:
            connection = await asyncpg.connect(*args, **kwargs)
            try:
                return await connection.fetchval("select 41 + 1")
            finally:
                await connection.close()

        assert asyncio.run(connect()) == 42


def test_uvicorn_protocol_has_what_the_guards_override():
    # Behaviour is tested end to end in tests/test_connections.py; this names what broke.
    from uvicorn.protocols.http import httptools_impl
    from uvicorn.protocols.http.flow_control import FlowControl, service_unavailable

    protocol = httptools_impl.HttpToolsProtocol
    for name in (
        "on_message_begin",
        "on_headers_complete",
        "on_body",
        "on_message_complete",
        "on_response_complete",
        "pause_writing",
        "resume_writing",
        "_start_asgi_task",
    ):
        assert callable(getattr(protocol, name, None)), name
    assert list(inspect.signature(protocol._start_asgi_task).parameters) == ["self", "cycle", "app"]
    assert vars(httptools_impl)["service_unavailable"] is service_unavailable
    assert "service_unavailable" in inspect.getsource(protocol.on_headers_complete)
    assert "read_paused" in inspect.getsource(FlowControl.__init__)
    made = inspect.getsource(protocol.connection_made)
    assert "self.connections.add(self)" in made and "self.connections = " in inspect.getsource(
        protocol.__init__
    )
    cycle = inspect.getsource(httptools_impl.RequestResponseCycle.__init__)
    assert "self.response_complete = False" in cycle and "self.more_body = True" in cycle
    assert "self.cycle.more_body = False" in inspect.getsource(protocol.on_message_complete)

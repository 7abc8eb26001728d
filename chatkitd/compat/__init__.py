"""Every reach into another library's private internals, in one place.

chatkitd pins its dependencies (``pyproject.toml``), and a few of its fixes and
speed-ups lean on what those libraries do inside: a private method or
attribute, a module their docs do not cover, or behaviour they do not promise.
Each such reliance lives in this package, one module per library, and nowhere
else: the rest of chatkitd calls the functions and classes here and never names
another library's private member itself (``tests/test_compat.py`` scans the
package for such names and fails on one outside ``chatkitd.compat``).

Every reliance is a row of ``REACHES``, naming the test that fails when an
upgrade breaks it; a row whose test does not exist fails the suite. To add a
reach: write it in the module of its library (a new module for a new library),
add its row here, and write its test (usually in ``tests/test_compat.py``).
When you upgrade a pinned library, those tests are the ones to read first.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Reach:
    library: str  # the distribution, as pinned in pyproject.toml
    relies_on: str  # the private member or unpromised behaviour
    used_by: str  # what in chatkitd.compat wraps it
    test: str  # "tests/<file>.py::<test function>", which fails when the reliance breaks


REACHES: tuple[Reach, ...] = (
    Reach(
        "aiosqlite",
        "Connection._execute (every call goes through it), ._running, ._connection, ._thread",
        "chatkitd.compat.aiosqlite.InlineConnection, open_inline",
        "tests/test_compat.py::test_aiosqlite_calls_run_inline_unless_sent_to_the_worker",
    ),
    Reach(
        "aiosqlite",
        "Connection._conn, the sqlite3 connection underneath",
        "chatkitd.compat.aiosqlite.sqlite3_connection",
        "tests/test_compat.py::test_aiosqlite_exposes_its_sqlite3_connection",
    ),
    Reach(
        "openai-chatkit",
        "ChatKitServer._process_streaming / _process_non_streaming (process() parses, then calls them)",
        "chatkitd.compat.chatkit.dispatch_streaming, dispatch_non_streaming",
        "tests/test_compat.py::test_chatkit_server_dispatches_through_its_two_private_methods",
    ),
    Reach(
        "openai-chatkit",
        "ChatKitServer._serialize: every streamed event and JSON answer becomes bytes there",
        "chatkitd.compat.chatkit.OutgoingServer",
        "tests/test_compat.py::test_every_outgoing_object_passes_through_serialize",
    ),
    Reach(
        "openai-chatkit",
        "AgentContext._events: the side queue stream_agent_response reads, declared with an instance default",
        "chatkitd.compat.chatkit.AgentContextWithOwnQueue, wake_side_queue",
        "tests/test_compat.py::test_agent_context_side_queue",
    ),
    Reach(
        "openai-chatkit",
        "stream_agent_response first reads the thread's last two items, newest first",
        "chatkitd.compat.chatkit.Preloaded",
        "tests/test_compat.py::test_stream_agent_response_first_looks_at_the_last_two_items",
    ),
    Reach(
        "openai-chatkit",
        "stream_agent_response continues a task group it finds in that first look, and ages it "
        "with a naive datetime.now()",
        "chatkitd.compat.chatkit.Preloaded",
        "tests/test_agent_workflows.py::test_a_task_group_left_open_by_a_client_tool_is_finished_when_the_run_resumes",
    ),
    Reach(
        "openai-chatkit",
        "stream_agent_response calls only stream_events() on the run result, and acts on a known set "
        "of raw event types",
        "chatkitd.compat.chatkit.ConverterInput",
        "tests/test_compat.py::test_the_converter_acts_on_exactly_the_events_passed_to_it",
    ),
    Reach(
        "openai-chatkit",
        "its converter rejects openai 3.x's parsed annotation classes, and accepts them as dicts",
        "chatkitd.compat.chatkit.ConverterInput",
        "tests/test_compat.py::test_url_annotations_reach_the_client_as_dicts",
    ),
    Reach(
        "openai-agents",
        "agents.models.fake_id.FAKE_RESPONSES_ID, the placeholder id of Chat Completions messages",
        "chatkitd.compat.agents.ItemIds",
        "tests/test_compat.py::test_chat_completions_messages_stream_under_the_placeholder_id",
    ),
    Reach(
        "openai-agents",
        "agents.run.AgentRunner and set_default_agent_runner (experimental): Runner.run goes through them",
        "chatkitd.compat.agents.install_runner_hook",
        "tests/test_export_workflows.py::test_the_runner_hook_serves_runner_run_and_leaves_other_calls",
    ),
    Reach(
        "uvicorn",
        "HttpToolsProtocol's parser callbacks (on_message_begin, on_headers_complete, on_body, "
        "on_message_complete), on_response_complete, pause_writing/resume_writing, .flow.read_paused, "
        ".cycle (its response_complete and more_body), .connections (the server's set), .transport, "
        ".loop, and _start_asgi_task(cycle, app) given flow_control.service_unavailable beyond "
        "limit_concurrency",
        "chatkitd.compat.uvicorn.guarded_protocol",
        "tests/test_compat.py::test_uvicorn_protocol_has_what_the_guards_override",
    ),
    Reach(
        "sqlalchemy",
        "the asyncpg dialect's connect arguments, minus the options only SQLAlchemy reads",
        "chatkitd.compat.sqlalchemy.asyncpg_connect_args",
        "tests/test_compat.py::test_asyncpg_connect_args_open_a_connection",
    ),
)

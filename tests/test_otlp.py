"""OTLP export: only when an endpoint is set, and then each run's spans reach it, parents kept."""

from __future__ import annotations

import contextlib
import threading
import time
from pathlib import Path

import uvicorn
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.conftest import ADMIN_KEY
from tests.support.chat import Chat, new_session
from tests.support.harness import deploy_yaml
from tests.support.servers import free_port, start_server

SCRIPTED = (Path(__file__).parent / "workflows_data" / "scripted.yaml").read_text()


@contextlib.contextmanager
def collector():
    received: list[ExportTraceServiceRequest] = []

    async def traces(request: Request) -> Response:
        message = ExportTraceServiceRequest()
        message.ParseFromString(await request.body())
        received.append(message)
        return Response(b"", media_type="application/x-protobuf")

    port = free_port()
    app = Starlette(routes=[Route("/v1/traces", traces, methods=["POST"])])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}/v1/traces", received
    finally:
        server.should_exit = True
        thread.join(10)


def test_runs_are_exported_to_the_configured_collector(tmp_path, user):
    with collector() as (endpoint, received):
        database_url = f"sqlite+aiosqlite:///{tmp_path / 'chatkitd.db'}"
        with start_server(database_url, tmp_path / "data", ADMIN_KEY, otlp_endpoint=endpoint) as server:
            server.run(deploy_yaml(server.platform, SCRIPTED))
            with server.sdk(ADMIN_KEY) as sdk:
                session = new_session(sdk, user, workflow={"id": "scripted-support"})
            with Chat(server, session.client_secret) as chat:
                chat.create("what is the weather?")
            deadline = time.monotonic() + 15
            while not received and time.monotonic() < deadline:
                time.sleep(0.05)
    [request] = received
    spans = [span for rs in request.resource_spans for ss in rs.scope_spans for span in ss.spans]
    by_name = {span.name: span for span in spans}
    agent = by_name["agent Scripted support"]
    tool = by_name["function current_time"]
    generations = [s for s in spans if s.name == "generation script-a"]
    assert len(generations) == 2
    assert all(span.trace_id == agent.trace_id for span in spans)
    turn_ids = {s.span_id for s in spans if s.name == "custom turn"}
    assert tool.parent_span_id in turn_ids and all(g.parent_span_id in turn_ids for g in generations)
    assert by_name["custom turn"].parent_span_id == agent.span_id
    # Every span hangs under the run's own root span.
    [root] = [s for s in spans if not s.parent_span_id]
    assert root.name == "custom run" and by_name["custom task"].parent_span_id == root.span_id
    usage = {a.key: a.value.int_value for a in generations[0].attributes if a.key.startswith("gen_ai.usage")}
    assert usage["gen_ai.usage.output_tokens"] > 0


def test_an_endpoint_without_the_otlp_extra_is_a_one_line_error(tmp_path):
    """Set CHATKITD_OTLP_ENDPOINT without the extra: serve refuses to start and says how to install it."""
    import os
    import subprocess
    import sys

    hide_extra = (
        "import sys; sys.modules['opentelemetry.exporter.otlp.proto.http.trace_exporter'] = None; "
        "from chatkitd.cli import main; main(['serve', '--port', sys.argv[1]])"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHATKITD_")}
    env.update(CHATKITD_DATA_DIR=str(tmp_path), CHATKITD_OTLP_ENDPOINT="http://127.0.0.1:4318/v1/traces")
    result = subprocess.run(
        [sys.executable, "-c", hide_extra, str(free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("Error: CHATKITD_OTLP_ENDPOINT is set, but the `otlp` extra is not installed")
    assert "pip install -e '.[otlp]'" in last and "Traceback" not in result.stderr

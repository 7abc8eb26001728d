"""What chatkitd adds to an agent run, over the model's own time.

    .venv/bin/python bench/agent.py [--runs 30] [--tokens 400]

Both sides drive the same offline ``ScriptedModel`` (one word per delta) in
the same process and run:

- baseline: ``Runner.run_streamed`` on an ``Agent`` with that model, reading
  ``stream_events()`` directly (the model's own time plus the SDK's runner);
- chatkit ref.: the same run through ``chatkit.agents.stream_agent_response``
  with an in-memory store, as chatkit's docs integrate an agent (attributes
  the converter's own share);
- chatkitd: a deployed YAML workflow on that model, through
  ``AgentWorkflow.respond`` on a SQLite store: history load, agent build,
  the same run, chatkit's ``stream_agent_response`` conversion into ChatKit
  events, and (second figure) trace recording into the database.

Per run start: time from the call to the first text delta. Per token: from
the first delta to the last, per delta. Run end: from the last delta until
the stream closes (where a traced run writes its trace). Medians over ``--runs``,
the two sides interleaved. Targets (issue 4): <= 1 ms added per run start,
<= 50 µs added per token.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parents[1]))  # for tests.support.seed

from agents import Agent, RunConfig, Runner
from chatkit.agents import AgentContext, stream_agent_response
from chatkit.store import Store
from chatkit.types import Page, ThreadMetadata

from chatkitd.context import RequestContext
from chatkitd.models.scripted import ScriptedModel
from chatkitd.platform import Platform
from chatkitd.rest.sessions import SessionCreateBody, create_session
from chatkitd.settings import Settings
from chatkitd.store.keys import ensure_project
from chatkitd.workflows.definitions import Deployable
from tests.support.seed import make_thread, user_message

HISTORY_READS: list[float] = []

WORKFLOW = """
id: bench
provider:
  type: scripted
  script:
    - steps: [{{text: "{text}"}}]
"""


Sample = tuple[float, float, float, int]  # run start, per token, run end, tokens


def script_text(tokens: int) -> str:
    return " ".join(f"word{i}" for i in range(tokens))


async def timed(events: AsyncIterator[Any], is_token: Callable[[Any], bool], start: float) -> Sample:
    """The sample of a run begun at ``start`` whose tokens are the ``events`` that ``is_token``."""
    first, last, deltas = None, 0.0, 0
    async for event in events:
        if is_token(event):
            deltas += 1
            last = time.perf_counter()
            if first is None:
                first = last
    end = time.perf_counter()
    assert first is not None
    return first - start, (last - first) / (deltas - 1), end - last, deltas


def _is_model_delta(event: Any) -> bool:
    return event.type == "raw_response_event" and event.data.type == "response.output_text.delta"


def _is_chatkit_delta(event: Any) -> bool:
    update = getattr(event, "update", None)
    return getattr(update, "type", None) == "assistant_message.content_part.text_delta"


async def baseline_run(text: str) -> Sample:
    agent = Agent(name="bench", instructions="", model=ScriptedModel([{"steps": [{"text": text}]}]))
    start = time.perf_counter()
    result = Runner.run_streamed(agent, "hello", run_config=RunConfig(tracing_disabled=True))
    return await timed(result.stream_events(), _is_model_delta, start)


class _MemoryStore(Store[None]):
    """Just enough store for chatkit's converter (it reads the last items, saves nothing here)."""

    async def load_thread_items(self, thread_id, after, limit, order, context):  # noqa: ANN001, ANN201
        return Page(data=[], has_more=False)

    async def _unused(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError

    load_thread = save_thread = save_attachment = load_attachment = delete_attachment = _unused
    load_threads = add_thread_item = save_item = load_item = delete_thread = _unused
    delete_thread_item = _unused


async def reference_run(text: str) -> Sample:
    """The reference integration: chatkit's documented pattern, with an in-memory store."""
    agent = Agent(name="bench", instructions="", model=ScriptedModel([{"steps": [{"text": text}]}]))
    thread = ThreadMetadata(id="thr_bench", created_at=datetime.now())
    context: AgentContext[None] = AgentContext(thread=thread, store=_MemoryStore(), request_context=None)
    start = time.perf_counter()
    result = Runner.run_streamed(agent, "hello", context=context, run_config=RunConfig(tracing_disabled=True))
    return await timed(stream_agent_response(context, result), _is_chatkit_delta, start)


async def chatkitd_run(platform: Platform, context: RequestContext) -> Sample:
    store = platform.threads
    thread = await make_thread(store, context)
    item = user_message(store, thread, context, "hello")
    await store.add_thread_item(thread.id, item, context)
    workflow = await platform.workflows.load(context.project_id, "bench", None)
    # The history read on its own (the run does the same read again, timed with the run).
    read_start = time.perf_counter()
    await store.load_thread_items(thread.id, None, 200, "desc", context)
    HISTORY_READS.append(time.perf_counter() - read_start)
    start = time.perf_counter()
    return await timed(traced(platform, workflow, thread, item, context), _is_chatkit_delta, start)


async def traced(platform: Platform, workflow: Any, thread: Any, item: Any, context: RequestContext):  # noqa: ANN201
    """The run inside its trace, as the conversation runtime runs every workflow."""
    run = platform.tracer.open(context, thread.id, workflow.id, workflow.version, "respond", [item.id])
    context.run_trace = run
    try:
        async for event in workflow.respond(thread, item, context, platform.threads):
            yield event
    finally:
        await platform.tracer.close(run)


async def session(platform: Platform, project_id: str, tracing: bool) -> RequestContext:
    body = SessionCreateBody.model_validate(
        {"user": "bench", "workflow": {"id": "bench", "tracing": {"enabled": tracing}}}
    )
    record, _ = await create_session(platform.db, platform.workflows, project_id, body)
    return RequestContext.for_session(record)


def summary(samples: list[Sample]) -> tuple[float, float, float]:
    start, per_token, end = (statistics.median(s[i] for s in samples) for i in range(3))
    return start, per_token, end


async def main(runs: int, tokens: int) -> None:
    text = script_text(tokens)
    with tempfile.TemporaryDirectory() as tmp:
        platform = Platform(Settings(data_dir=Path(tmp)))
        await platform.start()
        project_id = await ensure_project(platform.db, "default")
        definition = WORKFLOW.format(text=text)
        await platform.workflows.deploy(
            project_id, Deployable(id="bench", name="bench", kind="yaml", definition=definition)
        )
        untraced = await session(platform, project_id, tracing=False)
        traced = await session(platform, project_id, tracing=True)
        results: dict[str, list[Any]] = {
            "baseline": [],
            "chatkit ref.": [],
            "chatkitd": [],
            "chatkitd+trace": [],
        }
        for i in range(runs + 3):
            gc.collect()
            samples = (
                await baseline_run(text),
                await reference_run(text),
                await chatkitd_run(platform, untraced),
                await chatkitd_run(platform, traced),
            )
            if i >= 3:  # warm-up runs are not counted
                for name, sample in zip(results, samples, strict=True):
                    assert sample[3] == tokens, (name, sample)
                    results[name].append(sample)
        await platform.stop()

    base_start, base_token, base_end = summary(results["baseline"])
    print(f"agent bench: {runs} runs of {tokens} streamed tokens, scripted model, SQLite store")
    print(
        f"{'':16}{'run start':>12}{'per token':>12}{'run end':>12}{'added start':>14}"
        f"{'added/token':>14}{'added end':>12}"
    )
    for name in results:
        start, per_token, end = summary(results[name])
        added = (
            ""
            if name == "baseline"
            else f"{(start - base_start) * 1e3:11.3f} ms{(per_token - base_token) * 1e6:11.1f} µs"
            f"{(end - base_end) * 1e3:9.3f} ms"
        )
        print(f"{name:16}{start * 1e3:9.3f} ms{per_token * 1e6:9.1f} µs{end * 1e3:9.3f} ms   {added}")
    start, per_token, _ = summary(results["chatkitd"])
    ok_start = (start - base_start) <= 1e-3
    ok_token = (per_token - base_token) <= 50e-6
    print(
        f"targets: added per run start <= 1 ms: {'met' if ok_start else 'MISSED'}; "
        f"added per token <= 50 µs: {'met' if ok_token else 'MISSED'}"
    )
    history = statistics.median(HISTORY_READS)
    print(
        f"of chatkitd's added run start, reading the thread's history from the store takes "
        f"{history * 1e3:.3f} ms; the rest, {(start - base_start - history) * 1e3:.3f} ms, "
        "is chatkitd's code and chatkit's converter"
    )
    print("run end: after the last token until the run's stream closes (with tracing: the trace's write)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--tokens", type=int, default=400)
    parser.add_argument(
        "--loop",
        choices=["uvloop", "asyncio"],
        default="uvloop",
        help="uvloop is what `chatkitd serve` runs on",
    )
    args = parser.parse_args()
    if args.loop == "uvloop":
        import uvloop

        uvloop.run(main(args.runs, args.tokens))
    else:
        asyncio.run(main(args.runs, args.tokens))

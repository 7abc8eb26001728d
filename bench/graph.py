"""What the graph runtime adds per node, over the scripted model alone.

    .venv/bin/python bench/graph.py [--runs 30]

A 20-node graph (start, 6 agent nodes, 5 transforms, 4 set_state, 3 if/else
and an end) runs one turn through ``GraphWorkflow.respond`` on a SQLite store:
history load, state load and save, CEL evaluation, node dispatch and spans.
Its six agents are internal (their output stays out of the chat), so both
sides do the same model work. The baseline, in the same process and
interleaved with it, runs the same six scripted agents with ``Runner.run_streamed``
directly and reads their events. Added per node = (graph turn - baseline) / 20,
medians over ``--runs``, untraced and traced; the three take turns at going first.
Each turn is timed in wall-clock time and in CPU time of this process (all its
threads: aiosqlite's too), the figure that stays readable on a loaded machine.
Target (issue 9): < 0.5 ms per node.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parents[1]))  # for tests.support.seed

from agents import Agent, RunConfig, Runner

from chatkitd.context import RequestContext
from chatkitd.models.scripted import ScriptedModel
from chatkitd.platform import Platform
from chatkitd.rest.sessions import SessionCreateBody, create_session
from chatkitd.settings import Settings
from chatkitd.store.keys import ensure_project
from chatkitd.workflows.definitions import Deployable
from tests.support.seed import make_thread, user_message

TEXT = "one two three four five"
AGENTS = 6
NODES = 20


def graph_yaml() -> str:
    """start, a1 t1 s1 i1, a2 t2 s2 i2, a3 t3 s3 i3, a4 t4 s4, a5 t5, a6, end: 20 nodes."""
    order = ["a1", "t1", "s1", "i1", "a2", "t2", "s2", "i2", "a3", "t3", "s3", "i3"]
    order += ["a4", "t4", "s4", "a5", "t5", "a6", "end"]
    lines = [
        "id: bench-graph",
        "model: script",
        f"provider: {{type: scripted, script: [{{steps: [{{text: '{TEXT}'}}]}}]}}",
        "nodes:",
        "  - {id: start, type: start, next: a1, state_variables: [{name: n, type: integer}]}",
    ]
    for index, node in enumerate(order[:-1]):
        after = order[index + 1]
        kind = node[0]
        if kind == "a":
            lines.append(
                f"  - {{id: {node}, type: agent, history: false, display: internal,"
                f" instructions: 'Step {{{{ string(state.n) }}}}', next: {after}}}"
            )
        elif kind == "t":
            lines.append(
                f"  - {{id: {node}, type: transform, expression: '{{\"n\": state.n}}', next: {after}}}"
            )
        elif kind == "s":
            lines.append(f"  - {{id: {node}, type: set_state, assign: {{n: 'state.n + 1'}}, next: {after}}}")
        else:
            lines.append(
                f"  - {{id: {node}, type: if_else, conditions: [{{when: 'state.n >= 0', next: {after}}}],"
                " else: end}"
            )
    lines.append("  - {id: end, type: end}")
    return "\n".join(lines) + "\n"


Timing = tuple[float, float]  # (wall-clock seconds, CPU seconds) of one turn


def _clocks() -> Timing:
    return time.perf_counter(), time.process_time()


def _since(start: Timing) -> Timing:
    wall, cpu = _clocks()
    return wall - start[0], cpu - start[1]


async def baseline_turn() -> Timing:
    start = _clocks()
    for _ in range(AGENTS):
        agent = Agent(name="bench", instructions="Step 0", model=ScriptedModel([{"steps": [{"text": TEXT}]}]))
        result = Runner.run_streamed(agent, "hello", run_config=RunConfig(tracing_disabled=True))
        async for _ in result.stream_events():
            pass
    return _since(start)


async def graph_turn(platform: Platform, context: RequestContext) -> Timing:
    store = platform.threads
    thread = await make_thread(store, context)
    item = user_message(store, thread, context, "hello")
    await store.add_thread_item(thread.id, item, context)
    workflow = await platform.workflows.load(context.project_id, "bench-graph", None)
    start = _clocks()
    async for _ in workflow.respond(thread, item, context, store):
        pass
    return _since(start)


async def session(platform: Platform, project_id: str, tracing: bool) -> RequestContext:
    body = SessionCreateBody.model_validate(
        {"user": "bench", "workflow": {"id": "bench-graph", "tracing": {"enabled": tracing}}}
    )
    record, _ = await create_session(platform.db, platform.workflows, project_id, body)
    return RequestContext.for_session(record)


async def main(runs: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        platform = Platform(Settings(data_dir=Path(tmp)))
        await platform.start()
        project_id = await ensure_project(platform.db, "default")
        await platform.workflows.deploy(
            project_id, Deployable(id="bench-graph", name="bench", kind="yaml", definition=graph_yaml())
        )
        untraced = await session(platform, project_id, tracing=False)
        traced = await session(platform, project_id, tracing=True)
        times: dict[str, list[Timing]] = {"baseline": [], "graph": [], "graph+trace": []}
        sides = {
            "baseline": baseline_turn,
            "graph": lambda: graph_turn(platform, untraced),
            "graph+trace": lambda: graph_turn(platform, traced),
        }
        names = list(sides)
        for i in range(runs + 3):
            gc.collect()
            # Whichever side runs first after a collection pays for it: they take turns at going first.
            order = names[i % 3 :] + names[: i % 3]
            turns = {name: await sides[name]() for name in order}
            if i >= 3:  # warm-up turns are not counted
                for name in names:
                    times[name].append(turns[name])
        await platform.stop()
    print(f"graph bench: {runs} turns of a {NODES}-node graph with {AGENTS} scripted agents, SQLite store")
    print(f"machine load (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    clocks: list[tuple[str, int]] = [("wall clock", 0), ("CPU", 1)]
    for clock, index in clocks:
        base = [t[index] for t in times["baseline"]]
        print(f"{clock:14}{'turn':>12}{'ratio':>10}{'added/node':>14}{'IQR':>22}")
        for name, measured in times.items():
            sample = [t[index] for t in measured]
            turn = statistics.median(sample)
            line = f"{name:14}{turn * 1e3:9.2f} ms{turn / statistics.median(base):9.2f}x"
            if name != "baseline":
                # Paired by round (the sides of a round ran back to back), so drift cancels.
                added = [(t - b) / NODES * 1e3 for t, b in zip(sample, base, strict=True)]
                low, _, high = statistics.quantiles(added, n=4)
                line += f"{statistics.median(added):11.3f} ms{low:10.3f} to {high:.3f} ms"
            print(line)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    asyncio.run(main(args.runs))

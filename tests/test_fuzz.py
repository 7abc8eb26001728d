"""Every route, fuzzed: thousands of generated and mutated requests, and never a 5xx.

``tests/support/fuzzing.py`` drives schemathesis over the served OpenAPI
document, completed with the conversation endpoint (every ``openai-chatkit``
request type) and every other route of the app, against ``chatkitd serve`` in
its own process and database. Meanwhile another client's requests must keep
being answered.

The suite's run is bounded (``CHATKITD_FUZZ_EXAMPLES`` requests per operation
and mode, default 8: about 1 400 generated requests, the conversation endpoint
getting ten times as many; then ``CHATKITD_FUZZ_MUTATIONS``, default 3 000,
mutated ones); ``make fuzz`` runs a longer one on SQLite and PostgreSQL. Broken
on purpose once (a ``KeyError`` for a bad ``order``, a ``RuntimeError`` in
``items.feedback``), it failed on each, on both kinds of request.
"""

from __future__ import annotations

import os
import re
import secrets
import typing

import httpx2
import pytest
from chatkit.types import ChatKitReq
from openai import OpenAI

from chatkitd.app import create_app
from chatkitd.settings import Settings
from tests.support import fuzzing
from tests.support.chat import Chat, new_session
from tests.support.mutations import Mutator
from tests.support.processes import serve_process
from tests.support.servers import TESTED_BACKENDS, fresh_database

EXAMPLES = int(os.environ.get("CHATKITD_FUZZ_EXAMPLES", "8"))
MUTATIONS = int(os.environ.get("CHATKITD_FUZZ_MUTATIONS", "3000"))
SEED = int(os.environ.get("CHATKITD_FUZZ_SEED", secrets.randbelow(2**32)))
BACKENDS = os.environ.get("CHATKITD_FUZZ_BACKENDS", "sqlite").split(",")
RATE = {"max_requests_per_1_minute": 1_000_000}
REQUEST_TYPES = [
    member.model_fields["type"].default
    for union in typing.get_args(ChatKitReq)[:1]
    for member in typing.get_args(union)
]


@pytest.fixture(params=[TESTED_BACKENDS[name] for name in BACKENDS])
def fuzzed_server(request, tmp_path):
    admin_key = "sk-fuzz-" + secrets.token_hex(8)
    with fresh_database(request.param, tmp_path / "fuzz.db", "chatkitd_fuzz") as url:
        data_dir = tmp_path / "data"
        data_dir.mkdir()
        with serve_process(url, data_dir, admin_key) as base_url:
            yield base_url, admin_key, data_dir


def real_objects(base_url: str, admin_key: str) -> tuple[dict[str, list[str]], str, str]:
    """Ids of real threads, items, attachments, files and stores, and two users' client secrets."""
    with OpenAI(base_url=f"{base_url}/v1", api_key=admin_key, max_retries=0) as sdk:
        upload = {"enabled": True, "max_files": 1000, "max_file_size": 1}
        fuzzed = new_session(
            sdk, "fuzz-user", rate_limits=RATE, chatkit_configuration={"file_upload": upload}
        )
        bystander = new_session(sdk, "bystander", rate_limits=RATE)
        file = sdk.files.create(file=("notes.txt", b"chatkitd fuzz notes"), purpose="assistants")
        store = sdk.vector_stores.create(name="fuzz", file_ids=[file.id])
    ids: dict[str, list[str]] = {
        "session": [fuzzed.id, bystander.id],
        "file": [file.id],
        "vector_store": [store.id],
        "workflow": ["demo"],
    }
    with Chat(type("S", (), {"base_url": base_url})(), fuzzed.client_secret) as chat:
        for text in ("show me a widget", "a question", "use the tool", "please lock this", "hello"):
            stream = chat.create(text)
            ids.setdefault("thread", []).append(stream.thread_id)
            ids.setdefault("item", []).extend(item["id"] for item in stream.done_items())
        attachment = chat.call("attachments.create", name="a.txt", size=3, mime_type="text/plain")
        ids["attachment"] = [attachment["id"]]
    traces = httpx2.get(
        f"{base_url}/v1/chatkit/traces", headers={"Authorization": f"Bearer {admin_key}"}
    ).json()
    ids["trace"] = [trace["id"] for trace in traces["data"]][:3]
    return ids, fuzzed.client_secret, bystander.client_secret


def test_no_request_to_any_route_is_a_server_error(fuzzed_server):
    base_url, admin_key, data_dir = fuzzed_server
    ids, secret, bystander = real_objects(base_url, admin_key)
    app = create_app(Settings(data_dir=data_dir / "routes"))
    routes = list(fuzzing.app_routes(app))
    doc = fuzzing.document(base_url, routes, ids)
    described = {(path, method) for path, item in doc["paths"].items() for method in item}
    assert set(routes) <= described, "a route the fuzzer does not reach"

    seeds = fuzzing.conversation_seeds(base_url, secret, ids)
    assert {seed.body["type"] for seed in seeds} == set(REQUEST_TYPES), "a request type with no seed"
    every_id = [value for values in ids.values() for value in values]
    mutator = Mutator(SEED, every_id, REQUEST_TYPES)

    prober = fuzzing.Prober(base_url, admin_key, bystander)
    with prober.running() as probe:
        generated = fuzzing.fuzz(
            doc, base_url, admin_key, secret, EXAMPLES, weights={fuzzing.CONVERSATION: 10}, seeds=seeds
        )
        mutated = fuzzing.hammer(seeds, mutator, MUTATIONS)

    report = (
        f"seed {SEED}: {generated.requests} generated requests over {len(generated.by_operation)} "
        f"operations, statuses {dict(sorted(generated.statuses.items()))}; {mutated.requests} mutated "
        f"requests over {len(mutated.by_operation)} operations, statuses "
        f"{dict(sorted(mutated.statuses.items()))} ({mutated.unsent} unsendable); probe answered "
        f"{probe.answered}, slowest {probe.slowest:.2f}s; "
        f"generation problems {len(generated.generation_errors)}"
    )
    print(report)
    errors = generated.server_errors + mutated.server_errors
    assert not errors, f"{report}\n\n" + "\n\n".join(errors)
    assert mutated.requests + mutated.unsent == MUTATIONS and mutated.unsent < MUTATIONS / 100, report
    # Every route was reached, schema-driven (a route with no answers was never fuzzed).
    assert {label.split(" ", 1)[1] for label in generated.by_operation} >= {path for path, _ in routes}
    assert not probe.failures, probe.failures[:10]
    assert probe.answered > 0
    # The server logged no traceback while it was fuzzed.
    logs = "".join(path.read_text(errors="replace") for path in data_dir.glob("serve-*.log"))
    assert not re.search(r"Traceback|Exception in ASGI", logs), logs[-3000:]

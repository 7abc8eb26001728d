"""Every response body, checked against the official schemas in ``chatkit-openapi.yaml``.

The document is a copy kept in ``tests/data`` (the suite needs nothing outside
the repository). OpenAPI 3.1 schemas are JSON Schema 2020-12, so each body is
validated with ``jsonschema`` against the operation's 200 schema, resolving
``#/components/schemas/...`` through a ``referencing`` registry. Error bodies
are checked against ``ErrorResponse``.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2
import jsonschema
import pytest
import yaml
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from tests.conftest import ADMIN_KEY
from tests.support import seed

SPEC_PATH = Path(__file__).parent / "data" / "chatkit-openapi.yaml"
KNOWLEDGE_PATH = Path(__file__).parent / "data" / "openai-knowledge.yaml"
SPEC_URI = "urn:chatkit-openapi"


@functools.cache
def spec() -> dict[str, Any]:
    document = yaml.safe_load(SPEC_PATH.read_text())
    # The one place the official document is stricter than it means: state
    # variable values are `oneOf: [string, integer, boolean, number]`, and an
    # integer matches both `integer` and `number`, which `oneOf` forbids. The
    # intent is a union, so validate it as `anyOf`.
    variables = document["components"]["schemas"]["ChatkitWorkflow"]["properties"]["state_variables"][
        "anyOf"
    ][0]["additionalProperties"]
    variables["anyOf"] = variables.pop("oneOf")
    return document


@functools.cache
def registry() -> Registry:
    return Registry().with_resource(SPEC_URI, DRAFT202012.create_resource(spec()))


def validate(body: Any, schema_ref: str) -> None:
    schema = {"$ref": f"{SPEC_URI}{schema_ref}"}
    validator = jsonschema.Draft202012Validator(schema, registry=registry())
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


def operation_schema(path: str, method: str) -> str:
    """The ``$ref`` of the 200 response of ``method path`` (path as in the spec)."""
    response = spec()["paths"][path][method]["responses"]["200"]
    return "#" + response["content"]["application/json"]["schema"]["$ref"].removeprefix("#")


@pytest.fixture
def http(server) -> Iterator[httpx2.Client]:
    with httpx2.Client(
        base_url=f"{server.base_url}/v1",
        headers={"Authorization": f"Bearer {ADMIN_KEY}", "OpenAI-Beta": "chatkit_beta=v1"},
        timeout=30,
    ) as client:
        yield client


def ok(response: httpx2.Response, path: str, method: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    body = response.json()
    validate(body, operation_schema(path, method))
    return body


def test_the_copy_in_tests_matches_the_served_document():
    served = Path(__file__).parents[1] / "chatkitd" / "http" / "openapi" / "chatkit-openapi.yaml"
    assert served.read_text() == SPEC_PATH.read_text()
    served = Path(__file__).parents[1] / "chatkitd" / "http" / "openapi" / "openai-knowledge.yaml"
    assert served.read_text() == KNOWLEDGE_PATH.read_text()


def test_session_bodies_match_chat_session_resource(http):
    full = {
        "user": "schema_user",
        "workflow": {
            "id": "demo",
            "version": "1",
            "state_variables": {"s": "x", "i": 3, "b": True, "f": 1.5},
            "tracing": {"enabled": False},
        },
        "chatkit_configuration": {
            "automatic_thread_titling": {"enabled": False},
            "file_upload": {"enabled": True, "max_file_size": 8, "max_files": 2},
            "history": {"enabled": True, "recent_threads": 5},
        },
        "expires_after": {"anchor": "created_at", "seconds": 60},
        "rate_limits": {"max_requests_per_1_minute": 20},
    }
    for request in ({"user": "schema_user", "workflow": {"id": "demo"}}, full):
        created = ok(http.post("/chatkit/sessions", json=request), "/chatkit/sessions", "post")
        cancel_path = "/chatkit/sessions/{session_id}/cancel"
        cancelled = ok(http.post(f"/chatkit/sessions/{created['id']}/cancel"), cancel_path, "post")
        assert cancelled["status"] == "cancelled"


def test_thread_and_item_bodies_match_their_schemas(server, http, user):
    store = server.platform.threads

    async def make():
        context = await seed.project_context(store, "default", user)
        thread = await seed.make_thread(store, context, title="schemas")
        await seed.add_items(
            store,
            thread,
            context,
            [
                seed.user_message(store, thread, context, "q", quoted_text="quote", tag="@t"),
                seed.assistant_message(store, thread, context, "a", annotated=True),
                seed.widget(store, thread, context),
                seed.client_tool_call(store, thread, context),
                seed.client_tool_call(store, thread, context, output=[1, "two"]),
                seed.task(store, thread, context),
                seed.workflow(store, thread, context),
                *seed.hidden_items(store, thread, context),
            ],
        )
        from chatkit.types import LockedStatus

        locked = await seed.make_thread(store, context, status=LockedStatus(reason="r"))
        return thread.id, locked.id

    thread_id, locked_id = server.run(make())

    listed = ok(http.get("/chatkit/threads", params={"user": user}), "/chatkit/threads", "get")
    assert [t["id"] for t in listed["data"]] == [locked_id, thread_id]
    empty = ok(http.get("/chatkit/threads", params={"limit": 0}), "/chatkit/threads", "get")
    assert empty["data"] == []

    for tid in (thread_id, locked_id):
        ok(http.get(f"/chatkit/threads/{tid}"), "/chatkit/threads/{thread_id}", "get")

    items_path = "/chatkit/threads/{thread_id}/items"
    items = ok(http.get(f"/chatkit/threads/{thread_id}/items", params={"limit": 100}), items_path, "get")
    assert len(items["data"]) == 7
    # Each item also matches the ThreadItem union on its own.
    for item in items["data"]:
        validate(item, "#/components/schemas/ThreadItem")

    deleted = ok(http.delete(f"/chatkit/threads/{thread_id}"), "/chatkit/threads/{thread_id}", "delete")
    assert deleted == {"id": thread_id, "object": "chatkit.thread.deleted", "deleted": True}


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("POST", "/chatkit/sessions", {"content": b"{"}, 400),
        ("POST", "/chatkit/sessions", {"json": {"user": "", "workflow": {"id": "demo"}}}, 400),
        ("POST", "/chatkit/sessions", {"json": {"user": "u", "workflow": {"id": "nope"}}}, 404),
        ("POST", "/chatkit/sessions/cksess_missing/cancel", {}, 404),
        ("GET", "/chatkit/threads", {"params": {"limit": 101}}, 400),
        ("GET", "/chatkit/threads", {"params": {"after": "cthr_missing"}}, 400),
        ("GET", "/chatkit/threads/cthr_missing", {}, 404),
        ("DELETE", "/chatkit/threads/cthr_missing", {}, 404),
        ("GET", "/chatkit/threads/cthr_missing/items", {}, 404),
        ("PUT", "/chatkit/threads", {}, 405),
        ("GET", "/nowhere", {}, 404),
        ("POST", "/chatkit/sessions", {"content": b" " * (16 * 1024 * 1024 + 1)}, 413),
        ("GET", "/chatkit/threads", {"headers": {"Authorization": "Bearer nope"}}, 401),
    ],
)
def test_error_bodies_match_error_response(http, method, path, kwargs, status):
    response = http.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    validate(response.json(), "#/components/schemas/ErrorResponse")


def test_openapi_document_is_served(server, http):
    response = http.get("/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"].startswith("3.1")
    assert document["servers"] == [{"url": f"{server.base_url}/v1"}]
    knowledge = yaml.safe_load(KNOWLEDGE_PATH.read_text())
    assert set(document["paths"]) == set(spec()["paths"]) | set(knowledge["paths"])
    original = json.loads(json.dumps(yaml.safe_load(SPEC_PATH.read_text()), default=str))
    for name, schema in original["components"]["schemas"].items():
        assert document["components"]["schemas"][name] == schema
    for name, schema in knowledge["components"]["schemas"].items():
        assert document["components"]["schemas"][name] == schema
    # The served document is the official one: it describes the same responses.
    for source in (original, knowledge):
        for path, operations in source["paths"].items():
            for method, operation in operations.items():
                assert document["paths"][path][method]["responses"] == operation["responses"]

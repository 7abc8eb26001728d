"""Every Files and Vector stores response body, checked against OpenAI's own OpenAPI schemas.

``tests/data/openai-knowledge.yaml`` holds OpenAI's paths and schemas for these
endpoints, copied unchanged (its header names the commit). Each body is
validated against its operation's 200 schema with ``jsonschema``; errors
against ``ErrorResponse``.
"""

from __future__ import annotations

import functools
import io
import time
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

SPEC_PATH = Path(__file__).parents[1] / "data" / "openai-knowledge.yaml"
URI = "urn:openai-knowledge"


@functools.cache
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text())


def validate(body: Any, ref: str) -> None:
    registry = Registry().with_resource(URI, DRAFT202012.create_resource(spec()))
    validator = jsonschema.Draft202012Validator({"$ref": f"{URI}{ref}"}, registry=registry)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


def ok(response: httpx2.Response, path: str, method: str) -> Any:
    assert response.status_code == 200, response.text
    body = response.json()
    schema = spec()["paths"][path][method]["responses"]["200"]["content"]["application/json"]["schema"]
    if "$ref" in schema:
        validate(body, "#" + schema["$ref"].removeprefix("#"))
    else:
        jsonschema.Draft202012Validator(schema).validate(body)
    return body


@pytest.fixture
def http(server) -> Iterator[httpx2.Client]:
    with httpx2.Client(
        base_url=f"{server.base_url}/v1", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=30
    ) as client:
        yield client


def wait_processed(http: httpx2.Client, store_id: str, file_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        body = http.get(f"/vector_stores/{store_id}/files/{file_id}").json()
        if body["status"] != "in_progress" or time.monotonic() > deadline:
            return body
        time.sleep(0.05)


def test_every_operation_answers_its_schema(http):
    created = ok(
        http.post(
            "/files", files={"file": ("kb.txt", io.BytesIO(b"Whales sing."))}, data={"purpose": "assistants"}
        ),
        "/files",
        "post",
    )
    broken = http.post(
        "/files",
        files={"file": ("bad.pdf", io.BytesIO(b"%PDF-1.4 nonsense"))},
        data={"purpose": "assistants"},
    ).json()
    ok(http.get("/files"), "/files", "get")
    ok(http.get(f"/files/{created['id']}"), "/files/{file_id}", "get")
    store = ok(
        http.post(
            "/vector_stores",
            json={
                "name": "schemas",
                "metadata": {"a": "b"},
                "expires_after": {"anchor": "last_active_at", "days": 3},
            },
        ),
        "/vector_stores",
        "post",
    )
    base = f"/vector_stores/{store['id']}"
    ok(http.get("/vector_stores"), "/vector_stores", "get")
    ok(http.get(base), "/vector_stores/{vector_store_id}", "get")
    ok(http.post(base, json={"name": "renamed"}), "/vector_stores/{vector_store_id}", "post")
    attached = ok(
        http.post(
            f"{base}/files", json={"file_id": created["id"], "attributes": {"n": 1, "b": True, "s": "x"}}
        ),
        "/vector_stores/{vector_store_id}/files",
        "post",
    )
    assert attached["status"] == "in_progress"
    failed_batch = ok(
        http.post(f"{base}/file_batches", json={"file_ids": [broken["id"]]}),
        "/vector_stores/{vector_store_id}/file_batches",
        "post",
    )
    validate(wait_processed(http, store["id"], created["id"]), "#/components/schemas/VectorStoreFileObject")
    failed = wait_processed(http, store["id"], broken["id"])
    assert failed["status"] == "failed"
    validate(failed, "#/components/schemas/VectorStoreFileObject")
    ok(http.get(f"{base}/files"), "/vector_stores/{vector_store_id}/files", "get")
    file_path = "/vector_stores/{vector_store_id}/files/{file_id}"
    ok(http.get(f"{base}/files/{created['id']}"), file_path, "get")
    ok(http.post(f"{base}/files/{created['id']}", json={"attributes": {"k": "v"}}), file_path, "post")
    ok(http.get(f"{base}/files/{created['id']}/content"), file_path + "/content", "get")
    batch_path = "/vector_stores/{vector_store_id}/file_batches/{batch_id}"
    ok(http.get(f"{base}/file_batches/{failed_batch['id']}"), batch_path, "get")
    ok(http.get(f"{base}/file_batches/{failed_batch['id']}/files"), batch_path + "/files", "get")
    ok(http.post(f"{base}/file_batches/{failed_batch['id']}/cancel"), batch_path + "/cancel", "post")
    found = ok(
        http.post(f"{base}/search", json={"query": "whales", "max_num_results": 5}),
        "/vector_stores/{vector_store_id}/search",
        "post",
    )
    assert found["data"] and found["search_query"] == ["whales"]
    ok(http.delete(f"{base}/files/{created['id']}"), file_path, "delete")
    ok(http.delete(base), "/vector_stores/{vector_store_id}", "delete")
    ok(http.delete(f"/files/{created['id']}"), "/files/{file_id}", "delete")


@pytest.mark.parametrize(
    ("method", "path", "kwargs", "status"),
    [
        ("GET", "/files/file-missing", {}, 404),
        ("POST", "/files", {"data": {"purpose": "assistants"}}, 400),
        ("POST", "/vector_stores", {"content": b"{"}, 400),
        ("POST", "/vector_stores", {"json": {"nonsense": 1}}, 400),
        ("GET", "/vector_stores/vs_missing", {}, 404),
        ("POST", "/vector_stores/vs_missing/search", {"json": {"query": "x"}}, 404),
        ("PUT", "/vector_stores", {}, 405),
        ("GET", "/vector_stores", {"headers": {"Authorization": "Bearer nope"}}, 401),
    ],
)
def test_error_bodies_match_error_response(http, method, path, kwargs, status):
    response = http.request(method, path, **kwargs)
    assert response.status_code == status, response.text
    validate(response.json(), "#/components/schemas/ErrorResponse")

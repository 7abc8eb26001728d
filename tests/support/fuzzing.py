"""Fuzzing every route of a running chatkitd with schemathesis and Hypothesis.

The schema is what the server serves at ``/v1/openapi.json`` (the ChatKit REST
API, files and vector stores), plus two kinds of operation it does not list:

- ``POST /v1/chatkit/conversation``, whose body is ``openai-chatkit``'s own
  request union (``ChatKitReq``): every conversation request type, from its
  pydantic schema;
- every other route of the app (traces, admin, uploads, sources, pages...),
  found in the app's route table, with any JSON body and the query
  parameters chatkitd's routes read, so a route added tomorrow is fuzzed too.

Each operation is driven in schemathesis' positive mode (bodies that fit the
schema) and negative mode (bodies mutated to break it). Ids in paths and
bodies are drawn from real objects made before the run as often as from
random strings, so requests get past "not found" into the code behind it.

While the fuzzer runs, a prober asks ``/healthz``, a REST list and a
conversation list of another user four times a second: the server must keep
answering them.
"""

from __future__ import annotations

import copy
import json
import threading
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx2
import requests
import schemathesis
from chatkit.types import ChatKitReq
from hypothesis import HealthCheck, Phase, given, settings
from pydantic import TypeAdapter
from pydantic.json_schema import PydanticJsonSchemaWarning
from schemathesis.core import NotSet
from schemathesis.core.result import Err
from schemathesis.generation import GenerationMode

from tests.support.mutations import Mutator, Request

CONVERSATION = "/v1/chatkit/conversation"
# Routes a session's client secret opens; every other route takes the admin key (or none).
CLIENT_SECRET_ROUTES = ("/v1/chatkit/conversation", "/v1/chatkit/files", "/v1/chatkit/sources")
# Query parameters chatkitd's routes read, offered to the routes the document does not describe.
QUERY_NAMES = ("limit", "after", "before", "order", "user", "thread_id", "workflow_id", "version")
ID_NAMES = {
    "thread_id": "thread",
    "item_id": "item",
    "item_ids": "item",
    "attachment_id": "attachment",
    "file_id": "file",
    "session_id": "session",
    "vector_store_id": "vector_store",
    "batch_id": "batch",
    "trace_id": "trace",
    "workflow_id": "workflow",
}


@dataclass
class Findings:
    """What the server answered, and every answer that was a server error."""

    requests: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    by_operation: Counter[str] = field(default_factory=Counter)
    server_errors: list[str] = field(default_factory=list)
    # Operations the fuzzer itself failed on (Hypothesis refusing a strategy): reported, not the server's.
    generation_errors: list[str] = field(default_factory=list)
    answers: Counter[tuple[str, int]] = field(default_factory=Counter)
    unsent: int = 0  # mutations no HTTP client can send (a lone surrogate in a URL, ...)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, label: str, status: int, detail: str) -> None:
        with self.lock:
            self.requests += 1
            self.statuses[status] += 1
            self.by_operation[label] += 1
            self.answers[(label, status)] += 1
            if status >= 500 and len(self.server_errors) < 50:
                self.server_errors.append(f"{label} -> {status}\n{detail}")


@dataclass
class Probe:
    """Other clients' requests during the run: each must answer, and soon."""

    answered: int = 0
    failures: list[str] = field(default_factory=list)
    slowest: float = 0.0


def conversation_operation(ids: dict[str, list[str]]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The conversation endpoint as an OpenAPI operation, and the schemas it refers to."""
    with warnings.catch_warnings():
        # chatkit's generic Action has a TypeVar default, which no JSON schema can state.
        warnings.simplefilter("ignore", PydanticJsonSchemaWarning)
        schema = TypeAdapter(ChatKitReq).json_schema(ref_template="#/components/schemas/{model}")
    components = schema.pop("$defs", {})
    for definition in components.values():
        _offer_real_ids(definition, ids)
    _offer_real_ids(schema, ids)
    operation = {
        "operationId": "conversation",
        "security": [{"ClientSecret": []}],
        "requestBody": {"required": True, "content": {"application/json": {"schema": schema}}},
        "responses": {"200": {"description": "JSON, or server-sent events"}},
    }
    return operation, components


def generic_operation(path: str, method: str) -> dict[str, Any]:
    """An operation for a route the document does not describe: its path ids, common queries, any body."""
    names = [part[1:-1] for part in path.split("/") if part.startswith("{")]
    parameters = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}} for name in names
    ]
    if method == "get":
        parameters += [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
            for name in QUERY_NAMES
        ]
    operation: dict[str, Any] = {
        "operationId": f"{method}_{path}",
        "parameters": parameters,
        "responses": {"200": {"description": "any"}},
    }
    if method in ("post", "delete"):
        operation["requestBody"] = {"required": False, "content": {"application/json": {"schema": {}}}}
    return operation


def document(base_url: str, routes: list[tuple[str, str]], ids: dict[str, list[str]]) -> dict[str, Any]:
    """The served OpenAPI document, completed with every route it leaves out, ids offered."""
    served = httpx2.get(f"{base_url}/v1/openapi.json", timeout=30).json()
    doc = copy.deepcopy(served)
    doc["servers"] = [{"url": base_url}]
    schemes = doc.setdefault("components", {}).setdefault("securitySchemes", {})
    schemes["ClientSecret"] = {"type": "http", "scheme": "bearer"}
    paths = doc.setdefault("paths", {})
    for path, method in routes:
        if method in paths.get(path, {}):
            continue
        if path == CONVERSATION:
            operation, components = conversation_operation(ids)
            doc["components"].setdefault("schemas", {}).update(components)
        else:
            operation = generic_operation(path, method)
        paths.setdefault(path, {})[method] = operation
    for item in paths.values():
        for operation in item.values():
            if isinstance(operation, dict):
                for parameter in operation.get("parameters", []):
                    if "schema" in parameter and parameter.get("name") in ID_NAMES:
                        parameter["schema"] = _with_real(parameter["schema"], ids, parameter["name"])
    return doc


def _with_real(schema: dict[str, Any], ids: dict[str, list[str]], name: str) -> dict[str, Any]:
    real = ids.get(ID_NAMES[name], [])
    return {"anyOf": [{"enum": real}, schema]} if real else schema


def _offer_real_ids(schema: Any, ids: dict[str, list[str]]) -> None:
    """In place: string properties named like ids also take the real ids made for the run."""
    if isinstance(schema, dict):
        for name, prop in list(schema.get("properties", {}).items()):
            if name in ID_NAMES and isinstance(prop, dict):
                if prop.get("type") == "string":
                    schema["properties"][name] = _with_real(prop, ids, name)
                elif prop.get("type") == "array" and prop.get("items", {}).get("type") == "string":
                    prop["items"] = _with_real(prop["items"], ids, name)
        for value in schema.values():
            _offer_real_ids(value, ids)
    elif isinstance(schema, list):
        for value in schema:
            _offer_real_ids(value, ids)


def headers_for(path: str, admin_key: str, client_secret: str) -> dict[str, str]:
    secret = client_secret if path.startswith(CLIENT_SECRET_ROUTES) else admin_key
    return {"Authorization": f"Bearer {secret}"}


def fuzz(
    doc: dict[str, Any],
    base_url: str,
    admin_key: str,
    client_secret: str,
    examples: int,
    weights: dict[str, int],
    seeds: list[Request] | None = None,
) -> Findings:
    """Send ``examples`` generated requests per operation and mode (times its weight).

    The positive mode's JSON requests are appended to ``seeds``, for ``hammer``.
    """
    findings = Findings()
    schema = schemathesis.openapi.from_dict(doc)
    with requests.Session() as http:
        for result in schema.get_all_operations():
            if isinstance(result, Err):
                raise AssertionError(f"an operation the fuzzer cannot read: {result.err()}")
            operation = result.ok()
            count = examples * weights.get(operation.path, 1)
            headers = headers_for(operation.path, admin_key, client_secret)
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                _drive(operation, mode, count, Target(base_url, headers, http), findings, seeds)
    return findings


@dataclass(frozen=True)
class Target:
    base_url: str
    headers: dict[str, str]
    http: requests.Session


def _drive(
    operation: Any,
    mode: GenerationMode,
    count: int,
    target: Target,
    findings: Findings,
    seeds: list[Request] | None,
) -> None:
    """``count`` requests generated for one operation in one mode."""
    label = f"{operation.method.upper()} {operation.path}"

    @settings(
        max_examples=count,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def send(case: Any) -> None:
        if seeds is not None and mode.is_positive and _is_json(case):
            url = f"{target.base_url}{case.formatted_path}"
            body = None if isinstance(case.body, NotSet) else case.body
            seeds.append(Request(case.method.upper(), url, target.headers, dict(case.query or {}), body))
        try:
            response = case.call(
                base_url=target.base_url, session=target.http, headers=target.headers, timeout=60
            )
        except (requests.exceptions.InvalidHeader, requests.exceptions.InvalidURL, ValueError):
            return  # a request the client library refuses to send never reached the server
        except requests.exceptions.RequestException as error:
            findings.record(label, 599, f"no answer: {error!r}\n{case.as_curl_command()}")
            return
        findings.record(label, response.status_code, f"{response.text[:300]}\n{case.as_curl_command()}")

    try:
        send()
    except Exception as error:  # noqa: BLE001 - generation failures are reported, not raised
        findings.generation_errors.append(f"{label} ({mode}): {error!r:.300}")


def _is_json(case: Any) -> bool:
    has_body = case.media_type is not None and "json" in case.media_type
    return has_body or (case.method.upper() in ("GET", "DELETE") and case.media_type is None)


def conversation_seeds(base_url: str, secret: str, ids: dict[str, list[str]]) -> list[Request]:
    """One valid request of every conversation type, on real objects."""
    thread, item = ids["thread"][0], ids["item"][0]
    text = {"content": [{"type": "input_text", "text": "hello"}], "attachments": [], "inference_options": {}}
    action = {"type": "demo.increment", "payload": {"count": 1}}
    params: dict[str, dict[str, Any]] = {
        "threads.create": {"input": text},
        "threads.add_user_message": {"thread_id": thread, "input": text},
        "threads.add_client_tool_output": {"thread_id": thread, "result": {"ok": True}},
        "threads.add_structured_input": {
            "thread_id": thread,
            "item_id": item,
            "input": {"status": "answered", "answers": {"colour": {"values": ["red"]}}},
        },
        "threads.retry_after_item": {"thread_id": thread, "item_id": item},
        "threads.custom_action": {"thread_id": thread, "item_id": item, "action": action},
        "threads.sync_custom_action": {"thread_id": thread, "item_id": item, "action": action},
        "threads.get_by_id": {"thread_id": thread},
        "threads.list": {"limit": 5, "order": "desc"},
        "items.list": {"thread_id": thread, "limit": 5, "order": "asc"},
        "items.feedback": {"thread_id": thread, "item_ids": [item], "kind": "positive"},
        "attachments.create": {"name": "a.txt", "size": 3, "mime_type": "text/plain"},
        "attachments.delete": {"attachment_id": "atc_" + "0" * 32},
        "threads.update": {"thread_id": thread, "title": "renamed"},
        "threads.delete": {"thread_id": "cthr_" + "0" * 32},
        "input.transcribe": {"audio_base64": "AAAA", "mime_type": "audio/webm"},
    }
    headers = {"Authorization": f"Bearer {secret}"}
    url = f"{base_url}{CONVERSATION}"
    return [Request("POST", url, headers, None, {"type": kind, "params": p}) for kind, p in params.items()]


def hammer(seeds: list[Request], mutator: Mutator, count: int, workers: int = 4) -> Findings:
    """``count`` mutations of the seeds, sent by ``workers`` clients at once."""
    findings = Findings()
    local = threading.local()
    clients: list[httpx2.Client] = []

    def send(request: Request) -> None:
        label = f"{request.method} /{request.url.split('/', 3)[-1].split('?')[0]} (mutated)"
        if request.body is None:
            content = None
        elif request.raw:
            content = request.body
        else:
            content = json.dumps(request.body).encode()
        http = getattr(local, "http", None)
        if http is None:
            http = local.http = httpx2.Client(timeout=60)
            clients.append(http)
        headers = {**request.headers, "Content-Type": "application/json"}
        try:
            built = http.build_request(
                request.method, request.url, headers=headers, params=request.params, content=content
            )
        except (httpx2.InvalidURL, UnicodeError):
            with findings.lock:
                findings.unsent += 1  # the client cannot even encode it: it never reached the server
            return
        try:
            response = http.send(built)
        except httpx2.HTTPError as error:
            findings.record(label, 599, f"no answer: {error!r}\n{(content or b'')[:300]!r}")
            return
        findings.record(
            label, response.status_code, f"{response.text[:300]}\nbody {(content or b'')[:300]!r}"
        )

    # Mutated in this thread, in order, so that a run is reproducible from the mutator's seed;
    # sent in batches, so that only one batch of bodies is held at a time.
    try:
        with ThreadPoolExecutor(workers) as pool:
            for start in range(0, count, 64):
                batch = [mutator.request(mutator.rng.choice(seeds)) for _ in range(min(64, count - start))]
                list(pool.map(send, batch))
    finally:
        for http in clients:
            http.close()
    return findings


@dataclass
class Prober:
    """A thread asking the server for unrelated things while it is fuzzed."""

    base_url: str
    admin_key: str
    client_secret: str
    period: float = 0.25
    deadline: float = 10.0
    probe: Probe = field(default_factory=Probe)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _run(self) -> None:
        admin = {"Authorization": f"Bearer {self.admin_key}"}
        client = {"Authorization": f"Bearer {self.client_secret}"}
        listing = {"type": "threads.list", "params": {"limit": 5}}
        with httpx2.Client(base_url=self.base_url, timeout=self.deadline) as http:
            while not self._stop.wait(self.period):
                for method, path, headers, body in (
                    ("GET", "/healthz", {}, None),
                    ("GET", "/v1/chatkit/threads?limit=5", admin, None),
                    ("POST", CONVERSATION, client, listing),
                ):
                    started = time.monotonic()
                    try:
                        response = http.request(method, path, headers=headers, json=body)
                        status = response.status_code
                    except httpx2.HTTPError as error:
                        status, response = 0, None
                        self.probe.failures.append(f"{method} {path}: {error!r}")
                    took = time.monotonic() - started
                    self.probe.slowest = max(self.probe.slowest, took)
                    if response is not None and status != 200:
                        self.probe.failures.append(f"{method} {path}: {status} {response.text[:200]}")
                    elif response is not None:
                        self.probe.answered += 1

    def running(self) -> _Running:
        return _Running(self)


class _Running:
    def __init__(self, prober: Prober) -> None:
        self.prober = prober
        self.thread = threading.Thread(target=prober._run, daemon=True)

    def __enter__(self) -> Probe:
        self.thread.start()
        return self.prober.probe

    def __exit__(self, *exc_info: object) -> None:
        self.prober._stop.set()
        self.thread.join(30)


def app_routes(app: Any) -> Iterator[tuple[str, str]]:
    """Every (path, method) the app serves, HEAD aside."""
    for route in app.routes:
        for method in sorted(getattr(route, "methods", None) or []):
            if method != "HEAD":
                yield route.path, method.lower()

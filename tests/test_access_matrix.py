"""Who reaches what, for every route: one table per kind of credential.

A client secret reaches only its own user's threads in its own project; an admin
key only its own project; neither works where the other is expected. The
``test_every_route_is_in_a_table`` check fails when a route is added without
being placed in one of these tables.
"""

from __future__ import annotations

import time
import typing
import uuid
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from chatkit.types import ChatKitReq

from chatkitd.runtime.signing import PREVIEW, UPLOAD
from chatkitd.store import keys
from tests.conftest import ADMIN_KEY
from tests.support.chat import DELETED, Chat, error_of, new_session, user_input
from tests.support.harness import deploy_yaml
from tests.support.servers import RunningServer

SCRIPTED = (Path(__file__).parent / "workflows_data" / "scripted.yaml").read_text()
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
UPLOADS = {"file_upload": {"enabled": True, "max_file_size": 1, "max_files": 10}}


@dataclass
class World:
    """One user's objects in the default project, and three strangers to them."""

    server: RunningServer
    user: str
    session_id: str
    thread_id: str  # a demo thread with a widget
    widget_id: str
    question_id: str  # a pending structured input item
    image_id: str  # uploaded, attached to nothing yet
    preview_url: str
    pending_id: str  # created by attachments.create, bytes not sent yet
    upload_url: str
    traced_thread_id: str  # an agent thread, which has a trace
    trace_id: str
    owner: Chat
    neighbour: Chat  # another user, same project
    foreigner: Chat  # the same user id, another project
    other_key: str  # the other project's admin key
    file_id: str  # a file (Files API), attached to the vector store below
    store_id: str
    batch_id: str

    def fill(self, template: str) -> str:
        return template.format(
            thread=self.thread_id,
            traced=self.traced_thread_id,
            session=self.session_id,
            trace=self.trace_id,
            user=self.user,
            file=self.file_id,
            store=self.store_id,
            batch=self.batch_id,
            workflow="scripted-support",
            version="1",
        )


@pytest.fixture(scope="module")
def world(server):
    user = f"user_{uuid.uuid4().hex[:10]}"
    sdk = server.sdk(ADMIN_KEY)
    other_key, _ = server.run(keys.create_key(server.platform.db, f"matrix-{time.time_ns()}"))

    def chat(sdk_, user_, **options):
        session = new_session(sdk_, user_, chatkit_configuration=UPLOADS, **options)
        return session, Chat(server, session.client_secret)

    session, owner = chat(sdk, user)
    widget_stream = owner.create("show me a widget")
    thread_id = widget_stream.thread_id
    widget_id = widget_stream.done_items("widget")[0]["id"]
    question_id = owner.say(thread_id, "ask me a question").done_items("structured_input")[0]["id"]
    owner.call("items.feedback", thread_id=thread_id, item_ids=[widget_id], kind="positive")
    image = owner.http.post("/v1/chatkit/files", files={"file": ("a.png", PNG, "image/png")}).json()
    pending = owner.call("attachments.create", name="b.txt", size=3, mime_type="text/plain")

    # An agent run, for a trace (the demo workflow records none).
    server.run(deploy_yaml(server.platform, SCRIPTED))
    _, agent = chat(sdk, user, workflow={"id": "scripted-support"})
    traced_thread = agent.create("hello").thread_id
    knowledge_file = sdk.files.create(file=("k.txt", b"knowledge matrix"), purpose="assistants")
    store = sdk.vector_stores.create(name="matrix")
    batch = sdk.vector_stores.file_batches.create_and_poll(
        store.id, file_ids=[knowledge_file.id], poll_interval_ms=50
    )

    listing = httpx2.get(
        f"{server.base_url}/v1/chatkit/traces",
        params={"thread_id": traced_thread},
        headers={"Authorization": f"Bearer {ADMIN_KEY}"},
    ).json()

    world = World(
        server=server,
        user=user,
        session_id=session.id,
        thread_id=thread_id,
        widget_id=widget_id,
        question_id=question_id,
        image_id=image["id"],
        preview_url=image["preview_url"],
        pending_id=pending["id"],
        upload_url=pending["upload_descriptor"]["url"],
        traced_thread_id=traced_thread,
        trace_id=listing["data"][0]["id"],
        owner=owner,
        neighbour=chat(sdk, user + "_neighbour")[1],
        foreigner=chat(server.sdk(other_key), user)[1],
        other_key=other_key,
        file_id=knowledge_file.id,
        store_id=store.id,
        batch_id=batch.id,
    )
    yield world
    for c in (owner, agent, world.neighbour, world.foreigner):
        c.close()


def call(world: World, method: str, path: str, key: str | None, **kwargs) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    if "json" in kwargs:
        kwargs["json"] = {k: _filled(world, v) for k, v in kwargs["json"].items()}
    return httpx2.request(method, world.server.base_url + world.fill(path), headers=headers, **kwargs)


def _filled(world: World, value):  # noqa: ANN001, ANN202
    if isinstance(value, str):
        return world.fill(value)
    if isinstance(value, list):
        return [_filled(world, v) for v in value]
    return value


# -- admin-key routes -----------------------------------------------------------------------------

SESSION_BODY = {"json": {"user": "u", "workflow": {"id": "demo"}}}
DEPLOY_BODY = {"json": {"filename": "m.yaml", "definition": "id: matrix-agent\ninstructions: Hi."}}

# (method, path, request kwargs, param named by the other project's 404 or None for a list)
ADMIN_ROUTES = [
    ("POST", "/v1/chatkit/sessions", SESSION_BODY, "create"),
    ("POST", "/v1/chatkit/sessions/{session}/cancel", {}, "session_id"),
    ("GET", "/v1/chatkit/threads?user={user}", {}, None),
    ("GET", "/v1/chatkit/threads/{thread}", {}, "thread_id"),
    ("GET", "/v1/chatkit/threads/{thread}/items", {}, "thread_id"),
    ("DELETE", "/v1/chatkit/threads/{thread}", {}, "thread_id"),
    ("GET", "/v1/chatkit/traces?thread_id={traced}", {}, None),
    ("GET", "/v1/chatkit/traces/{trace}", {}, "trace_id"),
    ("GET", "/v1/chatkit/admin/sessions?user={user}", {}, None),
    ("GET", "/v1/chatkit/admin/feedback?thread_id={thread}", {}, None),
    ("GET", "/v1/chatkit/admin/threads/{thread}/items", {}, "thread_id"),
    ("GET", "/v1/chatkit/admin/workflows", {}, None),
    ("POST", "/v1/chatkit/admin/workflows", DEPLOY_BODY, "create"),
    ("GET", "/v1/chatkit/admin/workflows/{workflow}", {}, "workflow_id"),
    ("GET", "/v1/chatkit/admin/workflows/{workflow}/versions", {}, "workflow_id"),
    ("GET", "/v1/chatkit/admin/workflows/{workflow}/versions/{version}", {}, "workflow_id"),
    ("POST", "/v1/chatkit/admin/workflows/{workflow}/rollback", {"json": {"version": 1}}, "workflow_id"),
    ("POST", "/v1/chatkit/admin/workflows/{workflow}/archive", {"json": {"archived": True}}, "workflow_id"),
    # Files and vector stores (OpenAI's API); deletions come last so the rest still find their objects.
    ("POST", "/v1/files", {"files": {"file": ("m.txt", b"m")}, "data": {"purpose": "assistants"}}, "create"),
    ("GET", "/v1/files", {}, None),
    ("GET", "/v1/files/{file}", {}, "file_id"),
    ("GET", "/v1/chatkit/admin/files?id={file}&id=file-unknown", {}, None),
    ("GET", "/v1/files/{file}/content", {}, "file_id"),
    ("POST", "/v1/vector_stores", {"json": {"name": "theirs"}}, "create"),
    ("GET", "/v1/vector_stores", {}, None),
    ("GET", "/v1/vector_stores/{store}", {}, "vector_store_id"),
    ("POST", "/v1/vector_stores/{store}", {"json": {"name": "taken"}}, "vector_store_id"),
    ("POST", "/v1/vector_stores/{store}/search", {"json": {"query": "knowledge"}}, "vector_store_id"),
    ("POST", "/v1/vector_stores/{store}/files", {"json": {"file_id": "{file}"}}, "vector_store_id"),
    ("GET", "/v1/vector_stores/{store}/files", {}, "vector_store_id"),
    ("GET", "/v1/vector_stores/{store}/files/{file}", {}, "vector_store_id"),
    ("POST", "/v1/vector_stores/{store}/files/{file}", {"json": {"attributes": {}}}, "vector_store_id"),
    ("GET", "/v1/vector_stores/{store}/files/{file}/content", {}, "vector_store_id"),
    ("POST", "/v1/vector_stores/{store}/file_batches", {"json": {"file_ids": ["{file}"]}}, "vector_store_id"),
    ("GET", "/v1/vector_stores/{store}/file_batches/{batch}", {}, "vector_store_id"),
    ("POST", "/v1/vector_stores/{store}/file_batches/{batch}/cancel", {}, "vector_store_id"),
    ("GET", "/v1/vector_stores/{store}/file_batches/{batch}/files", {}, "vector_store_id"),
    ("DELETE", "/v1/vector_stores/{store}/files/{file}", {}, "vector_store_id"),
    ("DELETE", "/v1/vector_stores/{store}", {}, "vector_store_id"),
    ("DELETE", "/v1/files/{file}", {}, "file_id"),
]
ADMIN_IDS = [f"{m} {p.split('?')[0]}" for m, p, _, _ in ADMIN_ROUTES]


@pytest.mark.parametrize(("method", "path", "kwargs", "param"), ADMIN_ROUTES, ids=ADMIN_IDS)
def test_admin_routes_refuse_client_secrets_and_missing_keys(world, method, path, kwargs, param):
    for key in (world.owner.secret, None, "sk-not-a-key"):
        response = call(world, method, path, key, **kwargs)
        assert response.status_code == 401, (key, response.text)
        assert error_of(response)["type"] == "authentication_error"


@pytest.mark.parametrize(("method", "path", "kwargs", "param"), ADMIN_ROUTES, ids=ADMIN_IDS)
def test_admin_routes_keep_to_the_keys_project(world, method, path, kwargs, param):
    response = call(world, method, path, world.other_key, **kwargs)
    if param == "create":
        assert response.status_code == 200  # a session of the other project: nothing of ours
        return
    if param is None:
        # A listing: it may hold the other project's objects (the foreigner's session), never ours.
        ours = (
            world.session_id,
            world.thread_id,
            world.traced_thread_id,
            world.trace_id,
            world.file_id,
            world.store_id,
            "scripted-support",
        )
        assert response.status_code == 200, response.text
        assert not [i for i in ours if i in response.text]
        # The same listing with our key does show them: the absence above means something.
        assert [i for i in ours if i in call(world, method, path, ADMIN_KEY, **kwargs).text]
        return
    assert response.status_code == 404, response.text
    assert error_of(response)["param"] == param
    # Nothing the other project tried changed our objects.
    assert call(world, "GET", "/v1/chatkit/threads/{thread}", ADMIN_KEY).json()["status"] == {
        "type": "active"
    }
    store = call(world, "GET", "/v1/vector_stores/{store}", ADMIN_KEY).json()
    assert store["name"] == "matrix" and store["file_counts"]["completed"] == 1
    assert call(world, "GET", "/v1/files/{file}", ADMIN_KEY).status_code == 200


# -- client-secret routes ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "kwargs"),
    [
        ("/v1/chatkit/conversation", {"json": {"type": "threads.list", "params": {}}}),
        ("/v1/chatkit/files", {"files": {"file": ("a.txt", b"abc", "text/plain")}}),
    ],
    ids=["conversation", "direct upload"],
)
def test_client_secret_routes_refuse_admin_keys(world, path, kwargs):
    for key in (ADMIN_KEY, world.other_key, None):
        response = call(world, "POST", path, key, **kwargs)
        assert response.status_code == 401, (key, response.text)
        assert error_of(response)["code"] in ("invalid_client_secret", "missing_api_key")


def _conversation_requests(w: World) -> list[tuple[str, dict]]:
    action = {"type": "demo.increment", "payload": {"count": 0}}
    thread, item = w.thread_id, w.widget_id
    return [
        ("threads.get_by_id", {"thread_id": thread}),
        ("threads.update", {"thread_id": thread, "title": "mine now"}),
        ("threads.add_user_message", {"thread_id": thread, "input": user_input("hi")}),
        ("threads.add_client_tool_output", {"thread_id": thread, "result": {}}),
        (
            "threads.add_structured_input",
            {"thread_id": thread, "item_id": w.question_id, "input": {"answers": {}}},
        ),
        ("threads.retry_after_item", {"thread_id": thread, "item_id": item}),
        ("threads.custom_action", {"thread_id": thread, "item_id": item, "action": action}),
        ("threads.sync_custom_action", {"thread_id": thread, "item_id": item, "action": action}),
        ("items.list", {"thread_id": thread}),
        ("items.feedback", {"thread_id": thread, "item_ids": [item], "kind": "negative"}),
        ("attachments.delete", {"attachment_id": w.image_id}),
        ("threads.create", {"input": user_input("mine?", [w.image_id])}),
        ("threads.delete", {"thread_id": thread}),
    ]


# Every request type that names a thread, item or attachment; the rest name none.
CONVERSATION_TYPES = [
    "threads.get_by_id",
    "threads.update",
    "threads.add_user_message",
    "threads.add_client_tool_output",
    "threads.add_structured_input",
    "threads.retry_after_item",
    "threads.custom_action",
    "threads.sync_custom_action",
    "items.list",
    "items.feedback",
    "attachments.delete",
    "threads.create",
    "threads.delete",
]
NAMING_NOTHING = {"threads.list", "attachments.create", "input.transcribe"}


def test_the_table_holds_every_request_type():
    request_types = {
        member.model_fields["type"].default for member in typing.get_args(typing.get_args(ChatKitReq)[0])
    }
    assert request_types == set(CONVERSATION_TYPES) | NAMING_NOTHING


# Deletes are idempotent (as chatkit's reference): they answer ``{}`` for any id, so for them
# "never reaches" is the owner's objects left whole and an answer no different from a missing id's.
IDEMPOTENT_DELETES = {"attachments.delete": "atc_", "threads.delete": "cthr_"}


@pytest.mark.parametrize("stranger", ["neighbour", "foreigner"])
@pytest.mark.parametrize("kind", CONVERSATION_TYPES)
def test_a_secret_never_reaches_another_users_objects(world, stranger, kind):
    chat: Chat = getattr(world, stranger)
    [params] = [p for k, p in _conversation_requests(world) if k == kind]
    if kind in IDEMPOTENT_DELETES:
        [(name, _)] = params.items()
        never_was = {name: IDEMPOTENT_DELETES[kind] + "0" * 32}
        assert chat.deleted(kind, **params) == chat.deleted(kind, **never_was) == DELETED
    else:
        response = chat.post(kind, **params)
        assert response.status_code == 404, response.text
        assert error_of(response)["code"] == "not_found"
    # The owner's objects are all still there, unchanged.
    thread = world.owner.call("threads.get_by_id", thread_id=world.thread_id)
    assert thread["title"] == "show me a widget" and thread["status"] == {"type": "active"}
    items = world.owner.call("items.list", thread_id=world.thread_id, limit=100)["data"]
    assert {world.widget_id, world.question_id} <= {i["id"] for i in items}
    assert httpx2.get(world.preview_url).content == PNG
    [blob] = [p for p in world.server.settings.blob_dir.glob(f"*/{world.image_id}*")]
    assert blob.read_bytes() == PNG


@pytest.mark.parametrize("stranger", ["neighbour", "foreigner"])
def test_listings_of_a_secret_hold_only_its_own_users_threads(world, stranger):
    assert getattr(world, stranger).call("threads.list")["data"] == []
    owned = {t["id"] for t in world.owner.call("threads.list")["data"]}
    assert owned == {world.thread_id, world.traced_thread_id}


# -- signed URLs -----------------------------------------------------------------------------------


def _signed(world: World, purpose: str, attachment_id: str, expires: int, route: str) -> str:
    signature = world.server.platform.signer.signature(purpose, attachment_id, expires)
    return f"/v1/chatkit/files/{attachment_id}/{route}?expires={expires}&signature={signature}"


def test_the_preview_url_is_served_and_anything_else_is_refused(world):
    ok = httpx2.get(world.preview_url)
    assert ok.status_code == 200 and ok.content == PNG
    later = int(time.time()) + 600
    refused = {
        "tampered": world.preview_url[:-4] + "0000",
        "no signature": world.preview_url.split("&signature")[0],
        "another attachment's": _signed(world, PREVIEW, world.pending_id, later, "preview").replace(
            world.pending_id, world.image_id
        ),
        "signed for upload": _signed(world, UPLOAD, world.image_id, later, "preview"),
        "expired": _signed(world, PREVIEW, world.image_id, int(time.time()) - 1, "preview"),
        "non-ASCII signature": f"/v1/chatkit/files/{world.image_id}/preview?expires={later}&signature=é",
        "non-ASCII digits": f"/v1/chatkit/files/{world.image_id}/preview?expires=²&signature=ab",
        "huge expiry": f"/v1/chatkit/files/{world.image_id}/preview?expires={'9' * 5000}&signature=ab",
    }
    for label, url in refused.items():
        response = httpx2.get(url if url.startswith("http") else world.server.base_url + url)
        assert response.status_code == 401, (label, response.text)
        assert error_of(response)["code"] == "invalid_signature", label


def test_the_upload_url_takes_only_its_own_signature(world):
    later = int(time.time()) + 600
    files = {"file": ("b.txt", b"abc", "text/plain")}
    for label, url in {
        "tampered": world.upload_url[:-4] + "0000",
        "signed for preview": world.server.base_url
        + _signed(world, PREVIEW, world.pending_id, later, "upload"),
        "expired": world.server.base_url
        + _signed(world, UPLOAD, world.pending_id, int(time.time()) - 1, "upload"),
    }.items():
        response = httpx2.post(url, files=files)
        assert response.status_code == 401, (label, response.text)
    assert not list(world.server.settings.blob_dir.glob(f"*/{world.pending_id}*"))


# -- cited files (chatkitd.knowledge.sources) ------------------------------------------------------


def _cite_in_owners_thread(
    world: World, file_id: str | None = None, thread_id: str | None = None, filename: str = "k.txt"
) -> None:
    """An answer in the owner's thread that cites the world's file (or ``file_id``), as a
    file_search run leaves it."""
    from chatkit.types import Annotation, AssistantMessageContent, AssistantMessageItem, FileSource

    from chatkitd import clock, ids
    from chatkitd.context import RequestContext

    thread_id = thread_id or world.thread_id
    source = FileSource(filename=filename, title=filename, group=file_id or world.file_id)
    item = AssistantMessageItem(
        id=ids.new_id(ids.ITEM),
        thread_id=thread_id,
        created_at=clock.now(),
        content=[
            AssistantMessageContent(text="It says so [1]", annotations=[Annotation(source=source, index=14)])
        ],
    )
    platform = world.server.platform
    project_id = world.server.run(platform.project_for_admin_key(ADMIN_KEY))
    assert project_id is not None
    world.server.run(platform.threads.add_thread_item(thread_id, item, RequestContext(project_id=project_id)))


def test_a_cited_file_opens_only_for_the_user_whose_thread_cites_it(world):
    _cite_in_owners_thread(world)
    path = "/v1/chatkit/sources/{file}?thread_id={thread}"
    mine = world.owner.http.get(world.fill(path))
    assert mine.status_code == 200, mine.text
    assert mine.json()["text"] == "knowledge matrix"
    assert httpx2.get(mine.json()["content_url"]).content == b"knowledge matrix"
    for stranger in (world.neighbour, world.foreigner):
        refused = stranger.http.get(world.fill(path))
        assert refused.status_code == 404, refused.text
        assert error_of(refused)["param"] == "thread_id"
    # The owner's other thread cites nothing: the file does not open through it.
    assert (
        world.owner.http.get(world.fill("/v1/chatkit/sources/{file}?thread_id={traced}")).status_code == 404
    )
    for key in (ADMIN_KEY, world.other_key, None):
        assert call(world, "GET", path, key).status_code == 401


def test_a_cited_upload_opens_only_in_the_thread_it_was_attached_in(world):
    """A thread's own uploads are cited when a workflow indexes them (``thread_uploads``)."""
    note = world.owner.http.post(
        "/v1/chatkit/files", files={"file": ("note.txt", b"upload matrix", "text/plain")}
    ).json()
    thread = world.owner.create("here is a note", attachments=[note["id"]]).thread_id
    _cite_in_owners_thread(world, note["id"], thread, "note.txt")
    path = f"/v1/chatkit/sources/{note['id']}?thread_id={thread}"
    mine = world.owner.http.get(path)
    assert mine.status_code == 200, mine.text
    assert mine.json()["filename"] == "note.txt"
    assert httpx2.get(mine.json()["content_url"]).content == b"upload matrix"
    for stranger in (world.neighbour, world.foreigner):
        assert stranger.http.get(path).status_code == 404
    # Cited in another thread of the owner's, it does not open there: it is not that thread's upload;
    # nor does an upload attached to no thread, cited anywhere.
    _cite_in_owners_thread(world, note["id"], world.thread_id, "note.txt")
    elsewhere = world.owner.http.get(f"/v1/chatkit/sources/{note['id']}?thread_id={world.thread_id}")
    assert elsewhere.status_code == 404
    _cite_in_owners_thread(world, world.image_id, world.thread_id, "a.png")
    loose = world.owner.http.get(f"/v1/chatkit/sources/{world.image_id}?thread_id={world.thread_id}")
    assert loose.status_code == 404


def test_a_cited_files_link_takes_only_its_own_signature(world):
    later = int(time.time()) + 600
    signer = world.server.platform.signer
    good = signer.signature("source", world.file_id, later)
    base = world.server.base_url + f"/v1/chatkit/sources/{world.file_id}/content"
    assert httpx2.get(f"{base}?expires={later}&signature={good}").status_code == 200
    earlier = later - 1200
    for label, query in {
        "tampered": f"expires={later}&signature={good[:-4]}0000",
        "for a preview": f"expires={later}&signature={signer.signature(PREVIEW, world.file_id, later)}",
        "expired": f"expires={earlier}&signature={signer.signature('source', world.file_id, earlier)}",
        "none": "",
    }.items():
        response = httpx2.get(f"{base}?{query}")
        assert response.status_code == 401, (label, response.text)
        assert error_of(response)["code"] == "invalid_signature", label


# -- every route has a row -------------------------------------------------------------------------

PUBLIC = {
    "GET /healthz",
    "GET /livez",  # says only that the process answers (tests/test_health.py)
    "GET /readyz",  # says only ok or which dependency is down, never where it is
    "GET /metrics",
    "GET /v1/openapi.json",
    "GET /",
    "GET /admin",
    "/static",  # files of the package
    "POST /playground/session",  # development mode only; off in production: tests/test_web.py
    "GET /playground/workflows/{workflow_id}",  # likewise, and local pages only (test_web.py)
    "GET /v1/chatkit/files/{attachment_id}/preview",  # the signature is the credential (above)
    "POST /v1/chatkit/files/{attachment_id}/upload",  # likewise
    "GET /v1/chatkit/sources/{file_id}/content",  # likewise (test_a_cited_files_link_...)
}
CLIENT_SECRET = {
    "POST /v1/chatkit/conversation",
    "POST /v1/chatkit/files",
    "GET /v1/chatkit/sources/{file_id}",
}


def test_every_route_is_in_a_table(server):
    from starlette.routing import Mount, Route

    from chatkitd.app import create_app

    served = set()
    for route in create_app(server.settings).routes:
        if isinstance(route, Mount):
            served.add(route.path)
            continue
        assert isinstance(route, Route) and route.methods is not None
        served |= {f"{method} {route.path}" for method in route.methods - {"HEAD"}}
    tabled = {f"{m} {p.split('?')[0]}" for m, p, _, _ in ADMIN_ROUTES}
    tabled = {t.replace("{session}", "{session_id}").replace("{thread}", "{thread_id}") for t in tabled}
    tabled = {t.replace("{trace}", "{trace_id}") for t in tabled}
    tabled = {t.replace("{store}", "{vector_store_id}").replace("{file}", "{file_id}") for t in tabled}
    tabled = {t.replace("{batch}", "{batch_id}") for t in tabled}
    tabled = {t.replace("{workflow}", "{workflow_id}") for t in tabled}
    assert served == tabled | CLIENT_SECRET | PUBLIC

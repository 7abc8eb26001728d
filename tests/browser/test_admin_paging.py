"""The admin console over long lists: more than 100 sessions page through, a thread's many runs
page through, and every span opens to its details."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator

import httpx
import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY
from tests.support.servers import RunningServer, start_server

expect.set_options(timeout=15_000)
SESSIONS = 105
RUNS = 55  # 110 items: more than one page of the items API
THREADS = 105  # with the one above
FEEDBACK = RUNS * 2  # a thumb on each item of the long thread


@pytest.fixture(scope="module")
def busy_server(tmp_path_factory) -> Iterator[tuple[RunningServer, str, str]]:
    """A server with SESSIONS sessions of one user, and a thread of RUNS demo runs."""
    data_dir = tmp_path_factory.mktemp("admin-paging")
    url = f"sqlite+aiosqlite:///{data_dir / 'chatkitd.db'}"
    with start_server(url, data_dir, ADMIN_KEY, mode="development") as server:
        user = f"pager_{uuid.uuid4().hex[:8]}"
        sdk = server.sdk(ADMIN_KEY)
        secret = ""
        for _ in range(SESSIONS):
            secret = sdk.beta.chatkit.sessions.create(
                user=user, workflow={"id": "demo"}, rate_limits={"max_requests_per_1_minute": 1000}
            ).client_secret
        thread_id = ""
        with httpx.Client(base_url=server.base_url, headers={"authorization": f"Bearer {secret}"}) as http:
            for run in range(RUNS):
                content = [{"type": "input_text", "text": f"message {run}"}]
                params: dict = {"input": {"content": content, "attachments": [], "inference_options": {}}}
                if thread_id:
                    params["thread_id"] = thread_id
                kind = "threads.add_user_message" if thread_id else "threads.create"
                body = http.post("/v1/chatkit/conversation", json={"type": kind, "params": params}).text
                if not thread_id:
                    first = next(line for line in body.splitlines() if line.startswith("data: "))
                    thread_id = json.loads(first[6:])["thread"]["id"]
            for n in range(THREADS - 1):
                content = [{"type": "input_text", "text": f"thread {n}"}]
                params = {"input": {"content": content, "attachments": [], "inference_options": {}}}
                http.post("/v1/chatkit/conversation", json={"type": "threads.create", "params": params})
            # A thumb on every item of the long thread: FEEDBACK rows.
            items: list[str] = []
            after = None
            while True:
                listed = {"thread_id": thread_id, "limit": 100, "order": "asc", "after": after}
                page = http.post(
                    "/v1/chatkit/conversation", json={"type": "items.list", "params": listed}
                ).json()
                items += [item["id"] for item in page["data"]]
                if not page["has_more"]:
                    break
                after = page["after"]
            assert len(items) == FEEDBACK
            for start in range(0, FEEDBACK, 50):
                thumbs = {"thread_id": thread_id, "item_ids": items[start : start + 50], "kind": "positive"}
                http.post("/v1/chatkit/conversation", json={"type": "items.feedback", "params": thumbs})
        yield server, user, thread_id


@pytest.fixture
def console(browser, busy_server) -> Iterator:
    """A page signed in to the busy server's admin console."""
    server = busy_server[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.goto(server.base_url + "/admin")
    page.get_by_label("Admin key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("table.data")).to_be_visible()
    try:
        yield page
    finally:
        context.close()


def pages_to_the_end(pager, rows, total: int) -> None:
    """A list of ``total`` rows (101 to 200): the first page holds 100, Next shows the rest and
    is then disabled."""
    expect(pager).to_contain_text("Rows 1–100")
    expect(rows).to_have_count(100)
    pager.get_by_role("button", name="Next page").click()
    expect(pager).to_contain_text(f"Rows 101–{total}")
    expect(rows).to_have_count(total - 100)
    expect(pager.get_by_role("button", name="Next page")).to_be_disabled()


def test_more_than_a_hundred_sessions_page_through(console):
    rows = console.locator("table.data tbody tr")
    pager = console.get_by_role("navigation", name="Sessions pages")
    expect(pager).to_contain_text("Rows 1–100")
    expect(rows).to_have_count(100)
    first_page = rows.first.locator("td").first.inner_text()
    pager.get_by_role("button", name="Next page").click()
    expect(pager).to_contain_text(f"Rows 101–{SESSIONS}")
    expect(rows).to_have_count(SESSIONS - 100)
    expect(pager.get_by_role("button", name="Next page")).to_be_disabled()
    assert rows.first.locator("td").first.inner_text() != first_page
    pager.get_by_role("button", name="Previous page").click()
    expect(pager).to_contain_text("Rows 1–100")
    expect(rows.first.locator("td").first).to_have_text(first_page)


def test_more_than_a_hundred_threads_page_through(console, busy_server):
    console.get_by_role("link", name="Threads", exact=True).click()
    rows = console.locator("table.data tbody tr")
    pager = console.get_by_role("navigation", name="Threads pages")
    pages_to_the_end(pager, rows, THREADS)


def test_more_than_a_hundred_feedback_rows_page_through(console):
    console.get_by_role("link", name="Feedback", exact=True).click()
    rows = console.locator("table.data tbody tr")
    pager = console.get_by_role("navigation", name="Feedback pages")
    pages_to_the_end(pager, rows, FEEDBACK)


def test_a_threads_items_and_runs_page_through_and_each_span_shows_its_details(console, busy_server):
    server, _, thread_id = busy_server
    console.goto(f"{server.base_url}/admin#thread?id={thread_id}")
    # Every item, past the items API's first page of 100.
    conversation = console.get_by_label("Conversation")
    expect(conversation.locator(".ck-item-user-message")).to_have_count(RUNS)
    # (each with its thumb: the feedback test gives one to every item)
    expect(conversation.locator(".ck-item-user-message").last).to_contain_text(f"message {RUNS - 1}")
    runs = console.locator(".trace-run")
    expect(runs).to_have_count(10)
    older = console.get_by_role("button", name="Older runs")
    # Clicked twice at once (the second is refused while the page loads), then until the last page.
    older.evaluate("button => { button.click(); button.click(); }")
    settled = """() => {
      const button = [...document.querySelectorAll("button")].find((b) => b.textContent === "Older runs");
      return button.hidden || !button.disabled;
    }"""
    console.wait_for_function(settled)
    expect(runs).to_have_count(20)
    while older.is_visible():
        older.click()
        console.wait_for_function(settled)
    expect(runs).to_have_count(RUNS)
    console.wait_for_timeout(300)
    expect(runs).to_have_count(RUNS)  # no page loaded twice
    # Every span is a disclosure: its summary opens kind, timing, ids and data.
    span = runs.first.locator("details.span-row-details").first
    span.locator("summary").click()
    facts = span.locator("dl.span-facts")
    expect(facts).to_be_visible()
    expect(facts.locator("dt")).to_contain_text(["Kind", "Name", "Starts at", "Duration", "Span"])
    expect(facts.locator("dd").nth(3)).to_have_text(re.compile(r"^\d+(\.\d)? ms$"))
    assert runs.locator("details.span-row-details").count() >= RUNS


# Every other list of the console pages the same way: workflows, a workflow's versions, a
# store's files (whose names the console looks up for the page shown, never by listing every
# file). Each holds more than a page, and the console reaches the last row of each.
WORKFLOWS = 105
VERSIONS = 105
STORE_FILES = 105
STORES = 105
LONG_LIVED = "many-versions"


def agent_yaml(workflow_id: str, text: str) -> str:
    return f"id: {workflow_id}\nname: {text}\ninstructions: {text}\n"


@pytest.fixture(scope="module")
def stocked_server(tmp_path_factory) -> Iterator[tuple[RunningServer, str]]:
    """A server with WORKFLOWS workflows, one of VERSIONS versions, and a store of STORE_FILES files."""
    data_dir = tmp_path_factory.mktemp("admin-lists")
    url = f"sqlite+aiosqlite:///{data_dir / 'chatkitd.db'}"
    with start_server(url, data_dir, ADMIN_KEY, mode="development") as server, server.sdk(ADMIN_KEY) as sdk:
        deploy = "/chatkit/admin/workflows"
        for n in range(WORKFLOWS):
            body = {"filename": "w.yaml", "definition": agent_yaml(f"bulk-{n:03}", f"Bulk {n:03}")}
            sdk.post(deploy, body=body, cast_to=object)
        for n in range(VERSIONS):
            body = {"filename": "v.yaml", "definition": agent_yaml(LONG_LIVED, f"Version text {n}")}
            sdk.post(deploy, body=body, cast_to=object)
        store = sdk.vector_stores.create(name="Big shelf")
        for n in range(STORES - 1):
            sdk.vector_stores.create(name=f"Shelf {n:03}")
        ids = [
            sdk.files.create(file=(f"doc-{n:03}.txt", f"Document {n}.".encode()), purpose="assistants").id
            for n in range(STORE_FILES)
        ]
        batch = sdk.vector_stores.file_batches.create_and_poll(
            vector_store_id=store.id, file_ids=ids, poll_interval_ms=100
        )
        assert batch.file_counts.completed == STORE_FILES
        yield server, store.id


@pytest.fixture
def stocked_console(browser, stocked_server) -> Iterator:
    """A page signed in to the stocked server's console, that fails the test if the console
    ever asks a list for more than one page of rows."""
    server = stocked_server[0]
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    asked: list[str] = []
    page.on("request", lambda request: asked.append(request.url))
    page.goto(server.base_url + "/admin")
    page.get_by_label("Admin key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("navigation", name="Sessions pages")).to_be_visible()
    try:
        yield page
    finally:
        context.close()
    wide = [url for url in asked if any(int(n) > 100 for n in re.findall(r"[?&]limit=(\d+)", url))]
    assert not wide, f"the console asked for more than a page: {wide}"


def test_more_than_a_hundred_workflows_page_through(stocked_console):
    page = stocked_console
    page.get_by_role("link", name="Workflows", exact=True).click()
    pager = page.get_by_role("navigation", name="Workflows pages")
    rows = page.locator("table.data tbody tr")
    expect(rows.first).to_contain_text(LONG_LIVED)  # newest first
    pages_to_the_end(pager, rows, WORKFLOWS + 1)  # and LONG_LIVED
    # The first workflow deployed is the last row.
    oldest = rows.last
    expect(oldest).to_contain_text("bulk-000")
    oldest.get_by_role("button", name="Open workflow bulk-000").click()
    expect(page.get_by_role("heading", name="Bulk 000")).to_be_visible()


def test_a_workflows_more_than_a_hundred_versions_page_through(stocked_console, stocked_server):
    page = stocked_console
    page.goto(f"{stocked_server[0].base_url}/admin#workflow?id={LONG_LIVED}")
    pager = page.get_by_role("navigation", name="Versions pages")
    rows = page.locator("table.data tbody tr")
    expect(page.get_by_text(f"{LONG_LIVED} · {VERSIONS} versions")).to_be_visible()
    expect(rows.first).to_contain_text("latest")
    expect(rows.first.locator("strong")).to_have_text(str(VERSIONS))  # the version shown
    pages_to_the_end(pager, rows, VERSIONS)
    # The first version, on the last page, opens.
    page.get_by_role("button", name="Show version 1", exact=True).click()
    expect(page.get_by_role("heading", name="Version 1", exact=True)).to_be_visible()
    expect(page.locator("pre.span-data")).to_contain_text("Version text 0")


def test_a_stores_more_than_a_hundred_files_page_through_with_their_names(stocked_console, stocked_server):
    server, store_id = stocked_server
    page = stocked_console
    page.goto(f"{server.base_url}/admin#store?id={store_id}")
    pager = page.get_by_role("navigation", name="Files in the store pages")
    rows = page.locator("table.data tbody tr")
    expect(pager).to_contain_text("Rows 1–100")
    expect(rows).to_have_count(100)
    names = rows.locator("td:first-child").all_inner_texts()
    pager.get_by_role("button", name="Next page").click()
    expect(pager).to_contain_text(f"Rows 101–{STORE_FILES}")
    expect(rows).to_have_count(STORE_FILES - 100)
    expect(pager.get_by_role("button", name="Next page")).to_be_disabled()
    names += rows.locator("td:first-child").all_inner_texts()
    # Every file, each by its name (looked up for its page), the first uploaded among them.
    assert sorted(names) == [f"doc-{n:03}.txt" for n in range(STORE_FILES)]


def test_the_knowledge_pages_more_than_a_hundred_stores_and_files_page_through(stocked_console):
    page = stocked_console
    page.get_by_role("link", name="Knowledge", exact=True).click()
    for label, total, oldest in (
        ("Vector stores", STORES, "Big shelf"),
        ("Files", STORE_FILES, "doc-000.txt"),
    ):
        pager = page.get_by_role("navigation", name=f"{label} pages", exact=True)
        rows = pager.locator("xpath=preceding-sibling::table[1]").locator("tbody tr")
        pages_to_the_end(pager, rows, total)
        expect(rows.filter(has_text=oldest)).to_have_count(1)

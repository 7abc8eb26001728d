"""examples/embed: an integrator's backend mints sessions with the openai SDK; its page embeds the chat."""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY
from tests.support.servers import free_port, start_server

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "embed" / "app.py"


def load_example():
    spec = importlib.util.spec_from_file_location("embed_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def integrator(tmp_path_factory):
    """chatkitd allowing the example's origin, and the example itself, on two ports."""
    port = free_port()
    origin = f"http://127.0.0.1:{port}"
    data_dir = tmp_path_factory.mktemp("embed")
    url = f"sqlite+aiosqlite:///{data_dir / 'chatkitd.db'}"
    with start_server(url, data_dir, ADMIN_KEY, cors_origins=[origin], mode="production") as chatkitd:
        example = load_example().make_server(chatkitd.base_url, ADMIN_KEY, port=port)
        thread = threading.Thread(target=example.serve_forever, daemon=True)
        thread.start()
        try:
            yield chatkitd, origin
        finally:
            example.shutdown()
            example.server_close()


def test_example_page_chats_through_chatkitd(browser, integrator):
    chatkitd, origin = integrator
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    hosts = set()
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    try:
        page.goto(origin + "/")
        box = page.get_by_role("textbox", name="Message", exact=True)
        expect(box).to_have_attribute("placeholder", "Ask the demo workflow")
        box.fill("hello from the example")
        box.press("Enter")
        reply = page.locator("openai-chatkit .ck-item-assistant-message")
        expect(reply).to_contain_text("Echo: hello from the example")
    finally:
        context.close()
    # Only the integrator's page and chatkitd were contacted; no CDN, no OpenAI.
    assert hosts == {urlsplit(origin).netloc, urlsplit(chatkitd.base_url).netloc}
    # The session was minted through the SDK for the page's user, in chatkitd.
    [thread] = chatkitd.sdk(ADMIN_KEY).beta.chatkit.threads.list().data
    assert thread.user.startswith("user_")


def test_production_serves_a_home_page_not_the_playground(browser, integrator):
    chatkitd, _ = integrator  # this chatkitd runs in production mode
    context = browser.new_context()
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        page.goto(chatkitd.base_url + "/")
        expect(page.get_by_role("heading", level=2)).to_have_text(
            "This chatkitd server runs in production mode"
        )
        expect(page.locator("chatkitd-chat")).to_have_count(0)
        page.get_by_role("link", name="admin console").first.click()
        expect(page).to_have_url(chatkitd.base_url + "/admin")
    finally:
        context.close()

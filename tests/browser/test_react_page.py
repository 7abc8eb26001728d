"""A React page built with @openai/chatkit-react, as ChatKit's docs write it, on chatkitd.

The page (tests/browser/react_app) is bundled here, offline, with esbuild from the npm
packages in node_modules; its only change from a page made for OpenAI is the script tag.
It chats in Chromium in both `api` styles, with a client tool, a widget action and an
attachment, and only ever talks to its own server and chatkitd. chatkitd checks domain
keys here (CHATKITD_DOMAIN_KEYS), with the page's key registered for the page's origin.

The script tag is `async` in the head, as ChatKit's docs write it, so it may run before
React renders <openai-chatkit> or after: each test holds one of the two back to make
each order happen, and checks it did.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import FilePayload, expect

from tests.browser.conftest import ADMIN_KEY, WORKFLOWS
from tests.browser.integrator import chatkitd_and_integrator

ROOT = Path(__file__).resolve().parents[2]
APP = Path(__file__).parent / "react_app"
ESBUILD = ROOT / "node_modules" / ".bin" / "esbuild"

expect.set_options(timeout=15_000)


def bundle_app(out: Path) -> bytes:
    """The page's React bundle: @openai/chatkit-react, React and the app, by esbuild."""
    if not ESBUILD.exists():
        if os.environ.get("CI") == "true":
            pytest.fail("node_modules is missing: `make web` installs it")
        pytest.skip("node_modules is missing: run `make web` (npm ci) first")
    subprocess.run(
        [
            str(ESBUILD),
            str(APP / "main.jsx"),
            "--bundle",
            "--format=esm",
            "--jsx=automatic",
            '--define:process.env.NODE_ENV="production"',
            f"--outfile={out}",
            "--log-level=warning",
        ],
        cwd=ROOT,
        check=True,
    )
    return out.read_bytes()


@pytest.fixture(scope="module")
def react_site(tmp_path_factory) -> Iterator[tuple]:
    app_js = bundle_app(tmp_path_factory.mktemp("react") / "app.js")
    data_dir = tmp_path_factory.mktemp("react-chatkitd")
    with chatkitd_and_integrator(
        data_dir, ADMIN_KEY, WORKFLOWS, domain_key="domain_pk_support", mode="production"
    ) as (chatkitd, integrator):
        integrator.add("/index.html", (APP / "index.html").read_text())
        integrator.add("/app.js", app_js, "text/javascript")
        yield chatkitd, integrator


def load_in_order(page, url: str, order: str) -> None:
    """Open the page, making React render <openai-chatkit> before chatkitd's script defines
    it (`react_first`) or after (`script_first`), by holding the other back until then."""
    held: list = []
    page.route(
        "**/static/chatkit.js" if order == "react_first" else "**/app.js", lambda route: held.append(route)
    )
    page.goto(url, wait_until="commit")
    if order == "react_first":
        page.wait_for_function("() => document.querySelector('openai-chatkit') !== null")
        assert page.evaluate("() => customElements.get('openai-chatkit') === undefined")
    else:
        page.wait_for_function("() => customElements.get('openai-chatkit') !== undefined")
        assert page.evaluate("() => document.querySelector('openai-chatkit') === null")
    # The held request reaches this thread as an event, maybe after the page got this far.
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(25)
    assert len(held) == 1
    held[0].continue_()


@pytest.mark.parametrize("order", ["script_first", "react_first"])
@pytest.mark.parametrize("style", ["hosted", "custom"])
def test_react_page_chats_with_a_client_tool_a_widget_action_and_an_attachment(
    browser, react_site, style, order
):
    chatkitd, integrator = react_site
    context = browser.new_context(viewport={"width": 1000, "height": 800})
    context.set_default_timeout(15_000)
    page = context.new_page()
    hosts: set[str] = set()
    conversation_headers: list[dict] = []
    errors: list[str] = []
    warnings: list[str] = []
    page.on("console", lambda m: warnings.append(m.text) if m.type in ("warning", "error") else None)
    page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
    page.on(
        "request",
        lambda r: (
            conversation_headers.append(r.headers) if r.url.endswith("/v1/chatkit/conversation") else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        load_in_order(page, f"{integrator.origin}/index.html?style={style}", order)
        page.wait_for_function("() => (window.chatEvents || []).includes('ready')")
        chat = page.locator("openai-chatkit")
        # The docs' Tailwind classes size it (index.html has the CSS Tailwind makes of them).
        assert chat.bounding_box() == {"x": 0.0, "y": 0.0, "width": 320.0, "height": 600.0}
        expect(chat.get_by_role("textbox", name="Message", exact=True)).to_have_attribute(
            "placeholder", "Ask support"
        )

        # A widget action: the demo's card counts clicks on the server (threads.custom_action).
        chat.get_by_role("button", name="Show a widget").click()
        card = chat.locator(".ck-w-card")
        expect(card).to_contain_text("Clicked 0 times")
        expect(chat.get_by_role("button", name="Send message")).to_be_visible()
        card.get_by_role("button", name="Click", exact=True).click()
        expect(card).to_contain_text("Clicked 1 times")
        expect(chat.get_by_role("button", name="Send message")).to_be_visible()

        # A client tool: the page's onClientTool answers, the workflow quotes it.
        box = chat.get_by_role("textbox", name="Message", exact=True)
        box.fill("use the tool")
        box.press("Enter")
        answers = chat.locator(".ck-item-assistant-message")
        expect(answers.last).to_contain_text(
            'The client tool get_client_info answered: {"app": "support", "fields": ["locale", "time"]}'
        )
        expect(chat.get_by_role("button", name="Send message")).to_be_visible()

        # An attachment, uploaded through the style's transport, then sent with a message.
        chat.locator("input[type=file]").set_input_files(
            [FilePayload(name="invoice.txt", mimeType="text/plain", buffer=b"total: 42\n")]
        )
        expect(chat.locator(".ck-pending-attachment")).to_have_attribute("data-status", "ready")
        box.fill("here is my invoice")
        box.press("Enter")
        expect(answers.last).to_contain_text("Echo: here is my invoice")
        expect(chat.locator(".ck-item-user-message").last.locator(".ck-attachment-name")).to_have_text(
            "invoice.txt"
        )

        # useChatKit's methods reach the element.
        page.evaluate("() => window.sendFromReact('sent by React')")
        expect(answers.last).to_contain_text("Echo: sent by React")
        # The answer shows before its stream ends (and chatkit.response.end fires).
        expect(chat.get_by_role("button", name="Send message")).to_be_visible()
        seen = page.evaluate("() => window.chatEvents")
    finally:
        context.close()

    assert errors == [], errors
    assert warnings == [], warnings  # nothing reported unsupported, no failed request
    assert seen.count("ready") == 1
    assert "thread.change:thread" in seen
    assert seen.count("response.start") == seen.count("response.end") >= 5
    assert not [event for event in seen if event.startswith("error:")]
    # Only the page's own server and chatkitd: no CDN, no OpenAI.
    assert hosts == {urlsplit(integrator.origin).netloc, urlsplit(chatkitd.base_url).netloc}
    posts = [h for h in conversation_headers if "content-type" in h]
    if style == "custom":
        assert posts and all(h.get("chatkit-domain-key") == "domain_pk_support" for h in posts)
    else:
        assert posts and not any("chatkit-domain-key" in h for h in posts)

"""The renderer: every widget component, safe markdown, trace timelines, focus order.

Widgets and markdown reach the chat from the render-echo test workflow, through
the server and the stream, as any workflow's would.
"""

from __future__ import annotations

import json

import httpx2
from playwright.sync_api import expect

from tests.browser.conftest import ADMIN_KEY
from tests.browser.support import open_playground, send, wait_idle

EVERY_COMPONENT = {
    "type": "Card",
    "children": [
        {"type": "Title", "value": "All components"},
        {"type": "Caption", "value": "a caption"},
        {"type": "Text", "value": "some text", "weight": "bold"},
        {"type": "Markdown", "value": "**bold** and <b>not html</b>"},
        {"type": "Badge", "label": "new", "color": "success"},
        {"type": "Divider"},
        {
            "type": "Row",
            "gap": 2,
            "children": [
                {"type": "Box", "direction": "col", "children": [{"type": "Text", "value": "in box"}]},
                {"type": "Spacer"},
                {"type": "Col", "children": [{"type": "Icon", "name": "star"}]},
            ],
        },
        {"type": "Image", "src": "https://example.com/x.png", "alt": "remote picture"},
        {"type": "Image", "src": "data:image/gif;base64,R0lGODlhAQABAAAAACw=", "alt": "inline"},
        {
            "type": "ListView",
            "children": [
                {
                    "type": "ListViewItem",
                    "onClickAction": {"type": "pick", "payload": {"n": 1}},
                    "children": [{"type": "Text", "value": "item one"}],
                }
            ],
        },
        {
            "type": "Form",
            "onSubmitAction": {"type": "save", "payload": {"form": "f1"}},
            "children": [
                {"type": "Input", "name": "name", "defaultValue": "Ada"},
                {"type": "Textarea", "name": "note", "placeholder": "Note"},
                {
                    "type": "Select",
                    "name": "size",
                    "options": [{"value": "s", "label": "Small"}, {"value": "l", "label": "Large"}],
                    "defaultValue": "l",
                },
                {"type": "Checkbox", "name": "agree", "label": "I agree", "defaultChecked": True},
                {
                    "type": "RadioGroup",
                    "name": "colour",
                    "options": [{"value": "red", "label": "Red"}, {"value": "blue", "label": "Blue"}],
                    "defaultValue": "blue",
                },
                {"type": "DatePicker", "name": "day", "defaultValue": "2026-01-02T00:00:00"},
                {"type": "Button", "label": "Save", "submit": True},
            ],
        },
        {"type": "Button", "label": "Go", "onClickAction": {"type": "go", "payload": {"x": 1}}},
    ],
}


def show_widget(recorded, ui_user, tree):
    """The chat showing `tree`, answered by the render-echo workflow."""
    page = open_playground(recorded, ui_user, workflow="render-echo")
    send(page, "widget:" + json.dumps(tree))
    wait_idle(page)
    return page


def test_every_widget_component_renders_and_sends_its_actions(recorded, ui_user):
    page = show_widget(recorded, ui_user, EVERY_COMPONENT)
    host = page.locator("chatkitd-chat .ck-item-widget")
    rendered = host.locator("[data-widget]").evaluate_all("els => els.map(el => el.dataset.widget)")
    for component in (
        "Card", "Title", "Caption", "Text", "Markdown", "Badge", "Divider", "Row", "Box", "Spacer",
        "Col", "Icon", "Image", "ListView", "ListViewItem", "Form", "Input", "Textarea", "Select",
        "Checkbox", "RadioGroup", "DatePicker", "Button",
    ):  # fmt: skip
        assert component in rendered, component
    expect(host.locator("[data-widget=Markdown] strong")).to_have_text("bold")
    expect(host.locator("[data-widget=Markdown]")).to_contain_text("<b>not html</b>")
    # An image from a host nobody allowed is not fetched; data: images are.
    expect(host.get_by_text("remote picture")).to_be_visible()
    expect(host.locator("img")).to_have_count(1)

    replies = page.locator("chatkitd-chat .ck-item-assistant-message")
    host.get_by_role("button", name="Go").click()
    expect(replies.last).to_have_text('action go {"x": 1}')
    wait_idle(page)
    host.get_by_role("button", name="item one").press("Enter")
    expect(replies.last).to_have_text('action pick {"n": 1}')
    wait_idle(page)
    host.get_by_role("textbox", name="Note").fill("hello")
    host.get_by_role("button", name="Save").click()
    # Form values are merged into the action's payload, as ChatKit does.
    payload = {
        "agree": True, "colour": "blue", "day": "2026-01-02", "form": "f1",
        "name": "Ada", "note": "hello", "size": "l",
    }  # fmt: skip
    expect(replies.last).to_have_text(f"action save {json.dumps(payload, sort_keys=True)}")


def test_markdown_escapes_html_and_drops_unsafe_links(recorded, ui_user):
    page = open_playground(recorded, ui_user, workflow="render-echo")
    send(
        page,
        "md:<img src=x onerror=alert(1)> [bad](javascript:alert(1)) [good](https://example.com/?a=1&b=2)\n\n"
        "```\n<script>x</script>\n```\n- *one*\n- `two`",
    )
    wait_idle(page)
    html = page.locator("chatkitd-chat .ck-item-assistant-message .ck-markdown").inner_html()
    assert "<img" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "javascript:" not in html.replace("(javascript:alert(1))", "")
    assert 'href="https://example.com/?a=1&amp;b=2"' in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html and "<script" not in html
    assert "<em>one</em>" in html and "<code>two</code>" in html


def test_admin_trace_timeline_renders_spans(recorded, ui_user):
    server = recorded.server
    session = httpx2.post(server.base_url + "/playground/session", json={"user": ui_user}).json()
    body = {
        "type": "threads.create",
        "params": {
            "input": {
                "content": [{"type": "input_text", "text": "trace me"}],
                "attachments": [],
                "inference_options": {},
            }
        },
    }
    stream = httpx2.post(
        server.base_url + "/v1/chatkit/conversation",
        json=body,
        headers={"authorization": f"Bearer {session['client_secret']}"},
        timeout=30,
    ).text
    thread_id = json.loads(stream.split("\n\n")[0][6:])["thread"]["id"]
    trace = {
        "id": "trace_1",
        "object": "chatkit.trace",
        "name": "demo run",
        "started_at": 100.0,
        "ended_at": 101.0,
        "error": None,
        "spans": [
            {"id": "s1", "name": "workflow", "kind": "agent", "started_at": 100.0, "ended_at": 101.0},
            {"id": "s2", "name": "model call", "kind": "generation", "started_at": 100.2, "ended_at": 100.7},
        ],
    }
    page = recorded.page
    # Stand in for the traces API (workflows branch): the list omits spans, the trace has them.
    summary = {key: value for key, value in trace.items() if key != "spans"}
    page.route(
        "**/v1/chatkit/traces?*",
        lambda route: route.fulfill(json={"object": "list", "data": [summary], "has_more": False}),
    )
    page.route("**/v1/chatkit/traces/trace_1", lambda route: route.fulfill(json=trace))
    page.goto(server.base_url + "/admin")
    page.get_by_label("Admin key").fill(ADMIN_KEY)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("table.data")).to_be_visible()
    page.evaluate("(id) => window.admin.showThread(id)", thread_id)
    rows = page.locator(".trace .span-row")
    expect(rows).to_have_count(2)
    expect(page.locator(".trace h4")).to_have_text("demo run · 1000 ms")
    bar = rows.nth(1).locator(".span-bar")
    assert bar.evaluate("el => el.style.left") == "20%"
    assert bar.evaluate("el => el.style.width") == "50%"


def test_focus_order_and_accessible_names(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    send(page, "hello focus")
    wait_idle(page)
    unnamed = page.evaluate(
        """() => {
          const root = document.querySelector("chatkitd-chat").shadowRoot;
          return [...root.querySelectorAll("button, input:not([type=file]), textarea, select")]
            .filter((el) => !el.hidden && el.offsetParent !== null)
            .filter((el) => !(el.getAttribute("aria-label") || el.textContent.trim() || el.closest("label")))
            .map((el) => el.outerHTML);
        }"""
    )
    assert unnamed == []
    # Tab order: history, then the header, the conversation, the composer.
    page.locator("chatkitd-chat .ck-thread-open").first.focus()
    order: list[str | None] = []
    # Tab until the last control is reached; how many stops lie before it depends
    # on the thread (its items' buttons), so the bound is generous.
    while "Send message" not in order and len(order) < 40:
        page.keyboard.press("Tab")
        order.append(
            page.evaluate(
                """() => {
                  const el = document.querySelector("chatkitd-chat").shadowRoot.activeElement;
                  return el ? (el.getAttribute("aria-label") || el.textContent.trim()) : null;
                }"""
            )
        )
    wanted = ["Toggle history", "New chat", "Good response", "Retry", "Attach files", "Message"]
    wanted.append("Send message")
    assert set(wanted) <= set(order), order
    positions = [order.index(name) for name in wanted]
    assert positions == sorted(positions), order

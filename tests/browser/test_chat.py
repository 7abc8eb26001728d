"""<chatkitd-chat> against a real chatkitd and its demo workflow, in Chromium."""

from __future__ import annotations

import json
import re

from playwright.sync_api import FilePayload, expect

from tests.browser.conftest import ADMIN_KEY
from tests.browser.support import assistant_messages, composer, open_playground, send, wait_idle


def test_streamed_reply_with_annotation_title_and_history(recorded, ui_user):
    page = open_playground(recorded, ui_user)

    def is_create(response) -> bool:
        return (response.request.post_data_json or {}).get("type") == "threads.create"

    with page.expect_response(is_create) as first:
        send(page, "hello there")
    assert first.value.headers["content-type"].startswith("text/event-stream")
    reply = assistant_messages(page).last
    expect(reply).to_contain_text("Echo: hello there")
    source = reply.get_by_role("link", name="ChatKit Python")
    expect(source).to_have_attribute("href", "https://openai.github.io/chatkit-python/")
    wait_idle(page)
    # The thread's title arrives live (thread.updated) and the sidebar lists it.
    title = page.locator("chatkitd-chat .ck-title")
    expect(title).not_to_have_text("New chat")
    expect(page.locator("chatkitd-chat .ck-thread-open")).to_have_text([title.inner_text()])
    assert recorded.types()[-1] == "threads.list"
    assert "threads.create" in recorded.types()


def test_keyboard_enter_sends_and_shift_enter_adds_a_line(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    box = composer(page)
    box.fill("line one")
    box.press("Shift+Enter")
    box.type("line two")
    expect(box).to_have_value("line one\nline two")
    box.press("Enter")
    expect(page.locator("chatkitd-chat .ck-item-user-message")).to_have_text("line one\nline two")
    expect(box).to_have_value("")


def test_widget_button_action_comes_back_as_custom_action(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    send(page, "show me a widget")
    card = page.locator("chatkitd-chat .ck-w-card")
    expect(card).to_contain_text("Demo counter")
    expect(card).to_contain_text("Clicked 0 times")
    wait_idle(page)
    card.get_by_role("button", name="Click", exact=True).click()
    expect(card).to_contain_text("Clicked 1 times")
    wait_idle(page)
    card.get_by_role("button", name="Click (sync)").click()
    expect(card).to_contain_text("Clicked 2 times")
    actions = [op for op in recorded.operations if "custom_action" in op["type"]]
    assert [op["type"] for op in actions] == ["threads.custom_action", "threads.sync_custom_action"]
    assert actions[0]["params"]["action"]["type"] == "demo.increment"
    assert actions[0]["params"]["item_id"].startswith("cthi_")


def test_client_tool_round_trip_and_unknown_tool(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    send(page, "use the tool")
    reply = assistant_messages(page).last
    expect(reply).to_contain_text("The client tool get_client_info answered:")
    expect(reply).to_contain_text('"locale": "en-US"')
    tool = page.locator("chatkitd-chat .ck-item-client-tool-call")
    expect(tool).to_contain_text("completed")
    output = [op for op in recorded.operations if op["type"] == "threads.add_client_tool_output"]
    assert output[0]["params"]["result"]["locale"] == "en-US"
    wait_idle(page)

    # Without a handler for the tool, the page answers with an error output.
    page.evaluate(
        "() => { const c = window.playground.chat; c.setOptions({...c.options, onClientTool: {}}); }"
    )
    send(page, "tool again")
    expect(assistant_messages(page).last).to_contain_text("Unknown client tool: get_client_info")


def test_upload_under_the_limit_is_sent_and_over_it_is_refused_before_upload(recorded, ui_user):
    page = open_playground(recorded, ui_user, max_file_size="1")
    file_input = page.locator("chatkitd-chat input[type=file]")
    file_input.set_input_files(
        [FilePayload(name="notes.txt", mimeType="text/plain", buffer=b"hello file\n" * 1000)]
    )
    pending = page.locator("chatkitd-chat .ck-pending-attachment")
    expect(pending).to_have_attribute("data-status", "ready")
    send(page, "here is a file")
    user_message = page.locator("chatkitd-chat .ck-item-user-message").last
    expect(user_message.locator(".ck-attachment-name")).to_have_text("notes.txt")
    expect(pending).to_have_count(0)
    wait_idle(page)

    creates_before = recorded.types().count("attachments.create")
    uploads_before = sum("/upload" in url for url in recorded.urls)
    file_input.set_input_files(
        [FilePayload(name="big.bin", mimeType="application/octet-stream", buffer=b"x" * (1024 * 1024 + 1))]
    )
    error = page.locator("chatkitd-chat .ck-composer-error")
    expect(error).to_have_text("“big.bin” is 1.0 MB; the limit is 1.0 MB per file.")
    expect(pending).to_have_count(0)
    assert recorded.types().count("attachments.create") == creates_before
    assert sum("/upload" in url for url in recorded.urls) == uploads_before


def test_history_list_rename_delete(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    send(page, "first conversation")
    wait_idle(page)
    expect(assistant_messages(page)).to_have_count(1)
    page.locator("chatkitd-chat").get_by_role("button", name="New chat").click()
    expect(page.locator("chatkitd-chat .ck-greeting")).to_be_visible()
    send(page, "second conversation")
    wait_idle(page)
    threads = page.locator("chatkitd-chat .ck-thread")
    expect(threads).to_have_count(2)

    # Rename the older thread, then open it: the header shows the new title.
    older = threads.nth(1)
    older.locator(".ck-thread-rename").click()
    title_input = page.locator("chatkitd-chat").get_by_label("Conversation title")
    title_input.fill("Renamed by the test")
    title_input.press("Enter")
    expect(threads.nth(1).locator(".ck-thread-open")).to_have_text("Renamed by the test")
    threads.nth(1).locator(".ck-thread-open").click()
    expect(page.locator("chatkitd-chat .ck-title")).to_have_text("Renamed by the test")
    expect(page.locator("chatkitd-chat .ck-item-user-message")).to_have_text("first conversation")

    # Delete it (two clicks: arm, confirm); it is gone after a reload too.
    delete = threads.nth(1).locator(".ck-thread-delete")
    delete.click()
    expect(delete).to_have_attribute("aria-label", "Confirm delete Renamed by the test")
    delete.click()
    expect(threads).to_have_count(1)
    expect(page.locator("chatkitd-chat .ck-title")).to_have_text("New chat")
    page.reload()
    expect(page.locator("chatkitd-chat .ck-thread")).to_have_count(1)
    expect(page.locator("chatkitd-chat .ck-thread-open")).not_to_have_text("Renamed by the test")


def test_retry_regenerates_the_last_response(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    send(page, "hello retry")
    expect(assistant_messages(page)).to_contain_text(["Echo: hello retry"])
    wait_idle(page)
    first_id = assistant_messages(page).get_attribute("data-item-id")
    page.locator("chatkitd-chat").get_by_role("button", name="Retry", exact=True).click()
    wait_idle(page)
    expect(assistant_messages(page)).to_have_count(1)
    expect(assistant_messages(page)).to_contain_text("Echo: hello retry")
    assert assistant_messages(page).get_attribute("data-item-id") != first_id
    retry = [op for op in recorded.operations if op["type"] == "threads.retry_after_item"]
    user_item = page.locator("chatkitd-chat .ck-item-user-message").get_attribute("data-item-id")
    assert retry[0]["params"]["item_id"] == user_item


def test_a_locked_thread_offers_no_retry_and_a_refused_retry_keeps_the_answer(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    send(page, "please lock this")
    wait_idle(page)
    expect(page.locator("chatkitd-chat .ck-status-banner")).to_contain_text("locked")
    answer = assistant_messages(page).last
    expect(answer).to_contain_text("locked")
    expect(answer.get_by_role("button", name="Retry", exact=True)).to_be_hidden()
    # Read back from the server, the thread still offers none.
    page.reload()
    page.locator("chatkitd-chat .ck-thread").first.click()
    expect(answer).to_contain_text("locked")
    expect(answer.get_by_role("button", name="Retry", exact=True)).to_be_hidden()
    # A retry the page asks for anyway is refused, and the answer stays on screen.
    answer_id = answer.get_attribute("data-item-id")
    page.evaluate("() => window.playground.chat.retry(null)")
    expect(page.locator("chatkitd-chat .ck-status-banner")).to_contain_text("locked")
    wait_idle(page)
    assert recorded.types()[-1] == "threads.retry_after_item"
    expect(assistant_messages(page)).to_have_count(1)
    assert assistant_messages(page).get_attribute("data-item-id") == answer_id


def test_the_run_tasks_start_prompt_runs_the_demo_s_tasks(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    page.locator("chatkitd-chat").get_by_role("button", name="Run tasks").click()
    wait_idle(page)
    expect(page.locator("chatkitd-chat .ck-item-user-message")).to_have_text("tasks")
    expect(page.locator("chatkitd-chat .ck-task")).to_have_count(2)
    expect(assistant_messages(page).last).to_contain_text("Both tasks are done.")


def test_stop_mid_stream_cancels_and_keeps_the_partial_answer(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    send(page, "a slow answer please")
    reply = assistant_messages(page).last
    expect(reply).to_contain_text("word3")
    page.locator("chatkitd-chat").get_by_role("button", name="Stop").click()
    wait_idle(page)
    expect(reply).to_have_class(re.compile("ck-stopped"))
    shown = reply.locator(".ck-markdown").inner_text()
    assert "word200" not in shown

    # The server saved what was streamed before the stop, no more.
    thread_id = page.evaluate("() => window.playground.chat.thread.id")
    client = recorded.server.sdk(ADMIN_KEY)
    text = ""
    for _ in range(50):
        items = client.beta.chatkit.threads.list_items(thread_id, order="asc").data
        text = " ".join(c.text for i in items if i.type == "chatkit.assistant_message" for c in i.content)
        if text:
            break
        page.wait_for_timeout(100)
    assert text.startswith("word1 word2 word3")
    assert "word200" not in text


def test_a_cancelled_secret_is_replaced_through_get_client_secret(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    send(page, "before the cancel")
    expect(assistant_messages(page).last).to_contain_text("Echo: before the cancel")
    wait_idle(page)
    first = page.evaluate("window.playground.sessions.at(-1)")
    recorded.server.sdk(ADMIN_KEY).beta.chatkit.sessions.cancel(first["id"])

    send(page, "after the cancel")
    expect(assistant_messages(page).last).to_contain_text("Echo: after the cancel")
    requests = page.evaluate("window.playground.secretRequests")
    # The refresh passed the dead secret to getClientSecret, and got a new session.
    assert requests[-1] == first["client_secret"]
    assert page.evaluate("window.playground.sessions.at(-1).id") != first["id"]
    expect(page.locator("chatkitd-chat .ck-error")).to_have_count(0)


def test_a_secret_past_its_expiry_is_replaced_through_get_client_secret(recorded, ui_user):
    page = open_playground(recorded, ui_user, expires_seconds="3")
    send(page, "before the expiry")
    expect(assistant_messages(page).last).to_contain_text("Echo: before the expiry")
    wait_idle(page)
    first = page.evaluate("window.playground.sessions.at(-1)")
    # Wait, from the page's side, until the server's clock has passed expires_at.
    page.wait_for_function(f"() => Date.now() / 1000 > {first['expires_at']} + 0.5", timeout=10_000)

    send(page, "after the expiry")
    expect(assistant_messages(page).last).to_contain_text("Echo: after the expiry")
    # The server refused the old secret as expired; the chat asked for a new one.
    assert page.evaluate("window.playground.secretRequests").pop() == first["client_secret"]
    assert page.evaluate("window.playground.sessions.at(-1).id") != first["id"]
    expect(page.locator("chatkitd-chat .ck-error")).to_have_count(0)
    status = recorded.server.sdk(ADMIN_KEY).beta.chatkit.sessions.cancel(first["id"]).status
    assert status == "expired"


def test_locked_thread_shows_its_reason_and_disables_the_composer(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    send(page, "please lock this")
    banner = page.locator("chatkitd-chat .ck-status-banner")
    # The reason is the workflow's own words, after the status.
    reason = re.compile(r"^This conversation is locked: The demo workflow \w+ this thread")
    expect(banner).to_have_text(reason)
    expect(composer(page)).to_be_disabled()
    # A message sent anyway (by the page) is refused by the server with the same reason.
    page.evaluate("() => window.playground.chat.sendUserMessage({ text: 'still there?' })")
    expect(page.locator("chatkitd-chat .ck-status-banner")).to_contain_text("locked")
    assert recorded.types()[-1] == "threads.add_user_message"
    expect(composer(page)).to_have_value("still there?")
    expect(page.locator("chatkitd-chat .ck-item-user-message")).to_have_count(1)


def test_rate_limit_shows_the_time_to_retry_and_keeps_the_message(recorded, ui_user):
    page = open_playground(recorded, ui_user, max_requests_per_1_minute="3")
    banner = page.locator("chatkitd-chat .ck-rate-limit")
    # Loading history, creating the thread and reloading history use up the three.
    send(page, "one")
    expect(assistant_messages(page)).to_have_count(1)
    wait_idle(page)
    send(page, "two")
    expect(banner).to_have_text(re.compile(r"^Too many requests\. Try again in \d+ seconds?\.$"))
    found = re.search(r"\d+", banner.inner_text())
    assert found
    seconds = int(found.group())
    assert 1 <= seconds <= 60
    expect(page.get_by_role("button", name="Send message")).to_be_disabled()
    # The refused message is back in the composer, not lost.
    expect(composer(page)).to_have_value("two")


def test_structured_input_is_answered_in_place(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    send(page, "ask me a question")
    form = page.locator("chatkitd-chat form.ck-structured")
    form.get_by_label("green").check()
    form.get_by_label("What should I call you?").fill("Tester")
    form.get_by_role("button", name="Submit").click()
    expect(assistant_messages(page).last).to_contain_text("You answered: colour=green; name=Tester")
    answered = page.locator("chatkitd-chat .ck-item-structured-input")
    expect(answered.locator(".ck-structured-answer")).to_have_text(["green", "Tester"])
    sent = [op for op in recorded.operations if op["type"] == "threads.add_structured_input"]
    assert sent[0]["params"]["input"]["answers"]["colour"] == {"values": ["green"], "skipped": False}


def tiny_png() -> bytes:
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    pixels = zlib.compress(b"".join(b"\x00" + b"\xff\x00\x00" * 2 for _ in range(2)))
    header = struct.pack(">IIBBBBB", 2, 2, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def test_upload_shows_progress_and_an_image_preview_loads(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    held = []
    # Hold the upload itself, to see the file while it is in flight.
    page.route("**/v1/chatkit/files/*/upload*", lambda route: held.append(route))
    page.locator("chatkitd-chat input[type=file]").set_input_files(
        [FilePayload(name="dot.png", mimeType="image/png", buffer=tiny_png())]
    )
    pending = page.locator("chatkitd-chat .ck-pending-attachment")
    expect(pending).to_have_attribute("data-status", "uploading")
    expect(pending.get_by_role("progressbar", name="Uploading dot.png")).to_be_visible()
    # Sending waits for uploads: Enter does nothing yet.
    send(page, "look at this")
    expect(page.locator("chatkitd-chat .ck-item-user-message")).to_have_count(0)
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    assert held, "the upload request was not made"
    held[0].continue_()
    expect(pending).to_have_attribute("data-status", "ready")
    page.get_by_role("button", name="Send message").click()
    preview = page.locator("chatkitd-chat .ck-item-user-message img.ck-attachment-preview")
    expect(preview).to_have_attribute("alt", "dot.png")
    page.wait_for_function(
        """() => {
          const root = document.querySelector("chatkitd-chat").shadowRoot;
          const img = root.querySelector(".ck-attachment-preview");
          return img && img.complete && img.naturalWidth === 2;
        }"""
    )


def test_history_honours_recent_threads(recorded, ui_user):
    page = open_playground(recorded, ui_user, recent_threads="1")
    note = page.locator("chatkitd-chat .ck-history-note")
    expect(note).to_have_text("Showing your most recent conversation.")  # plural rules: one
    send(page, "older thread")
    wait_idle(page)
    page.locator("chatkitd-chat").get_by_role("button", name="New chat").click()
    send(page, "newer thread")
    wait_idle(page)
    threads = page.locator("chatkitd-chat .ck-thread-open")
    expect(threads).to_have_count(1)
    expect(threads).to_have_text(re.compile("newer thread"))


def test_workflow_error_keeps_the_message_and_offers_retry(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    send(page, "please fail")
    error = page.locator("chatkitd-chat .ck-error")
    expect(error).to_contain_text("Something went wrong")
    expect(page.locator("chatkitd-chat .ck-item-user-message")).to_have_text("please fail")
    error.get_by_role("button", name="Retry response").click()
    wait_idle(page)
    expect(page.locator("chatkitd-chat .ck-error")).to_have_count(1)  # it fails again, once
    assert recorded.types().count("threads.retry_after_item") == 1


def test_dark_theme_and_compact_density(recorded, ui_user):
    from tests.browser.conftest import SCREENSHOTS

    page = open_playground(recorded, ui_user, scheme="dark")
    root = page.locator("chatkitd-chat .ck-root")
    expect(root).to_have_attribute("data-scheme", "dark")
    background = root.evaluate("el => getComputedStyle(el).backgroundColor")
    assert background == "rgb(21, 23, 28)"
    send(page, "show a widget in the dark")
    expect(page.locator("chatkitd-chat .ck-w-card")).to_contain_text("Demo counter")
    wait_idle(page)
    theme = {"colorScheme": "dark", "density": "compact", "accent": "#0f766e"}
    page.evaluate(
        "(theme) => { const c = window.playground.chat; c.setOptions({...c.options, theme}); }", theme
    )
    expect(root).to_have_attribute("data-density", "compact")
    accent = root.evaluate("el => getComputedStyle(el).getPropertyValue('--ck-accent').trim()")
    assert accent == "#0f766e"
    page.locator("chatkitd-chat").screenshot(path=str(SCREENSHOTS / "playground-dark.png"))


def test_public_methods_dom_events_and_history_off(recorded, ui_user):
    page = open_playground(recorded, ui_user)
    page.evaluate(
        """() => {
          const c = window.playground.chat;
          window.domEvents = [];
          for (const name of ["chatkit.response.start", "chatkit.response.end", "chatkit.thread.change"]) {
            c.addEventListener(name, (e) => window.domEvents.push([name, e.detail]));
          }
          return c.sendUserMessage({ text: "sent by the page" });
        }"""
    )
    expect(assistant_messages(page)).to_contain_text(["Echo: sent by the page"])
    thread_id = page.evaluate("() => window.playground.chat.thread.id")
    names = [name for name, _ in page.evaluate("() => window.domEvents")]
    assert names[:3] == ["chatkit.response.start", "chatkit.thread.change", "chatkit.response.end"]

    page.evaluate("() => window.playground.chat.setThreadId(null)")
    expect(page.locator("chatkitd-chat .ck-title")).to_have_text("New chat")
    expect(assistant_messages(page)).to_have_count(0)
    page.evaluate("(id) => window.playground.chat.setThreadId(id)", thread_id)
    expect(assistant_messages(page)).to_contain_text(["Echo: sent by the page"])

    page.evaluate(
        "() => { const c = window.playground.chat; c.setOptions({...c.options, history: {enabled: false}}); }"
    )
    expect(page.locator("chatkitd-chat .ck-history")).to_be_hidden()
    expect(page.locator("chatkitd-chat").get_by_role("button", name="Toggle history")).to_be_hidden()


def test_opening_a_long_thread_loads_every_page_of_items(recorded, ui_user):
    import httpx2

    page = open_playground(recorded, ui_user)
    secret = page.evaluate("() => window.playground.sessions.at(-1).client_secret")
    url = recorded.server.base_url + "/v1/chatkit/conversation"
    headers = {"authorization": f"Bearer {secret}"}

    def user_input(text):
        return {"content": [{"type": "input_text", "text": text}], "attachments": [], "inference_options": {}}

    created = httpx2.post(
        url, json={"type": "threads.create", "params": {"input": user_input("message 1")}}, headers=headers
    )
    thread_id = json.loads(created.text.split("\n\n")[0][len("data: ") :])["thread"]["id"]
    for n in range(2, 16):  # 15 exchanges: 30 items, more than one page of 20
        body = {
            "type": "threads.add_user_message",
            "params": {"thread_id": thread_id, "input": user_input(f"message {n}")},
        }
        assert httpx2.post(url, json=body, headers=headers, timeout=30).status_code == 200
    page.reload()
    page.locator("chatkitd-chat .ck-thread-open").first.click()
    users = page.locator("chatkitd-chat .ck-item-user-message")
    expect(users).to_have_count(15)
    expect(users.last).to_have_text("message 15")
    expect(assistant_messages(page).last).to_contain_text("Echo: message 15")


def test_max_files_is_checked_before_upload(recorded, ui_user):
    page = open_playground(recorded, ui_user, max_files="1")
    file_input = page.locator("chatkitd-chat input[type=file]")
    file_input.set_input_files([FilePayload(name="a.txt", mimeType="text/plain", buffer=b"a")])
    expect(page.locator("chatkitd-chat .ck-pending-attachment")).to_have_attribute("data-status", "ready")
    file_input.set_input_files([FilePayload(name="b.txt", mimeType="text/plain", buffer=b"b")])
    error = page.locator("chatkitd-chat .ck-composer-error")
    expect(error).to_have_text("You can attach at most 1 file in this session.")
    assert recorded.types().count("attachments.create") == 1

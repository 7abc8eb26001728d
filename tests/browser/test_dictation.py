"""Dictation in the browser: Chromium's fake microphone records, the chat sends the recording as
`input.transcribe`, chatkitd forwards it over real HTTP to a stand-in OpenAI-compatible
transcription server on loopback, and the text lands in the message box."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ADMIN_KEY, CHROMIUM, CHROMIUM_ARGS, WORKFLOWS, RecordedPage
from tests.browser.support import assistant_messages, open_playground
from tests.support.fake_transcription import (
    FakeTranscription,
    chatkitd_with_dictation,
    fake_transcription_server,
)
from tests.support.servers import RunningServer


@pytest.fixture(scope="module")
def endpoint() -> Iterator[FakeTranscription]:
    with fake_transcription_server() as fake:
        yield fake


@pytest.fixture(scope="module")
def dictating_server(endpoint, tmp_path_factory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("dictation-ui")
    with chatkitd_with_dictation(
        endpoint, data_dir, ADMIN_KEY, mode="development", workflows_dir=WORKFLOWS
    ) as running:
        yield running


@pytest.fixture(scope="module")
def microphone_browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not found")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Chromium's own fake microphone (a beeping tone), granted without a prompt.
        args = [*CHROMIUM_ARGS, "--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            yield launched
        finally:
            launched.close()


@contextlib.contextmanager
def microphone_page(browser, server: RunningServer, locale: str) -> Iterator[tuple[RecordedPage, Page]]:
    """The playground on `server` (render-echo) with the microphone granted; no page errors after."""
    context = browser.new_context(viewport={"width": 1100, "height": 760}, locale=locale)
    context.set_default_timeout(15_000)
    context.grant_permissions(["microphone"], origin=server.base_url)
    recorded = RecordedPage(context.new_page(), server)
    try:
        yield recorded, open_playground(recorded, f"ui_{uuid.uuid4().hex[:8]}", workflow="render-echo")
    finally:
        context.close()
    assert recorded.errors == []
    assert recorded.foreign_requests() == []


def test_dictation_fills_the_message_box_from_the_microphone(microphone_browser, dictating_server, endpoint):
    try:
        with microphone_page(microphone_browser, dictating_server, "de-DE") as (recorded, page):
            chat = page.locator("chatkitd-chat")
            box = chat.get_by_role("textbox", name="Nachricht", exact=True)
            box.fill("Notiz:")
            mic = chat.get_by_role("button", name="Diktieren", exact=True)
            mic.click()
            stop = chat.get_by_role("button", name="Diktat beenden", exact=True)
            expect(stop).to_have_attribute("aria-pressed", "true")
            page.wait_for_timeout(1200)  # a second of the fake microphone's tone
            stop.click()
            expect(box).to_have_value("Notiz: hello from the microphone")
            expect(chat.get_by_role("button", name="Diktieren", exact=True)).to_have_attribute(
                "aria-pressed", "false"
            )
            assert "input.transcribe" in recorded.types()
            [sent] = endpoint.requests
            upload = sent["fields"]["file"]
            assert upload["content_type"] in ("audio/webm", "audio/ogg", "audio/mp4")
            assert len(upload["data"]) > 1000  # a real recording, not an empty blob
            assert upload["data"][:4] == b"\x1aE\xdf\xa3"  # the WebM (EBML) signature Chromium records in
            assert sent["fields"]["language"] == "de"
            box.press("Enter")
            expect(assistant_messages(page).last).to_have_text("Echo: Notiz: hello from the microphone")
            expect(chat.get_by_role("button", name="Nachricht senden", exact=True)).to_be_visible()

            # The endpoint failing is said in the composer; nothing typed is lost.
            endpoint.status = 500
            box.fill("kept")
            chat.get_by_role("button", name="Diktieren", exact=True).click()
            page.wait_for_timeout(400)
            chat.get_by_role("button", name="Diktat beenden", exact=True).click()
            expect(chat.locator(".ck-composer-error")).to_contain_text("transcription endpoint failed")
            expect(box).to_have_value("kept")
    finally:
        endpoint.status = 200


def test_the_mic_is_hidden_when_the_server_cannot_transcribe(microphone_browser, ui_server):
    """No CHATKITD_TRANSCRIPTION_*: the playground offers no mic; a page that turns dictation on
    anyway loses its mic at the server's first `transcription_not_supported`, saying why."""
    with microphone_page(microphone_browser, ui_server, "en-US") as (recorded, page):
        chat = page.locator("chatkitd-chat")
        expect(chat.get_by_role("textbox", name="Message", exact=True)).to_be_visible()
        mic = chat.locator(".ck-dictate")
        expect(mic).to_be_hidden()
        page.evaluate(
            """() => {
              const chat = window.playground.chat;
              const composer = { ...chat.options.composer, dictation: { enabled: true } };
              chat.setOptions({ ...chat.options, composer });
            }"""
        )
        chat.get_by_role("button", name="Dictate", exact=True).click()
        page.wait_for_timeout(300)
        chat.get_by_role("button", name="Stop dictation", exact=True).click()
        expect(chat.locator(".ck-composer-error")).to_contain_text("Dictation is off")
        expect(mic).to_be_hidden()
        assert "input.transcribe" in recorded.types()

"""Dictation (`input.transcribe`) through a configured OpenAI-compatible transcription endpoint,
over real HTTP on loopback: what is sent there, what comes back, and every refusal."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator

import pytest

from tests.conftest import ADMIN_KEY
from tests.support.chat import Chat, error_of, new_session
from tests.support.fake_transcription import (
    FakeTranscription,
    chatkitd_with_dictation,
    fake_transcription_server,
)
from tests.support.servers import RunningServer

AUDIO = b"\x1aE\xdf\xa3" + bytes(range(256)) * 8  # a WebM header, then bytes


@pytest.fixture(scope="module")
def endpoint() -> Iterator[FakeTranscription]:
    with fake_transcription_server() as fake:
        yield fake


@pytest.fixture(scope="module")
def dictating_server(endpoint, tmp_path_factory) -> Iterator[RunningServer]:
    data_dir = tmp_path_factory.mktemp("dictation")
    with chatkitd_with_dictation(
        endpoint, data_dir, ADMIN_KEY, transcription_api_key="sk-transcribe-test"
    ) as running:
        yield running


@pytest.fixture
def chat(dictating_server, endpoint) -> Iterator[Chat]:
    endpoint.requests.clear()
    endpoint.status = 200
    with dictating_server.sdk(ADMIN_KEY) as sdk:
        session = new_session(sdk, f"user_{uuid.uuid4().hex[:8]}")
    chat = Chat(dictating_server, session.client_secret, headers={"Accept-Language": "fr-FR,fr;q=0.9"})
    yield chat
    chat.close()


def transcribe(chat: Chat, audio: bytes = AUDIO, mime_type: str = "audio/webm;codecs=opus"):
    return chat.post("input.transcribe", audio_base64=base64.b64encode(audio).decode(), mime_type=mime_type)


def test_the_recording_goes_to_the_endpoint_and_its_text_comes_back(chat, endpoint):
    response = transcribe(chat)
    assert response.status_code == 200, response.text
    assert response.json() == {"text": "hello from the microphone"}
    [sent] = endpoint.requests
    assert sent["path"] == "/v1/audio/transcriptions"
    assert sent["authorization"] == "Bearer sk-transcribe-test"  # the server's key, not the client's
    assert sent["fields"]["model"] == "whisper-large-v3"
    assert sent["fields"]["language"] == "fr"  # from the chat's Accept-Language
    upload = sent["fields"]["file"]
    assert upload["data"] == AUDIO
    assert upload["filename"] == "dictation.webm" and upload["content_type"] == "audio/webm"


def test_ogg_and_mp4_recordings_are_named_for_their_container(chat, endpoint):
    for mime, name in (("audio/ogg;codecs=opus", "dictation.ogg"), ("audio/mp4", "dictation.mp4")):
        assert transcribe(chat, mime_type=mime).status_code == 200
        assert endpoint.requests[-1]["fields"]["file"]["filename"] == name


@pytest.mark.parametrize(
    ("audio_base64", "mime_type", "param", "code"),
    [
        ("not base64!", "audio/webm", "params.audio_base64", "invalid_base64"),
        ("", "audio/webm", "params.audio_base64", "empty_audio"),
        (base64.b64encode(b"<svg/>").decode(), "image/svg+xml", "params.mime_type", "invalid_audio_type"),
        (base64.b64encode(AUDIO).decode(), "", "params.mime_type", "invalid_audio_type"),
    ],
)
def test_bad_recordings_are_refused_before_the_endpoint_is_called(
    chat, endpoint, audio_base64, mime_type, param, code
):
    response = chat.post("input.transcribe", audio_base64=audio_base64, mime_type=mime_type)
    assert response.status_code == 400
    error = error_of(response)
    assert (error["param"], error["code"]) == (param, code)
    assert endpoint.requests == []


def test_an_endpoint_failure_is_a_502_naming_it(chat, endpoint):
    endpoint.status = 500
    response = transcribe(chat)
    assert response.status_code == 502
    error = error_of(response)
    assert error["code"] == "transcription_failed" and error["type"] == "server_error"
    assert "sk-transcribe-test" not in response.text


def test_without_an_endpoint_dictation_is_off(server, client, user):
    with Chat(server, new_session(client, user).client_secret) as plain:
        response = plain.post(
            "input.transcribe", audio_base64=base64.b64encode(AUDIO).decode(), mime_type="audio/webm"
        )
    assert response.status_code == 400
    error = error_of(response)
    assert (
        error["code"] == "transcription_not_supported"
        and "CHATKITD_TRANSCRIPTION_BASE_URL" in error["message"]
    )

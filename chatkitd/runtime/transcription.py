"""Dictation (`input.transcribe`): speech from the chat's microphone button, turned into text
by any OpenAI-compatible transcription endpoint the server is configured with.

That is OpenAI's own ``/v1/audio/transcriptions`` or any server speaking it (whisper.cpp's
server, faster-whisper-server, vLLM, LocalAI, a gateway), called with the ``openai`` SDK and
``CHATKITD_TRANSCRIPTION_BASE_URL``, ``_API_KEY`` and ``_MODEL``. The key stays on the server.
A workflow that implements ``transcribe`` itself takes precedence (see ConversationServer).
"""

from __future__ import annotations

import base64
import binascii
import os

from chatkit.types import AudioInput, TranscriptionResult

from chatkitd.errors import InvalidRequest, UpstreamError
from chatkitd.settings import Settings

# The containers browsers record in (MediaRecorder), and the file names the endpoint expects.
EXTENSIONS = {
    "audio/webm": "webm",
    "audio/ogg": "ogg",
    "audio/mp4": "mp4",
    "audio/mpeg": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/flac": "flac",
}


def decode_audio(audio_base64: str, mime_type: str) -> None:
    """Refuse what no endpoint could transcribe, before anything is sent anywhere."""
    media_type = mime_type.split(";", 1)[0].strip().lower()
    if media_type not in EXTENSIONS:
        raise InvalidRequest(
            f"Invalid 'params.mime_type': {media_type or 'empty'} is not an audio type chatkitd "
            f"transcribes ({', '.join(sorted(EXTENSIONS))}).",
            param="params.mime_type",
            code="invalid_audio_type",
        )
    try:
        data = base64.b64decode(audio_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest(
            "Invalid 'params.audio_base64': not base64.", param="params.audio_base64", code="invalid_base64"
        ) from None
    if not data:
        raise InvalidRequest(
            "Invalid 'params.audio_base64': the recording is empty.",
            param="params.audio_base64",
            code="empty_audio",
        )


class Transcriber:
    """One configured transcription endpoint."""

    def __init__(self, base_url: str | None, api_key: str | None, model: str) -> None:
        from openai import AsyncOpenAI

        self.model = model
        self._client = AsyncOpenAI(
            base_url=base_url, api_key=api_key or os.environ.get("OPENAI_API_KEY") or "unused", max_retries=1
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Transcriber | None:
        """The configured endpoint, or None when dictation is off."""
        if not settings.transcription_base_url and not settings.transcription_model:
            return None
        key = settings.transcription_api_key
        return cls(
            settings.transcription_base_url,
            key.get_secret_value() if key else None,
            settings.transcription_model or "whisper-1",
        )

    async def transcribe(self, audio: AudioInput, locale: str | None = None) -> TranscriptionResult:
        from openai import OpenAIError, omit

        extension = EXTENSIONS.get(audio.media_type.lower(), "webm")
        # The user's language (from the chat's Accept-Language) helps short clips; "fr-FR" -> "fr".
        language = (locale or "").split(",", 1)[0].split(";", 1)[0].split("-", 1)[0].strip().lower() or None
        if not (language and language.isalpha() and len(language) <= 3):
            language = None
        try:
            result = await self._client.audio.transcriptions.create(
                model=self.model,
                file=(f"dictation.{extension}", audio.data, audio.media_type),
                language=language if language else omit,
            )
        except OpenAIError as error:
            raise UpstreamError(
                f"The transcription endpoint failed: {error}", code="transcription_failed"
            ) from None
        return TranscriptionResult(text=(result.text or "").strip())

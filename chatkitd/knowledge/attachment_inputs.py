"""What the model receives for a file attached to a message, by kind and by what the model accepts.

- an image, to a model that takes images: the image itself (Responses
  ``input_image``; the Agents SDK sends it to Chat Completions as ``image_url``);
- a PDF, to a model that takes files: the file (``input_file``); to one that
  does not, its extracted text;
- text-like files (text, Markdown, CSV, JSON, HTML, Word, source code): their text;
- anything else, or anything unreadable or missing: a note naming the file.

A workflow that indexes its thread's uploads (``thread_uploads: {index:
true}``) gets, for each document, a note that it is indexed: the document
goes to the thread's store (``chatkitd.knowledge.thread_uploads``) and the
model searches it with ``file_search`` instead of reading it whole.

Caps are settings; whatever is cut or left out is said to the model in the
same message, never dropped silently. Which models take images and files is
``model_inputs``: sensible defaults per provider and model name, overridden
per workflow by ``provider.inputs``.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from chatkit.types import Attachment

from chatkitd.blobs import BlobStore, read_all
from chatkitd.knowledge.chunking import truncate
from chatkitd.knowledge.parsing import UnreadableFile, extract_text, kind_of
from chatkitd.knowledge.thread_uploads import indexed_note
from chatkitd.store.uploads import blob_id_of

# Models known to read images (and, on OpenAI's Responses API, PDFs): matched on the model name.
_OPENAI_MULTIMODAL = re.compile(r"^(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|o1|o3|o4|gpt-4-turbo)", re.I)
_OPEN_VISION = re.compile(
    r"(llava|bakllava|vision|[-_.]?vl\b|vl[-_:]|qwen2\.5vl|gemma3|llama4|pixtral|minicpm-v|moondream|granite3\.2-vision|"
    r"gpt-4o|gpt-4\.1|gpt-5|claude-3|claude-sonnet|claude-opus|gemini)",
    re.I,
)


@dataclass(frozen=True)
class ModelInputs:
    """Which attachments a model reads as they are."""

    images: bool
    files: bool


def model_inputs(
    provider_type: str, model: str | None, overrides: dict[str, bool] | None = None
) -> ModelInputs:
    name = model or ""
    if provider_type == "openai":
        multimodal = bool(_OPENAI_MULTIMODAL.match(name))
        found = ModelInputs(images=multimodal, files=multimodal)
    elif provider_type == "chat_completions":
        # Most OpenAI-compatible servers take image parts for vision models, and no file parts.
        found = ModelInputs(images=bool(_OPEN_VISION.search(name)), files=False)
    else:
        found = ModelInputs(images=False, files=False)
    if overrides:
        found = ModelInputs(
            images=overrides.get("images", found.images), files=overrides.get("files", found.files)
        )
    return found


@dataclass(frozen=True)
class AttachmentCaps:
    max_text_tokens: int
    max_image_bytes: int
    max_file_bytes: int


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "input_text", "text": text}


def _note(name: str, why: str) -> dict[str, Any]:
    return _text_part(f"[The user attached a file: {name}. {why}]")


class AttachmentInputs:
    """Builds the model input for one attachment, reading its bytes from the blob store."""

    def __init__(
        self,
        blobs: BlobStore,
        project_id: str,
        accepts: ModelInputs,
        caps: AttachmentCaps,
        index: Callable[[Attachment], Awaitable[None]] | None = None,
    ) -> None:
        self.blobs = blobs
        self.project_id = project_id
        self.accepts = accepts
        self.caps = caps
        self.index = index  # indexes a document into the thread's store, when the workflow says so

    async def _bytes(self, attachment: Attachment, limit: int) -> bytes | None:
        """The attachment's bytes, or None when they are missing or over ``limit``."""
        return await read_all(self.blobs, self.project_id, blob_id_of(attachment), limit)

    async def _size(self, attachment: Attachment) -> int:
        return await self.blobs.size(self.project_id, blob_id_of(attachment)) or 0

    async def content(self, attachment: Attachment) -> dict[str, Any]:
        name, mime = attachment.name, (attachment.mime_type or "").lower()
        if await self.blobs.size(self.project_id, blob_id_of(attachment)) is None:
            return _note(name, "Its content is not available (it was never uploaded, or was deleted).")
        if mime.startswith("image/"):
            return await self._image(attachment)
        kind = kind_of(name, mime)
        if kind is not None and self.index is not None:
            await self.index(attachment)
            return _text_part(indexed_note(name, kind))
        if kind == "pdf" and self.accepts.files:
            data = await self._bytes(attachment, self.caps.max_file_bytes)
            if data is not None:
                encoded = base64.b64encode(data).decode("ascii")
                return {
                    "type": "input_file",
                    "filename": name,
                    "file_data": f"data:application/pdf;base64,{encoded}",
                }
            # Too large to send as a file: its text still fits the text cap.
        if kind is None:
            return _note(name, f"Its content ({mime or 'unknown type'}) cannot be shown to you.")
        return await self._text(attachment, kind)

    async def _image(self, attachment: Attachment) -> dict[str, Any]:
        name = attachment.name
        if not self.accepts.images:
            return _note(name, "It is an image, and this model cannot see images.")
        data = await self._bytes(attachment, self.caps.max_image_bytes)
        if data is None:
            size = await self._size(attachment)
            return _note(
                name,
                f"It is an image of {size} bytes, over the limit of {self.caps.max_image_bytes}; "
                "it was left out.",
            )
        encoded = base64.b64encode(data).decode("ascii")
        return {
            "type": "input_image",
            "image_url": f"data:{attachment.mime_type};base64,{encoded}",
            "detail": "auto",
        }

    async def _text(self, attachment: Attachment, kind: str) -> dict[str, Any]:
        name = attachment.name
        # Text is capped in tokens; bytes are bounded first so a huge file is never read whole.
        data = await self._bytes(attachment, max(self.caps.max_file_bytes, self.caps.max_text_tokens * 16))
        if data is None:
            return _note(name, f"It is {await self._size(attachment)} bytes, too large to read here.")
        try:
            text = await asyncio.to_thread(extract_text, data, name, attachment.mime_type)
        except UnreadableFile as error:
            return _note(name, f"It could not be read: {error}")
        shown, total = truncate(text, self.caps.max_text_tokens)
        header = f"[The user attached {name} ({kind}); its text follows.]"
        footer = f"[End of {name}.]"
        if total > self.caps.max_text_tokens:
            footer = (
                f"[{name} was cut here: you were shown its first {self.caps.max_text_tokens} "
                f"of {total} tokens; the rest is not available to you.]"
            )
        return _text_part(f"{header}\n{shown}\n{footer}")


def for_run(
    settings: Any,
    provider: Any,
    model: str | None,
    project_id: str,
    blobs: BlobStore,
    index: Callable[[Attachment], Awaitable[None]] | None = None,
) -> AttachmentInputs:
    """The attachment inputs of one agent run: its project's files, its model's abilities, the caps
    (and, for a workflow that indexes its thread's uploads, the thread's indexer)."""
    from chatkitd.models.providers import effective_provider, served_model

    resolved = effective_provider(provider, settings)
    name = served_model(provider, model, settings)  # the model that runs, after CHATKITD_MODEL_MAP
    listed = resolved.inputs if provider is not None else settings.model_inputs
    overrides = None
    if listed is not None:
        overrides = {"images": "images" in listed, "files": "files" in listed}
    caps = AttachmentCaps(
        settings.attachment_max_text_tokens,
        settings.attachment_max_image_bytes,
        settings.attachment_max_file_bytes,
    )
    return AttachmentInputs(blobs, project_id, model_inputs(resolved.type, name, overrides), caps, index)

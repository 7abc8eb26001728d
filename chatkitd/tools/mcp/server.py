"""One MCP server, kept connected for every run in the process, and honest when it fails.

``ManagedMcpServer`` is an Agents SDK ``MCPServer``: an agent lists it in
``mcp_servers`` and the SDK turns its tools into function tools (with the
approval policy), traces listings and calls, and hands a failed call's error
to the model as the tool's result. Underneath, the SDK's own client for the
transport (``MCPServerStreamableHttp``, ``MCPServerSse``, ``MCPServerStdio``,
on the ``mcp`` package) does the talking. This class adds what a long-lived
server needs:

- one connection, opened on first use and reused by every turn of every
  thread; opened and closed by a task of its own, because the ``mcp``
  client's streams belong to the task that opened them, not to the request
  that happened to need them first;
- a connection that fails is dropped and the next use opens a new one, so a
  server that went away and came back is used again without a restart;
- the tool list cached for ``tools_cache_seconds``; when the server cannot be
  reached the last list is kept (its calls then fail as tool errors the
  model sees), and with none yet the agent runs without the server's tools;
- ``allowed_tools`` enforced on the list and on every call, and a per-call
  ``timeout``.
"""

from __future__ import annotations

import asyncio
import logging
import time
import weakref
from typing import Any

from agents.mcp import (
    MCPServer,
    MCPServerSse,
    MCPServerSseParams,
    MCPServerStdio,
    MCPServerStdioParams,
    MCPServerStreamableHttp,
    MCPServerStreamableHttpParams,
)
from agents.tracing import SpanError, get_current_span
from mcp.shared.exceptions import MCPError
from mcp.types import CONNECTION_CLOSED

from chatkitd.tools.mcp.config import McpToolConfig

logger = logging.getLogger(__name__)


class McpUnavailable(RuntimeError):
    """The server could not be reached, or did not answer in time: the model reads the message."""


class _Connection:
    """A connected SDK client, opened and closed by its own task."""

    def __init__(self, client: MCPServer) -> None:
        self.client = client
        self.loop = asyncio.get_running_loop()
        self._opened = asyncio.Event()
        self._closing = asyncio.Event()
        self._error: BaseException | None = None
        self.task = asyncio.create_task(self._own(), name=f"mcp {client.name}")

    async def _own(self) -> None:
        try:
            await self.client.connect()
        except BaseException as error:  # noqa: BLE001 - handed to whoever waits for the connection
            self._error = error
            self._opened.set()
            await _quietly(self.client.cleanup())
            return
        self._opened.set()
        try:
            await self._closing.wait()
        finally:
            await _quietly(self.client.cleanup())

    async def opened(self, timeout: float) -> None:
        await asyncio.wait_for(asyncio.shield(self._opened.wait()), timeout)
        if self._error is not None:
            raise self._error

    def usable(self) -> bool:
        return self.loop is asyncio.get_running_loop() and not self.task.done() and self._error is None

    def ready(self) -> bool:
        """Open and usable: a call goes straight to the client, with no waiting set up."""
        return self._opened.is_set() and self.usable()

    def close(self) -> None:
        self._closing.set()


async def _quietly(cleanup: Any) -> None:
    try:
        await cleanup
    except Exception as error:  # noqa: BLE001 - a dead server's cleanup may fail; nothing is lost
        logger.debug("closing an MCP connection failed: %s", error)


def _client(config: McpToolConfig) -> MCPServer:
    """The SDK's client for the configured transport (approval and filtering stay with us)."""
    transport = config.resolved_transport
    if transport == "stdio":
        assert config.command is not None
        stdio: MCPServerStdioParams = {
            "command": config.command,
            "args": config.args,
            "env": config.resolved_env(),
        }
        if config.cwd is not None:
            stdio["cwd"] = config.cwd
        return MCPServerStdio(
            name=config.server_label, params=stdio, client_session_timeout_seconds=config.timeout
        )
    assert config.url is not None
    url, headers, timeout = config.url, config.resolved_headers(), config.timeout
    if transport == "sse":
        sse: MCPServerSseParams = {"url": url, "headers": headers, "timeout": timeout}
        return MCPServerSse(name=config.server_label, params=sse, client_session_timeout_seconds=timeout)
    http: MCPServerStreamableHttpParams = {"url": url, "headers": headers, "timeout": timeout}
    return MCPServerStreamableHttp(
        name=config.server_label, params=http, client_session_timeout_seconds=timeout
    )


def tool_error(context: Any, error: Exception) -> str:
    """What the model reads when a call fails: chatkitd's own message (written for the model,
    never holding a secret) or the server's error answer; anything else stays in the log."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, (McpUnavailable, MCPError)):
            return f"The tool failed: {cause}"
        cause = cause.__cause__
    return "The tool failed unexpectedly. Please try again."


class ManagedMcpServer(MCPServer):
    def __init__(self, config: McpToolConfig) -> None:
        super().__init__(require_approval=config.sdk_require_approval(), failure_error_function=tool_error)
        self.config = config
        # One connection per event loop (a server process has one; tests may run several).
        self._connections: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Connection] = (
            weakref.WeakKeyDictionary()
        )
        self._tools: list[Any] | None = None
        self._tools_at = 0.0
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary()
        )

    @property
    def name(self) -> str:
        return self.config.server_label

    async def connect(self) -> None:
        await self._connected()

    async def cleanup(self) -> None:
        connection = self._connections.pop(asyncio.get_running_loop(), None)
        if connection is not None:
            connection.close()
            await asyncio.wait({connection.task}, timeout=5)

    def _current(self) -> _Connection | None:
        return self._connections.get(asyncio.get_running_loop())

    async def _connected(self) -> MCPServer:
        loop = asyncio.get_running_loop()
        connection = self._connections.get(loop)
        if connection is not None and connection.ready():  # every call but the first
            return connection.client
        if connection is None or not connection.usable():
            async with self._locks.setdefault(loop, asyncio.Lock()):
                connection = self._connections.get(loop)
                if connection is None or not connection.usable():
                    connection = self._connections[loop] = _Connection(_client(self.config))
        try:
            await connection.opened(self.config.timeout)
        except BaseException:
            self._drop(connection)
            raise
        return connection.client

    def _drop(self, connection: _Connection | None) -> None:
        """Forget a connection that failed; the next use opens a new one."""
        if connection is None:
            return
        if self._connections.get(connection.loop) is connection:
            del self._connections[connection.loop]
        connection.close()

    async def list_tools(self, run_context: Any = None, agent: Any = None) -> list[Any]:
        if self._tools is not None and time.monotonic() - self._tools_at < self.config.tools_cache_seconds:
            return self._tools
        try:
            client = await self._connected()
            async with asyncio.timeout(self.config.timeout):
                tools = await client.list_tools()
        except Exception as error:  # noqa: BLE001 - an unreachable server must not break the chat
            reason = self._reason(error)
            self._drop(self._current())
            logger.warning("MCP server '%s' did not list its tools: %s", self.name, reason)
            span = get_current_span()
            if span is not None:
                span.set_error(SpanError(message="MCP server unreachable", data={"error": reason}))
            return self._tools or []
        allowed = self.config.allowed_tools
        self._tools = [t for t in tools if allowed is None or t.name in allowed]
        self._tools_at = time.monotonic()
        return self._tools

    @property
    def cached_tools(self) -> list[Any] | None:
        return self._tools

    def invalidate_tools_cache(self) -> None:
        self._tools_at = 0.0

    async def call_tool(
        self, tool_name: str, arguments: dict[str, Any] | None, meta: dict[str, Any] | None = None
    ):  # noqa: ANN201
        allowed = self.config.allowed_tools
        if allowed is not None and tool_name not in allowed:
            raise McpUnavailable(f"Tool '{tool_name}' is not allowed on MCP server '{self.name}'.")
        try:
            client = await self._connected()
        except Exception as error:  # noqa: BLE001
            raise McpUnavailable(f"MCP server '{self.name}' is unreachable: {self._reason(error)}") from None
        connection = self._current()
        try:
            # A deadline on this task, not wait_for's task per call (Python 3.11).
            async with asyncio.timeout(self.config.timeout):
                return await client.call_tool(tool_name, arguments, meta=meta)
        except TimeoutError:
            raise McpUnavailable(
                f"MCP server '{self.name}' did not answer {tool_name} within {self.config.timeout:g} s."
            ) from None
        except MCPError as error:
            if error.code != CONNECTION_CLOSED:
                raise  # the server answered with an error: the connection is fine
            self._drop(connection)
            raise McpUnavailable(
                f"MCP server '{self.name}' closed the connection during {tool_name}."
            ) from None
        except Exception as error:  # noqa: BLE001
            self._drop(connection)
            raise McpUnavailable(
                f"MCP server '{self.name}' failed during {tool_name}: {self._reason(error)}"
            ) from None

    def _reason(self, error: BaseException) -> str:
        """Why a call failed, for the model, the log and the trace: never the configuration's secrets."""
        return self.config.redact(_reason(error))

    async def list_prompts(self):  # noqa: ANN201
        return await (await self._connected()).list_prompts()

    async def get_prompt(self, name: str, arguments: dict[str, Any] | None = None):  # noqa: ANN201
        return await (await self._connected()).get_prompt(name, arguments)


def _reason(error: BaseException) -> str:
    """A short, secret-free description: the exception's type and first line, never headers."""
    if isinstance(error, TimeoutError):
        return "no answer in time"
    if isinstance(error, BaseExceptionGroup):
        return _reason(error.exceptions[0])
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text}"[:300] if text else type(error).__name__


_servers: dict[str, ManagedMcpServer] = {}


def mcp_server(config: McpToolConfig) -> ManagedMcpServer:
    """The process's server for this configuration: workflows and versions that name the same
    server share one connection."""
    key = config.model_dump_json()
    server = _servers.get(key)
    if server is None:
        server = _servers[key] = ManagedMcpServer(config)
    return server


async def close_all() -> None:
    """Close every connection this process opened (at shutdown)."""
    for server in list(_servers.values()):
        await server.cleanup()

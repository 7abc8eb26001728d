"""MCP servers as tools, through the Agents SDK's and the ``mcp`` package's clients.

``mcp_server(config)`` gives the process's one ``ManagedMcpServer`` for a
configuration: put it in an agent's ``mcp_servers`` (an ``McpAgent`` converts its tools once
per run), or call its tools directly.
"""

from chatkitd.tools.mcp.agent import McpAgent
from chatkitd.tools.mcp.config import McpToolConfig, config_from_hosted
from chatkitd.tools.mcp.server import ManagedMcpServer, close_all, mcp_server

__all__ = ["ManagedMcpServer", "McpAgent", "McpToolConfig", "close_all", "config_from_hosted", "mcp_server"]

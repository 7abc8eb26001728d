"""Server-side tools configured without code: MCP servers and web search.

Each is usable from a YAML workflow (``chatkitd.workflows.definitions``), from
a graph node, and in place of OpenAI's hosted tools (``HostedMCPTool``,
``WebSearchTool``) when the model is not on OpenAI's Responses API.
"""

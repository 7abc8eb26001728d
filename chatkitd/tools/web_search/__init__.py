"""Web search as a tool: OpenAI's hosted search, or SearXNG, Brave Search or Tavily on any model.

``web_search_tool(config, settings, hosted_available=...)`` builds the tool;
``citations.cite`` turns the results a model cited into URL citations.
"""

from chatkitd.tools.web_search.backends import BACKENDS, SearchResult
from chatkitd.tools.web_search.citations import Sources, cite
from chatkitd.tools.web_search.config import WebSearchConfig
from chatkitd.tools.web_search.tool import from_hosted, web_search_tool

__all__ = ["BACKENDS", "SearchResult", "Sources", "WebSearchConfig", "cite", "from_hosted", "web_search_tool"]

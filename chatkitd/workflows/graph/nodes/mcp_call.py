"""The mcp node: calls one tool of an MCP server with arguments built in CEL, without a model.

The server is configured as for the ``mcp`` tool (``chatkitd.tools.mcp``:
``server_label``, ``url`` or ``command``, ``headers`` with ``env:`` secrets,
``allowed_tools``, ``timeout``) and shares the process's one connection to it.
``input`` (CEL) builds the arguments, an object. The node calls exactly the
tool the graph names, so it asks no one first unless the server block sets
``require_approval`` for that tool: then the run waits on the approvals
core's card showing the tool, its server and the arguments, and calls it on
Approve (on Reject, the output says so with ``is_error``).

Output: ``{output_text, output_parsed, is_error}``: the tool's text, its
structured result (or its text read as JSON, when it is JSON), and whether
the call failed. A server that fails, times out or cannot be reached is an
output with ``is_error: true`` saying why (an ``if_else`` can branch on it),
never a broken chat.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any, Literal

from chatkit.types import ThreadStreamEvent

from chatkitd.approvals import ApprovalRequest, Resumption
from chatkitd.tools.mcp import McpToolConfig, mcp_server
from chatkitd.tools.mcp.server import tool_error
from chatkitd.workflows.graph.cel import Compiler
from chatkitd.workflows.graph.nodes.base import NO_EVENTS, Linear, Step
from chatkitd.workflows.graph.run import GraphRun


class Mcp(Linear):
    kind = "mcp"
    type: Literal["mcp"]
    server: McpToolConfig
    tool: str
    input: str = "{}"

    @property
    def needs_approval(self) -> bool:
        return "require_approval" in self.server.model_fields_set and self.server.needs_approval(self.tool)

    def talks(self) -> bool:
        return self.needs_approval

    def compile(self, compiler: Compiler) -> Any:
        allowed = self.server.allowed_tools
        if allowed is not None and self.tool not in allowed:
            raise ValueError(f"calls '{self.tool}', which the server's allowed_tools leave out")
        return compiler.expression(self.input)

    async def decide(self, compiled: Any, run: GraphRun) -> Step:
        arguments = compiled.evaluate(run.activation())
        detail: dict[str, Any] = {"server": self.server.server_label, "tool": self.tool}
        if not isinstance(arguments, dict):
            output = _failed(
                f"The arguments for {self.tool} must be an object, not {type(arguments).__name__}."
            )
            return Step(output, self.next, {**detail, "arguments": arguments, "is_error": True})
        if self.needs_approval:
            question = ApprovalRequest(
                key=self.id,
                title=f"Run {self.tool}?",
                tool=self.tool,
                server=self.server.server_label,
                arguments=arguments,
            )
            detail["arguments"] = arguments
            return Step(run.last, None, detail, keep_input=True, ask=[question], kept=arguments)
        return await self._call(arguments)

    async def resume(
        self, compiled: Any, run: GraphRun, kept: dict[str, Any], resumption: Resumption
    ) -> AsyncIterator[ThreadStreamEvent]:
        answer = resumption.answer_for(self.id)
        if answer is not None and answer.approved:
            run.step = await self._call(kept)
        else:
            message = f"The user rejected this call to {self.tool}; it did not run."
            if answer is not None and answer.reason:
                message += f" The user said: {answer.reason}"
            run.step = Step(
                _failed(message), self.next, {"tool": self.tool, "is_error": True, "rejected": True}
            )
        for event in NO_EVENTS:
            yield event

    async def _call(self, arguments: dict[str, Any]) -> Step:
        detail: dict[str, Any] = {
            "server": self.server.server_label,
            "tool": self.tool,
            "arguments": arguments,
        }
        try:
            result = await mcp_server(self.server).call_tool(self.tool, arguments)
        except Exception as error:  # noqa: BLE001 - a failed call is the node's output, not a broken chat
            output = _failed(tool_error(None, error))
        else:
            output = _result(result)
        return Step(output, self.next, {**detail, "is_error": output["is_error"]})


def _failed(message: str) -> dict[str, Any]:
    return {"output_text": message, "output_parsed": None, "is_error": True}


def _result(result: Any) -> dict[str, Any]:
    text = "\n".join(part.text for part in result.content if getattr(part, "type", None) == "text")
    parsed = result.structured_content
    if parsed is None and text:
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
    return {"output_text": text, "output_parsed": parsed, "is_error": bool(result.is_error)}

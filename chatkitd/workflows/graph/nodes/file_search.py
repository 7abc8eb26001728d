"""The file_search node: searches the project's vector stores for a query, as Agent Builder's node did.

Its ``input`` (CEL, by default the user's message) is the query. The search
is the one the ``file_search`` tool runs (``chatkitd.knowledge.tool.search``),
confined to the run's project, on any model provider. The hits are numbered
as the turn's file search hits, so an agent that later cites ``[n]`` from
``input.text`` gets file citations on its answer.

Output: ``{query, results: [{number, file_id, filename, score, text,
attributes}], text}`` where ``text`` is the numbered passages, ready to put in
an agent's instructions.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Field

from chatkitd.knowledge.tool import DEFAULT_RESULTS, format_hits, search
from chatkitd.workflows.graph.cel import Compiler, as_text
from chatkitd.workflows.graph.nodes.base import Linear, Step
from chatkitd.workflows.graph.run import GraphRun


class FileSearch(Linear):
    kind = "file_search"
    type: Literal["file_search"]
    input: str = "workflow.input_as_text"
    vector_store_ids: Annotated[list[str], Field(min_length=1)]
    max_num_results: Annotated[int, Field(ge=1, le=50)] = DEFAULT_RESULTS

    def compile(self, compiler: Compiler) -> Any:
        return compiler.expression(self.input)

    async def decide(self, compiled: Any, run: GraphRun) -> Step:
        query = as_text(compiled.evaluate(run.activation())).strip()
        if not query:
            output: dict[str, Any] = {"query": "", "results": [], "text": format_hits([], 1)}
            return Step(output, self.next, {"vector_store_ids": self.vector_store_ids, "hits": 0})
        searched = await search(
            run.workflow.env, run.context, self.vector_store_ids, query, self.max_num_results
        )
        hits, first = searched.hits, searched.first
        results = [
            {
                "number": number,
                "file_id": hit.file_id,
                "filename": hit.filename,
                "score": round(hit.score, 6),
                "text": hit.text,
                "attributes": hit.attributes,
            }
            for number, hit in enumerate(hits, start=first)
        ]
        output = {"query": query, "results": results, "text": format_hits(hits, first)}
        detail = {
            "vector_store_ids": self.vector_store_ids,
            "hits": len(hits),
            "unknown_vector_store_ids": searched.unknown_store_ids,
        }
        return Step(output, self.next, detail)
